"""A sync run as stored and served: its type, status, counters, cursor and progress (no behaviour)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunType = Literal[
    "incremental_sync",
    "people",
    "families",
    "groups",
    "full_sync",
    "push_people",
    "push_families",
    "push_memberships",
    "full_push",
]
RunStatus = Literal["RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
Domain = Literal[
    "people",
    "people_changes",
    "email_changes",
    "phone_changes",
    "address_changes",
    "families",
    "groups",
    "memberships",
    "membership_changes",
    "audit_people",
    "audit_households",
    "push_people",
    "push_families",
    "push_memberships",
]

RUN_LABELS: dict[str, str] = {
    "incremental_sync": "Incremental Sync",
    "people": "People",
    "families": "Families",
    "groups": "Groups",
    "full_sync": "Full Sync",
    "push_people": "Push People",
    "push_families": "Push Families",
    "push_memberships": "Push Group Memberships",
    "full_push": "Full Push",
}

# What changed in PCO since the last sync: people by their updated_at, then their emails, phone numbers and
# addresses by theirs (a contact's change does not move its person's updated_at).
PEOPLE_CHANGES: list[Domain] = ["people_changes", "email_changes", "phone_changes", "address_changes"]

# The domains a pull run walks, in order. Group memberships are their own domain so that one page
# stays one bounded piece of work; "Sync Groups" walks groups then their memberships.
# "Sync People" reads only what changed; the hourly Incremental Sync adds every household (a household's
# updated_at ignores member changes) and the member lists of groups whose member count moved; Full Sync
# walks everything, then audits: every PCO id listed, so people and households PCO no longer has are
# unlinked and those it has that we lack are fetched.
PULL_DOMAINS: dict[str, list[Domain]] = {
    "incremental_sync": [*PEOPLE_CHANGES, "families", "groups", "membership_changes"],
    "people": PEOPLE_CHANGES,
    "families": ["families"],
    "groups": ["groups", "memberships"],
    "full_sync": ["people", "families", "groups", "memberships", "audit_people", "audit_households"],
}

# The domains a push run walks, in order: families need their members' PCO ids, memberships too.
PUSH_DOMAINS: dict[str, list[Domain]] = {
    "push_people": ["push_people"],
    "push_families": ["push_families"],
    "push_memberships": ["push_memberships"],
    "full_push": ["push_people", "push_families", "push_memberships"],
}

RUN_DOMAINS: dict[str, list[Domain]] = PULL_DOMAINS | PUSH_DOMAINS


class Watermark(BaseModel):
    """How far PCO's changes of one kind have been read: every change up to second `at` was read, and
    `ids` are the records read at that very second (PCO's timestamps are whole seconds)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    ids: list[str] = Field(default_factory=list)


class RecordTotals(BaseModel):
    """One kind's drift check: how many records PCO holds and how many local records are linked to PCO
    (None where the run did not count them)."""

    model_config = ConfigDict(frozen=True)

    pco: int | None = None
    local: int | None = None

    @property
    def drifted(self) -> bool:
        return self.pco is not None and self.local is not None and self.pco != self.local


# The kinds a run may count for its drift check.
TotalsKind = Literal["people", "households", "groups"]


class RunProgress(BaseModel):
    domain: Domain | None = None
    processed: int = 0
    total: int | None = None


class Cursor(BaseModel):
    """Where a run is: the domain it is on and that domain's own position (opaque to the run)."""

    model_config = ConfigDict(extra="forbid")

    domain_index: int = 0
    position: dict[str, Any] = Field(default_factory=dict)


class Run(BaseModel):
    id: str
    type: RunType
    label: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    conflicts: int = 0
    started_by: str
    error: str | None = None
    # A FAILED run can be resumed once: a new run of the same type that starts at its committed cursor.
    resumed_from: str | None = None
    resumed_by: str | None = None
    progress: RunProgress = Field(default_factory=RunProgress)
    # PCO's totals beside the local linked counts, per kind the run counted (Full Sync counts all three).
    totals: dict[TotalsKind, RecordTotals] = Field(default_factory=dict)
    # Internal state, not part of the API answer.
    domains: list[Domain] = Field(default_factory=list, exclude=True)
    # The deployment's watermarks when the run started (where its incremental domains begin), and those
    # its finished domains reached: stored for the deployment when the run completes.
    watermarks: dict[str, Watermark] = Field(default_factory=dict, exclude=True)
    reached: dict[str, Watermark] = Field(default_factory=dict, exclude=True)
    cursor: Cursor = Field(default_factory=Cursor, exclude=True)
    page_seq: int = Field(default=0, exclude=True)
    pages_in_execution: int = Field(default=0, exclude=True)


class PageCounts(BaseModel):
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    conflicts: int = 0


class PageResult(BaseModel):
    """What a page Lambda returns to the state machine."""

    run_id: str
    cursor: dict[str, Any] = Field(default_factory=dict)
    wait_seconds: int = 0
    done: bool = False
    continue_as_new: bool = False
