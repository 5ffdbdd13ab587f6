"""PCO -> local fields: what a pull takes from PCO for a person, family, group or membership, and its hash.

The hash of the mapped fields is what was last exchanged with PCO (`sync.pco_hash`): a record whose hash is
unchanged is skipped, so an unchanged PCO record never overwrites local edits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from pco_core.pco.models import PcoAddress, PcoEmail, PcoPerson, PcoPhone
from pco_core.records import (
    PCO_GROUPS_DEPARTMENT,
    Address,
    Email,
    Family,
    Group,
    GroupMember,
    GroupRole,
    Person,
    PersonStatus,
    Phone,
    SyncMeta,
    content_hash,
)

# Records a pull creates get uuid5(NAMESPACE_PCO_SYNC, "<kind>:<pco_id>"), so a retried page never duplicates.
NAMESPACE_PCO_SYNC = uuid.UUID("6f1c7a52-3d0e-5b8a-9c41-2b7e8d5f0a93")

Kind = Literal["person", "family", "group"]
Outcome = Literal["created", "updated", "skipped"]


def record_id_for(kind: Kind, pco_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE_PCO_SYNC, f"{kind}:{pco_id}"))


def normalise_status(value: str | None) -> PersonStatus:
    return "inactive" if (value or "").strip().casefold() == "inactive" else "active"


def normalise_role(value: str | None) -> GroupRole:
    return "leader" if (value or "").strip().casefold() == "leader" else "member"


def unchanged_outcome(sync: SyncMeta, run_id: str) -> Outcome:
    """How an unchanged record counts: as the write this run already made (a retried page), else skipped."""
    if sync.last_run_id == run_id and sync.last_outcome is not None:
        return sync.last_outcome
    return "skipped"


def _clean(value: str | None) -> str:
    return " ".join((value or "").split())


def _optional(value: str | None) -> str | None:
    return _clean(value) or None


def _street(value: str | None) -> str | None:
    """A street keeps its line breaks (PCO's street_line_1/_2): each line cleaned, blank lines dropped."""
    lines = [_clean(line) for line in (value or "").splitlines()]
    return "\n".join(line for line in lines if line) or None


# ---- emails, phones and addresses: matched by value, linked by PCO id ----

type Contact = Email | Phone | Address
type PcoContact = PcoEmail | PcoPhone | PcoAddress


def _norm(value: object) -> object:
    if isinstance(value, str):
        lines = [" ".join(line.split()) for line in value.splitlines()]
        return "\n".join(line for line in lines if line) or None
    return value


def contact_key(item: Contact | PcoContact) -> tuple[str, ...]:
    """What makes two emails (phones, addresses) the same one when no PCO id says so."""
    if isinstance(item, Email | PcoEmail):
        return (str(_norm(item.address) or "").casefold(),)
    if isinstance(item, Phone | PcoPhone):
        return ("".join(ch for ch in str(item.number or "") if ch.isdigit()),)
    return tuple(str(_norm(v) or "").casefold() for v in (item.street, item.city, item.zip))


def same_value(a: object, b: object) -> bool:
    """Equal apart from normalisation (spacing of strings), as PCO compares what we send."""
    return _norm(a) == _norm(b)


def relink[C: (Email, Phone, Address)](items: Sequence[C], linked: Sequence[C]) -> list[C]:
    """`items`, each given the PCO id of the `linked` item with its value (ids it had are kept otherwise)."""
    ids = {contact_key(item): item.pco_id for item in linked if item.pco_id}
    return [
        item.model_copy(update={"pco_id": ids[key]})
        if (key := contact_key(item)) in ids and item.pco_id != ids[key]
        else item
        for item in items
    ]


# ---- mapped fields ----


class _Fields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # PCO ids of emails, phones and addresses are links, not content: a person pushed (ids unknown until
    # PCO answers) and the same person pulled back (ids known) must hash the same.
    _links: ClassVar[dict[str, Any]] = {}

    def content_hash(self) -> str:
        return content_hash(self.model_dump(mode="json", exclude=self._links))


class PersonFields(_Fields):
    """A person's PCO-owned fields, as the local record holds them."""

    first_name: str
    last_name: str
    gender: str | None
    birthdate: date | None
    status: PersonStatus
    emails: tuple[Email, ...]
    phones: tuple[Phone, ...]
    addresses: tuple[Address, ...]

    _links: ClassVar[dict[str, Any]] = {
        name: {"__all__": {"pco_id"}} for name in ("emails", "phones", "addresses")
    }


class FamilyFields(_Fields):
    name: str
    member_ids: tuple[str, ...]
    primary_member_id: str | None
    address: Address | None

    _links: ClassVar[dict[str, Any]] = {"address": {"pco_id"}}


class GroupFields(_Fields):
    name: str
    department: str = PCO_GROUPS_DEPARTMENT


def _one_primary[T: (Email, Phone, Address)](items: list[T], key: str) -> tuple[T, ...]:
    """At most one primary (the first PCO marks), primary first, then a stable order so the hash is stable."""
    seen_primary = False
    flagged: list[T] = []
    for item in items:
        primary = item.primary and not seen_primary
        seen_primary = seen_primary or primary
        flagged.append(item if item.primary == primary else item.model_copy(update={"primary": primary}))
    return tuple(sorted(flagged, key=lambda i: (not i.primary, str(getattr(i, key) or "").casefold())))


def person_fields(pco: PcoPerson) -> PersonFields:
    emails: dict[str, Email] = {}
    for email in pco.emails:
        address = _clean(email.address)
        if address and address.casefold() not in emails:
            emails[address.casefold()] = Email(
                address=address,
                location=_optional(email.location),
                primary=email.primary,
                pco_id=email.id or None,
            )
    phones = [
        Phone(
            number=_clean(phone.number),
            location=_optional(phone.location),
            primary=phone.primary,
            pco_id=phone.id or None,
        )
        for phone in pco.phone_numbers
        if _clean(phone.number)
    ]
    addresses = [
        Address(
            street=_street(a.street),
            city=_optional(a.city),
            state=_optional(a.state),
            zip=_optional(a.zip),
            location=_optional(a.location),
            primary=a.primary,
            pco_id=a.id or None,
        )
        for a in pco.addresses
    ]
    return PersonFields(
        first_name=_clean(pco.first_name),
        last_name=_clean(pco.last_name),
        gender=pco.gender,
        birthdate=pco.birthdate,
        status=normalise_status(pco.status),
        emails=_one_primary(list(emails.values()), "address"),
        phones=_one_primary(phones, "number"),
        addresses=_one_primary(addresses, "street"),
    )


def merge_person(
    existing: Person | None,
    fields: PersonFields,
    *,
    pco_id: str,
    pco_updated_at: datetime | None,
    run_id: str,
    now: datetime,
) -> tuple[Person | None, Outcome]:
    """The person to write (None when nothing changed) and how it counts."""
    digest = fields.content_hash()
    if existing is not None and existing.pco_id == pco_id and existing.sync.pco_hash == digest:
        # PCO's values are the ones last exchanged; only links to PCO's emails, phones and addresses may be
        # missing (e.g. a record pushed before it knew them). Linking them is not a change the run counts,
        # and local edits waiting to be pushed are kept: only items with PCO's exact value get its id.
        relinked = existing.model_copy(
            update={
                "emails": relink(existing.emails, fields.emails),
                "phones": relink(existing.phones, fields.phones),
                "addresses": relink(existing.addresses, fields.addresses),
            }
        )
        return (None if relinked == existing else relinked), unchanged_outcome(existing.sync, run_id)
    outcome: Outcome = "created" if existing is None else "updated"
    sync = SyncMeta(pco_updated_at=pco_updated_at, pco_hash=digest, last_run_id=run_id, last_outcome=outcome)
    values = {
        "pco_id": pco_id,
        "first_name": fields.first_name,
        "last_name": fields.last_name,
        "gender": fields.gender,
        "birthdate": fields.birthdate,
        "status": fields.status,
        "emails": list(fields.emails),
        "phones": list(fields.phones),
        "addresses": list(fields.addresses),
        "updated_at": now,
    }
    if existing is None:
        return Person.model_validate({"id": record_id_for("person", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def family_fields(name: str | None, members: Sequence[Person], primary: Person | None) -> FamilyFields:
    """A household's fields in local terms: members are the local people already imported."""
    return FamilyFields(
        name=_clean(name) or _fallback_family_name(members),
        member_ids=tuple(sorted({m.id for m in members})),
        primary_member_id=primary.id if primary is not None else None,
        address=family_address(members, primary),
    )


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


def group_member(person_id: str, role: str | None, joined_at: datetime | None) -> GroupMember:
    return GroupMember(person_id=person_id, role=normalise_role(role), joined_at=joined_at)


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


def merge_group(
    existing: Group | None, fields: GroupFields, *, pco_id: str, run_id: str, now: datetime
) -> tuple[Group | None, Outcome]:
    """The group to write (None when nothing changed) and how it counts; members are the memberships' part."""
    digest = fields.content_hash()
    if existing is not None and existing.pco_id == pco_id and existing.sync.pco_hash == digest:
        return None, unchanged_outcome(existing.sync, run_id)
    outcome: Outcome = "created" if existing is None else "updated"
    sync = SyncMeta(
        pco_updated_at=existing.sync.pco_updated_at if existing is not None else None,
        pco_hash=digest,
        last_run_id=run_id,
        last_outcome=outcome,
    )
    values = {"pco_id": pco_id, "name": fields.name, "department": fields.department, "updated_at": now}
    if existing is None:
        return Group.model_validate({"id": record_id_for("group", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def memberships_run_mark(run_id: str) -> str:
    """`sync.last_run_id` a memberships write leaves on its group, apart from the group domain's own write
    in the same run, so a retried memberships page counts a group as its first attempt did."""
    return f"{run_id}#memberships"


def merge_members(
    group: Group, members: Sequence[GroupMember], *, run_id: str, now: datetime
) -> tuple[Group | None, dict[str, int]]:
    """The group with its member list replaced as a whole (None when identical), and how its membership
    rows count: a new member is created, a changed or removed one updated, an identical one skipped.
    A page retried after writing the list counts what the first attempt counted."""
    mark = memberships_run_mark(run_id)
    wanted = sorted(members, key=lambda m: m.person_id)
    current = {m.person_id: m for m in group.members}
    if wanted == sorted(current.values(), key=lambda m: m.person_id):
        if group.sync.last_run_id == mark and group.sync.last_counts is not None:
            return None, dict(group.sync.last_counts)
        return None, {"skipped": len(wanted)}
    counts = {"created": 0, "updated": 0, "skipped": 0}
    for member in wanted:
        before = current.pop(member.person_id, None)
        counts["created" if before is None else "updated" if before != member else "skipped"] += 1
    counts["updated"] += len(current)  # members PCO no longer has
    sync = group.sync.model_copy(update={"last_run_id": mark, "last_outcome": None, "last_counts": counts})
    return group.model_copy(update={"members": wanted, "updated_at": now, "sync": sync}), counts
