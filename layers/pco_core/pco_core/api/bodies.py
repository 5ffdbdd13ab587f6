"""Strict request bodies of the admin API's record writes, and the one way a bad body becomes a 422.

Bodies are validated from the raw JSON in pydantic's strict JSON mode: a number is never a name, a
birthdate is a `YYYY-MM-DD` string, a flag is `true`/`false`, and a field the record does not have
(`id`, `pco_id`, `family_id`, `updated_at`, a typo) is refused rather than ignored.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from pco_core.errors import Unprocessable
from pco_core.pco.models import normalise_gender
from pco_core.records import GroupRole, PersonStatus

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Gender = Annotated[str | None, AfterValidator(normalise_gender)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _ContactBody(RequestBody):
    primary: bool = False


class EmailBody(_ContactBody):
    address: Text
    location: str | None = None


class PhoneBody(_ContactBody):
    number: Text
    location: str | None = None


class AddressBody(_ContactBody):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    location: str | None = None


def _one_primary[B: _ContactBody](items: list[B]) -> list[B]:
    # A person has at most one primary email/phone/address; with none marked, the first is primary
    # (PCO makes its first contact detail primary too), so a non-empty list always has exactly one.
    if sum(item.primary for item in items) > 1:
        raise ValueError("at most one entry may be primary")
    if items and not any(item.primary for item in items):
        items = [items[0].model_copy(update={"primary": True}), *items[1:]]
    return items


Emails = Annotated[list[EmailBody], AfterValidator(_one_primary)]
Phones = Annotated[list[PhoneBody], AfterValidator(_one_primary)]
Addresses = Annotated[list[AddressBody], AfterValidator(_one_primary)]


def _distinct(ids: list[str]) -> list[str]:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return ids


MemberIds = Annotated[list[Text], AfterValidator(_distinct)]


class PersonCreate(RequestBody):
    first_name: Text
    last_name: Text
    gender: Gender = None
    birthdate: date | None = None
    status: PersonStatus = "active"
    emails: Emails = Field(default_factory=list)
    phones: Phones = Field(default_factory=list)
    addresses: Addresses = Field(default_factory=list)


class PersonPatch(RequestBody):
    """Only the fields present change; a list given replaces the whole list; null clears gender/birthdate.

    The defaults are never applied: an update reads only the fields the body sent (`model_fields_set`).
    """

    first_name: Text = "-"
    last_name: Text = "-"
    gender: Gender = None
    birthdate: date | None = None
    status: PersonStatus = "active"
    emails: Emails = Field(default_factory=list)
    phones: Phones = Field(default_factory=list)
    addresses: Addresses = Field(default_factory=list)


class FamilyCreate(RequestBody):
    name: Text
    member_ids: MemberIds = Field(default_factory=list)
    primary_member_id: Text | None = None
    address: AddressBody | None = None


class FamilyPatch(RequestBody):
    """Only the fields present change; `member_ids` given replaces the member list; `address: null`
    clears the address. A family with members always has a primary member: none given (or null, or the
    primary left) makes the first member primary. The defaults are never applied (see PersonPatch).
    """

    name: Text = "-"
    member_ids: MemberIds = Field(default_factory=list)
    primary_member_id: Text | None = None
    address: AddressBody | None = None


class GroupMembershipPut(RequestBody):
    role: GroupRole = "member"


def parse_body[B: RequestBody](model: type[B], body: dict[str, Any]) -> B:
    """The body as `model`, or Unprocessable (422) naming each field that is wrong and why."""
    try:
        # Validated as JSON so strict mode takes dates as ISO strings, as JSON writes them.
        return model.model_validate_json(json.dumps(body))
    except ValidationError as exc:
        details = [_problem(error) for error in exc.errors(include_url=False)]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        raise Unprocessable(f"the body is not acceptable: {summary}", details=details) from None


def _problem(error: Any) -> dict[str, str]:
    field = ".".join(str(part) for part in error["loc"]) or "(body)"
    problem = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        problem = "is not a field of this record (or cannot be written)"
    elif error["type"] == "missing":
        problem = "is required"
    return {"field": field, "problem": problem}
