"""Families: one page of PCO households merged into families, linking the members already imported.

People not imported yet are left out of the family (a later Full Sync pulls people first); members get the
family's id on their person record, which is bookkeeping and not counted as an updated person.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pco_core.pco.models import PcoHousehold
from pco_core.records import Family, Person
from pco_core.sync.domain import (
    PER_PAGE,
    DomainContext,
    DomainPage,
    Position,
    Tally,
    int_at,
    next_offset_after,
)
from pco_core.sync.mapping import family_fields, merge_family

HOUSEHOLDS_PATH = "/people/v2/households"


def pull_families_page(ctx: DomainContext, position: Position) -> DomainPage:
    offset = int_at(position, "offset")
    document = ctx.client.get(HOUSEHOLDS_PATH, {"per_page": PER_PAGE, "offset": offset, "include": "people"})
    households = [PcoHousehold.from_resource(resource, document) for resource in document.resources()]

    member_pco_ids = [pid for h in households for pid in (*h.person_ids, h.primary_contact_id) if pid]
    people = ctx.records.people_by_pco_ids(member_pco_ids)
    families = ctx.records.families_by_pco_ids([h.id for h in households])
    links = FamilyLinks(people.values(), ctx.clock())

    tally = Tally()
    changes: list[tuple[Family, Family | None]] = []
    for household in households:
        members = [people[pid] for pid in dict.fromkeys(household.person_ids) if pid in people]
        primary_id = household.primary_contact_id
        primary = people.get(primary_id) if primary_id in household.person_ids else None
        existing = families.get(household.id)
        new, outcome = merge_family(
            existing,
            family_fields(household.name, members, primary),
            pco_id=household.id,
            pco_updated_at=household.updated_at,
            run_id=ctx.run_id,
            now=links.now,
        )
        tally.add(outcome)
        if new is not None:
            changes.append((new, existing))
        family = new or existing
        if family is not None:
            links.link(family, previous=existing)

    if changes:
        ctx.records.save_families(changes)
    departed = links.departed_ids()
    if departed:
        links.unlink_departed(ctx.records.get_people(departed).values())
    if links.changes():
        ctx.records.save_people(links.changes())

    processed = int_at(position, "processed") + len(households)
    following = next_offset_after(offset, document.next_offset, HOUSEHOLDS_PATH)
    return DomainPage(
        counts=tally.counts,
        next_position=None if following is None else {"offset": following, "processed": processed},
        processed=processed,
        total=document.total_count,
    )


class FamilyLinks:
    """The `family_id` updates a page makes on person records, each person written at most once."""

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
