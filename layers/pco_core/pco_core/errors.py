"""The one exception tree of PCO Sync.

PcoSyncError
├── RetriableError          the step may succeed if tried again (state machines Retry on these names)
│   ├── PcoUnavailable      PCO answered 5xx, timed out or dropped the connection
│   ├── RateLimited         PCO answered 429; carries retry_after (seconds, >= 1)
│   └── StoreConflict       a conditional write lost a race; re-read and try again
├── FatalError              the run cannot go on (state machines Catch these and fail the run)
│   ├── PcoAuthError        PCO rejected the credentials (401/403)
│   ├── PcoRequestError     PCO rejected the request (other 4xx); carries status and PCO's errors
│   ├── ConfigError         a setting or secret is missing or malformed
│   ├── InvalidPosition     a run's stored position is not one its domain can resume from
│   └── LeaseLost           another run holds the lock; this run must stop
├── SkippableRecordError    one record cannot be synced; it is counted as failed and the run goes on
│   ├── PcoLinkTaken        the PCO record is already linked to another local record (one link per PCO id)
│   ├── UncertainMatch      a lost create may have made a PCO person nothing confirms is this one
│   └── ValueTooLong        a PCO record holds a value longer than limits.py keeps (never truncated)
├── RunStopped              the run was cancelled while a page was writing: the page stops at once
└── Refused                 what was asked cannot be done; nothing was changed (api/ maps each to a status)
    ├── NotSignedIn         no verified caller came with the request
    ├── NotPermitted        the caller's roles do not grant the permission the action needs
    ├── InvalidInput        a value given is not acceptable; carries each field and why
    │   ├── MalformedRequest  the request cannot be read at all (not UTF-8, not JSON, nested too deep)
    │   ├── InvalidRunType  no such kind of run
    │   ├── InvalidLimit    a page size out of range
    │   ├── InvalidCursor   a list cursor we did not hand out
    │   └── InvalidRecord   a record write refused: a field over its limit, an unknown member, ...
    ├── BodyTooLarge        the request body is over the size the API reads
    ├── BodyNotJson         the request body was sent as something other than JSON
    ├── RecordNotFound      no person, family or group with that id (or no such membership)
    ├── RunNotFound         no run with that id
    ├── RunActive           another run holds the run lock; carries its run_id
    ├── RunStopping         a cancelled run's page may still write: the lock frees when it ends
    ├── RunAlreadyEnded     the run is no longer RUNNING; carries its status
    ├── RunNotResumable     only a FAILED run can be resumed; carries its status
    ├── RunAlreadyResumed   a failed run is resumed once; carries the run that resumed it
    ├── ReplayRunning       a replay of the webhook dead letters is already moving them
    ├── ConflictNotFound    no conflict with that id
    └── ConflictResolved    the conflict was resolved already

The names are the contract: the state machines Retry/Catch the first branches by class name, the admin API
answers each Refused with the status api/answers.py gives its class, and nothing else knows HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self


class PcoSyncError(Exception):
    """Base of every error PCO Sync raises on purpose."""


class RetriableError(PcoSyncError):
    """Trying the same step again may succeed."""


class PcoUnavailable(RetriableError):
    """PCO answered 5xx, timed out, or the connection failed; `retry_after` when PCO said how long to wait."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(RetriableError):
    """PCO answered 429 Too Many Requests."""

    def __init__(self, retry_after: int, message: str = "PCO rate limit exceeded") -> None:
        super().__init__(f"{message}; retry after {retry_after}s")
        self.retry_after = max(1, int(retry_after))


class StoreConflict(RetriableError):
    """A conditional write lost a race with another writer."""


class FatalError(PcoSyncError):
    """The run cannot continue."""


class PcoAuthError(FatalError):
    """PCO rejected the configured credentials."""


class PcoRequestError(FatalError):
    """PCO rejected a request with a 4xx other than 401/403/429."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"PCO answered {status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors = errors or []


class ConfigError(FatalError):
    """A required setting or secret is missing or malformed."""


class InvalidPosition(FatalError):
    """A run's stored position cannot be read by its domain (e.g. written by an incompatible version)."""


class LeaseLost(FatalError):
    """The run no longer holds the run lock."""


class SkippableRecordError(PcoSyncError):
    """One record cannot be synced; count it as failed and go on."""


class PcoLinkTaken(SkippableRecordError):
    """Linking local records to PCO records already linked to other local records was refused; every
    other record of the same save was written. `taken` maps each refused local id to its PCO id."""

    def __init__(self, kind: str, taken: dict[str, str]) -> None:
        pairs = ", ".join(f"{record_id} -> PCO {pco_id}" for record_id, pco_id in sorted(taken.items()))
        super().__init__(f"PCO {kind} already linked to another local {kind}: {pairs}")
        self.kind = kind
        self.taken = taken


class UncertainMatch(SkippableRecordError):
    """A person whose earlier create's answer was lost, and PCO holds someone with its name created since
    whom nothing else (email, phone, birthdate) confirms: neither adopted nor created again."""


