"""Resolving a conflict an admin chose for: keep ours, keep PCO's, or a value of their own.

The chosen value is written to the local record at once and the conflict leaves the record's open list;
the next push sends it to PCO when it differs from what PCO holds (the base), as any local change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pco_core.clock import Clock
from pco_core.errors import ConflictNotFound, ConflictResolved, RecordNotFound
from pco_core.merge.contacts import contact_key
from pco_core.merge.person import canonical
from pco_core.records import (
    PERSON_CONTACTS,
    PERSON_SCALARS,
    Address,
    ConflictEvent,
    ConflictStatus,
    Email,
    LoggedConflict,
    Person,
    Phone,
)

Keep = Literal["local", "pco"]
_ITEM_MODELS: dict[str, type[Email] | type[Phone] | type[Address]] = {
    "emails": Email,
    "phones": Phone,
    "addresses": Address,
}


class ConflictStore(Protocol):
    def get_conflict(self, conflict_id: str) -> LoggedConflict | None: ...

    def list_conflicts(
        self, status: ConflictStatus, limit: int, cursor: str | None
    ) -> tuple[list[LoggedConflict], str | None]: ...

    def log_conflicts(self, events: Sequence[ConflictEvent]) -> None: ...

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]: ...

    def save_people(self, changes: Sequence[tuple[Person, Person | None]]) -> object: ...


@dataclass(frozen=True)
class ConflictResolver:
    store: ConflictStore
    clock: Clock

    def resolve(self, conflict_id: str, *, keep: Keep | None = None, value: Any = None) -> LoggedConflict:
        """Apply the admin's choice (`keep` one side, or a validated `value`) and close the conflict."""
        logged = self.store.get_conflict(conflict_id)
        if logged is None:
            raise ConflictNotFound(conflict_id)
        if logged.status != "open":
            raise ConflictResolved(conflict_id, logged.resolution)
        person = self.store.get_people([logged.record_id]).get(logged.record_id)
        if person is None:
            raise RecordNotFound(logged.record_kind, logged.record_id)
        chosen = logged.local if keep == "local" else logged.pco if keep == "pco" else value
        held = next((c for c in person.sync.conflicts if c.id == conflict_id), None)
        updated = _with_value(person, logged.field, chosen)
        remaining = tuple(c for c in person.sync.conflicts if c.id != conflict_id)
        # Ours, or a value of the admin's own, is a local edit the next push sends (even PCO's old value).
        edited = set(updated.sync.edited)
        if keep != "pco" and logged.field in PERSON_SCALARS:
            edited.add(logged.field)
        sync = updated.sync.model_copy(update={"conflicts": remaining, "edited": tuple(sorted(edited))})
        updated = updated.model_copy(update={"updated_at": self.clock(), "sync": sync})
        self.store.save_people([(updated, person)])
        resolution = f"admin_{keep}" if keep is not None else "admin_value"
        conflict = held or logged
        self.store.log_conflicts(
            [ConflictEvent(logged.record_kind, logged.record_id, conflict, "resolved", resolution)]
        )
        return logged.model_copy(update={"status": "resolved", "resolution": resolution})


def _with_value(person: Person, field: str, value: Any) -> Person:
    """`person` with `field` ("first_name", or "emails:<key>" for one item) set to `value` (None removes
    an item)."""
    if field in PERSON_SCALARS:
        return Person.model_validate({**person.model_dump(), "sync": person.sync, field: value})
    kind, _, key = field.partition(":")
    if kind not in PERSON_CONTACTS:
        raise ValueError(f"unknown conflict field {field!r}")
    items = [i for i in getattr(person, kind) if not _is_item(i, key)]
    if value is not None:
        link = None if key.startswith("new:") else key
        items.append(_ITEM_MODELS[kind].model_validate({**value, "pco_id": link}))
    return person.model_copy(update={kind: list(canonical(kind, items))})


def _is_item(item: Email | Phone | Address, key: str) -> bool:
    return item.pco_id == key or (key.startswith("new:") and f"new:{contact_key(item)}" == key)
