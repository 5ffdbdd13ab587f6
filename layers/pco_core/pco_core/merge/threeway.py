"""The three-way decision every field goes through: the base (what PCO last held to our knowledge), the
local value and PCO's value. Pull, webhooks and push all decide with these functions.

| local vs base | PCO vs base | decision                                                     |
|---------------|-------------|--------------------------------------------------------------|
| same          | same        | nothing to do                                                |
| same          | changed     | take PCO's value                                             |
| changed       | same        | keep the local value (a push sends it)                       |
| changed       | changed     | equal values converge; different values are a conflict       |

A conflict follows the deployment's policy: `review` keeps the local value, holds it back from push and
lists the conflict for an admin; `pco_wins` takes PCO's value; `local_wins` keeps the local value and
pushes it. Under the last two the conflict is recorded as resolved automatically.
Without a base (a record linked before bases existed, or a local record matched to PCO for the first time)
only agreement is certain: a local blank takes PCO's value, any other difference is a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from pco_core.records import ConflictEvent, ConflictPolicy, Family, FieldConflict, Group, Person

Change = Literal["none", "pco", "local", "converged", "conflict"]
Side = Literal["local", "pco"]

_BLANK: tuple[Any, ...] = (None, "", ())


def change(base: Any, local: Any, pco: Any, *, base_known: bool = True, edited: bool = False) -> Change:
    """Which side changed one value since the base. `edited`: the local value was set by a local edit
    since the base, even if it equals the base (an edit back to the old value is an edit too)."""
    if local == pco:
        return "none" if not base_known or local == base else "converged"
    if not base_known:
        return "pco" if local in _BLANK and not edited else "conflict"
    local_changed = edited or local != base
    if not local_changed:
        return "pco"
    if pco == base:
        return "local"
    return "conflict"


def winner(policy: ConflictPolicy) -> Side:
    """The value a conflict keeps under `policy` (review keeps ours until an admin decides)."""
    return "pco" if policy == "pco_wins" else "local"


@dataclass
class Conflicts:
    """The conflicts one merge of one record opens, keeps, and resolves."""

    kind: str
    record_id: str
    label: str
    policy: ConflictPolicy
    source: str
    now: datetime
    held: dict[str, FieldConflict]
    events: list[ConflictEvent] = field(default_factory=list)
    kept: dict[str, FieldConflict] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        kind: str,
        record: Person | Family | Group,
        label: str,
        *,
        policy: ConflictPolicy,
        source: str,
        now: datetime,
    ) -> Conflicts:
        """The conflicts of one record's merge, starting from those it holds open."""
        held = {c.field: c for c in record.sync.conflicts}
        return cls(kind, record.id, label, policy, source, now, held)

    def detected(self, name: str, base: Any, local: Any, pco: Any) -> Side:
        """Both sides changed `name` differently: record it by policy; the side whose value is kept."""
        earlier = self.held.get(name)
        conflict = FieldConflict(
            # Time-ordered, so the conflict log lists the newest first.
            id=earlier.id if earlier is not None else f"{self.now:%Y%m%dT%H%M%S}Z-{uuid.uuid4().hex[:8]}",
            field=name,
            label=self.label,
            base=_plain(base),
            local=_plain(local),
            pco=_plain(pco),
            detected_at=earlier.detected_at if earlier is not None else self.now,
            source=earlier.source if earlier is not None else self.source,
        )
        if self.policy == "review":
            self.kept[name] = conflict
            if conflict != earlier:
                self.events.append(ConflictEvent(self.kind, self.record_id, conflict, "open"))
            return "local"
        self.events.append(ConflictEvent(self.kind, self.record_id, conflict, "resolved", self.policy))
        return winner(self.policy)

    def settled(self, name: str) -> None:
        """`name` is no longer in conflict (both sides agree, or one gave way): close an open conflict."""
        earlier = self.held.get(name)
        if earlier is not None:
            self.events.append(ConflictEvent(self.kind, self.record_id, earlier, "resolved", "converged"))

    def detected_count(self) -> int:
        """Conflicts this merge found: opened, or resolved at once by policy (what a run counts)."""
        return sum(1 for e in self.events if e.status == "open" or e.resolution in ("pco_wins", "local_wins"))

    def open_conflicts(self) -> tuple[FieldConflict, ...]:
        return tuple(self.kept[name] for name in sorted(self.kept))


def decide(
    name: str,
    base: Any,
    local: Any,
    pco: Any,
    conflicts: Conflicts,
    *,
    base_known: bool = True,
    edited: bool = False,
) -> tuple[Side, Change]:
    """Which side's value `name` takes after the three-way decision, and which change it was. An open
    conflict on `name` stays open (with the latest values) until the two sides agree."""
    if name in conflicts.held and local != pco:
        return conflicts.detected(name, conflicts.held[name].base, local, pco), "conflict"
    found = change(base, local, pco, base_known=base_known, edited=edited)
    if found == "conflict":
        return conflicts.detected(name, base, local, pco), found
    conflicts.settled(name)
    return ("local" if found == "local" else "pco"), found


def _plain(value: Any) -> Any:
    """A value as the conflict log stores and the API shows it (JSON-able)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude={"pco_id"})
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Paired[T]:
    """One item (email, phone, address, membership) as the base, the local record and PCO hold it."""

    key: str
    base: T | None
    local: T | None
    pco: T | None


def pair_items[T](
    base: Sequence[T] | None,
    local: Sequence[T],
    pco: Sequence[T],
    *,
    link: Callable[[T], str | None],
    value_key: Callable[[T], object],
) -> list[Paired[T]]:
    """Items of the three sides matched by PCO id, then (items new on both sides) by value."""
    base_by = {k: i for i in base or () if (k := link(i)) is not None}
    pco_by = {k: i for i in pco if (k := link(i)) is not None}
    local_by = {k: i for i in local if (k := link(i)) is not None}
    paired = [
        Paired(key, base_by.get(key), local_by.get(key), pco_by.get(key))
        for key in dict.fromkeys([*base_by, *pco_by, *local_by])
    ]
    # A local item not linked yet is the item of that value whose local side is missing: an item new to us
    # in PCO (the two converge), or a linked item whose link the local edit lost (an edit of it).
    claimable = {
        value_key(item): n
        for n, p in enumerate(paired)
        if p.local is None and (item := p.base if p.base is not None else p.pco) is not None
    }
    for item in local:
        if link(item) is not None:
            continue
        found = claimable.pop(value_key(item), None)
        if found is not None:
            was = paired[found]
            paired[found] = Paired(was.key, was.base, item, was.pco)
        else:
            paired.append(Paired(f"new:{value_key(item)}", None, item, None))
    return paired
