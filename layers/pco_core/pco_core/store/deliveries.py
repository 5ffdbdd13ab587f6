"""Webhook bookkeeping in the SyncStateTable: delivery ids (duplicates ignored, outcome logged), tombstones
of PCO records destroyed, and which person each PCO email/phone/address id belonged to.

Delivery items: pk=`DELIVERY#<id>` sk=`DELIVERY`, expiring after DELIVERY_TTL_SECONDS (PCO stops retrying
after about 5.4 days). A delivery counts as seen only once it is `queued`: an item still `receiving` was
left by a receiver that died before its SQS send, so PCO's retry of it is taken again, never ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pco_core.store._dynamo import DynamoTable, deserialise, key, serialise

if TYPE_CHECKING:
    pass

DELIVERY_SK = "DELIVERY"
# One partition listing applied deliveries by time, so the last 50 are one Query (sk = "<applied at>#<id>").
RECENT_PK = "DELIVERIES"
TOMBSTONE_SK = "TOMBSTONE"
SUBRECORD_SK = "SUBRECORD"
DELIVERY_TTL_SECONDS = 7 * 86_400
# Longer than PCO's retry window plus the dead-letter queue's 14 days, so a replayed event still meets it.
TOMBSTONE_TTL_SECONDS = 30 * 86_400
RECEIVING = "receiving"
QUEUED = "queued"


def delivery_key(delivery_id: str) -> tuple[str, str]:
    return (f"DELIVERY#{delivery_id}", DELIVERY_SK)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class DeliveryLog(DynamoTable):
    """EventDelivery ids as the webhook receiver and worker record them."""

    def begin(self, delivery_id: str, name: str, received_at: datetime) -> bool:
        """Claim a delivery before it is queued; False when it was already queued (a duplicate)."""
        pk, sk = delivery_key(delivery_id)
        item = {
            "pk": pk,
            "sk": sk,
            "name": name,
            "received_at": received_at.isoformat(),
            "status": RECEIVING,
            "expires_at": _epoch(received_at + timedelta(seconds=DELIVERY_TTL_SECONDS)),
        }
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=serialise(item),
                ConditionExpression="attribute_not_exists(pk) OR #status = :receiving",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":receiving": {"S": RECEIVING}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_queued(self, delivery_id: str) -> None:
        # Only a `receiving` item moves on: a fast worker may already have written the outcome.
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(*delivery_key(delivery_id)),
                UpdateExpression="SET #status = :queued",
                ConditionExpression="#status = :receiving",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":queued": {"S": QUEUED}, ":receiving": {"S": RECEIVING}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return

    def abandon(self, delivery_id: str) -> None:
        """Drop the claim of a delivery that could not be queued, so PCO's retry is taken."""
        self.client.delete_item(
            TableName=self.table_name,
            Key=key(*delivery_key(delivery_id)),
            ConditionExpression="#status = :receiving",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":receiving": {"S": RECEIVING}},
        )

    def get(self, delivery_id: str) -> dict[str, object] | None:
        answer = self.client.get_item(
            TableName=self.table_name, Key=key(*delivery_key(delivery_id)), ConsistentRead=True
        )
        raw = answer.get("Item")
        return deserialise(raw) if raw else None

    def finish(
        self, delivery_id: str, name: str, outcome: str, detail: str, at: datetime, *, resource: str = ""
    ) -> None:
        """Log what applying the delivery did (its `status` becomes the outcome), and add it to the recent
        list. A delivery replayed after its item expired gets a new one, expiring like the others."""
        updated = self.client.update_item(
            TableName=self.table_name,
            Key=key(*delivery_key(delivery_id)),
            UpdateExpression=(
                "SET #status = :outcome, outcome = :outcome, detail = :detail, applied_at = :at,"
                " #name = if_not_exists(#name, :name), received_at = if_not_exists(received_at, :at),"
                " expires_at = if_not_exists(expires_at, :expires)"
            ),
            ExpressionAttributeNames={"#status": "status", "#name": "name"},
            ExpressionAttributeValues={
                ":outcome": {"S": outcome},
                ":detail": {"S": detail[:500]},
                ":at": {"S": at.isoformat()},
                ":name": {"S": name},
                ":expires": {"N": str(_epoch(at + timedelta(seconds=DELIVERY_TTL_SECONDS)))},
            },
            ReturnValues="ALL_NEW",
        )
        # When PCO sent it, as the receiver logged it: the admin page lists deliveries by that time.
        received_at = deserialise(updated.get("Attributes", {})).get("received_at", at.isoformat())
        entry = {
            "pk": RECENT_PK,
            "sk": f"{at.isoformat()}#{delivery_id}",
            "delivery_id": delivery_id,
            "name": name,
            "resource": resource,
            "outcome": outcome,
            "detail": detail[:500],
            "received_at": received_at,
            "applied_at": at.isoformat(),
            "expires_at": _epoch(at + timedelta(seconds=DELIVERY_TTL_SECONDS)),
        }
        self.client.put_item(TableName=self.table_name, Item=serialise(entry))

    def recent(self, limit: int = 50) -> list[dict[str, object]]:
        """The last `limit` deliveries applied, most recent first (for the admin page)."""
        answer = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": RECENT_PK}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [deserialise(raw) for raw in answer.get("Items", [])]


