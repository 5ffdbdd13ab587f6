"""One merge for a family: a PCO household in local terms and the family to write, with its members'
`family_id` kept in step. The pull and the webhook worker both call `merge_households`.

People not imported yet are left out of the family (a later Full Sync pulls people first); members get the
family's id on their person record, which is bookkeeping and not counted as an updated person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pco_core.merge.common import Fields, Outcome, clean, record_id_for, unchanged_outcome
from pco_core.pco.models import PcoHousehold
from pco_core.records import Address, Family, Person, SyncMeta


class FamilyFields(Fields):
    name: str
    member_ids: tuple[str, ...]
    primary_member_id: str | None
    address: Address | None

    _links: ClassVar[dict[str, Any]] = {"address": {"pco_id"}}


def family_fields(name: str | None, members: Sequence[Person], primary: Person | None) -> FamilyFields:
    """A household's fields in local terms: members are the local people already imported."""
    return FamilyFields(
        name=clean(name) or _fallback_family_name(members),
        member_ids=tuple(sorted({m.id for m in members})),
        primary_member_id=primary.id if primary is not None else None,
        address=family_address(members, primary),
    )


def pushed_family_fields(family: Family, members: list[Person], primary: Person) -> FamilyFields:
    """A local family's fields as a push sends them: its own address, as the primary's primary address."""
    fields = family_fields(family.name, members, primary)
    if family.address is None:
        return fields
    return fields.model_copy(update={"address": family.address.model_copy(update={"primary": True})})


def _fallback_family_name(members: Sequence[Person]) -> str:
    return f"{members[0].last_name} Household" if members else "Household"


def family_address(members: Sequence[Person], primary: Person | None) -> Address | None:
    """The primary member's primary address, else any member's primary address, else any address at all."""
    ordered = ([primary] if primary is not None else []) + [m for m in members if m is not primary]
    for person in ordered:
        found = next((a for a in person.addresses if a.primary), None)
        if found is not None:
            return found
    return next((a for person in ordered for a in person.addresses), None)


def household_members(
    household: PcoHousehold, people: Mapping[str, Person], kept: Sequence[Person] = ()
) -> tuple[list[Person], Person | None]:
    """The local members of a household (`people` by PCO id) and its primary among them.

    A household that names no people says nothing about its members: the family keeps `kept`."""
    if household.person_ids:
        members = [people[pid] for pid in dict.fromkeys(household.person_ids) if pid in people]
    else:
        members = list(kept)
    by_pco = {m.pco_id: m for m in members if m.pco_id is not None}
    primary_id = household.primary_contact_id
    return members, (by_pco.get(primary_id) if primary_id else None)


