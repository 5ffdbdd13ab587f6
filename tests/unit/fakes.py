"""In-memory stand-ins for the record store and run store, and a fake PCO behind httpx.MockTransport."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from pco_core.errors import LeaseLost, PcoLinkTaken
from pco_core.pco.client import PcoClient
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
from pco_core.runstate import (
    MAX_KEPT_FAILURES,
    Cursor,
    Domain,
    PageCounts,
    RecordFailure,
    RecordTotals,
    Run,
    RunProgress,
    RunWait,
    TotalsKind,
    Watermark,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


LONG_AGO = START - timedelta(days=365)


class FakeRecords:
    """Keeps records by id; lookups behave as the DynamoDB store's (linked/normalised keys), and so do saves
    given `read_at`: a record written at or after it is left alone and named.

    `clock` times the writes. By default every write is long before any read (a frozen test clock could not
    order them); a test of a race passes the clock its page reads with, and moves it."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.people: dict[str, Person] = {}
        self.families: dict[str, Family] = {}
        self.groups: dict[str, Group] = {}
        self.calls: Counter[str] = Counter()
        self.saved_people: list[tuple[Person, Person | None]] = []
        self.conflict_log: dict[str, ConflictEvent] = {}
        self.clock = clock or (lambda: LONG_AGO)
        self.written_at: dict[tuple[str, str], datetime] = {}

    def _write[R: Person | Family | Group](
        self,
        kind: str,
        held: dict[str, R],
        changes: Sequence[tuple[R, R | None]],
        read_at: datetime | None,
    ) -> set[str]:
        allowed = self._one_link_per_pco_id(held, kind, changes)
        newer: set[str] = set()
        now = self.clock()
        for new, _ in allowed:
            written = self.written_at.get((kind, new.id))
            if read_at is not None and written is not None and written >= read_at:
                newer.add(new.id)
                continue
            held[new.id] = new
            self.written_at[(kind, new.id)] = now
        self._raise_taken(kind, changes, allowed)
        return newer

    def add(self, *records: Person | Family | Group) -> None:
        for r in records:
            target: dict[str, Any] = (
                self.people
                if isinstance(r, Person)
                else self.families
                if isinstance(r, Family)
                else self.groups
            )
            target[r.id] = r

    def people_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Person]:
        self.calls["people_by_pco_ids"] += 1
        wanted = set(pco_ids)
        return {p.pco_id: p for p in self.people.values() if p.pco_id in wanted and p.pco_id is not None}

    def people_by_groups_person_ids(self, groups_person_ids: Iterable[str]) -> dict[str, Person]:
        self.calls["people_by_groups_person_ids"] += 1
        wanted = set(groups_person_ids)
        return {
            gid: p
            for p in self.people.values()
            if (gid := p.sync.groups_person_id) is not None and gid in wanted
        }

    def has_unlinked_people(self) -> bool:
        self.unlinked_checks = getattr(self, "unlinked_checks", 0) + 1
        return any(p.pco_id is None for p in self.people.values())

    def people_by_email(self, email: str) -> list[Person]:
        self.calls["people_by_email"] += 1
        wanted = normalise_email(email)
        # As the store: only people not yet linked to PCO have email and name lookups.
        return [
            p
            for p in self.people.values()
            if p.pco_id is None and any(normalise_email(e.address) == wanted for e in p.emails)
        ]

    def people_by_name(self, last: str, first: str, birthdate: date | None) -> list[Person]:
        self.calls["people_by_name"] += 1
        return [
            p
            for p in self.people.values()
            if p.pco_id is None
            and normalise_name(p.last_name) == normalise_name(last)
            and normalise_name(p.first_name) == normalise_name(first)
            and p.birthdate == birthdate
        ]

    def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    def get_family(self, family_id: str) -> Family | None:
        return self.families.get(family_id)

    def get_group(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]:
        return {i: self.people[i] for i in ids if i in self.people}

    def save_people(
        self, changes: Sequence[tuple[Person, Person | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        self.calls["save_people"] += 1
        self.saved_people.extend(self._one_link_per_pco_id(self.people, "person", changes))
        return self._write("person", self.people, changes, read_at)

    def _one_link_per_pco_id(
        self, held: dict[str, Any], kind: str, changes: Sequence[tuple[Any, Any]]
    ) -> list[tuple[Any, Any]]:
        """As the store: a save never links a PCO id another local record already holds."""
        owners = {r.pco_id: r.id for r in held.values() if r.pco_id is not None}
        for new, _ in changes:  # ids given up in this save may pass to a new owner in the same save
            before = held.get(new.id)
            if before is not None and before.pco_id not in (None, new.pco_id):
                owners.pop(before.pco_id, None)
        allowed = []
        for new, previous in changes:
            owner = owners.get(new.pco_id) if new.pco_id is not None else None
            if owner is not None and owner != new.id:
                continue
            if new.pco_id is not None:
                owners[new.pco_id] = new.id
            allowed.append((new, previous))
        return allowed

    @staticmethod
    def _raise_taken(kind: str, changes: Sequence[tuple[Any, Any]], allowed: list[tuple[Any, Any]]) -> None:
        kept = {id(new) for new, _ in allowed}
        taken = {new.id: new.pco_id for new, _ in changes if id(new) not in kept}
        if taken:
            raise PcoLinkTaken(kind, taken)

    def families_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Family]:
        wanted = set(pco_ids)
        return {f.pco_id: f for f in self.families.values() if f.pco_id in wanted and f.pco_id is not None}

    def save_families(
        self, changes: Sequence[tuple[Family, Family | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        return self._write("family", self.families, changes, read_at)

    def groups_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Group]:
        wanted = set(pco_ids)
        return {g.pco_id: g for g in self.groups.values() if g.pco_id in wanted and g.pco_id is not None}

    def save_groups(
        self, changes: Sequence[tuple[Group, Group | None]], *, read_at: datetime | None = None
    ) -> set[str]:
        self.calls["save_groups"] += 1
        return self._write("group", self.groups, changes, read_at)

    def get_families(self, ids: Iterable[str]) -> dict[str, Family]:
        return {i: self.families[i] for i in ids if i in self.families}

    def _list(self, records: dict[str, Any], limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
        """Id-ordered pages as the push walks them (cursor: the last listed id)."""
        ordered = [records[k] for k in sorted(records) if cursor is None or k > cursor]
        page = ordered[:limit]
        return page, (page[-1].id if len(ordered) > limit else None)

    def list_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]:
        return self._list(self.people, limit, cursor)

    def list_pending_people(self, limit: int, cursor: str | None) -> tuple[list[Person], str | None]:
        return self._list(self._pending(self.people), limit, cursor)

    def list_pending_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]:
        return self._list(self._pending(self.families), limit, cursor)

    def list_pending_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]:
        return self._list(self._pending(self.groups), limit, cursor)

    @staticmethod
    def _pending(records: dict[str, Any]) -> dict[str, Any]:
        return {k: r for k, r in records.items() if has_pending_changes(r)}

    def log_conflicts(self, events: Sequence[ConflictEvent]) -> None:
        for event in events:
            self.conflict_log[event.conflict.id] = event

    def get_conflict(self, conflict_id: str) -> LoggedConflict | None:
        event = self.conflict_log.get(conflict_id)
        return None if event is None else _logged(event)

    def list_conflicts(
        self, status: ConflictStatus, limit: int, cursor: str | None
    ) -> tuple[list[LoggedConflict], str | None]:
        """Newest first, `limit` at a time (cursor: the last id listed), as the store lists them."""
        found = sorted(
            (
                e
                for e in self.conflict_log.values()
                if e.status == status and (cursor is None or e.conflict.id < cursor)
            ),
            key=lambda e: e.conflict.id,
            reverse=True,
        )
        page = [_logged(e) for e in found[:limit]]
        return page, (page[-1].id if len(found) > limit else None)

    def list_families(self, limit: int, cursor: str | None) -> tuple[list[Family], str | None]:
        return self._list(self.families, limit, cursor)

    def list_groups(self, limit: int, cursor: str | None) -> tuple[list[Group], str | None]:
        return self._list(self.groups, limit, cursor)

    def iter_groups_with_pco_id(self, after_id: str | None, limit: int) -> list[Group]:
        linked = sorted((g for g in self.groups.values() if g.pco_id), key=lambda g: g.id)
        return [g for g in linked if after_id is None or g.id > after_id][:limit]

    def linked_pco_ids(self, kind: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        held: dict[str, Any] = self.people if kind == "person" else self.families
        ordered = [held[k] for k in sorted(held) if cursor is None or k > cursor]
        page = ordered[:limit]
        following = page[-1].id if len(ordered) > limit else None
        return [r.pco_id for r in page if r.pco_id is not None], following

    def person_by_pco(self, pco_id: str) -> Person:
        return next(p for p in self.people.values() if p.pco_id == pco_id)


def _logged(event: ConflictEvent) -> LoggedConflict:
    return LoggedConflict.model_validate(
        {
            **event.conflict.model_dump(),
            "record_kind": event.kind,
            "record_id": event.record_id,
            "status": event.status,
            "resolution": event.resolution,
        }
    )


class FakeRuns:
    """One run in memory with commit_page's exactly-once condition (page_seq and RUNNING)."""

    def __init__(self, run: Run) -> None:
        self.runs = {run.id: run}
        self.lock: str | None = run.id
        self.page_in_flight = False
        self.commits = 0
        self.failures: dict[str, dict[int, RecordFailure]] = {}
        self.watermarks: dict[str, Watermark] = {}
        self.audit: dict[tuple[str, str, int], list[str]] = {}

    def get_run(self, run_id: str) -> Run | None:
        run = self.runs.get(run_id)
        return run.model_copy(deep=True) if run else None

    def begin_page(self, run_id: str, now: datetime, lease_seconds: int, page_seconds: int) -> None:
        if self.lock != run_id:
            raise LeaseLost(run_id)
        self.page_in_flight = True

    def end_page(self, run_id: str) -> None:
        if self.lock == run_id:
            self.page_in_flight = False

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
        run = self.runs[run_id]
        if run.page_seq != seen_seq or run.status != "RUNNING":
            return False
        self.commits += 1
        for n, failure in enumerate(failures, start=failures_before):
            if n < MAX_KEPT_FAILURES:
                self.failures.setdefault(run_id, {})[n] = failure
        update: dict[str, Any] = {
            "reached": dict(reached if reached is not None else run.reached),
            "totals": dict(totals if totals is not None else run.totals),
            "created": run.created + counts.created,
            "updated": run.updated + counts.updated,
            "skipped": run.skipped + counts.skipped,
            "failed": run.failed + counts.failed,
            "conflicts": run.conflicts + counts.conflicts,
            "cursor": cursor,
            "progress": progress,
            "page_seq": seen_seq + 1,
            "pages_in_execution": pages_in_execution,
        }
        update["waiting"] = waiting
        if domain is not None:
            step = run.counts_by_domain.get(domain, PageCounts())
            added = {k: getattr(step, k) + getattr(counts, k) for k in PageCounts.model_fields}
            update["counts_by_domain"] = {**run.counts_by_domain, domain: PageCounts(**added)}
        if complete_at is not None:
            update.update(status="COMPLETED", finished_at=complete_at)
            self.lock = None
        self.runs[run_id] = run.model_copy(update=update)
        return True

    def note_wait(self, run_id: str, waiting: RunWait | None) -> None:
        run = self.runs[run_id]
        if run.status == "RUNNING":
            self.runs[run_id] = run.model_copy(update={"waiting": waiting})

    def release_lock(self, run_id: str) -> bool:
        if self.lock == run_id:
            self.lock = None
            return True
        return False

    def save_watermarks(self, watermarks: Mapping[str, Watermark], *, run_id: str) -> None:
        for name, mark in watermarks.items():
            held = self.watermarks.get(name)
            if held is None or held.at <= mark.at:
                self.watermarks[name] = mark

    # the audit's listed ids (the same table's items in the real store)

    def put_audit_ids(self, run_id: str, kind: str, chunk: int, ids: Sequence[str], *, now: datetime) -> None:
        self.audit[(run_id, kind, chunk)] = list(ids)

    def audit_ids(self, run_id: str, kind: str) -> set[str]:
        return {i for (run, k, _), ids in self.audit.items() if (run, k) == (run_id, kind) for i in ids}

    def run(self, run_id: str = "R1") -> Run:
        return self.runs[run_id]


def make_run(domains: list[Domain], run_id: str = "R1", **extra: Any) -> Run:
    values: dict[str, Any] = {
        "id": run_id,
        "type": "full_sync",
        "label": "Full Sync",
        "status": "RUNNING",
        "started_at": START,
        "started_by": "tester",
        "domains": domains,
    }
    return Run.model_validate({**values, **extra})


# ---- a fake PCO: JSON:API documents from plain dicts, served through httpx.MockTransport ----


def pco_person(
    pid: str,
    first: str,
    last: str,
    *,
    birthdate: str | None = None,
    gender: str | None = None,
    status: str = "active",
    emails: list[tuple[str, bool]] | None = None,
    addresses: list[dict[str, Any]] | None = None,
    updated_at: str = "2025-12-01T00:00:00Z",
    created_at: str | None = None,
) -> dict[str, Any]:
    return {
        "id": pid,
        "first_name": first,
        "last_name": last,
        "birthdate": birthdate,
        "gender": gender,
        "status": status,
        "updated_at": updated_at,
        # One second per person unless told: people created in the same second are the exception.
        "created_at": created_at or _iso(CREATED_BASE + timedelta(seconds=int(pid) if pid.isdigit() else 0)),
        "emails": emails or [],
        "addresses": addresses or [],
    }


CREATED_BASE = datetime(2020, 1, 1, tzinfo=UTC)
_WHERE = re.compile(r"^where\[(created_at|updated_at)\]\[(gt|gte|lt|lte)\]$")
_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def select(data: list[dict[str, Any]], params: httpx.QueryParams) -> list[dict[str, Any]]:
    """PCO's where[created_at|updated_at][op]= filters and order=[-]attr on a listing's resources."""
    for name, value in params.multi_items():
        match = _WHERE.match(name)
        if match:
            attr, op = match.groups()
            bound = _moment(value)
            data = [r for r in data if _COMPARE[op](_moment(r["attributes"][attr]), bound)]
    order = params.get("order", "")
    if order.lstrip("-") in ("created_at", "updated_at"):
        attr = order.lstrip("-")
        data = sorted(data, key=lambda r: r["attributes"][attr], reverse=order.startswith("-"))
    return data


class FakePco:
    """Serves /people/v2/people, /people/v2/households, /groups/v2/groups and memberships with offsets."""

    def __init__(self) -> None:
        self.people: list[dict[str, Any]] = []
        self.households: list[dict[str, Any]] = []  # {"id","name","primary","people":[ids]}
        self.groups: list[dict[str, Any]] = []  # {"id","name"}
        self.memberships: dict[
            str, list[dict[str, Any]]
        ] = {}  # group id -> [{"id","person","role","joined_at"}]
        self.requests: list[httpx.Request] = []
        self.rate_limited = False
        self.rate_count = 1
        self.per_page_cap = 100
        # Requests this predicate picks are answered 503 (PCO having a bad moment).
        self.unavailable: Callable[[httpx.Request], bool] = lambda request: False
        # Called once PCO has read what it answers, before the answer arrives: something else (a webhook)
        # happening while a request is in flight.
        self.while_answering: Callable[[httpx.Request], None] = lambda request: None

    def client(self) -> PcoClient:
        return PcoClient("https://pco.test", "app", "secret", transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        headers = {
            "X-PCO-API-Request-Rate-Limit": "100",
            "X-PCO-API-Request-Rate-Period": "20",
            "X-PCO-API-Request-Rate-Count": str(self.rate_count),
        }
        if self.rate_limited:
            body = {"errors": [{"code": "429", "detail": "Rate limit exceeded"}]}
            return httpx.Response(429, json=body, headers={**headers, "Retry-After": "7"})
        if self.unavailable(request):
            body = {"errors": [{"status": "503", "title": "Service Unavailable"}]}
            return httpx.Response(503, json=body, headers=headers)
        params = request.url.params
        per_page = min(int(params.get("per_page", "25")), self.per_page_cap)
        offset = int(params.get("offset", "0"))
        path = request.url.path
        if path == "/people/v2/people":
            data, included = self._people()
        elif path == "/people/v2/households":
            data, included = self._households()
        elif path == "/groups/v2/groups":
            data, included = (
                [{"type": "Group", "id": g["id"], "attributes": {"name": g["name"]}} for g in self.groups],
                [],
            )
        elif path.startswith("/groups/v2/groups/") and path.endswith("/memberships"):
            data, included = self._memberships(path.split("/")[4])
        else:
            return httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found"}]})
        data = select(data, params)
        page = data[offset : offset + per_page]
        meta: dict[str, Any] = {"total_count": len(data), "count": len(page)}
        if offset + per_page < len(data):
            meta["next"] = {"offset": offset + per_page}
        body = {"data": page, "included": included, "meta": meta, "links": {}}
        self.while_answering(request)
        return httpx.Response(200, content=json.dumps(body).encode(), headers=headers)

    def _people(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        data, included = [], []
        for p in self.people:
            emails = []
            for n, (address, primary) in enumerate(p["emails"]):
                eid = f"{p['id']}-e{n}"
                emails.append({"type": "Email", "id": eid})
                included.append(
                    {"type": "Email", "id": eid, "attributes": {"address": address, "primary": primary}}
                )
            addresses = []
            for n, address in enumerate(p["addresses"]):
                aid = f"{p['id']}-a{n}"
                addresses.append({"type": "Address", "id": aid})
                included.append({"type": "Address", "id": aid, "attributes": address})
            attrs = {
                k: p[k]
                for k in (
                    "first_name",
                    "last_name",
                    "birthdate",
                    "gender",
                    "status",
                    "updated_at",
                    "created_at",
                )
            }
            data.append(
                {
                    "type": "Person",
                    "id": p["id"],
                    "attributes": attrs,
                    "relationships": {
                        "emails": {"data": emails},
                        "addresses": {"data": addresses},
                        "phone_numbers": {"data": []},
                    },
                }
            )
        return data, included

    def _households(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        data = [
            {
                "type": "Household",
                "id": h["id"],
                "attributes": {
                    "name": h["name"],
                    "updated_at": "2025-12-01T00:00:00Z",
                    "created_at": h.get("created_at")
                    or _iso(CREATED_BASE + timedelta(seconds=int(h["id"]) if h["id"].isdigit() else 0)),
                },
                "relationships": {
                    "people": {"data": [{"type": "Person", "id": pid} for pid in h["people"]]},
                    "primary_contact": {"data": {"type": "Person", "id": h["primary"]}},
                },
            }
            for h in self.households
        ]
        return data, []

    def _memberships(self, group_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        data = [
            {
                "type": "Membership",
                "id": m["id"],
                "attributes": {"role": m.get("role", "member"), "joined_at": m.get("joined_at")},
                "relationships": {"person": {"data": {"type": "Person", "id": m["person"]}}},
            }
            for m in self.memberships.get(group_id, [])
        ]
        return data, []
