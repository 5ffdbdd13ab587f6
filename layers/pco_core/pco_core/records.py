"""The church's own records as PCO Sync stores and serves them (the admin API shapes).

Ids are strings; `pco_id` is PCO's string id or None for a record never exchanged with PCO. Emails, phones
and addresses carry their PCO id too, so a webhook about one PCO email changes that email; the id is a
link, not content, and never part of a content hash.
`pco_updated_at` and `pco_hash` remember the last exchange with PCO so unchanged records are skipped
in both directions and our own writes echoing back through webhooks are recognised.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

PersonStatus = Literal["active", "inactive"]
GroupRole = Literal["member", "leader"]
PCO_GROUPS_DEPARTMENT = "PCO Groups"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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


class SyncMeta(_Record):
    """What PCO Sync remembers about the last exchange of one record with PCO (not served by the API)."""

    pco_updated_at: datetime | None = None
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
    # A group's memberships_count as PCO's group listing last gave it, and how many memberships its list
    # held when it was last read: an incremental sync re-reads the members only where the two differ.
    pco_members_listed: int | None = None
    pco_members_read: int | None = None
    # Why the record is no longer linked to PCO (e.g. the audit found its PCO record gone) and the id it had.
    unlinked_reason: str | None = None
    unlinked_pco_id: str | None = None


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
    sync: SyncMeta = Field(default_factory=SyncMeta, exclude=True)


class Family(_Record):
    id: str
    pco_id: str | None = None
    name: str
    member_ids: list[str] = Field(default_factory=list)
    primary_member_id: str | None = None
    address: Address | None = None
    updated_at: datetime
    sync: SyncMeta = Field(default_factory=SyncMeta, exclude=True)


class GroupMember(_Record):
    person_id: str
    role: GroupRole = "member"
    joined_at: datetime | None = None


class Group(_Record):
    id: str
    pco_id: str | None = None
    name: str
    department: str = PCO_GROUPS_DEPARTMENT
    members: list[GroupMember] = Field(default_factory=list)
    updated_at: datetime
    sync: SyncMeta = Field(default_factory=SyncMeta, exclude=True)


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