def merge_family(
    existing: Family | None,
    fields: FamilyFields,
    *,
    pco_id: str,
    pco_updated_at: datetime | None,
    run_id: str,
    now: datetime,
) -> tuple[Family | None, Outcome]:
    """The family to write (None when nothing changed) and how it counts."""
    digest = fields.content_hash()
    if existing is not None and existing.pco_id == pco_id and existing.sync.pco_hash == digest:
        return None, unchanged_outcome(existing.sync, run_id)
    outcome: Outcome = "created" if existing is None else "updated"
    sync = SyncMeta(pco_updated_at=pco_updated_at, pco_hash=digest, last_run_id=run_id, last_outcome=outcome)
    values = {
        "pco_id": pco_id,
        "name": fields.name,
        "member_ids": list(fields.member_ids),
        "primary_member_id": fields.primary_member_id,
        "address": fields.address,
        "updated_at": now,
    }
    if existing is None:
        return Family.model_validate({"id": record_id_for("family", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def unlinked_family(family: Family, now: datetime) -> Family:
    """No longer linked to PCO (its household is gone) and without members; its name and address kept."""
    return family.model_copy(
        update={
            "pco_id": None,
            "member_ids": [],
            "primary_member_id": None,
            "updated_at": now,
            "sync": family.sync.model_copy(update={"pco_hash": None}),
        }
    )


class HouseholdStore(Protocol):
    """What merging households needs from the record store."""

    def people_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Person]: ...

    def get_people(self, ids: Iterable[str]) -> dict[str, Person]: ...

    def save_people(
        self, changes: Sequence[tuple[Person, Person | None]], *, read_at: datetime | None = None
    ) -> set[str]: ...

    def families_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Family]: ...

    def save_families(
        self, changes: Sequence[tuple[Family, Family | None]], *, read_at: datetime | None = None
    ) -> set[str]: ...


def merge_households(
    store: HouseholdStore,
    households: Sequence[PcoHousehold],
    *,
    run_id: str,
    now: datetime,
    read_at: datetime | None = None,
) -> dict[str, tuple[Family | None, Outcome]]:
    """Merge PCO households into families and keep members' `family_id` in step, in a few store calls.

    Answers, per household id, the family written (None when unchanged) and how it counts. With `read_at`
    (when a run read the households from PCO) a family or person written since is left as it is: it holds
    a newer change (such a family answers None, skipped)."""
    families = store.families_by_pco_ids([h.id for h in households])
    kept_ids = [
        pid for h in households if not h.person_ids and h.id in families for pid in families[h.id].member_ids
    ]
    member_pco_ids = [pid for h in households for pid in (*h.person_ids, h.primary_contact_id) if pid]
    people = store.people_by_pco_ids(member_pco_ids)
    kept_people = store.get_people(kept_ids) if kept_ids else {}
    links = FamilyLinks([*people.values(), *kept_people.values()], now)

    merged: dict[str, tuple[Family | None, Outcome]] = {}
    changes: list[tuple[Family, Family | None]] = []
    for household in households:
        existing = families.get(household.id)
        kept = [kept_people[pid] for pid in existing.member_ids if pid in kept_people] if existing else []
        members, primary = household_members(household, people, kept)
        new, outcome = merge_family(
            existing,
            family_fields(household.name, members, primary),
            pco_id=household.id,
            pco_updated_at=household.updated_at,
            run_id=run_id,
            now=now,
        )
        merged[household.id] = (new, outcome)
        if new is not None:
            changes.append((new, existing))
        family = new or existing
        if family is not None:
            links.link(family, previous=existing)

    newer = store.save_families(changes, read_at=read_at) if changes else set()
    for household_id, (family, _) in list(merged.items()):
        if family is not None and family.id in newer:
            merged[household_id] = (None, "skipped")
    departed = links.departed_ids()
    if departed:
        links.unlink_departed(store.get_people(departed).values())
    if links.changes():
        store.save_people(links.changes(), read_at=read_at)
    return merged


class FamilyLinks:
    """The `family_id` updates a merge makes on person records, each person written at most once."""

    def __init__(self, known: Iterable[Person], now: datetime) -> None:
        self.now = now
        self._known = {person.id: person for person in known}
        self._current: dict[str, Person] = {}
        self._original: dict[str, Person] = {}
        self._departed: dict[str, str] = {}  # person id -> the family they are no longer in

    def link(self, family: Family, previous: Family | None) -> None:
        for person_id in family.member_ids:
            if person_id in self._known:
                self._set(self._known[person_id], family.id)
        if previous is not None:
            for person_id in set(previous.member_ids) - set(family.member_ids):
                self._departed[person_id] = family.id

    def departed_ids(self) -> list[str]:
        # Someone who moved to another family in this page already has their new family id.
        return sorted(pid for pid in self._departed if pid not in self._current)

    def unlink_departed(self, people: Iterable[Person]) -> None:
        for person in people:
            if person.family_id == self._departed.get(person.id):
                self._set(person, None)

    def changes(self) -> list[tuple[Person, Person | None]]:
        return [(self._current[pid], self._original[pid]) for pid in self._current]

    def _set(self, person: Person, family_id: str | None) -> None:
        current = self._current.get(person.id, person)
        if current.family_id == family_id:
            return
        self._original.setdefault(person.id, person)
        self._current[person.id] = current.model_copy(update={"family_id": family_id, "updated_at": self.now})
