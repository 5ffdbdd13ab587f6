"""The admin API's request bodies: strict, bounded by pco_core.limits, validated by Powertools.

A string is never a number, a flag is `true`/`false`, a birthdate a `YYYY-MM-DD` string; every string
has its maximum length; a field the record does not have (`id`, `pco_id`, `family_id`, `updated_at`, a
typo) is refused rather than ignored. An email, phone or address may name its `pco_id` (as the API
serves it): an edit of that item then changes that PCO item, rather than replacing it. A PATCH body's
fields may be left out (MISSING), never sent as null unless null means something (clearing an optional
person attribute or a family's address).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import MISSING, AfterValidator, BaseModel, ConfigDict, Field

from pco_core.limits import (
    CONTACTS_MAX,
    FAMILY_MEMBERS_MAX,
    Birthdate,
    City,
    CountryCode,
    EmailAddress,
    FamilyName,
    Gender,
    Grade,
    Id,
    Location,
    Membership,
    Name,
    OtherName,
    PastDate,
    PhoneNumber,
    State,
    Street,
    Zip,
)
from pco_core.records import GroupRole, PersonStatus
from pco_core.runstate import RunType


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ContactBody(RequestBody):
    primary: bool = False
    # Which of the person's PCO-linked items this is (as served); checked against the person on write.
    pco_id: Id | None = None


class EmailBody(_ContactBody):
    address: EmailAddress
    location: Location | None = None
    # PCO's own (read-only there): accepted so an email can be sent back as served, and ignored (the item
    # keeps PCO's value).
    blocked: bool = False


class PhoneBody(_ContactBody):
    number: PhoneNumber
    location: Location | None = None


class AddressBody(_ContactBody):
    street: Street | None = None
    city: City | None = None
    state: State | None = None
    zip: Zip | None = None
    country_code: CountryCode | None = None
    location: Location | None = None


def _one_primary[B: _ContactBody](items: list[B]) -> list[B]:
    # A person has at most one primary email/phone/address; with none marked, the first is primary
    # (PCO makes its first contact detail primary too), so a non-empty list always has exactly one.
    if sum(item.primary for item in items) > 1:
        raise ValueError("at most one entry may be primary")
    if items and not any(item.primary for item in items):
        items = [items[0].model_copy(update={"primary": True}), *items[1:]]
    return items


Emails = Annotated[list[EmailBody], Field(max_length=CONTACTS_MAX), AfterValidator(_one_primary)]
Phones = Annotated[list[PhoneBody], Field(max_length=CONTACTS_MAX), AfterValidator(_one_primary)]
Addresses = Annotated[list[AddressBody], Field(max_length=CONTACTS_MAX), AfterValidator(_one_primary)]


def _distinct(ids: list[str]) -> list[str]:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return ids


MemberIds = Annotated[list[Id], Field(max_length=FAMILY_MEMBERS_MAX), AfterValidator(_distinct)]


class PersonCreate(RequestBody):
    """`inactivated_at` is PCO's (it follows `status`): served, never written here."""

    first_name: Name
    last_name: Name
    gender: Gender = None
    birthdate: Birthdate | None = None
    status: PersonStatus = "active"
    given_name: OtherName | None = None
    middle_name: OtherName | None = None
    nickname: OtherName | None = None
    membership: Membership | None = None
    child: bool | None = None
    grade: Grade | None = None
    anniversary: PastDate | None = None
    emails: Emails = Field(default_factory=list)
    phones: Phones = Field(default_factory=list)
    addresses: Addresses = Field(default_factory=list)


class PersonPatch(RequestBody):
    """Only the fields sent change; a list sent replaces the whole list; null clears the optional ones
    (PCO keeps its value: a local gap never blanks PCO out)."""

    first_name: Name | MISSING = MISSING
    last_name: Name | MISSING = MISSING
    gender: Gender | MISSING = MISSING
    birthdate: Birthdate | MISSING | None = MISSING
    status: PersonStatus | MISSING = MISSING
    given_name: OtherName | MISSING | None = MISSING
    middle_name: OtherName | MISSING | None = MISSING
    nickname: OtherName | MISSING | None = MISSING
    membership: Membership | MISSING | None = MISSING
    child: bool | MISSING | None = MISSING
    grade: Grade | MISSING | None = MISSING
    anniversary: PastDate | MISSING | None = MISSING
    emails: Emails | MISSING = MISSING
    phones: Phones | MISSING = MISSING
    addresses: Addresses | MISSING = MISSING


class FamilyCreate(RequestBody):
    name: FamilyName
    member_ids: MemberIds = Field(default_factory=list)
    primary_member_id: Id | None = None
    address: AddressBody | None = None


class FamilyPatch(RequestBody):
    """Only the fields sent change; `member_ids` sent replaces the member list; `address: null` clears
    the address. A family with members always has a primary member: none given (or null, or the
    primary left) makes the first member primary.
    """

    name: FamilyName | MISSING = MISSING
    member_ids: MemberIds | MISSING = MISSING
    primary_member_id: Id | MISSING | None = MISSING
    address: AddressBody | MISSING | None = MISSING


class GroupMembershipPut(RequestBody):
    role: GroupRole = "member"


class RunStart(RequestBody):
    type: RunType
