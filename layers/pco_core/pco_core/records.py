"""The church's own records as PCO Sync stores and serves them (the admin API shapes).

Ids are strings; `pco_id` is PCO's string id or None for a record never exchanged with PCO. Emails, phones
and addresses carry their PCO id too, so a webhook about one PCO email changes that email; the id is a
link, not content, and never part of a content hash.

Each synced record keeps its **base** (`sync.base`): its PCO-owned fields as PCO last held them to our
knowledge (after a pull, a webhook, or PCO's answer to a push). A field whose local value differs from the
base is a pending local change; a record with any is `pending` and indexed, so a push visits only those.
Fields both sides changed differently are open conflicts (`sync.conflicts`) until an admin resolves them.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

PersonStatus = Literal["active", "inactive"]
GroupRole = Literal["member", "leader"]
ConflictPolicy = Literal["review", "pco_wins", "local_wins"]
PCO_GROUPS_DEPARTMENT = "PCO Groups"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _sync_of_kind(value: Any) -> Any:
    """A plain SyncMeta where a kind's own sync is wanted: the fields common to every kind carry over."""
    return value.model_dump() if type(value) is SyncMeta else value


class _Contact(_Record):
    """An email, phone or address; `pco_id` links it to its PCO record once exchanged."""

    pco_id: str | None = None

    def unlinked(self) -> Self:
        """The same values without the PCO link, to compare values only."""
        return self if self.pco_id is None else self.model_copy(update={"pco_id": None})


class Email(_Contact):
    address: str
    location: str | None = None
    primary: bool = False


class Phone(_Contact):
    number: str
    location: str | None = None
    primary: bool = False


class Address(_Contact):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    location: str | None = None
    primary: bool = False


class GroupMember(_Record):
    person_id: str
    role: GroupRole = "member"
    joined_at: datetime | None = None


class Fields(BaseModel):
    """A record's PCO-owned fields in local terms: what a base holds and what a merge compares."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # PCO ids of emails, phones and addresses are links, not content: a person pushed (ids unknown until
    # PCO answers) and the same person pulled back (ids known) must hash the same.
    _links: ClassVar[dict[str, Any]] = {}

    def content_hash(self) -> str:
        return content_hash(self.model_dump(mode="json", exclude=self._links))


class PersonFields(Fields):
    """A person's PCO-owned fields."""

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


class FamilyFields(Fields):
    """A family's PCO-owned fields (a PCO household): members are local person ids."""

    name: str
    member_ids: tuple[str, ...]
    primary_member_id: str | None
    address: Address | None

    _links: ClassVar[dict[str, Any]] = {"address": {"pco_id"}}


class FieldConflict(_Record):
    """One field (or one email, phone, address or membership) that both sides changed differently since
    the base: open until an admin resolves it or the two sides agree again."""

    id: str
    field: str
    label: str
    base: Any = None
    local: Any = None
    pco: Any = None
    detected_at: datetime
    source: str  # the run id, or "webhook:<delivery id>"


ConflictStatus = Literal["open", "resolved"]


@dataclass(frozen=True)
class ConflictEvent:
    """A conflict as the conflict log records it: opened (policy review), or resolved (by policy at once,
    by the two sides agreeing again, or by an admin)."""

    kind: str
    record_id: str
    conflict: FieldConflict
    status: ConflictStatus
    resolution: str | None = None


class LoggedConflict(FieldConflict):
    """A conflict as the conflict log holds it and the admin API serves it."""

    record_kind: str
    record_id: str
    status: ConflictStatus
    resolution: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> LoggedConflict:
        return cls.model_validate({k: v for k, v in item.items() if k not in ("pk", "sk")})


class SyncMeta(_Record):
    """What PCO Sync remembers about the last exchange of one record with PCO (not served by the API)."""

    pco_updated_at: datetime | None = None
    # A hash of the base: a shortcut to "PCO still holds what we last agreed" (never decides alone).
    pco_hash: str | None = None
    # The run that last wrote this record and what that write was, so a page retried after a crash
    # counts the record the same way the first attempt did.
    last_run_id: str | None = None
    last_outcome: Literal["created", "updated"] | None = None
    # For a write that stands for several counted rows (a group's member list): what it counted.
    last_counts: dict[str, int] | None = None
    # A group's member list as last pushed to PCO (the push of memberships skips a group whose list matches).
    pco_members_hash: str | None = None
    # When push sent PCO a create of this person whose answer is not saved yet (see push/people.py).
    pco_create_sent_at: datetime | None = None
    # Open conflicts: their fields keep the local value and are held back from push (policy `review`).
    conflicts: tuple[FieldConflict, ...] = ()

    def held(self) -> frozenset[str]:
        return frozenset(conflict.field for conflict in self.conflicts)


