"""The church's records in DynamoDB: one item per person/family/group, plus the lookup items that make
every match (PCO id, email, name + birthdate) a single read.

A save writes the lookup items first and the records last, so a save that dies half-way and is retried
with the same (new, previous) pairs converges; reads check each looked-up record still carries the key,
so a lookup item left behind by an abandoned save never produces a wrong match.

A PCO-id lookup item is also the link's guard: it is claimed with a conditional write, so one PCO record
is linked to at most one local record. A save that would link a second one writes every other record and
raises PcoLinkTaken naming the refused ones.

Every record item carries `written_at` (when it was last saved). A run's page that merges what it read
from PCO at `read_at` saves with that time: a record written since (by a webhook, an admin's edit) holds a
newer change than that read, so it is left as it is (a conditional PutItem, checked by DynamoDB at the
write itself) and the save names it, never overwrites it.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from pco_core.errors import InvalidCursor, InvalidLimit, PcoLinkTaken
from pco_core.records import (
    ConflictEvent,
    ConflictStatus,
    Family,
    Group,
    LoggedConflict,
    Person,
    has_pending_changes,
    normalise_email,
    normalise_name,
)
from pco_core.store._dynamo import (
    DynamoTable,
    Item,
    Key,
    Sleep,
    batch_get,
    batch_write,
    condition_failed,
    deserialise,
    key,
    serialise,
    serialise_value,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

Kind = Literal["person", "family", "group"]
RECORD_SK = "RECORD"
LOOKUP_SK = "LOOKUP"
KIND_INDEX = "kind-index"
PENDING_INDEX = "pending-index"
PENDING = "pending"
CONFLICTS_PK = "CONFLICT#"
UNLINKED_KIND = "unlinked"
_RECORD_PREFIX: dict[Kind, str] = {"person": "PERSON#", "family": "FAMILY#", "group": "GROUP#"}
WRITTEN_AT = "written_at"
_STORAGE_KEYS = ("pk", "sk", "kind", PENDING, WRITTEN_AT)
MAX_LIST_LIMIT = 1000
# Claims of new PCO links sent at once (boto3 clients are thread-safe).
CLAIM_WORKERS = 10
_MODELS: dict[Kind, type[Person | Family | Group]] = {"person": Person, "family": Family, "group": Group}


def record_key(kind: Kind, record_id: str) -> Key:
    return (f"{_RECORD_PREFIX[kind]}{record_id}", RECORD_SK)


def pco_lookup_key(kind: Kind, pco_id: str) -> Key:
    return (f"PCO#{kind}#{pco_id}", LOOKUP_SK)


def groups_person_lookup_key(groups_person_id: str) -> Key:
    return (f"GROUPSPERSON#{groups_person_id}", LOOKUP_SK)


def email_lookup_key(email: str, person_id: str) -> Key:
    return (f"EMAIL#{normalise_email(email)}", f"PERSON#{person_id}")


def name_lookup_pk(last: str, first: str, birthdate: date | None) -> str:
    born = birthdate.isoformat() if birthdate else "-"
    return f"NAME#{normalise_name(last)}#{normalise_name(first)}#{born}"


def _lookup_keys(kind: Kind, record: Person | Family | Group | None) -> set[Key]:
    if record is None:
        return set()
    keys: set[Key] = set()
    if record.pco_id:
        keys.add(pco_lookup_key(kind, record.pco_id))
    if isinstance(record, Person) and record.sync.groups_person_id:
        keys.add(groups_person_lookup_key(record.sync.groups_person_id))
    # Email and name lookups only exist to link a local person to PCO for the first time: a linked
    # person is never an email or name match for another PCO person, so only unlinked people get them.
    if isinstance(record, Person) and record.pco_id is None:
        keys.update(
            email_lookup_key(email.address, record.id)
            for email in record.emails
            if normalise_email(email.address)
        )
        keys.add(
            (name_lookup_pk(record.last_name, record.first_name, record.birthdate), f"PERSON#{record.id}")
        )
    return keys


def _epoch(seconds: float) -> Decimal:
    return Decimal(str(round(seconds, 6)))


def _record_item(kind: Kind, record: Person | Family | Group, written_at: float) -> Item:
    # `sync` is excluded from API dumps but is part of what we store.
    item: Item = record.model_dump(mode="json")
    item["sync"] = record.sync.model_dump(mode="json")
    pk, sk = record_key(kind, record.id)
    if has_pending_changes(record):
        item[PENDING] = kind  # in the sparse pending-index: a push visits it
    return {"pk": pk, "sk": sk, "kind": kind, **item, WRITTEN_AT: _epoch(written_at)}


def _lookup_item(kind: Kind, lookup: Key, record_id: str) -> Item:
    item: Item = {"pk": lookup[0], "sk": lookup[1], "record_id": record_id, "record_kind": kind}
    if lookup[0].startswith(("EMAIL#", "NAME#")):
        # In the kind-index under "unlinked", so one cheap query tells whether any person awaits linking.
        item.update({"kind": UNLINKED_KIND, "id": record_id})
    return item


def _from_item[M: BaseModel](model: type[M], item: Item) -> M:
    return model.model_validate({k: v for k, v in item.items() if k not in _STORAGE_KEYS})


def encode_cursor(last_key: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: Kind, index_key: str = "kind") -> dict[str, str]:
    """An opaque list cursor back to the GSI key it stands for; anything else is InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data: Any = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor from None
    expected = {"pk", "sk", index_key, "id"}
    if (
        not isinstance(data, dict)
        or set(data) != expected
        or not all(isinstance(v, str) and v for v in data.values())
        or data[index_key] != kind
        or data["pk"] != record_key(kind, data["id"])[0]
        or data["sk"] != RECORD_SK
    ):
        raise InvalidCursor
    return data


