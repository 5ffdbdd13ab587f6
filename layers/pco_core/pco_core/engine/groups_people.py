"""Which local person a Groups-API person id is, decided by what PCO answers, never by a guess.

PCO's Groups API names people by its own person ids; whether they equal the People ids is not settled
(developers#764 reports a membership's person id differing from the same person's id elsewhere, #729
found them equal). So a membership's person id G resolves, in order:
1. to the person linked to People id G (and known in Groups by no other id), unless the Groups person
   PCO included with the membership contradicts it: another name (than PCO last held, or than ours) and
   emails, none of them theirs (the ids are shared, the common case: no extra request; a rename alone
   contradicts nothing);
2. else to the person we already learned G for (`sync.groups_person_id`, one lookup item per G);
3. otherwise through PCO: the People emails equal to one of the Groups person's addresses
   (`/people/v2/emails?where[address]=`), their People person, and our person linked to it; one such
   person, or among several (a family's shared address) the one of that name, or none. What is learned
   is saved on the person, so each G costs that request once.
A G that resolves to nobody (not imported, ambiguous, no email) is left out, as before: never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from aws_lambda_powertools import Logger

from pco_core.engine.ports import QueryParams, Records
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.models import PcoMembership
from pco_core.records import Person, normalise_email, normalise_name

logger = Logger(child=True)

PEOPLE_EMAILS = "/people/v2/emails"


class Reader(Protocol):
    def get(self, path: str, params: QueryParams | None = None) -> Document: ...


def known_groups_person(records: Records, groups_id: str) -> Person | None:
    """The person a Groups id names without asking PCO (a webhook carries no Groups person to compare):
    the one it was learned for, else the one linked to that People id unless they are known by another."""
    learned = records.people_by_groups_person_ids([groups_id]).get(groups_id)
    if learned is not None:
        return learned
    same = records.people_by_pco_ids([groups_id]).get(groups_id)
    if same is not None and same.sync.groups_person_id in (None, groups_id):
        return same
    return None


def _name(first: object, last: object) -> tuple[str, str]:
    return (normalise_name(str(first or "")), normalise_name(str(last or "")))


def _names(person: Person) -> set[tuple[str, str]]:
    """The names the person goes by here: as PCO last held it (the base) and as it is locally."""
    base = person.sync.base
    names = {_name(person.first_name, person.last_name)}
    if base is not None:
        names.add(_name(base.first_name, base.last_name))
    return names


def _emails(person: Person) -> set[str]:
    base = person.sync.base
    items = [*person.emails, *(base.emails if base is not None else ())]
    return {normalise_email(e.address) for e in items}


def _is(person: Person, groups_person: Resource) -> bool:
    """Whether nothing the Groups API says of its person contradicts it being `person`: the same name (as
    PCO held it, or as it is here), or an email in common; a Groups person with no email and another name
    (renamed since our last read) contradicts nothing either."""
    if _groups_name(groups_person) in _names(person):
        return True
    theirs = {normalise_email(a) for a in _groups_emails(groups_person)}
    return not theirs or bool(theirs & _emails(person))


def _groups_name(resource: Resource) -> tuple[str, str]:
    return _name(resource.attributes.get("first_name"), resource.attributes.get("last_name"))


def _groups_emails(resource: Resource) -> list[str]:
    rows = resource.attributes.get("email_addresses") or []
    addresses = [row.get("address") for row in rows if isinstance(row, dict)]
    return sorted({a.strip() for a in addresses if isinstance(a, str) and a.strip()})


@dataclass
class GroupsPeople:
    """Resolves the person ids of memberships; `learned` holds the people whose Groups id is new."""

    pco: Reader
    records: Records
    learned: dict[str, tuple[Person, Person]] = field(default_factory=dict)

    def resolve(self, memberships: Iterable[PcoMembership]) -> dict[str, Person]:
        """Local person per Groups person id, for the memberships that resolve."""
        included: dict[str, Resource | None] = {}
        for membership in memberships:
            if membership.person_id:
                included.setdefault(membership.person_id, membership.person)
        # The common case first (shared ids): one lookup by People id; the learned ids only for the rest.
        same_ids = self.records.people_by_pco_ids(included)
        found: dict[str, Person] = {}
        for g, person in same_ids.items():
            groups_person = included[g]
            if person.sync.groups_person_id in (None, g) and (
                groups_person is None or _is(person, groups_person)
            ):
                found[g] = person
        rest = [g for g in included if g not in found]
        found.update(self.records.people_by_groups_person_ids(rest) if rest else {})
        for g in rest:
            groups_person = included[g]
            if g in found or groups_person is None:
                continue
            through_email = self._through_email(groups_person)
            if through_email is not None:
                found[g] = self._learn(g, through_email)
        return found

    def groups_id_of(self, person: Person) -> str | None:
        """The id PCO's Groups API knows the person by: learned, else the People id."""
        return person.sync.groups_person_id or person.pco_id

    def save_learned(self) -> None:
        """Store the Groups ids learned (on the people, with their lookup items)."""
        if self.learned:
            self.records.save_people(list(self.learned.values()))
            self.learned.clear()

    def _learn(self, groups_id: str, person: Person) -> Person:
        if person.sync.groups_person_id == groups_id:
            return person
        logger.info("Groups person id learned", extra={"person_id": person.id, "groups_person_id": groups_id})
        learned = person.model_copy(
            update={"sync": person.sync.model_copy(update={"groups_person_id": groups_id})}
        )
        self.learned[person.id] = (learned, person)
        return learned

    def _through_email(self, groups_person: Resource) -> Person | None:
        wanted = _groups_name(groups_person)
        people_ids: set[str] = set()
        for address in _groups_emails(groups_person):
            document = self.pco.get(PEOPLE_EMAILS, {"where[address]": address, "per_page": 25})
            people_ids.update(pid for email in document.resources() for pid in email.related_ids("person"))
        found = list(self.records.people_by_pco_ids(people_ids).values())
        if len(found) > 1:
            # An address several people share (a family's): the name tells them apart, or nobody is taken.
            found = [p for p in found if wanted in _names(p)]
        return found[0] if len(found) == 1 else None
