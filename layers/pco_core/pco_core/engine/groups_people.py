"""Which local person a Groups-API person id is, decided by what PCO answers, never by a guess.

PCO's Groups API names people by its own person ids; whether they equal the People ids is not settled
(developers#764 reports a membership's person id differing from the same person's id elsewhere, #729
found them equal). So a membership's person id G resolves, in order:
1. to the person we already learned G for (`sync.groups_person_id`, one lookup item per G);
2. to the person linked to People id G, when the Groups person PCO included with the membership has the
   same name as PCO last held for them (the ids are shared, the common case: no extra request);
3. otherwise through PCO: the People emails equal to one of the Groups person's addresses
   (`/people/v2/emails?where[address]=`), their People person, and our person linked to it, again
   with the same name; exactly one such person, or none. What is learned is saved on the person, so
   each G costs that request once.
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
from pco_core.records import Person, normalise_name

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


def _known_name(person: Person) -> tuple[str, str]:
    """The name PCO last held for the person (its base), else the local one."""
    base = person.sync.base
    held = base if base is not None else person
    return _name(held.first_name, held.last_name)


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
        found = self.records.people_by_groups_person_ids(included)
        rest = [g for g in included if g not in found]
        same_ids = self.records.people_by_pco_ids(rest)
        for g in rest:
            person = same_ids.get(g)
            groups_person = included[g]
            if person is not None and (
                groups_person is None or _groups_name(groups_person) == _known_name(person)
            ):
                found[g] = person
            elif groups_person is not None:
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
        candidates = [
            p for p in self.records.people_by_pco_ids(people_ids).values() if _known_name(p) == wanted
        ]
        return candidates[0] if len(candidates) == 1 else None
