"""The ids a Full Sync's audit listed from PCO, in the SyncStateTable: one small item per listing page
(pk=`AUDIT#<run id>#<kind>`, sk=the page's number), so the comparison with the local records can read them
all back with a Query. A retried page writes the same item again; they expire a week after the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pco_core.store._dynamo import DynamoTable, deserialise, serialise

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import QueryInputTypeDef

AUDIT_TTL_SECONDS = 7 * 86_400


def audit_pk(run_id: str, kind: str) -> str:
    return f"AUDIT#{run_id}#{kind}"


class AuditStore(DynamoTable):
    """The PCO ids of one run's audit listing, by kind ("person", "household")."""

    def put_audit_ids(self, run_id: str, kind: str, chunk: int, ids: Sequence[str], *, now: datetime) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=serialise(
                {
                    "pk": audit_pk(run_id, kind),
                    "sk": f"{chunk:09d}",
                    "ids": list(ids),
                    "expires_at": int((now + timedelta(seconds=AUDIT_TTL_SECONDS)).timestamp()),
                }
            ),
        )

    def audit_ids(self, run_id: str, kind: str) -> set[str]:
        """Every id the run's audit listed for `kind`."""
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": audit_pk(run_id, kind)}},
            "ConsistentRead": True,
        }
        ids: set[str] = set()
        while True:
            answer = self.client.query(**query)
            for raw in answer.get("Items", []):
                ids.update(str(i) for i in deserialise(raw).get("ids", []))
            last = answer.get("LastEvaluatedKey")
            if not last:
                return ids
            query["ExclusiveStartKey"] = last