class RecordStore(DynamoTable):
    """People, families and groups in the RecordsTable (items described in README's data model)."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        sleep: Sleep = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(table_name, client=client)
        self._sleep = sleep
        self._now = now

    # people

    def get_person(self, person_id: str) -> Person | None:
        return self._get_one("person", Person, person_id)

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]:
        return self._get_many("person", Person, ids)

    def people_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Person]:
        return self._by_pco_ids("person", Person, pco_ids)

    def people_by_groups_person_ids(self, groups_person_ids: Iterable[str]) -> dict[str, Person]:
        """Local people by the Groups-API person id learned for them (where it differs from People's)."""
        wanted = set(groups_person_ids)
        lookups = batch_get(
            self.client, self.table_name, (groups_person_lookup_key(g) for g in wanted), sleep=self._sleep
        )
        people = self.get_people(item["record_id"] for item in lookups.values())
        return {
            gid: p for p in people.values() if (gid := p.sync.groups_person_id) is not None and gid in wanted
        }

    def people_by_email(self, email: str) -> list[Person]:
        wanted = normalise_email(email)
        if not wanted:
            return []
        people = self._by_lookup_partition(f"EMAIL#{wanted}")
        return [p for p in people if any(normalise_email(e.address) == wanted for e in p.emails)]

    def people_by_name(self, last: str, first: str, birthdate: date | None) -> list[Person]:
        pk = name_lookup_pk(last, first, birthdate)
        people = self._by_lookup_partition(pk)
        return [p for p in people if name_lookup_pk(p.last_name, p.first_name, p.birthdate) == pk]

    def has_unlinked_people(self) -> bool:
        """Whether any local person has no PCO id yet (and so could be matched by email or name)."""
        answer = self.client.query(
            TableName=self.table_name,
            IndexName=KIND_INDEX,
            KeyConditionExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": UNLINKED_KIND}},
            Limit=1,
        )
        return bool(answer.get("Items"))

    def save_people(
        self, changes: Sequence[tuple[Person, Person | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        """Write `changes` (new, as read); with `read_at`, the ids of records left alone: written since."""
        return self._save("person", changes, read_at)

    def list_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]:
        return self._list("person", Person, limit, cursor)

    def list_pending_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]:
        """People with a local change PCO lacks, in id order (the sparse pending-index)."""
        return self._list("person", Person, limit, cursor, index_key=PENDING)

    # families

    def get_family(self, family_id: str) -> Family | None:
        return self._get_one("family", Family, family_id)

    def get_families(self, ids: Iterable[str]) -> dict[str, Family]:
        return self._get_many("family", Family, ids)

    def families_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Family]:
        return self._by_pco_ids("family", Family, pco_ids)

    def save_families(
        self, changes: Sequence[tuple[Family, Family | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        """Write `changes` (new, as read); with `read_at`, the ids of records left alone: written since."""
        return self._save("family", changes, read_at)

    def list_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]:
        return self._list("family", Family, limit, cursor)

    def list_pending_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]:
        return self._list("family", Family, limit, cursor, index_key=PENDING)

    # groups

    def get_group(self, group_id: str) -> Group | None:
        return self._get_one("group", Group, group_id)

    def get_groups(self, ids: Iterable[str]) -> dict[str, Group]:
        return self._get_many("group", Group, ids)

    def groups_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Group]:
        return self._by_pco_ids("group", Group, pco_ids)

    def save_groups(
        self, changes: Sequence[tuple[Group, Group | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        """Write `changes` (new, as read); with `read_at`, the ids of records left alone: written since."""
        return self._save("group", changes, read_at)

    def list_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]:
        return self._list("group", Group, limit, cursor)

    def list_pending_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]:
        return self._list("group", Group, limit, cursor, index_key=PENDING)

    def iter_groups_with_pco_id(self, after_id: str | None, limit: int) -> list[Group]:
        """Up to `limit` groups that have a PCO id, in id order, starting after `after_id`."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        values: dict[str, AttributeValueTypeDef] = {":kind": {"S": "group"}, ":string": {"S": "S"}}
        names = {"#kind": "kind"}
        condition = "#kind = :kind"
        if after_id is not None:
            condition += " AND #id > :after"
            names["#id"] = "id"
            values[":after"] = {"S": after_id}
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": KIND_INDEX,
            "KeyConditionExpression": condition,
            "FilterExpression": "attribute_type(pco_id, :string)",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit,
        }
        groups: list[Group] = []
        while len(groups) < limit:
            answer = self.client.query(**query)
            groups.extend(_from_item(Group, deserialise(raw)) for raw in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
        return groups[:limit]

    # audit

    def linked_pco_ids(self, kind: Kind, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """The PCO ids of local records of `kind` linked to PCO, at least `limit` records further on (in
        record id order) unless the end came first; and the cursor to go on from (None at the end).

        Reads only the ids (a projection), so the audit can go through every local record cheaply."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": KIND_INDEX,
            "KeyConditionExpression": "#kind = :kind",
            "ProjectionExpression": "pco_id",
            "ExpressionAttributeNames": {"#kind": "kind"},
            "ExpressionAttributeValues": {":kind": {"S": kind}},
            "Limit": min(limit, MAX_LIST_LIMIT),
        }
        if cursor is not None:
            query["ExclusiveStartKey"] = {k: {"S": v} for k, v in decode_cursor(cursor, kind).items()}
        pco_ids: list[str] = []
        visited = 0
        while True:
            answer = self.client.query(**query)
            items = [deserialise(raw) for raw in answer.get("Items", [])]
            visited += len(items)
            pco_ids.extend(str(item["pco_id"]) for item in items if item.get("pco_id"))
            last = answer.get("LastEvaluatedKey")
            if not last:
                return pco_ids, None
            if visited >= limit:
                return pco_ids, encode_cursor({k: str(deserialise({k: v})[k]) for k, v in last.items()})
            query["ExclusiveStartKey"] = last

    # shared

    def _get_one[M: BaseModel](self, kind: Kind, model: type[M], record_id: str) -> M | None:
        pk, sk = record_key(kind, record_id)
        answer = self.client.get_item(
            TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        raw = answer.get("Item")
        return _from_item(model, deserialise(raw)) if raw else None

    def _get_many[M: BaseModel](self, kind: Kind, model: type[M], ids: Iterable[str]) -> dict[str, M]:
        items = batch_get(self.client, self.table_name, (record_key(kind, i) for i in ids), sleep=self._sleep)
        return {item["id"]: _from_item(model, item) for item in items.values()}

    def _by_pco_ids[M: Person | Family | Group](
        self, kind: Kind, model: type[M], pco_ids: Iterable[str]
    ) -> dict[str, M]:
        wanted = set(pco_ids)
        lookups = batch_get(
            self.client, self.table_name, (pco_lookup_key(kind, p) for p in wanted), sleep=self._sleep
        )
        records = self._get_many(kind, model, (item["record_id"] for item in lookups.values()))
        return {r.pco_id: r for r in records.values() if r.pco_id is not None and r.pco_id in wanted}

    def _by_lookup_partition(self, pk: str) -> list[Person]:
        ids: list[str] = []
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :person)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":person": {"S": "PERSON#"}},
            "ConsistentRead": True,
        }
        while True:
            answer = self.client.query(**query)
            ids.extend(deserialise(raw)["record_id"] for raw in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
        found = self.get_people(ids)
        return [found[i] for i in sorted(found)]

    def _save[M: Person | Family | Group](
        self, kind: Kind, changes: Sequence[tuple[M, M | None]], read_at: datetime | None = None
    ) -> set[str]:
        for new, previous in changes:
            if previous is not None and previous.id != new.id:
                raise ValueError(f"previous version of {kind} {new.id} has id {previous.id}")
        # PCO ids this save links anew are claimed first (a PCO id another record gives up in this same
        # save may pass to its new owner); a refused claim leaves that record unwritten.
        released = {
            k: previous.id
            for new, previous in changes
            for k in _lookup_keys(kind, previous) - _lookup_keys(kind, new)
            if previous is not None and k[0].startswith("PCO#")
        }
        claims = {
            new.id: pco_lookup_key(kind, new.pco_id)
            for new, previous in changes
            if new.pco_id is not None and pco_lookup_key(kind, new.pco_id) not in _lookup_keys(kind, previous)
        }
        refused = self._claim_pco_links(kind, claims, released)
        # A lookup claimed in this save is its new owner's now, whoever gave it up.
        claimed_now = {lookup for record_id, lookup in claims.items() if record_id not in refused}
        lookup_puts: list[Item] = []
        lookup_deletes: list[Key] = []
        records: list[Item] = []
        written_at = self._now()
        for new, previous in changes:
            if new.id in refused:
                continue
            before, after = _lookup_keys(kind, previous), _lookup_keys(kind, new)
            claimed = {claims[new.id]} if new.id in claims else set()
            lookup_deletes.extend(sorted(before - after - claimed_now))
            lookup_puts.extend(_lookup_item(kind, k, new.id) for k in sorted(after - before - claimed))
            records.append(_record_item(kind, new, written_at))
        batch_write(self.client, self.table_name, lookup_puts, lookup_deletes, sleep=self._sleep)
        newer: set[str] = set()
        if read_at is None:
            batch_write(self.client, self.table_name, records, sleep=self._sleep)
        else:
            newer = self._write_unless_newer(records, read_at)
        if refused:
            taken = {record_id: claims[record_id][0].split("#")[-1] for record_id in refused}
            raise PcoLinkTaken(kind, taken)
        return newer

    def _write_unless_newer(self, records: Sequence[Item], read_at: datetime) -> set[str]:
        """Put each record unless it was written at or after `read_at`; the ids of those left alone.

        One conditional PutItem per record: BatchWriteItem takes no condition, and a transaction would
        cancel the whole page for one refused record (and costs twice the writes)."""
        newer: set[str] = set()
        since = {":read_at": serialise_value(_epoch(read_at.timestamp()))}
        condition = (
            f"attribute_not_exists(pk) OR attribute_not_exists({WRITTEN_AT}) OR {WRITTEN_AT} < :read_at"
        )
        for item in records:
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=serialise(item),
                    ConditionExpression=condition,
                    ExpressionAttributeValues=since,
                )
            except ClientError as exc:
                if not condition_failed(exc):
                    raise
                newer.add(str(item["id"]))
        return newer

    def _claim_pco_links(self, kind: Kind, claims: dict[str, Key], released: dict[Key, str]) -> set[str]:
        """Claim each record's new PCO-id lookup item; the ids of the records refused (held by another).

        One conditional PutItem per claim, sent a few at a time (a page of 100 new people is a few round
        trips, not a hundred); a claim settled alone also takes over lookups that hold nothing. (A single
        transaction would be one call, but costs twice the writes and rolls back as a whole.)"""
        if not claims:
            return set()
        pending = list(claims.items())
        with ThreadPoolExecutor(max_workers=min(CLAIM_WORKERS, len(pending))) as pool:
            claimed = list(
                pool.map(
                    lambda claim: self._claim_pco_link(kind, claim[1], claim[0], released.get(claim[1])),
                    pending,
                )
            )
        return {record_id for (record_id, _), ok in zip(pending, claimed, strict=True) if not ok}

    def _claim_pco_link(self, kind: Kind, lookup: Key, record_id: str, releasing: str | None) -> bool:
        """Claim one PCO-id lookup item for `record_id`; False when another record holds it.

        A lookup item naming a record that gives the PCO id up in this save (`releasing`), or a record that
        does not carry it (left by a save that died before writing its record, or by an unlink), holds
        nothing and is taken over, conditionally on it still naming that record.
        """
        item = serialise(_lookup_item(kind, lookup, record_id))
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR record_id = :me",
                ExpressionAttributeValues={":me": {"S": record_id}},
            )
            return True
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        holder = self._lookup_holder(lookup)
        if holder is None:
            return False
        if holder != releasing:
            held = self._get_one(kind, _MODELS[kind], holder)
            if held is not None and held.pco_id is not None and pco_lookup_key(kind, held.pco_id) == lookup:
                return False
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="record_id = :stale",
                ExpressionAttributeValues={":stale": {"S": holder}},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def _lookup_holder(self, lookup: Key) -> str | None:
        answer = self.client.get_item(TableName=self.table_name, Key=key(*lookup), ConsistentRead=True)
        raw = answer.get("Item")
        return str(deserialise(raw)["record_id"]) if raw else None

    def _list[M: BaseModel](
        self, kind: Kind, model: type[M], limit: int, cursor: str | None, *, index_key: str = "kind"
    ) -> tuple[list[M], str | None]:
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidLimit(1, MAX_LIST_LIMIT)
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": KIND_INDEX if index_key == "kind" else PENDING_INDEX,
            "KeyConditionExpression": "#key = :kind",
            "ExpressionAttributeNames": {"#key": index_key},
            "ExpressionAttributeValues": {":kind": {"S": kind}},
            # One more than asked, so a next cursor is only handed out when there is a next item.
            "Limit": limit + 1,
        }
        if cursor is not None:
            start = decode_cursor(cursor, kind, index_key)
            query["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        items: list[Item] = []
        while len(items) <= limit:
            answer = self.client.query(**query)
            items.extend(deserialise(raw) for raw in answer.get("Items", []))
            last = answer.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
        page = items[:limit]
        next_cursor = None
        if len(items) > limit:
            tail = page[-1]
            next_cursor = encode_cursor({k: tail[k] for k in ("pk", "sk", index_key, "id")})
        return [_from_item(model, item) for item in page], next_cursor

    # the conflict log

    def log_conflicts(self, events: Sequence[ConflictEvent]) -> None:
        """Record conflicts opened (review) and resolved (by policy, by agreement, by an admin)."""
        puts: list[Item] = []
        deletes: list[Key] = []
        for event in events:
            item = conflict_item(event)
            puts.append(item)
            if event.status == "resolved":
                deletes.append((f"{CONFLICTS_PK}open", event.conflict.id))
        batch_write(self.client, self.table_name, puts, deletes, sleep=self._sleep)

    def list_conflicts(
        self, status: ConflictStatus, limit: int, cursor: str | None
    ) -> tuple[list[LoggedConflict], str | None]:
        """Conflicts with `status`, newest first."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidLimit(1, MAX_LIST_LIMIT)
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{CONFLICTS_PK}{status}"}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor is not None:
            query["ExclusiveStartKey"] = {
                "pk": {"S": f"{CONFLICTS_PK}{status}"},
                "sk": {"S": _decode_conflict_cursor(cursor)},
            }
        answer = self.client.query(**query)
        found = [LoggedConflict.from_item(deserialise(raw)) for raw in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return found, (encode_cursor({"sk": last["sk"]["S"]}) if last else None)

    def get_conflict(self, conflict_id: str) -> LoggedConflict | None:
        for status in ("open", "resolved"):
            answer = self.client.get_item(
                TableName=self.table_name,
                Key=key(f"{CONFLICTS_PK}{status}", conflict_id),
                ConsistentRead=True,
            )
            if answer.get("Item"):
                return LoggedConflict.from_item(deserialise(answer["Item"]))
        return None


def _decode_conflict_cursor(cursor: str) -> str:
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor from None
    if not isinstance(data, dict) or set(data) != {"sk"} or not isinstance(data["sk"], str):
        raise InvalidCursor
    return data["sk"]


def conflict_item(event: ConflictEvent) -> Item:
    conflict = event.conflict.model_dump(mode="json")
    return {
        "pk": f"{CONFLICTS_PK}{event.status}",
        "sk": event.conflict.id,
        "record_kind": event.kind,
        "record_id": event.record_id,
        "status": event.status,
        "resolution": event.resolution,
        **conflict,
    }