class ValueTooLong(SkippableRecordError):
    """A PCO record holds a value longer than we store (limits.py): the record fails with the field named,
    rather than being truncated."""


class RunStopped(PcoSyncError):
    """The run is no longer RUNNING (cancelled): the page writes nothing more and ends its walk."""


@dataclass(frozen=True)
class FieldProblem:
    """One refused field: its dotted path in the request (`emails.0.address`, or `limit`) and why."""

    field: str
    problem: str


class Refused(PcoSyncError):
    """What was asked cannot be done as asked; nothing was changed by the attempt."""

    def __init__(self, message: str, problems: Sequence[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)


class NotSignedIn(Refused):
    """No verified caller: the request carried no token the authorizer accepted."""


class NotPermitted(Refused):
    """The caller is known but their roles do not grant the permission the action needs."""

    def __init__(self, permission: str) -> None:
        super().__init__(f"this action needs the '{permission}' permission, which your roles do not grant")
        self.permission = permission


class InvalidInput(Refused):
    """A value given is malformed or not acceptable; `problems` names each field and why."""

    @classmethod
    def of(cls, problems: Sequence[FieldProblem], summary: str | None = None) -> Self:
        """One refusal naming every problem; the message lists them unless a summary is given."""
        listed = "; ".join(f"{p.field}: {p.problem}" for p in problems)
        return cls(summary or listed, problems)


class MalformedRequest(InvalidInput):
    """The request itself cannot be read: a body that is not UTF-8 text, not JSON, or nested too deep."""


class InvalidRunType(InvalidInput):
    def __init__(self, run_type: str, valid: Sequence[str]) -> None:
        problem = f"must be one of: {', '.join(valid)}"
        super().__init__(f"unknown run type '{run_type}': 'type' {problem}", [FieldProblem("type", problem)])
        self.run_type = run_type


class InvalidLimit(InvalidInput):
    def __init__(self, low: int, high: int) -> None:
        problem = f"must be a whole number from {low} to {high}"
        super().__init__(f"'limit' {problem}", [FieldProblem("limit", problem)])


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        problem = "is malformed: pass back the next_cursor of a previous page"
        super().__init__(f"'cursor' {problem}", [FieldProblem("cursor", problem)])


class InvalidRecord(InvalidInput):
    """A record write refused before anything was written (a field over its limit, an unknown member)."""


class BodyTooLarge(Refused):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the body is {size} bytes; the API reads bodies of at most {limit} bytes")
        self.size = size
        self.limit = limit


class BodyNotJson(Refused):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"the body is sent as '{content_type}'; send JSON (Content-Type: application/json)")
        self.content_type = content_type


class RecordNotFound(Refused):
    def __init__(self, kind: str, record_id: str, message: str | None = None) -> None:
        super().__init__(message or f"no {kind} with id '{record_id}'")
        self.kind = kind
        self.record_id = record_id


class RunNotFound(Refused):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run with id '{run_id}'")
        self.run_id = run_id


class RunActive(Refused):
    """A run could not start: another one holds the run lock (`run_id`, None when it could not be read)."""

    def __init__(self, run_id: str | None) -> None:
        super().__init__("a run is already active")
        self.run_id = run_id


class RunAlreadyEnded(Refused):
    """The run is no longer RUNNING, so it cannot be cancelled or continued."""

    def __init__(self, run_id: str, status: str, action: str) -> None:
        super().__init__(f"run {run_id} already ended ({status}); there is nothing to {action}")
        self.run_id = run_id
        self.status = status


class RunNotResumable(Refused):
    """Only a FAILED run can be resumed (a finished run never changes status again)."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id} is {status}; only a failed run can be resumed")
        self.run_id = run_id
        self.status = status


class RunAlreadyResumed(Refused):
    """Each failed run is resumed at most once: `resumed_by` is the run that resumed it."""

    def __init__(self, run_id: str, resumed_by: str) -> None:
        super().__init__(f"run {run_id} was already resumed by run {resumed_by}")
        self.run_id = run_id
        self.resumed_by = resumed_by


class ReplayRunning(Refused):
    def __init__(self) -> None:
        super().__init__("a replay of the dead letters is already running")


class RunStopping(Refused):
    """A cancelled run's page may still be writing to PCO: a new run may start once that page ends."""

    def __init__(self, run_id: str, status: str, wait_seconds: int) -> None:
        super().__init__(
            f"run {run_id} was {status.lower()} and is finishing the page it was on; "
            f"start again in a few seconds (at most {wait_seconds} s)"
        )
        self.run_id = run_id
        self.status = status
        self.wait_seconds = wait_seconds


class ConflictNotFound(Refused):
    def __init__(self, conflict_id: str) -> None:
        super().__init__(f"no conflict with id '{conflict_id}'")
        self.conflict_id = conflict_id


class ConflictResolved(Refused):
    """The conflict was resolved already (by an admin, by policy, or because the two sides agreed)."""

    def __init__(self, conflict_id: str, resolution: str | None) -> None:
        super().__init__(f"conflict {conflict_id} is already resolved ({resolution})")
        self.conflict_id = conflict_id
        self.resolution = resolution
