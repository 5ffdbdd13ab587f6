"""One webhook event as the appliers see it, what an applier answers, and the ports they share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pco_core.engine.ports import Records
from pco_core.merge.common import Merged
from pco_core.pco.jsonapi import Document, Resource
from pco_core.records import ConflictPolicy, Family, Group, Person
from pco_core.store.deliveries import SubRecordTrace, Tombstone

ApplyOutcome = Literal["applied", "skipped", "stale", "unknown"]


@dataclass(frozen=True)
class Applied:
    outcome: ApplyOutcome
    detail: str
    resource: str = ""
    """"<type> <id>" of the payload's resource, for the delivery log ("" when unreadable)."""


@dataclass(frozen=True)
class Event:
    """`<subject>.<action>` of one PCO record: its payload, when PCO says it happened, and our stamp."""

    document: Document
    resource: Resource
    action: str
    time: datetime | None
    run_id: str
    now: datetime

    @property
    def happened_at(self) -> datetime:
        return self.time or self.now


class WebhookTrailPort(Protocol):
    def tombstone(self, kind: str, pco_id: str) -> Tombstone | None: ...

    def bury(self, kind: str, pco_id: str, destroyed_at: datetime, record_id: str | None) -> None: ...

    def sub_record(self, type_: str, pco_id: str) -> SubRecordTrace | None: ...

    def trace_sub_record(self, type_: str, pco_id: str, trace: SubRecordTrace) -> None: ...


class PcoReader(Protocol):
    """What an applier may ask PCO: one read (a merger's kept person is checked before it is linked)."""

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Document: ...


class Applier(Protocol):
    """Applies the events of one PCO record kind."""

    def apply(self, event: Event) -> Applied: ...


@dataclass(frozen=True)
class ApplierPorts:
    """What every applier may use: the record store, the webhook trail (tombstones, sub-record traces) and
    PCO (`pco()` opens the client on first use; None where no PCO is configured)."""

    records: Records
    trail: WebhookTrailPort
    policy: ConflictPolicy = "review"
    pco: Callable[[], PcoReader] | None = None

    def stale_if_destroyed(self, kind: str, pco_id: str) -> Applied | None:
        """A `created`/`updated` of a PCO record destroyed before is stale: it never brings it back."""
        if self.trail.tombstone(kind, pco_id) is None:
            return None
        return Applied("stale", f"PCO {kind} {pco_id} was destroyed")

    def destroyed[R: Person | Family | Group](
        self, kind: str, event: Event, existing: R | None, unlink: Callable[[R], Applied]
    ) -> Applied:
        """A destroyed PCO record: its tombstone left, then its local record unlinked (never deleted)."""
        self.trail.bury(kind, event.resource.id, event.happened_at, existing.id if existing else None)
        if existing is None:
            return Applied("unknown", f"PCO {kind} {event.resource.id} is not linked to a local record")
        return unlink(existing)


def merge_outcome(merged: Merged[Person], what: str) -> Applied:
    """How a person merge reads in the delivery log."""
    if merged.record is None:
        return Applied("skipped", f"{what} already has PCO's values")
    if merged.outcome == "skipped":
        return Applied("skipped", f"{what} already has PCO's values (now linked)")
    conflicts = f", {merged.conflict_count} conflict(s)" if merged.conflict_count else ""
    return Applied("applied", f"{what} {merged.outcome}{conflicts}")


def not_newer(incoming: datetime | None, held: datetime | None) -> bool:
    return incoming is not None and held is not None and incoming <= held
