"""One PCO email, phone number or address merged into its person, as a webhook about it and an incremental
pull of PCO's changed contacts both apply it (a contact's change does not move its person's updated_at, so
neither sees the whole person).

PCO's view of the person after the change is what we knew PCO held (the base) with that one item in its
place; that view goes through the person's three-way merge (merge/person.py) like a whole person pulled,
so a pending local edit is kept, a conflict is recorded, and the view becomes the new base.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pco_core.merge.common import Merged
from pco_core.merge.contacts import Contact, contact_key
from pco_core.merge.person import canonical, local_fields, merge_person
from pco_core.records import ConflictPolicy, Person, PersonFields

ContactList = Literal["emails", "phones", "addresses"]


def known_fields(person: Person) -> PersonFields:
    """What PCO held to our knowledge: the base (or, for a record without one, its own values)."""
    return person.sync.base or local_fields(person)


def known_items(person: Person, attribute: ContactList) -> list[Contact]:
    """The person's `attribute` items as PCO held them to our knowledge."""
    return list(getattr(known_fields(person), attribute))


def placed(items: Sequence[Contact], item: Contact, old_key: tuple[str, ...] | None = None) -> list[Contact]:
    """`items` with PCO's `item` (which carries its PCO id) in its place, else added."""
    current = list(items)
    if item.primary:
        # PCO keeps one primary per kind: the one just marked wins.
        current = [c.model_copy(update={"primary": False}) for c in current]
    position = _position(current, item.pco_id, old_key)
    if position is None:
        return [*current, item]
    current[position] = item
    return current


def removed(
    items: Sequence[Contact], pco_id: str, old_key: tuple[str, ...] | None = None
) -> list[Contact] | None:
    """`items` without the one linked to `pco_id` (None: no such item)."""
    position = _position(items, pco_id, old_key)
    if position is None:
        return None
    return [c for n, c in enumerate(items) if n != position]


def merge_contacts(
    person: Person,
    attribute: ContactList,
    items: Sequence[Contact],
    *,
    run_id: str,
    now: datetime,
    policy: ConflictPolicy,
    source: str | None = None,
) -> Merged[Person]:
    """PCO's view of `person` with `items` as its `attribute` merged three ways into the person.

    `run_id` marks the write (a retried page counts the person as its first attempt did); `source` names
    the run or delivery in the conflicts it records (`run_id` unless given)."""
    assert person.pco_id is not None  # found by its PCO id
    view = known_fields(person).model_copy(update={attribute: canonical(attribute, items)})
    return merge_person(
        person,
        view,
        pco_id=person.pco_id,
        pco_updated_at=person.sync.pco_updated_at,
        run_id=run_id,
        now=now,
        policy=policy,
        source=source,
    )


def _position(items: Sequence[Contact], pco_id: str | None, old_key: tuple[str, ...] | None) -> int | None:
    """Where PCO's item is in a list: the item linked to its id, else an unlinked item with the value it
    last had."""
    linked = next((n for n, item in enumerate(items) if pco_id and item.pco_id == pco_id), None)
    if linked is not None or old_key is None:
        return linked
    return next(
        (n for n, item in enumerate(items) if item.pco_id is None and contact_key(item) == old_key), None
    )
