"""One merge for a family: a PCO household in local terms and the family to write, with its members'
`family_id` kept in step. The pull and the webhook worker both call `merge_households`.

People not imported yet are left out of the family (a later Full Sync pulls people first); members get the
family's id on their person record, which is bookkeeping and not counted as an updated person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pco_core.merge.common import Merged, agreed_base, clean, merged_record, record_id_for
from pco_core.merge.threeway import Conflicts, decide
from pco_core.pco.models import PcoHousehold
from pco_core.records import Address, ConflictPolicy, Family, FamilyFields, FamilySync, Person


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


def household_fields(
    household: PcoHousehold, people: Mapping[str, Person], kept: Sequence[Person] = ()
) -> FamilyFields:
    """A PCO household in local terms (`people` by PCO id)."""
    members, primary = household_members(household, people, kept)
    return family_fields(household.name, members, primary)


def local_family_fields(family: Family) -> FamilyFields:
    return FamilyFields(
        name=family.name,
        member_ids=tuple(sorted(dict.fromkeys(family.member_ids))),
        primary_member_id=family.primary_member_id,
        address=family.address,
    )


@dataclass
class FamilyPlan:
    """A family after the three-way merge with PCO's household, and what a push would send."""

    fields: FamilyFields
    send: dict[str, Any]
    add_members: list[str]
    remove_members: list[str]
    conflicts: Conflicts
    edited: tuple[str, ...] = ()


def plan_family(
    existing: Family, pco: FamilyFields, *, policy: ConflictPolicy, source: str, now: datetime
) -> FamilyPlan:
    local = local_family_fields(existing)
    base = agreed_base(existing, local, existing.sync.base)
    conflicts = Conflicts.of("family", existing, existing.name, policy=policy, source=source, now=now)
    values: dict[str, Any] = {}
    send: dict[str, Any] = {}
    edited: list[str] = []
    for name in ("name", "primary_member_id", "address"):
        mine, theirs = _plain(getattr(local, name)), _plain(getattr(pco, name))
        side, found = decide(
            name,
            _plain(getattr(base, name)) if base else None,
            mine,
            theirs,
            conflicts,
            base_known=base is not None,
            edited=name in existing.sync.edited,
        )
        values[name] = getattr(local if side == "local" else pco, name)
        if side == "local" and mine != theirs and (found == "local" or policy == "local_wins"):
            send[name] = getattr(local, name)
            edited.append(name)
    # Members are a set: each person is in or out; the two sides cannot disagree about one change.
    was = set(base.member_ids) if base else set()
    mine_ids, theirs_ids = set(local.member_ids), set(pco.member_ids)
    members: list[str] = []
    add: list[str] = []
    remove: list[str] = []
    for pid in sorted(was | mine_ids | theirs_ids):
        side, _ = decide(f"member:{pid}", pid in was, pid in mine_ids, pid in theirs_ids, conflicts)
        present = (pid in mine_ids) if side == "local" else (pid in theirs_ids)
        if present:
            members.append(pid)
        if side == "local" and (pid in mine_ids) != (pid in theirs_ids):
            (add if pid in mine_ids else remove).append(pid)
    if values["primary_member_id"] not in members:
        values["primary_member_id"] = members[0] if members else None
    fields = FamilyFields(member_ids=tuple(members), **values)
    return FamilyPlan(fields, send, add, remove, conflicts, tuple(edited))


def _plain(value: Any) -> Any:
    return value.unlinked() if isinstance(value, Address) else value


def merge_family(
    existing: Family | None,
    fields: FamilyFields,
    *,
    pco_id: str,
    pco_updated_at: datetime | None,
    run_id: str,
    now: datetime,
    policy: ConflictPolicy = "review",
) -> Merged[Family]:
    """PCO's household (`fields`) merged into the local family three ways; the new base is PCO's."""
    if existing is None:
        sync = FamilySync(
            pco_updated_at=pco_updated_at,
            pco_hash=fields.content_hash(),
            base=fields,
            last_run_id=run_id,
            last_outcome="created",
        )
        values = _family_values(fields)
        created = Family.model_validate(
            {
                "id": record_id_for("family", pco_id),
                "pco_id": pco_id,
                **values,
                "updated_at": now,
                "sync": sync,
            }
        )
        return Merged(created, "created")
    plan = plan_family(existing, fields, policy=policy, source=run_id, now=now)
    changed = (
        existing.pco_id != pco_id
        or plan.fields.content_hash() != local_family_fields(existing).content_hash()
    )
    return merged_record(
        existing,
        pco_id=pco_id,
        values=_family_values(plan.fields),
        base=fields,
        pco_updated_at=pco_updated_at,
        conflicts=plan.conflicts,
        edited=plan.edited,
        changed=changed,
        run_id=run_id,
        now=now,
    )


