"""One merge for a person: PCO's values in local terms (`person_fields`), the local person in the same terms
(`local_fields`), and the three-way plan (`plan_person`) that pull, webhooks (`merge_person`) and push
(push/people.py, which also sends the local changes) share.

The base (`sync.base`) is PCO's values as last agreed; `sync.pco_hash` is its hash, a shortcut only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pco_core.merge.common import Merged, agreed_base, clean, merged_record, optional, record_id_for
from pco_core.merge.contacts import (
    Contact,
    contact_key,
    local_addresses,
    local_emails,
    local_phones,
    one_primary,
    relink,
)
from pco_core.merge.threeway import Conflicts, decide, pair_items
from pco_core.pco.models import PcoPerson
from pco_core.records import (
    PERSON_CONTACTS,
    PERSON_READ_ONLY,
    PERSON_SCALARS,
    Address,
    ConflictPolicy,
    Email,
    Person,
    PersonFields,
    PersonStatus,
    PersonSync,
    Phone,
)

_ORDER_KEY = {"emails": "address", "phones": "number", "addresses": "street"}


def canonical[C: (Email, Phone, Address)](name: str, items: Sequence[C]) -> tuple[C, ...]:
    """A contact list in the order and shape PersonFields keeps (one primary, primary first)."""
    return one_primary(list(items), _ORDER_KEY[name])


def normalise_status(value: str | None) -> PersonStatus:
    return "inactive" if (value or "").strip().casefold() == "inactive" else "active"


def person_fields(pco: PcoPerson) -> PersonFields:
    return PersonFields(
        first_name=clean(pco.first_name),
        last_name=clean(pco.last_name),
        gender=pco.gender,
        birthdate=pco.birthdate,
        status=normalise_status(pco.status),
        emails=local_emails(pco.emails),
        phones=local_phones(pco.phone_numbers),
        addresses=local_addresses(pco.addresses),
        given_name=optional(pco.given_name),
        middle_name=optional(pco.middle_name),
        nickname=optional(pco.nickname),
        membership=optional(pco.membership),
        child=pco.child,
        grade=pco.grade,
        anniversary=pco.anniversary,
        inactivated_at=pco.inactivated_at,
    )


def local_fields(person: Person) -> PersonFields:
    """The local person's PCO fields, read through the same model and mapping as PCO's."""
    as_pco = PcoPerson.model_validate(
        {
            "id": person.pco_id or person.id,
            **{name: getattr(person, name) for name in PERSON_SCALARS},
            "updated_at": person.updated_at,
            "emails": [_as_pco(e) for e in person.emails],
            "phone_numbers": [_as_pco(p) for p in person.phones],
            "addresses": [_as_pco(a) for a in person.addresses],
        }
    )
    return person_fields(as_pco)


def _as_pco(item: Contact) -> dict[str, Any]:
    # An item never exchanged with PCO has no id ("" maps back to pco_id None).
    return {**item.model_dump(exclude={"pco_id"}), "id": item.pco_id or ""}


@dataclass
class ContactPlan[C: (Email, Phone, Address)]:
    """One contact list after the merge, and the writes a push makes for it."""

    items: list[C] = field(default_factory=list)
    post: list[C] = field(default_factory=list)  # local items PCO lacks
    patch: list[C] = field(default_factory=list)  # linked items edited locally
    delete: list[str] = field(default_factory=list)  # PCO ids of items removed locally


@dataclass
class PersonPlan:
    """A person after the three-way merge with PCO's values, and what a push would send."""

    values: dict[str, Any]
    send: dict[str, Any]
    contacts: dict[str, ContactPlan[Any]]
    conflicts: Conflicts
    # Fields whose local edit is still to reach PCO after this merge (what `sync.edited` keeps).
    edited: tuple[str, ...] = ()

    def fields(self) -> PersonFields:
        return PersonFields.model_validate(
            {**self.values, **{name: tuple(plan.items) for name, plan in self.contacts.items()}}
        )


def plan_person(
    existing: Person, pco: PersonFields, *, policy: ConflictPolicy, source: str, now: datetime
) -> PersonPlan:
    local = local_fields(existing)
    base = agreed_base(existing, local, existing.sync.base)
    label = f"{local.first_name} {local.last_name}".strip()
    conflicts = Conflicts.of("person", existing, label, policy=policy, source=source, now=now)
    values: dict[str, Any] = {}
    send: dict[str, Any] = {}
    edited: list[str] = []
    for name in PERSON_SCALARS:
        mine, theirs = getattr(local, name), getattr(pco, name)
        if name in PERSON_READ_ONLY:
            values[name] = theirs  # PCO's to set: never a local change
            continue
        side, found = decide(
            name,
            getattr(base, name) if base else None,
            mine,
            theirs,
            conflicts,
            base_known=base is not None,
            edited=name in existing.sync.edited,
        )
        values[name] = mine if side == "local" else theirs
        if side == "local" and mine != theirs and (found == "local" or policy == "local_wins"):
            send[name] = mine
            edited.append(name)
    contacts = {
        name: _plan_contacts(
            name,
            getattr(base, name) if base else (),
            getattr(local, name),
            getattr(pco, name),
            conflicts,
        )
        for name in PERSON_CONTACTS
    }
    return PersonPlan(values, send, contacts, conflicts, tuple(edited))


