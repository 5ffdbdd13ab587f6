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
└── ApiError                an admin API request cannot be served; carries the HTTP status
    ├── BadRequest          400: the body or a parameter is malformed
    ├── NotFound            404
    ├── Conflict            409: e.g. a run is already active
    └── Unprocessable       422: well-formed but not acceptable
"""

from __future__ import annotations

from typing import Any, ClassVar


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


class ApiError(PcoSyncError):
    """An admin API request that cannot be served; the status is the HTTP answer."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Unprocessable(ApiError):
    status = 422
