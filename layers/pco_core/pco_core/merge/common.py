"""What every per-record merge shares: record ids for PCO records, outcomes, text clean-up, field sets.

A merge takes PCO's values for one record (as mapped fields) and the local record, and answers the record
to write (None when nothing changes) and how the run counts it. Pull, push answers and webhooks call the
same merges, so a rule lives in one place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pco_core.merge.threeway import Conflicts
from pco_core.records import ConflictEvent, Family, Fields, Person, SyncMeta

# Records a pull creates get uuid5(NAMESPACE_PCO_SYNC, "<kind>:<pco_id>"), so a retried page never duplicates.
NAMESPACE_PCO_SYNC = uuid.UUID("6f1c7a52-3d0e-5b8a-9c41-2b7e8d5f0a93")

Kind = Literal["person", "family", "group"]
Outcome = Literal["created", "updated", "skipped"]


def record_id_for(kind: Kind, pco_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE_PCO_SYNC, f"{kind}:{pco_id}"))


def unchanged_outcome(sync: SyncMeta, run_id: str) -> Outcome:
    """How an unchanged record counts: as the write this run already made (a retried page), else skipped."""
    if sync.last_run_id == run_id and sync.last_outcome is not None:
        return sync.last_outcome
    return "skipped"


def clean(value: str | None) -> str:
    return " ".join((value or "").split())


def optional(value: str | None) -> str | None:
    return clean(value) or None


def country(value: str | None) -> str | None:
    """A country code as PCO stores it: upper-case ("us" and "US" are one country)."""
    return clean(value).upper() or None


def street(value: str | None) -> str | None:
    """A street keeps its line breaks (PCO's street_line_1/_2): each line cleaned, blank lines dropped."""
    lines = [clean(line) for line in (value or "").splitlines()]
    return "\n".join(line for line in lines if line) or None


@dataclass
class Merged[R]:
    """A merge's answer: the record to write (None: nothing to write), how it counts, and the conflicts it
    opened or resolved (for the conflict log)."""

    record: R | None
    outcome: Outcome
    conflicts: list[ConflictEvent] = field(default_factory=list)
    # For a record that stands for several counted rows (a group's member list): how they count.
    row_counts: dict[str, int] | None = None

    @property
    def conflict_count(self) -> int:
        """Conflicts detected by this merge (opened, or resolved at once by policy)."""
        return sum(
            1 for e in self.conflicts if e.status == "open" or e.resolution in ("pco_wins", "local_wins")
        )


def merged_record[R: (Person, Family)](
    existing: R,
    *,
    pco_id: str,
    values: dict[str, Any],
    base: Fields,
    pco_updated_at: datetime | None,
    conflicts: Conflicts,
    edited: tuple[str, ...],
    changed: bool,
    run_id: str,
    now: datetime,
) -> Merged[R]:
    """The merge's answer for a record that existed: its merged `values`, PCO's values as the new `base`,
    the conflicts still open and the edits still to push; "updated" when a value (or the link) changed,
    else counted as this run already counted it (a retried page) or skipped."""
    record = existing.model_copy(
        update={
            "pco_id": pco_id,
            **values,
            "sync": existing.sync.model_copy(
                update={
                    "pco_updated_at": pco_updated_at or existing.sync.pco_updated_at,
                    "pco_hash": base.content_hash(),
                    "base": base,
                    "conflicts": conflicts.open_conflicts(),
                    "edited": edited,
                }
            ),
        }
    )
    if not changed:
        counted = unchanged_outcome(existing.sync, run_id)
        return Merged(None if record == existing else record, counted, conflicts.events)
    stamped = record.sync.model_copy(update={"last_run_id": run_id, "last_outcome": "updated"})
    return Merged(record.model_copy(update={"updated_at": now, "sync": stamped}), "updated", conflicts.events)


def closed_as_gone(kind: Kind, record: Person | Family) -> list[ConflictEvent]:
    """The record's open conflicts, closed because its PCO record is gone (there is no other side left to
    agree with); the local values they held stay on the record."""
    return [ConflictEvent(kind, record.id, c, "resolved", "pco_record_gone") for c in record.sync.conflicts]


def agreed_base[F: Fields](record: Person | Family, local: F, base: F | None) -> F | None:
    """What PCO held when we last agreed: the base; for a record written before bases existed whose hash
    says nothing was waiting to be pushed, its own values (`local`); else unknown (None)."""
    if base is not None:
        return base
    if record.pco_id is not None and record.sync.pco_hash == local.content_hash():
        return local
    return None
