"""Runs and the one-run-at-a-time lease in the SyncStateTable (items described in README's data model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from pco_core.errors import LeaseLost, RunNotFound
from pco_core.runstate import (
    MAX_KEPT_FAILURES,
    Cursor,
    PageCounts,
    RecordFailure,
    RecordTotals,
    Run,
    RunProgress,
    RunStatus,
    RunWait,
    TotalsKind,
    Watermark,
)
from pco_core.store._dynamo import (
    DynamoTable,
    Item,
    condition_failed,
    deserialise,
    key,
    serialise,
    serialise_value,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
        UpdateTypeDef,
    )

RUN_PK = "RUN"
# A run's failed records: pk RUN#<run id>, sk FAILURE#<n> (beside the runs, never in their listing).
FAILURE_SK = "FAILURE#"
# Each step's counters are flat attributes, `counts.<domain>.<outcome>`, so ADD creates them as it counts.
DOMAIN_COUNT_PREFIX = "counts."
DOMAIN_COUNT_SEPARATOR = "."
# DynamoDB's limit on the actions of one transaction (the run update is one).
MAX_TRANSACTION_ITEMS = 100
LOCK_KEY = ("LOCK", "RUN")
WATERMARK_PK = "WATERMARK"
# Kept on the run item so a conditional update can compute the duration without reading the run first.
_STARTED_EPOCH = "started_epoch"
_STORAGE_KEYS = ("pk", "sk", _STARTED_EPOCH)


def _epoch(moment: datetime) -> Decimal:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware")
    return Decimal(str(round(moment.timestamp(), 6)))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _lease_seconds(moment: datetime) -> int:
    return int(_epoch(moment))


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float | Decimal) else None


def _run_item(run: Run) -> Item:
    item: Item = run.model_dump(mode="json", exclude={"outcome", "counts_by_domain"})
    # The internal fields are excluded from API dumps but are the run's state.
    item.update(
        domains=list(run.domains),
        cursor=run.cursor.model_dump(mode="json"),
        page_seq=run.page_seq,
        pages_in_execution=run.pages_in_execution,
        watermarks=_watermarks_json(run.watermarks),
        reached=_watermarks_json(run.reached),
    )
    return {"pk": RUN_PK, "sk": run.id, _STARTED_EPOCH: _epoch(run.started_at), **item}


def _failures_pk(run_id: str) -> str:
    return f"{RUN_PK}#{run_id}"


def _failure_item(run_id: str, n: int, failure: RecordFailure) -> Item:
    # Zero-padded so the sort key orders failures as they happened.
    return {"pk": _failures_pk(run_id), "sk": f"{FAILURE_SK}{n:05d}", **failure.model_dump(mode="json")}


def _transaction_condition_failed(exc: ClientError) -> bool:
    """A transaction cancelled because a condition (the run update's) was false."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons


def _domain_count_name(domain: str, outcome: str) -> str:
    return f"{DOMAIN_COUNT_PREFIX}{domain}{DOMAIN_COUNT_SEPARATOR}{outcome}"


def _watermarks_json(watermarks: Mapping[str, Watermark]) -> dict[str, Any]:
    return {name: mark.model_dump(mode="json") for name, mark in watermarks.items()}


def _totals_json(totals: Mapping[TotalsKind, RecordTotals]) -> dict[str, Any]:
    return {kind: value.model_dump(mode="json") for kind, value in totals.items()}


def _run_from_item(item: Item) -> Run:
    values: dict[str, Any] = {}
    by_domain: dict[str, dict[str, int]] = {}
    for name, value in item.items():
        if name in _STORAGE_KEYS:
            continue
        if name.startswith(DOMAIN_COUNT_PREFIX):
            domain, _, outcome = name.removeprefix(DOMAIN_COUNT_PREFIX).rpartition(DOMAIN_COUNT_SEPARATOR)
            by_domain.setdefault(domain, {})[outcome] = int(value)
        else:
            values[name] = value
    return Run.model_validate({**values, "counts_by_domain": by_domain})


@dataclass(frozen=True)
class RunLock:
    """The lock as stored. `page_until` is set while a page of the holder may still be running (the page's
    start plus its Lambda's time budget), `beat_at` once any page of the holder has begun."""

    run_id: str
    lease_expires_at: int
    taken_at: int | None = None
    page_until: int | None = None
    beat_at: int | None = None

    def live_at(self, now: datetime) -> bool:
        return self.lease_expires_at > _lease_seconds(now)

    def page_in_flight_at(self, now: datetime) -> bool:
        """Whether a page of the holder may still be writing (its Lambda cannot outlive `page_until`)."""
        return self.page_until is not None and self.page_until > _lease_seconds(now)

    def seconds_until_page_ends(self, now: datetime) -> int:
        return max(0, (self.page_until or 0) - _lease_seconds(now))


class RunStore(DynamoTable):
    """Run items (pk=RUN, sk=<run id>) and the lock item (pk=LOCK, sk=RUN)."""

    # runs

    def put_run(self, run: Run) -> None:
        self.client.put_item(TableName=self.table_name, Item=serialise(_run_item(run)))

    def get_run(self, run_id: str) -> Run | None:
        answer = self.client.get_item(TableName=self.table_name, Key=key(RUN_PK, run_id), ConsistentRead=True)
        raw = answer.get("Item")
        return _run_from_item(deserialise(raw)) if raw else None

    def list_runs(self, limit: int) -> list[Run]:
        """The most recent runs first (run ids sort by start time)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        answer = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": RUN_PK}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_run_from_item(deserialise(raw)) for raw in answer.get("Items", [])]

    def commit_page(
        self,
        run_id: str,
        *,
        seen_seq: int,
        counts: PageCounts,
        cursor: Cursor,
        progress: RunProgress,
        pages_in_execution: int,
        complete_at: datetime | None = None,
        reached: Mapping[str, Watermark] | None = None,
        totals: Mapping[TotalsKind, RecordTotals] | None = None,
        failures: Sequence[RecordFailure] = (),
        failures_before: int = 0,
        domain: str | None = None,
        waiting: RunWait | None = None,
    ) -> bool:
        """Count one page and move the run's cursor, exactly once: False if this page was already
        committed (page_seq moved on) or the run is no longer RUNNING. With `complete_at` the same
        update marks the run COMPLETED; the lock is then released (a separate, conditional delete).
        `reached` and `totals` replace the run's own (the page read them with the run and added its own).
        With `domain` (the step the page worked on) its counts are also added to that step's counters.
        The page's `failures` are kept with the run in the same transaction, numbered on from
        `failures_before` (the run's failed count before this page) while fewer than MAX_KEPT_FAILURES.
        """
        sets = [
            "#cursor = :cursor",
            "progress = :progress",
            "page_seq = :next_seq",
            "pages_in_execution = :pages",
        ]
        values: dict[str, AttributeValueTypeDef] = {
            ":created": {"N": str(counts.created)},
            ":updated": {"N": str(counts.updated)},
            ":skipped": {"N": str(counts.skipped)},
            ":failed": {"N": str(counts.failed)},
            ":conflicts": {"N": str(counts.conflicts)},
            ":cursor": serialise_value(cursor.model_dump(mode="json")),
            ":progress": serialise_value(progress.model_dump(mode="json")),
            ":seen": {"N": str(seen_seq)},
            ":next_seq": {"N": str(seen_seq + 1)},
            ":pages": {"N": str(pages_in_execution)},
            ":running": {"S": "RUNNING"},
        }
        if reached is not None:
            sets.append("reached = :reached")
            values[":reached"] = serialise_value(_watermarks_json(reached))
        if totals is not None:
            sets.append("totals = :totals")
            values[":totals"] = serialise_value(_totals_json(totals))
        if complete_at is not None:
            sets += [
                "#status = :completed",
                "finished_at = :finished_at",
                f"duration_seconds = :end - {_STARTED_EPOCH}",
            ]
            values[":completed"] = {"S": "COMPLETED"}
            values[":finished_at"] = {"S": _iso(complete_at)}
            values[":end"] = {"N": str(_epoch(complete_at))}
        adds = ["created :created", "updated :updated", "skipped :skipped", "failed :failed"]
        adds.append("conflicts :conflicts")
        names = {"#cursor": "cursor", "#status": "status"}
        if domain is not None:
            for n, outcome in enumerate(("created", "updated", "skipped", "failed", "conflicts")):
                if getattr(counts, outcome):
                    names[f"#d{n}"] = _domain_count_name(domain, outcome)
                    adds.append(f"#d{n} :{outcome}")
        if waiting is not None:
            sets.append("waiting = :waiting")
            values[":waiting"] = serialise_value(waiting.model_dump(mode="json"))
        clear = "" if waiting is not None else " REMOVE waiting"
        update: UpdateTypeDef = {
            "TableName": self.table_name,
            "Key": key(RUN_PK, run_id),
            "UpdateExpression": f"SET {', '.join(sets)} ADD {', '.join(adds)}{clear}",
            "ConditionExpression": "page_seq = :seen AND #status = :running",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        kept = [
            (n, failure) for n, failure in enumerate(failures, start=failures_before) if n < MAX_KEPT_FAILURES
        ][: MAX_TRANSACTION_ITEMS - 1]
        try:
            if kept:
                # One transaction: the failures are kept exactly when the page's counts are.
                puts: list[TransactWriteItemTypeDef] = [
                    {"Put": {"TableName": self.table_name, "Item": serialise(_failure_item(run_id, n, f))}}
                    for n, f in kept
                ]
                self.client.transact_write_items(TransactItems=[{"Update": update}, *puts])
            else:
                self.client.update_item(**update)
        except ClientError as exc:
            if condition_failed(exc) or _transaction_condition_failed(exc):
                return False
            raise
        if complete_at is not None:
            self.release_lock(run_id)
        return True

    def list_failures(self, run_id: str) -> list[RecordFailure]:
        """The failures kept with the run, in the order they happened (at most MAX_KEPT_FAILURES)."""
        answer = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :failure)",
            ExpressionAttributeValues={":pk": {"S": _failures_pk(run_id)}, ":failure": {"S": FAILURE_SK}},
            Limit=MAX_KEPT_FAILURES,
        )
        return [
            RecordFailure.model_validate({k: v for k, v in deserialise(raw).items() if k not in ("pk", "sk")})
            for raw in answer.get("Items", [])
        ]

    def note_wait(self, run_id: str, waiting: RunWait | None) -> None:
        """Say what the RUNNING run waits for (None: nothing); a run that is over is left alone."""
        try:
            if waiting is None:
                self.client.update_item(
                    TableName=self.table_name,
                    Key=key(RUN_PK, run_id),
                    UpdateExpression="REMOVE waiting",
                    ConditionExpression="#status = :running",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":running": {"S": "RUNNING"}},
                )
                return
            self.client.update_item(
                TableName=self.table_name,
                Key=key(RUN_PK, run_id),
                UpdateExpression="SET waiting = :waiting",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":waiting": serialise_value(waiting.model_dump(mode="json")),
                    ":running": {"S": "RUNNING"},
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def finish_run(self, run_id: str, status: RunStatus, *, error: str | None, finished_at: datetime) -> bool:
        """End a RUNNING run with `status`; False if the run is missing or already over."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(RUN_PK, run_id),
                UpdateExpression=(
                    f"SET #status = :status, #error = :error, finished_at = :finished_at, "
                    f"duration_seconds = :end - {_STARTED_EPOCH}"
                ),
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":status": {"S": status},
                    ":error": serialise_value(error),
                    ":finished_at": {"S": _iso(finished_at)},
                    ":end": {"N": str(_epoch(finished_at))},
                    ":running": {"S": "RUNNING"},
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def claim_resume(self, run_id: str, by_run_id: str) -> bool:
        """Record that `by_run_id` resumes the FAILED run `run_id`; False if it is not FAILED or was resumed
        already (so two clicks on Resume start one run)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(RUN_PK, run_id),
                UpdateExpression="SET resumed_by = :by",
                ConditionExpression=(
                    "#status = :failed"
                    " AND (attribute_not_exists(resumed_by) OR attribute_type(resumed_by, :null))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":by": {"S": by_run_id},
                    ":failed": {"S": "FAILED"},
                    ":null": {"S": "NULL"},
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def reset_execution_pages(self, run_id: str) -> None:
        """Start counting pages afresh for a new execution of the run (continue-as-new)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(RUN_PK, run_id),
                UpdateExpression="SET pages_in_execution = :zero",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": {"N": "0"}},
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise RunNotFound(run_id) from None
            raise

    # watermarks

    def get_watermarks(self) -> dict[str, Watermark]:
        """The deployment's watermarks (how far each kind of PCO change has been read), by name."""
        answer = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": WATERMARK_PK}},
            ConsistentRead=True,
        )
        found: dict[str, Watermark] = {}
        for raw in answer.get("Items", []):
            item = deserialise(raw)
            found[str(item["sk"])] = Watermark.model_validate({"at": item["at"], "ids": item.get("ids", [])})
        return found

    def save_watermarks(self, watermarks: Mapping[str, Watermark], *, run_id: str) -> None:
        """Store each watermark unless the deployment's is already later: watermarks only move forward."""
        for name, mark in watermarks.items():
            try:
                self.client.put_item(
                    TableName=self.table_name,
                    Item=serialise(
                        {
                            "pk": WATERMARK_PK,
                            "sk": name,
                            "at": _iso(mark.at),
                            "at_epoch": _epoch(mark.at),
                            "ids": list(mark.ids),
                            "run_id": run_id,
                        }
                    ),
                    ConditionExpression="attribute_not_exists(pk) OR at_epoch <= :at",
                    ExpressionAttributeValues={":at": {"N": str(_epoch(mark.at))}},
                )
            except ClientError as exc:
                if not condition_failed(exc):
                    raise

    # lock

    def acquire_lock(self, run_id: str, now: datetime, lease_seconds: int) -> bool:
        """Take the lock for `run_id` if it is free, its lease has expired, or `run_id` already holds it."""
        now_s = _lease_seconds(now)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=serialise(
                    {
                        "pk": LOCK_KEY[0],
                        "sk": LOCK_KEY[1],
                        "run_id": run_id,
                        "lease_expires_at": now_s + lease_seconds,
                        "taken_at": now_s,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR lease_expires_at <= :now OR run_id = :me",
                ExpressionAttributeValues={":now": {"N": str(now_s)}, ":me": {"S": run_id}},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def begin_page(self, run_id: str, now: datetime, lease_seconds: int, page_seconds: int) -> None:
        """Extend `run_id`'s lease and mark a page in flight until `now + page_seconds` (its Lambda's time
        budget), so a cancel cannot free the lock while that page may still write to PCO.
        LeaseLost if the lock was released or another run holds it."""
        now_s = _lease_seconds(now)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(*LOCK_KEY),
                UpdateExpression="SET lease_expires_at = :expires, page_until = :until, beat_at = :now",
                ConditionExpression="run_id = :me",
                ExpressionAttributeValues={
                    ":expires": {"N": str(now_s + max(lease_seconds, page_seconds))},
                    ":until": {"N": str(now_s + page_seconds)},
                    ":now": {"N": str(now_s)},
                    ":me": {"S": run_id},
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise LeaseLost(f"run {run_id} no longer holds the run lock") from None
            raise

    def end_page(self, run_id: str) -> None:
        """The page of `run_id` that `begin_page` marked is over (committed, or gave up): nothing of it can
        write any more. A lock another run holds is left alone."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key(*LOCK_KEY),
                UpdateExpression="REMOVE page_until",
                ConditionExpression="run_id = :me",
                ExpressionAttributeValues={":me": {"S": run_id}},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def release_lock(self, run_id: str) -> bool:
        """Release the lock if `run_id` holds it; False (and nothing changed) otherwise."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=key(*LOCK_KEY),
                ConditionExpression="run_id = :me",
                ExpressionAttributeValues={":me": {"S": run_id}},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def release_lock_if_idle(self, run_id: str, now: datetime) -> bool:
        """Release `run_id`'s lock unless one of its pages may still be running; False if it was kept
        (that page releases it once it sees the run is over, or `page_until` passes)."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key=key(*LOCK_KEY),
                ConditionExpression=(
                    "run_id = :me AND (attribute_not_exists(page_until) OR page_until <= :now)"
                ),
                ExpressionAttributeValues={":me": {"S": run_id}, ":now": {"N": str(_lease_seconds(now))}},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def lock_holder(self, now: datetime) -> str | None:
        """The run holding a live lease, or None when the lock is free or its lease has expired."""
        state = self.lock_state()
        return state.run_id if state is not None and state.live_at(now) else None

    def lock_state(self) -> RunLock | None:
        """The lock as stored, live or expired; None when free."""
        lock = self._lock_item()
        if lock is None:
            return None
        return RunLock(
            str(lock["run_id"]),
            int(lock["lease_expires_at"]),
            taken_at=_optional_int(lock.get("taken_at")),
            page_until=_optional_int(lock.get("page_until")),
            beat_at=_optional_int(lock.get("beat_at")),
        )

    def _lock_item(self) -> dict[str, Any] | None:
        answer = self.client.get_item(TableName=self.table_name, Key=key(*LOCK_KEY), ConsistentRead=True)
        raw = answer.get("Item")
        return deserialise(raw) if raw else None