class PersonSync(SyncMeta):
    base: PersonFields | None = None
    # Fields set by a local edit since the base and not yet in PCO: an edit back to the base value is
    # still a change to push (a value alone cannot tell it from "untouched").
    edited: tuple[str, ...] = ()


class FamilySync(SyncMeta):
    base: FamilyFields | None = None
    edited: tuple[str, ...] = ()


class GroupSync(SyncMeta):
    # The member list as PCO last held it: person id -> (role, joined_at).
    members_base: tuple[GroupMember, ...] | None = None


class Person(_Record):
    id: str
    pco_id: str | None = None
    first_name: str
    last_name: str
    gender: str | None = None
    birthdate: date | None = None
    status: PersonStatus = "active"
    emails: list[Email] = Field(default_factory=list)
    phones: list[Phone] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    family_id: str | None = None
    updated_at: datetime
    sync: Annotated[PersonSync, BeforeValidator(_sync_of_kind)] = Field(
        default_factory=PersonSync, exclude=True
    )


class Family(_Record):
    id: str
    pco_id: str | None = None
    name: str
    member_ids: list[str] = Field(default_factory=list)
    primary_member_id: str | None = None
    address: Address | None = None
    updated_at: datetime
    sync: Annotated[FamilySync, BeforeValidator(_sync_of_kind)] = Field(
        default_factory=FamilySync, exclude=True
    )


class Group(_Record):
    id: str
    pco_id: str | None = None
    name: str
    department: str = PCO_GROUPS_DEPARTMENT
    members: list[GroupMember] = Field(default_factory=list)
    updated_at: datetime
    sync: Annotated[GroupSync, BeforeValidator(_sync_of_kind)] = Field(
        default_factory=GroupSync, exclude=True
    )


PERSON_SCALARS = ("first_name", "last_name", "gender", "birthdate", "status")
PERSON_CONTACTS = ("emails", "phones", "addresses")


def _values(items: Sequence[Email | Phone | Address]) -> list[str]:
    """A contact list's values, without links and order: what "changed" means for a list."""
    return sorted(json.dumps(item.unlinked().model_dump(mode="json"), sort_keys=True) for item in items)


def has_pending_changes(record: Person | Family | Group) -> bool:
    """Whether the record holds a local change PCO does not have yet (a push must visit it).

    A record never exchanged with PCO is pending when a push would create it; a linked record without a
    base (written before bases existed) is pending until a push or pull gives it one. Fields held back by
    an open conflict do not count."""
    if isinstance(record, Group):
        if record.pco_id is None:
            return False  # PCO's API cannot create groups
        base = record.sync.members_base
        if base is None:
            return bool(record.members)
        return {(m.person_id, m.role) for m in record.members} != {(m.person_id, m.role) for m in base}
    if isinstance(record, Family):
        if record.pco_id is None:
            return bool(record.member_ids)
        family_base = record.sync.base
        if family_base is None:
            return True
        held = record.sync.held()
        if set(record.sync.edited) - held:
            return True
        local = {
            "name": record.name,
            "member_ids": tuple(sorted(record.member_ids)),
            "primary_member_id": record.primary_member_id,
            "address": record.address.unlinked() if record.address else None,
        }
        agreed = {
            "name": family_base.name,
            "member_ids": tuple(sorted(family_base.member_ids)),
            "primary_member_id": family_base.primary_member_id,
            "address": family_base.address.unlinked() if family_base.address else None,
        }
        return any(local[name] != agreed[name] for name in local if name not in held)
    if record.pco_id is None:
        return record.status == "active"
    person_base = record.sync.base
    if person_base is None:
        return True
    held = record.sync.held()
    if set(record.sync.edited) - held:
        return True
    if any(getattr(record, n) != getattr(person_base, n) for n in PERSON_SCALARS if n not in held):
        return True
    return any(
        _values(getattr(record, n)) != _values(getattr(person_base, n))
        for n in PERSON_CONTACTS
        if not any(field.startswith(f"{n}:") for field in held)
    )


def content_hash(payload: object) -> str:
    """A stable hash of JSON-able content: what was last exchanged with PCO."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def normalise_email(address: str) -> str:
    return address.strip().lower()


def normalise_name(name: str) -> str:
    """Casefolded, NFKC-normalised, trimmed, inner whitespace collapsed: ' ZOË  Ann ' -> 'zoë ann'."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.split())
