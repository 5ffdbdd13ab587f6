"""Local edits of people, families and group memberships: what the church's own tools change and push sends.

Every check runs before the first write, so a refused edit writes nothing. A write sets `updated_at`
from the injected clock and keeps `sync` as it was, so push can tell what changed since the last
exchange with PCO; an edit that changes nothing writes nothing. Family writes keep each person's
`family_id` in step with the families' `member_ids` (a person is in one family at most).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import MISSING

from pco_core.api.bodies import (
    AddressBody,
    EmailBody,
    FamilyCreate,
    FamilyPatch,
    PersonCreate,
    PersonPatch,
    PhoneBody,
)
from pco_core.clock import Clock
from pco_core.errors import FieldProblem, InvalidRecord, RecordNotFound
from pco_core.limits import birthdate_problem
from pco_core.merge.contacts import relink
from pco_core.records import (
    PERSON_SCALARS,
    PERSON_WRITABLE,
    Address,
    Email,
    Family,
    Group,
    GroupMember,
    GroupRole,
    Person,
    Phone,
)
from pco_core.store.records import RecordStore


def _linked[C: (Email, Phone, Address)](kind: str, items: list[C], current: Sequence[C]) -> list[C]:
    """`items` with their PCO links: each named pco_id must be one of the person's own items, at most once."""
    own = {item.pco_id for item in current if item.pco_id is not None}
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        if item.pco_id is None:
            continue
        if item.pco_id not in own:
            problems.append(FieldProblem(f"{kind}.{n}.pco_id", f"is not one of this person's {kind}"))
        elif item.pco_id in seen:
            problems.append(FieldProblem(f"{kind}.{n}.pco_id", "names the same item twice"))
        seen.add(item.pco_id)
    if problems:
        raise InvalidRecord.of(problems)
    others = [c for c in current if c.pco_id not in seen]
    relinked = iter(relink([item for item in items if item.pco_id is None], others))
    linked = [item if item.pco_id is not None else next(relinked) for item in items]
    # What PCO alone sets (an email's `blocked`) stays as PCO holds it on the item it links to.
    by_id = {c.pco_id: c for c in current if c.pco_id is not None}
    return [item.with_pco_own(by_id[item.pco_id]) if item.pco_id in by_id else item for item in linked]


FAMILY_EDITABLE = ("name", "primary_member_id", "address")


def new_record_id() -> str:
    return str(uuid.uuid4())


def _emails(items: Iterable[EmailBody]) -> list[Email]:
    return [Email.model_validate(item.model_dump(exclude=set(Email.PCO_OWN))) for item in items]


def _phones(items: Iterable[PhoneBody]) -> list[Phone]:
    return [Phone.model_validate(item.model_dump()) for item in items]


def _address(item: AddressBody | None) -> Address | None:
    return Address.model_validate(item.model_dump()) if item is not None else None


def _addresses(items: Iterable[AddressBody]) -> list[Address]:
    return [Address.model_validate(item.model_dump()) for item in items]


