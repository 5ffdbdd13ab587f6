"""A record a run could not sync, described for an admin: which record, what was tried, and PCO's refusal
in plain words (the technical text stays in the log)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pco_core.errors import PcoRequestError
from pco_core.records import Family, Group, Person, display_name
from pco_core.runstate import RecordFailure, RecordKind

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def record_kind(record: Person | Family | Group) -> RecordKind:
    if isinstance(record, Person):
        return "person"
    return "family" if isinstance(record, Family) else "group"


def _words(name: str) -> str:
    """PCO's resource type in words: "PhoneNumber" -> "phone number"."""
    return _CAMEL.sub(" ", name).casefold()


def _first_error(exc: PcoRequestError) -> dict[str, Any]:
    return exc.errors[0] if exc.errors and isinstance(exc.errors[0], dict) else {}


def refusal_words(exc: Exception) -> tuple[int | None, str]:
    """PCO's status (None when PCO was not asked) and the reason as a sentence an admin can act on."""
    if not isinstance(exc, PcoRequestError):
        return None, str(exc)
    first = _first_error(exc)
    meta, source = first.get("meta"), first.get("source")
    meta = meta if isinstance(meta, dict) else {}
    source = source if isinstance(source, dict) else {}
    resource, parameter = meta.get("resource"), source.get("parameter")
    parts = (_words(str(resource)) if resource else "", str(parameter or ""))
    what = " ".join(part for part in parts if part)
    detail = exc.detail.rstrip(".")
    subject = f"the {what}" if what else "the request"
    return exc.status, f"PCO refused {subject} ({exc.status}): {detail}."


def failure_of(
    record: Person | Family | Group,
    operation: str,
    exc: Exception,
    at: datetime,
    *,
    pco_id: str | None = None,
    before: str = "",
) -> RecordFailure:
    """`record` could not be synced: `exc` says why; `before` says what did happen first, if anything."""
    status, words = refusal_words(exc)
    return RecordFailure(
        kind=record_kind(record),
        record_id=record.id,
        pco_id=pco_id or record.pco_id,
        name=display_name(record) or None,
        operation=operation,
        status=status,
        message=f"{before} {words}".strip(),
        at=at,
    )
