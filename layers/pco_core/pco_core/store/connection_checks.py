"""What the last check of the PCO credentials found (a Test Connection, or a run PCO refused with 401/403),
so the admin page tells the truth about them until the next check."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from pco_core.store._dynamo import DynamoTable, deserialise, key, serialise

CHECK_KEY = ("CONNECTION", "LAST_CHECK")
# Where an admin changes the App ID and Secret: they are the stack's parameters, stored in Secrets Manager.
WHERE_CREDENTIALS_LIVE = (
    "The App ID and Secret are the stack parameters PcoAppId and PcoSecret (kept in AWS Secrets Manager): "
    "deploy again with the right ones (sam deploy), then press Test Connection."
)


class ConnectionCheck(BaseModel):
    ok: bool
    checked_at: datetime
    # A sentence for the admin (never a credential): why PCO refused, when it did.
    reason: str | None = None
    # What found it: "test" (Test Connection) or the id of the run PCO refused.
    source: str


def refused_check(source: str, at: datetime) -> ConnectionCheck:
    """PCO refused the credentials (a 401/403), found by `source` (a test, or a run's id)."""
    return ConnectionCheck(
        ok=False,
        checked_at=at,
        source=source,
        reason=f"Planning Center refused the App ID and Secret. {WHERE_CREDENTIALS_LIVE}",
    )


class ConnectionChecks(DynamoTable):
    """The last check, one item in the sync-state table."""

    def latest(self) -> ConnectionCheck | None:
        answer = self.client.get_item(TableName=self.table_name, Key=key(*CHECK_KEY), ConsistentRead=True)
        raw = answer.get("Item")
        if not raw:
            return None
        item = deserialise(raw)
        return ConnectionCheck.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})

    def record(self, check: ConnectionCheck) -> None:
        item = {"pk": CHECK_KEY[0], "sk": CHECK_KEY[1], **check.model_dump(mode="json")}
        self.client.put_item(TableName=self.table_name, Item=serialise(item))
