"""A sync run as stored and served: its type, status, counters, cursor and progress (no behaviour)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

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
# How a run ended as an admin reads it: the stored status, told apart where the status alone misleads
# (a completed run whose records partly failed; a scheduled start skipped because a run was active).
RunOutcome = Literal["RUNNING", "COMPLETED", "COMPLETED_WITH_FAILURES", "FAILED", "CANCELLED", "SKIPPED"]
SKIPPED_ACTIVE = "another run was active"
# What record_skipped_run wrote before `skip_reason` existed; such runs still read as skipped.
_LEGACY_SKIP_PREFIX = "skipped: run "
# The failed records a run keeps (the first ones); its `failed` counter still counts every one.
MAX_KEPT_FAILURES = 200
RecordKind = Literal["person", "family", "group", "membership"]
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
    """Where a run is: its current step's records (`processed` of `total`), which step of how many, and
    the whole run's percentage (never lower than at the page before)."""

    domain: Domain | None = None
    processed: int = 0
    total: int | None = None
    step: int | None = None
    steps: int | None = None
    percent: int | None = Field(default=None, ge=0, le=100)
    # Each step's record total as far as known (what the percentage is weighted by).
    step_totals: dict[str, int] = Field(default_factory=dict)


class Cursor(BaseModel):
    """Where a run is: the domain it is on and that domain's own position (opaque to the run)."""

    model_config = ConfigDict(extra="forbid")

    domain_index: int = 0
    position: dict[str, Any] = Field(default_factory=dict)


class PageCounts(BaseModel):
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    conflicts: int = 0


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
    # The counters split by step ("groups" and "memberships" apart), for the steps that counted anything.
    counts_by_domain: dict[str, PageCounts] = Field(default_factory=dict)
    # Set while the run waits before its next page (PCO's rate limit); cleared by the next page's commit.
    waiting: RunWait | None = None
    # Set when the run never started because another one held the lock (a skipped scheduled start).
    skip_reason: str | None = None
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def outcome(self) -> RunOutcome:
        if self.status == "COMPLETED" and self.failed > 0:
            return "COMPLETED_WITH_FAILURES"
        legacy_skip = self.error is not None and self.error.startswith(_LEGACY_SKIP_PREFIX)
        if self.status == "CANCELLED" and (self.skip_reason is not None or legacy_skip):
            return "SKIPPED"
        return self.status


class RunWait(BaseModel):
    """What a running run is waiting for, and until when (the page shows it with a countdown)."""

    reason: Literal["rate_limit", "pco_unavailable"]
    until: datetime
    # For "pco_unavailable": the read's attempt about to be made, of how many a page makes.
    attempt: int | None = None
    attempts: int | None = None


class RecordFailure(BaseModel):
    """One record a run could not sync, kept with the run so an admin can see which and why."""

    kind: RecordKind
    record_id: str | None = None  # the local id (None: a PCO record never stored here)
    pco_id: str | None = None
    name: str | None = None  # the person's, family's or group's name, as an admin knows it
    operation: str  # what was tried, in words: "create in PCO", "pull from PCO", ...
    status: int | None = None  # PCO's HTTP status, when PCO refused
    message: str  # why, in plain words
    at: datetime


class RunFailures(BaseModel):
    """What `GET /api/runs/{id}/failures` answers: the first `kept` failures and how many there were."""

    run_id: str
    total: int
    kept: int
    failures: list[RecordFailure]


class PageResult(BaseModel):
    """What a page Lambda returns to the state machine."""

    run_id: str
    cursor: dict[str, Any] = Field(default_factory=dict)
    wait_seconds: int = 0
    done: bool = False
    continue_as_new: bool = False
