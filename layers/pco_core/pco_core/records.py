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
    # What PCO alone sets on an item: kept and served, never a local change, never sent.
    PCO_OWN: ClassVar[dict[str, Any]] = {}

    def unlinked(self) -> Self:
        """The same values without the PCO link, to compare values only."""
        return self if self.pco_id is None else self.model_copy(update={"pco_id": None})

    def content(self) -> Self:
        """The values a church edits (no link, nothing PCO alone sets): what "changed" means for an item."""
        return self.unlinked().model_copy(update=self.PCO_OWN)

    def with_pco_own(self, source: Self) -> Self:
        """This item with what PCO alone sets taken from `source` (the item as PCO holds it)."""
        own = {name: getattr(source, name) for name in self.PCO_OWN}
        return self if all(getattr(self, n) == v for n, v in own.items()) else self.model_copy(update=own)


class Email(_Contact):
    address: str
    location: str | None = None
    primary: bool = False
    # PCO stops sending to a blocked address (read-only in PCO's People docs, Email).
    blocked: bool = False

    PCO_OWN: ClassVar[dict[str, Any]] = {"blocked": False}


class Phone(_Contact):
    number: str
    location: str | None = None
    primary: bool = False


class Address(_Contact):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    # ISO 3166-1 alpha-2, upper-case ("US"), as PCO's People API holds it since 2023-03-21.
    country_code: str | None = None
    location: str | None = None
    primary: bool = False


class GroupMember(_Record):
    person_id: str
    role: GroupRole = "member"
    joined_at: datetime | None = None


# Fields added after content hashes were first stored, with the value they have when empty: left out of a
# hash while empty, so a record stored before them hashes as it did (an old `pco_hash` still says "nothing
# was waiting to be pushed").
_ADDED_LATER: dict[str, bool | None] = {
    "country_code": None,
    "given_name": None,
    "middle_name": None,
    "nickname": None,
    "membership": None,
    "child": None,
    "grade": None,
    "anniversary": None,
    "inactivated_at": None,
    "blocked": False,
}


def _without_empty_later(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_empty_later(v)
            for k, v in value.items()
            if not (k in _ADDED_LATER and v is _ADDED_LATER[k])
        }
    if isinstance(value, list):
        return [_without_empty_later(v) for v in value]
    return value


class Fields(BaseModel):
    """A record's PCO-owned fields in local terms: what a base holds and what a merge compares."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    # PCO ids of emails, phones and addresses are links, not content: a person pushed (ids unknown until
    # PCO answers) and the same person pulled back (ids known) must hash the same.
    _links: ClassVar[dict[str, Any]] = {}

    def content_hash(self) -> str:
        return content_hash(_without_empty_later(self.model_dump(mode="json", exclude=self._links)))


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
    # Kept since PCO Sync stores what a church would otherwise lose (a base stored before has none).
    given_name: str | None = None
    middle_name: str | None = None
    nickname: str | None = None
    membership: str | None = None
    child: bool | None = None
    grade: int | None = None
    anniversary: date | None = None
    inactivated_at: datetime | None = None

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
    # Why the record is no longer linked to PCO (e.g. the audit found its PCO record gone) and the id it had.
    unlinked_reason: str | None = None
    unlinked_pco_id: str | None = None
    # Open conflicts: their fields keep the local value and are held back from push (policy `review`).
    conflicts: tuple[FieldConflict, ...] = ()

    def held(self) -> frozenset[str]:
        return frozenset(conflict.field for conflict in self.conflicts)


class PersonSync(SyncMeta):
    base: PersonFields | None = None
    # The person's id in PCO's Groups API, where it differs from the People id (developers#764, #729):
    # learned from what PCO answers (see pull/groups_people.py), never guessed.
    groups_person_id: str | None = None
    # Fields set by a local edit since the base and not yet in PCO: an edit back to the base value is
    # still a change to push (a value alone cannot tell it from "untouched").
    edited: tuple[str, ...] = ()


class FamilySync(SyncMeta):
    base: FamilyFields | None = None
    edited: tuple[str, ...] = ()


class GroupSync(SyncMeta):
    # The member list as PCO last held it: person id -> (role, joined_at).
    members_base: tuple[GroupMember, ...] | None = None
    # A group's memberships_count as PCO's group listing last gave it, and how many memberships its list
    # held when it was last read: an incremental sync re-reads the members only where the two differ.
    pco_members_listed: int | None = None
    pco_members_read: int | None = None


class Person(_Record):
    id: str
    pco_id: str | None = None
    first_name: str
    last_name: str
    gender: str | None = None
    birthdate: date | None = None
    status: PersonStatus = "active"
    given_name: str | None = None
    middle_name: str | None = None
    nickname: str | None = None
    # The member status PCO shows ("Member", "Visitor": the church's own membership types).
    membership: str | None = None
    child: bool | None = None  # None: not known here (PCO's value is taken)
    grade: int | None = None
    anniversary: date | None = None
    # When PCO marked the person inactive: PCO's to set (it stamps it when status becomes inactive).
    inactivated_at: datetime | None = None
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


PERSON_SCALARS = (
    "first_name",
    "last_name",
    "gender",
    "birthdate",
    "status",
    "given_name",
    "middle_name",
    "nickname",
    "membership",
    "child",
    "grade",
    "anniversary",
    "inactivated_at",
)
# PCO's to set: never edited here nor pushed. PCO stamps `inactivated_at` when `status` becomes inactive
# and clears it when status becomes anything else (PCO's People docs, Person `status`), so `status` is the
# one switch we push.
PERSON_READ_ONLY = frozenset({"inactivated_at"})
# What a local edit may change and push sends: PCO's People docs list each as assignable on create and
# update (Person, "Assignable Attributes"; openfaith's copy of the 2025-03-20 docs; unchanged to 2025-11-10).
PERSON_WRITABLE = tuple(name for name in PERSON_SCALARS if name not in PERSON_READ_ONLY)
PERSON_CONTACTS = ("emails", "phones", "addresses")


def _values(items: Sequence[Email | Phone | Address]) -> list[str]:
    """A contact list's values, without links and order: what "changed" means for a list."""
    return sorted(json.dumps(item.content().model_dump(mode="json"), sort_keys=True) for item in items)


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
    if any(
        getattr(record, n) != getattr(person_base, n)
        for n in PERSON_SCALARS
        if n not in held and n not in PERSON_READ_ONLY
    ):
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


def display_name(record: Person | Family | Group) -> str:
    """How an admin knows the record: a person's first and last name, a family's or group's name."""
    if isinstance(record, Person):
        return f"{record.first_name} {record.last_name}".strip()
    return record.name