def _family_values(fields: FamilyFields) -> dict[str, Any]:
    return {
        "name": fields.name,
        "member_ids": list(fields.member_ids),
        "primary_member_id": fields.primary_member_id,
        "address": fields.address,
    }


def agreed_family(family: Family, after: FamilyFields, plan: FamilyPlan) -> Family:
    """`family` holding what PCO holds after a push, but for the fields an open conflict holds back."""
    held = {c.field for c in plan.conflicts.open_conflicts()}
    values = _family_values(after)
    for name in ("name", "primary_member_id", "address"):
        if name in held:
            values[name] = getattr(plan.fields, name)
    return family.model_copy(update=values)


def unlinked_family(family: Family, now: datetime) -> Family:
    """No longer linked to PCO (its household is gone) and without members; its name and address kept."""
    return family.model_copy(
        update={
            "pco_id": None,
            "member_ids": [],
            "primary_member_id": None,
            "updated_at": now,
            "sync": family.sync.model_copy(
                update={"pco_hash": None, "base": None, "conflicts": (), "edited": ()}
            ),
        }
    )


def unlink_household(
    store: HouseholdStore, family: Family, now: datetime, *, reason: str | None = None
) -> int:
    """Unlink `family` from its PCO household (it is gone) and clear its members' `family_id`; how many
    members were cleared. `reason` is kept on the family, with the PCO id it had."""
    members = store.get_people(family.member_ids)
    cleared = [
        (p.model_copy(update={"family_id": None, "updated_at": now}), p)
        for p in members.values()
        if p.family_id == family.id
    ]
    unlinked = unlinked_family(family, now)
    if reason is not None:
        note = {"unlinked_reason": reason, "unlinked_pco_id": family.pco_id}
        unlinked = unlinked.model_copy(update={"sync": unlinked.sync.model_copy(update=note)})
    store.save_families([(unlinked, family)])
    if cleared:
        store.save_people(cleared)
    return len(cleared)


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
    policy: ConflictPolicy = "review",
    read_at: datetime | None = None,
) -> dict[str, Merged[Family]]:
    """Merge PCO households into families three ways and keep members' `family_id` in step, in a few
    store calls. Answers, per household id, the merge (the family written, how it counts, conflicts).

    With `read_at` (when a run read the households from PCO) a family or person written since is left as
    it is: it holds a newer change (such a family answers no record, skipped, and no conflicts)."""
    families = store.families_by_pco_ids([h.id for h in households])
    kept_ids = [
        pid for h in households if not h.person_ids and h.id in families for pid in families[h.id].member_ids
    ]
    member_pco_ids = [pid for h in households for pid in (*h.person_ids, h.primary_contact_id) if pid]
    people = store.people_by_pco_ids(member_pco_ids)
    kept_people = store.get_people(kept_ids) if kept_ids else {}
    links = FamilyLinks([*people.values(), *kept_people.values()], now)

    merged: dict[str, Merged[Family]] = {}
    changes: list[tuple[Family, Family | None]] = []
    for household in households:
        existing = families.get(household.id)
        kept = [kept_people[pid] for pid in existing.member_ids if pid in kept_people] if existing else []
        result = merge_family(
            existing,
            household_fields(household, people, kept),
            pco_id=household.id,
            pco_updated_at=household.updated_at,
            run_id=run_id,
            now=now,
            policy=policy,
        )
        merged[household.id] = result
        if result.record is not None:
            changes.append((result.record, existing))
        family = result.record or existing
        if family is not None:
            links.link(family, previous=existing)

    newer = store.save_families(changes, read_at=read_at) if changes else set()
    for household_id, result in list(merged.items()):
        if result.record is not None and result.record.id in newer:
            merged[household_id] = Merged(None, "skipped")
    links.save(store, read_at=read_at)
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

    def save(self, store: HouseholdStore, *, read_at: datetime | None = None) -> None:
        """Write the `family_id` changes, reading first the departed members not known yet (with
        `read_at`, a person written since is left as it is)."""
        departed = self.departed_ids()
        if departed:
            self.unlink_departed(store.get_people(departed).values())
        if self.changes():
            store.save_people(self.changes(), read_at=read_at)

    def changes(self) -> list[tuple[Person, Person | None]]:
        return [(self._current[pid], self._original[pid]) for pid in self._current]

    def _set(self, person: Person, family_id: str | None) -> None:
        current = self._current.get(person.id, person)
        if current.family_id == family_id:
            return
        self._original.setdefault(person.id, person)
        self._current[person.id] = current.model_copy(update={"family_id": family_id, "updated_at": self.now})
