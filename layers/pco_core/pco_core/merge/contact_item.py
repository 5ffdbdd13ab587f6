"""One PCO email, phone number or address merged into its person, as a webhook about it and an incremental
pull of PCO's changed contacts both apply it (a contact's change does not move its person's updated_at, so
neither sees the whole person).

The item takes the place of the local item linked to its PCO id (or of an unlinked one with the value that id
last had, or with its new value), else it is added; a primary one demotes the others, as PCO does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pco_core.merge.contacts import Contact, contact_key
from pco_core.merge.person import local_fields
from pco_core.records import Person

ContactList = Literal["emails", "phones", "addresses"]
# What merging an item did to its person: nothing; only linked PCO ids to items with the same values; or
# changed the values.
ContactChange = Literal["unchanged", "linked", "changed"]


def placed(items: Sequence[Contact], item: Contact, old_key: tuple[str, ...] | None = None) -> list[Contact]:
    """`items` with PCO's `item` (which carries its PCO id) in its place."""
    current = list(items)
    if item.primary:
        # PCO keeps one primary per kind: the one just marked wins.
        current = [c.model_copy(update={"primary": False}) for c in current]
    new_key = contact_key(item)
    position = _position(current, item.pco_id, old_key)
    if position is None:
        position = next((n for n, c in enumerate(current) if contact_key(c) == new_key), None)
    if position is None:
        return [*current, item]
    current[position] = item
    # An item that now holds the same value is the same one (the pull keeps one per value too).
    return [c for n, c in enumerate(current) if n == position or contact_key(c) != new_key]


def removed(
    items: Sequence[Contact], pco_id: str, old_key: tuple[str, ...] | None = None
) -> list[Contact] | None:
    """`items` without the one linked to `pco_id` (None: no such item)."""
    position = _position(items, pco_id, old_key)
    if position is None:
        return None
    return [c for n, c in enumerate(items) if n != position]


def with_contacts(
    person: Person, attribute: ContactList, items: Sequence[Contact], *, run_id: str, now: datetime
) -> tuple[Person | None, ContactChange]:
    """The person holding `items` as its `attribute` (None when nothing changes), and what changed.

    A person with no local edit waiting to be pushed still matches PCO afterwards, so its PCO hash moves
    with it; one with an edit keeps its hash, and the edit stays pending."""
    before = local_fields(person)
    candidate = person.model_copy(update={attribute: list(items)})
    fields = local_fields(candidate)
    held, wanted = getattr(before, attribute), getattr(fields, attribute)
    if wanted == held:
        return None, "unchanged"
    if [item.unlinked() for item in wanted] == [item.unlinked() for item in held]:
        # The same values, only PCO's ids are new to us (e.g. the echo of an item we pushed).
        return person.model_copy(update={attribute: list(wanted)}), "linked"
    new = candidate.model_copy(update={attribute: list(wanted), "updated_at": now})
    if person.sync.pco_hash == before.content_hash():
        sync = person.sync.model_copy(
            update={"pco_hash": fields.content_hash(), "last_run_id": run_id, "last_outcome": "updated"}
        )
        new = new.model_copy(update={"sync": sync})
    return new, "changed"


def _position(items: Sequence[Contact], pco_id: str | None, old_key: tuple[str, ...] | None) -> int | None:
    """Where PCO's item is in a local list: the item linked to its id, else an unlinked item with the value
    it last had."""
    linked = next((n for n, item in enumerate(items) if pco_id and item.pco_id == pco_id), None)
    if linked is not None or old_key is None:
        return linked
    return next(
        (n for n, item in enumerate(items) if item.pco_id is None and contact_key(item) == old_key), None
    )
