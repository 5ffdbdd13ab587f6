"""Which local person a PCO person is: by PCO id, then by email + first name, then by name + birthdate.

Every rule errs towards creating a new person rather than merging two real people into one record: a
wrong merge loses data, a duplicate is only a chore.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from pco_core.pco.models import PcoPerson
from pco_core.records import Person, normalise_email, normalise_name


class PersonLookup(Protocol):
    """The record store's person lookups: by PCO id, and by email or name for people not yet linked."""

    def people_by_pco_ids(self, pco_ids: Iterable[str]) -> dict[str, Person]: ...

    def has_unlinked_people(self) -> bool: ...

    def people_by_email(self, email: str) -> list[Person]: ...

    def people_by_name(self, last: str, first: str, birthdate: date | None) -> list[Person]: ...


def _birthdates_conflict(a: date | None, b: date | None) -> bool:
    return a is not None and b is not None and a != b


@dataclass
class PersonMatch:
    """Matches one page of PCO people in a few store calls: one batch lookup of all PCO ids, then email and
    name queries only for the people that batch did not find. Local people matched within the page are
    claimed, so two PCO people never land on one local record.
    """

    records: PersonLookup
    _claimed: set[str] = field(default_factory=set, init=False)

    def match_page(self, people: Sequence[PcoPerson]) -> dict[str, Person | None]:
        """PCO id -> the local person it is, or None when a new person should be created."""
        linked = self.records.people_by_pco_ids([p.id for p in people])
        self._claimed.update(person.id for person in linked.values())
        # Email and name can only match a person not yet linked to PCO; when there is none (every sync
        # after the first), the page costs no query beyond the PCO id batch.
        unlinked = len(linked) < len(people) and self.records.has_unlinked_people()
        matches: dict[str, Person | None] = {}
        for pco in people:
            found = linked.get(pco.id)
            if found is None and unlinked:
                found = self._by_email(pco) or self._by_name(pco)
            if found is not None:
                self._claimed.add(found.id)
            matches[pco.id] = found
        return matches

    def _available(self, candidate: Person, pco: PcoPerson) -> bool:
        # A record linked to another PCO person is that person; one matched earlier in this page is taken.
        return candidate.pco_id in (None, pco.id) and candidate.id not in self._claimed

    def _by_email(self, pco: PcoPerson) -> Person | None:
        first = normalise_name(pco.first_name)
        if not first:
            return None
        candidates: dict[str, Person] = {}
        for address in dict.fromkeys(normalise_email(e.address or "") for e in pco.emails):
            if not address:
                continue
            for candidate in self.records.people_by_email(address):
                # Spouses and families share one address: the first name must agree too.
                if (
                    self._available(candidate, pco)
                    and normalise_name(candidate.first_name) == first
                    and not _birthdates_conflict(candidate.birthdate, pco.birthdate)
                ):
                    candidates[candidate.id] = candidate
        if len(candidates) > 1:
            # Several records fit; only an exact last name + birthdate agreement may pick one of them.
            last = normalise_name(pco.last_name)
            candidates = {
                cid: c
                for cid, c in candidates.items()
                if pco.birthdate is not None
                and c.birthdate == pco.birthdate
                and normalise_name(c.last_name) == last
            }
        return _only(candidates.values())

    def _by_name(self, pco: PcoPerson) -> Person | None:
        if pco.birthdate is None or not normalise_name(pco.first_name) or not normalise_name(pco.last_name):
            return None
        candidates = self.records.people_by_name(pco.last_name, pco.first_name, pco.birthdate)
        return _only(
            c
            for c in candidates
            if self._available(c, pco)
            and c.birthdate == pco.birthdate
            and normalise_name(c.first_name) == normalise_name(pco.first_name)
            and normalise_name(c.last_name) == normalise_name(pco.last_name)
        )


def _only(candidates: Iterable[Person]) -> Person | None:
    """The one candidate, or None when there are none or several (ambiguity creates, it never merges)."""
    found = list({c.id: c for c in candidates}.values())
    return found[0] if len(found) == 1 else None