@dataclass(frozen=True)
class RecordEdits:
    store: RecordStore
    clock: Clock
    new_id: Callable[[], str] = field(default=new_record_id)

    # people

    def create_person(self, body: PersonCreate) -> Person:
        now = self.clock()
        self._check_dates(body, now)
        person = Person(
            id=self.new_id(),
            **{name: getattr(body, name) for name in PERSON_WRITABLE},
            emails=_emails(body.emails),
            phones=_phones(body.phones),
            addresses=_addresses(body.addresses),
            updated_at=now,
        )
        self.store.save_people([(person, None)])
        return person

    def update_person(self, person_id: str, body: PersonPatch) -> Person:
        now = self.clock()
        current = self._person(person_id)
        self._check_dates(body, now)
        changes: dict[str, object] = {
            name: getattr(body, name) for name in PERSON_WRITABLE if getattr(body, name) is not MISSING
        }
        # A sent list replaces the old one. An item naming its pco_id is that PCO item (edited in place
        # by the next push); an item without one keeps the PCO link of an old item with its value.
        if body.emails is not MISSING:
            changes["emails"] = _linked("emails", _emails(body.emails), current.emails)
        if body.phones is not MISSING:
            changes["phones"] = _linked("phones", _phones(body.phones), current.phones)
        if body.addresses is not MISSING:
            changes["addresses"] = _linked("addresses", _addresses(body.addresses), current.addresses)
        updated = current.model_copy(update=changes)
        if updated == current:
            return current
        # Every attribute the edit set is a local change to push, even one set back to PCO's last value.
        edited = {n for n in PERSON_SCALARS if n in changes and changes[n] != getattr(current, n)}
        edited |= set(current.sync.edited)
        sync = current.sync.model_copy(update={"edited": tuple(sorted(edited))})
        updated = updated.model_copy(update={"updated_at": now, "sync": sync})
        self.store.save_people([(updated, current)])
        return updated

    # families

    def create_family(self, body: FamilyCreate) -> Family:
        family = Family(
            id=self.new_id(),
            name=body.name,
            member_ids=list(body.member_ids),
            primary_member_id=body.primary_member_id,
            address=_address(body.address),
            updated_at=self.clock(),
        )
        return self._save_family(family, None, primary_sent="primary_member_id" in body.model_fields_set)

    def update_family(self, family_id: str, body: FamilyPatch) -> Family:
        current = self.store.get_family(family_id)
        if current is None:
            raise RecordNotFound("family", family_id)
        changes: dict[str, object] = {}
        if body.name is not MISSING:
            changes["name"] = body.name
        if body.member_ids is not MISSING:
            changes["member_ids"] = list(body.member_ids)
        if body.primary_member_id is not MISSING:
            changes["primary_member_id"] = body.primary_member_id
        if body.address is not MISSING:
            changes["address"] = _address(body.address)
        # Attributes the edit changed are local changes to push, even one set back to PCO's last value.
        edited = {n for n in FAMILY_EDITABLE if n in changes and changes[n] != getattr(current, n)}
        sync = current.sync.model_copy(update={"edited": tuple(sorted(edited | set(current.sync.edited)))})
        return self._save_family(
            current.model_copy(update={**changes, "sync": sync}),
            current,
            primary_sent=body.primary_member_id is not MISSING,
        )

    def _save_family(self, family: Family, previous: Family | None, *, primary_sent: bool) -> Family:
        members = family.member_ids
        found = self.store.get_people(members)
        unknown = [i for i in members if i not in found]
        if unknown:
            raise InvalidRecord.of(
                [FieldProblem("member_ids", f"no person with id '{i}'") for i in unknown],
                summary=f"no person with id {', '.join(repr(i) for i in unknown)}",
            )
        primary = family.primary_member_id
        if primary_sent and primary is not None and primary not in members:
            raise InvalidRecord.of(
                [FieldProblem("primary_member_id", f"'{primary}' is not in member_ids")],
                summary=f"the primary member '{primary}' is not one of the family's members",
            )
        # A family with members always has a primary one (PCO households need a primary contact):
        # without one given, or when the primary left, the first member is primary.
        if primary not in members:
            family = family.model_copy(update={"primary_member_id": members[0] if members else None})
        if previous is not None and family == previous:
            return previous
        # A new family was stamped when it was made; an edited one is stamped now that it did change.
        now = family.updated_at if previous is None else self.clock()
        family = family.model_copy(update={"updated_at": now})

        before = set(previous.member_ids) if previous is not None else set()
        joined = [found[i] for i in members if found[i].family_id != family.id]
        left = self.store.get_people(sorted(before - set(members)))
        # A person joining this family leaves the family they were in.
        other_ids = {p.family_id for p in joined if p.family_id not in (None, family.id)}
        others = self.store.get_families(sorted(i for i in other_ids if i is not None))
        family_changes: list[tuple[Family, Family | None]] = [(family, previous)]
        for other in others.values():
            remaining = [i for i in other.member_ids if i not in members]
            kept_primary = other.primary_member_id if other.primary_member_id in remaining else None
            changed = other.model_copy(
                update={
                    "member_ids": remaining,
                    "primary_member_id": kept_primary or (remaining[0] if remaining else None),
                    "updated_at": now,
                }
            )
            family_changes.append((changed, other))

        people_changes: list[tuple[Person, Person | None]] = [
            (p.model_copy(update={"family_id": family.id, "updated_at": now}), p) for p in joined
        ]
        people_changes += [
            (p.model_copy(update={"family_id": None, "updated_at": now}), p)
            for p in left.values()
            if p.family_id == family.id
        ]
        self.store.save_families(family_changes)
        if people_changes:
            self.store.save_people(people_changes)
        return family

    # group memberships

    def put_group_member(self, group_id: str, person_id: str, role: GroupRole) -> tuple[Group, bool]:
        """The group with `person_id` a member in `role`, and whether the membership is new."""
        group = self._group(group_id)
        if self.store.get_person(person_id) is None:
            raise InvalidRecord.of([FieldProblem("person_id", f"no person with id '{person_id}'")])
        existing = next((m for m in group.members if m.person_id == person_id), None)
        if existing is not None and existing.role == role:
            return group, False
        if existing is not None:
            members = [
                m.model_copy(update={"role": role}) if m.person_id == person_id else m for m in group.members
            ]
        else:
            members = [*group.members, GroupMember(person_id=person_id, role=role)]
        updated = group.model_copy(update={"members": members, "updated_at": self.clock()})
        self.store.save_groups([(updated, group)])
        return updated, existing is None

    def remove_group_member(self, group_id: str, person_id: str) -> Group:
        group = self._group(group_id)
        members = [m for m in group.members if m.person_id != person_id]
        if len(members) == len(group.members):
            raise RecordNotFound(
                "membership",
                f"{group_id}/{person_id}",
                f"person '{person_id}' is not a member of group '{group_id}'",
            )
        updated = group.model_copy(update={"members": members, "updated_at": self.clock()})
        self.store.save_groups([(updated, group)])
        return updated

    @staticmethod
    def _check_dates(body: PersonCreate | PersonPatch, now: datetime) -> None:
        problems = [
            FieldProblem(name, problem)
            for name in ("birthdate", "anniversary")
            if isinstance(day := getattr(body, name), date)
            and (problem := birthdate_problem(day, now.date()))
        ]
        if problems:
            raise InvalidRecord.of(problems)

    def _person(self, person_id: str) -> Person:
        person = self.store.get_person(person_id)
        if person is None:
            raise RecordNotFound("person", person_id)
        return person

    def _group(self, group_id: str) -> Group:
        group = self.store.get_group(group_id)
        if group is None:
            raise RecordNotFound("group", group_id)
        return group