@dataclass(frozen=True)
class Tombstone:
    destroyed_at: datetime
    record_id: str | None


@dataclass(frozen=True)
class SubRecordTrace:
    """What we last saw of one PCO email/phone/address: its person and its value's match key."""

    person_pco_id: str
    match_key: tuple[str, ...]
    updated_at: datetime | None
    destroyed_at: datetime | None = None


class WebhookTrail(DynamoTable):
    """Tombstones of destroyed PCO records and the last known value of each PCO sub-record id."""

    def _get(self, pk: str, sk: str) -> dict[str, object] | None:
        answer = self.client.get_item(TableName=self.table_name, Key=key(pk, sk), ConsistentRead=True)
        raw = answer.get("Item")
        return deserialise(raw) if raw else None

    def tombstone(self, kind: str, pco_id: str) -> Tombstone | None:
        item = self._get(f"TOMBSTONE#{kind}#{pco_id}", TOMBSTONE_SK)
        if item is None:
            return None
        record_id = item.get("record_id")
        return Tombstone(
            destroyed_at=datetime.fromisoformat(str(item["destroyed_at"])),
            record_id=record_id if isinstance(record_id, str) else None,
        )

    def bury(self, kind: str, pco_id: str, destroyed_at: datetime, record_id: str | None) -> None:
        item: dict[str, object] = {
            "pk": f"TOMBSTONE#{kind}#{pco_id}",
            "sk": TOMBSTONE_SK,
            "destroyed_at": destroyed_at.isoformat(),
            "expires_at": _epoch(destroyed_at + timedelta(seconds=TOMBSTONE_TTL_SECONDS)),
        }
        if record_id is not None:
            item["record_id"] = record_id
        self.client.put_item(TableName=self.table_name, Item=serialise(item))

    def sub_record(self, type_: str, pco_id: str) -> SubRecordTrace | None:
        item = self._get(f"SUBRECORD#{type_}#{pco_id}", SUBRECORD_SK)
        if item is None:
            return None
        updated = item.get("updated_at")
        destroyed = item.get("destroyed_at")
        match_key = item.get("match_key")
        return SubRecordTrace(
            person_pco_id=str(item["person_pco_id"]),
            match_key=tuple(str(v) for v in match_key) if isinstance(match_key, list) else (),
            updated_at=datetime.fromisoformat(updated) if isinstance(updated, str) else None,
            destroyed_at=datetime.fromisoformat(destroyed) if isinstance(destroyed, str) else None,
        )

    def trace_sub_record(self, type_: str, pco_id: str, trace: SubRecordTrace) -> None:
        item: dict[str, object] = {
            "pk": f"SUBRECORD#{type_}#{pco_id}",
            "sk": SUBRECORD_SK,
            "person_pco_id": trace.person_pco_id,
            "match_key": list(trace.match_key),
        }
        if trace.updated_at is not None:
            item["updated_at"] = trace.updated_at.isoformat()
        if trace.destroyed_at is not None:
            item["destroyed_at"] = trace.destroyed_at.isoformat()
            item["expires_at"] = _epoch(trace.destroyed_at + timedelta(seconds=TOMBSTONE_TTL_SECONDS))
        self.client.put_item(TableName=self.table_name, Item=serialise(item))