def _plan_contacts[C: (Email, Phone, Address)](
    name: str, base: tuple[C, ...], local: tuple[C, ...], pco: tuple[C, ...], conflicts: Conflicts
) -> ContactPlan[C]:
    plan: ContactPlan[C] = ContactPlan()
    for pair in pair_items(base, local, pco, link=lambda i: i.pco_id, value_key=contact_key):
        was, mine, theirs = (
            i.content() if i is not None else None for i in (pair.base, pair.local, pair.pco)
        )
        side, found = decide(f"{name}:{pair.key}", was, mine, theirs, conflicts)
        linked_to = next((i.pco_id for i in (pair.pco, pair.base) if i is not None and i.pco_id), None)
        item = pair.local if side == "local" else pair.pco
        if item is not None and item.pco_id is None and linked_to is not None:
            item = item.model_copy(update={"pco_id": linked_to})  # a local edit that lost its link
        if item is not None and pair.pco is not None:
            item = item.with_pco_own(pair.pco)  # e.g. an email PCO blocked, whatever was edited here
        if item is not None:
            plan.items.append(item)
        pushes = side == "local" and mine != theirs and (found == "local" or conflicts.policy == "local_wins")
        if not pushes:
            continue
        if pair.local is None:
            if pair.pco is not None and pair.pco.pco_id is not None:
                plan.delete.append(pair.pco.pco_id)
        elif pair.pco is not None and pair.pco.pco_id is not None:
            plan.patch.append(pair.local.model_copy(update={"pco_id": pair.pco.pco_id}))
        else:
            plan.post.append(pair.local.unlinked())
    plan.items = list(canonical(name, plan.items))
    return plan


def merge_person(
    existing: Person | None,
    fields: PersonFields,
    *,
    pco_id: str,
    pco_updated_at: datetime | None,
    run_id: str,
    now: datetime,
    policy: ConflictPolicy = "review",
    source: str | None = None,
) -> Merged[Person]:
    """PCO's values (`fields`) merged into the local person three ways; the new base is PCO's values.
    `source` names the run (or delivery) in the conflicts recorded, when `run_id` is a mark of its own."""
    sync = PersonSync(
        pco_updated_at=pco_updated_at,
        pco_hash=fields.content_hash(),
        base=fields,
        last_run_id=run_id,
    )
    if existing is None:
        created = Person.model_validate(
            {
                "id": record_id_for("person", pco_id),
                "pco_id": pco_id,
                **_values(fields),
                "updated_at": now,
                "sync": sync.model_copy(update={"last_outcome": "created"}),
            }
        )
        return Merged(created, "created")
    plan = plan_person(existing, fields, policy=policy, source=source or run_id, now=now)
    merged = plan.fields()
    # Links to PCO's items (a pushed item's id learnt) are not a change the run counts.
    changed = existing.pco_id != pco_id or merged.content_hash() != local_fields(existing).content_hash()
    return merged_record(
        existing,
        pco_id=pco_id,
        values=_values(merged),
        base=fields,
        pco_updated_at=pco_updated_at,
        conflicts=plan.conflicts,
        edited=plan.edited,
        changed=changed,
        run_id=run_id,
        now=now,
    )


def agreed_person(person: Person, after: PersonFields, plan: PersonPlan) -> Person:
    """`person` holding what PCO holds after a push (`after`), but for the fields an open conflict holds
    back, which keep the local value."""
    held = {c.field for c in plan.conflicts.open_conflicts()}
    values = _values(after)
    for name in PERSON_SCALARS:
        if name in held:
            values[name] = plan.values[name]
    for name in PERSON_CONTACTS:
        if any(key.startswith(f"{name}:") for key in held):
            values[name] = relink(plan.contacts[name].items, values[name])
    return person.model_copy(update=values)


def _values(fields: PersonFields) -> dict[str, Any]:
    """The person attributes a PersonFields holds, as record values (lists for the contact kinds)."""
    return {
        **{name: getattr(fields, name) for name in PERSON_SCALARS},
        **{name: list(getattr(fields, name)) for name in PERSON_CONTACTS},
    }


def unlinked_person(person: Person, now: datetime) -> Person:
    """Inactive and no longer linked to PCO (its PCO person is gone); every local field kept."""
    return person.model_copy(
        update={
            "status": "inactive",
            "pco_id": None,
            "updated_at": now,
            "sync": person.sync.model_copy(
                update={
                    "pco_hash": None,
                    "base": None,
                    "conflicts": (),
                    "edited": (),
                    "groups_person_id": None,
                }
            ),
        }
    )
