"""Typed PCO records read from JSON:API resources, tolerant of missing, extra and null attributes.

Each model has `from_resource(resource, document)`: the document resolves included sub-records
(emails, phone numbers, addresses, people). Values PCO may send in more than one shape (ids as numbers,
"M" or "Male", street or street_line_1/2) are normalised here so the sync code sees one shape.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pco_core.errors import SkippableRecordError
from pco_core.pco.jsonapi import Document, Resource

_GENDERS = {"m": "Male", "male": "Male", "f": "Female", "female": "Female"}


def normalise_gender(value: object) -> str | None:
    """ "M"/"Male"/"m" -> "Male", "F"/"Female"/"f" -> "Female"; other text passes through; blank -> None.

    PCO_API.md marks the values UNCERTAIN (Groups docs say Male/Female, others say M/F): accept both.
    """
    text = _text(value)
    if text is None:
        return None
    return _GENDERS.get(text.casefold(), text)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        stripped = value.strip()
        return stripped or None
    return None


def _id(value: object) -> str | None:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _text(value)


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().casefold() in {"true", "1", "yes"}
    return False


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _date(value: object) -> date | None:
    """An ISO date; anything else (PCO has accepted "not-a-date") reads as None."""
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _datetime(value: object) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # PCO sends UTC with "Z"; a naive value from another server is read as UTC, never as local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _required_updated_at(resource: Resource) -> datetime:
    updated_at = _datetime(resource.attributes.get("updated_at"))
    if updated_at is None:
        raise SkippableRecordError(f"PCO {resource.type} {resource.id} has no valid updated_at")
    return updated_at


def _related_id(resource: Resource, relationship: str, attribute: str | None = None) -> str | None:
    ids = resource.related_ids(relationship)
    if ids:
        return ids[0]
    return _id(resource.attributes.get(attribute)) if attribute else None


class _PcoRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str


class PcoEmail(_PcoRecord):
    address: str | None = None
    location: str | None = None
    primary: bool = False
    blocked: bool = False
    person_id: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        return cls(
            id=resource.id,
            address=_text(attrs.get("address")),
            location=_text(attrs.get("location")),
            primary=_flag(attrs.get("primary")),
            blocked=_flag(attrs.get("blocked")),
            person_id=_related_id(resource, "person"),
            updated_at=_datetime(attrs.get("updated_at")),
        )


class PcoPhone(_PcoRecord):
    number: str | None = None
    location: str | None = None
    primary: bool = False
    carrier: str | None = None
    e164: str | None = None
    international: str | None = None
    national: str | None = None
    country_code: str | None = None
    person_id: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        return cls(
            id=resource.id,
            number=_text(attrs.get("number")),
            location=_text(attrs.get("location")),
            primary=_flag(attrs.get("primary")),
            carrier=_text(attrs.get("carrier")),
            e164=_text(attrs.get("e164")),
            international=_text(attrs.get("international")),
            national=_text(attrs.get("national")),
            country_code=_text(attrs.get("country_code")),
            person_id=_related_id(resource, "person"),
            updated_at=_datetime(attrs.get("updated_at")),
        )


class PcoAddress(_PcoRecord):
    street: str | None = None
    """One string: `street` (API 2022-07-14) or street_line_1 + newline + street_line_2 (since 2023-03)."""
    street_line_1: str | None = None
    street_line_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country_code: str | None = None
    location: str | None = None
    primary: bool = False
    person_id: str | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        line_1 = _text(attrs.get("street_line_1"))
        line_2 = _text(attrs.get("street_line_2"))
        street = _text(attrs.get("street"))
        if street is None and (line_1 or line_2):
            street = "\n".join(line for line in (line_1, line_2) if line)
        return cls(
            id=resource.id,
            street=street,
            street_line_1=line_1,
            street_line_2=line_2,
            city=_text(attrs.get("city")),
            state=_text(attrs.get("state")),
            zip=_text(attrs.get("zip")),
            country_code=_text(attrs.get("country_code")),
            location=_text(attrs.get("location")),
            primary=_flag(attrs.get("primary")),
            person_id=_related_id(resource, "person"),
            updated_at=_datetime(attrs.get("updated_at")),
        )


class PcoPerson(_PcoRecord):
    first_name: str = ""
    last_name: str = ""
    given_name: str | None = None
    nickname: str | None = None
    middle_name: str | None = None
    gender: str | None = None
    birthdate: date | None = None
    status: Literal["active", "inactive"] = "active"
    inactivated_at: datetime | None = None
    child: bool = False
    membership: str | None = None
    remote_id: str | None = None
    updated_at: datetime
    created_at: datetime | None = None
    emails: list[PcoEmail] = Field(default_factory=list)
    phone_numbers: list[PcoPhone] = Field(default_factory=list)
    addresses: list[PcoAddress] = Field(default_factory=list)
    household_ids: list[str] = Field(default_factory=list)

    @field_validator("gender", mode="before")
    @classmethod
    def _normalise_gender(cls, value: object) -> str | None:
        return normalise_gender(value)

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        """Raises SkippableRecordError when updated_at is missing or invalid (it cannot be ordered)."""
        attrs = resource.attributes
        inactivated_at = _datetime(attrs.get("inactivated_at"))
        status_text = (_text(attrs.get("status")) or "").casefold()
        # PCO only knows active/inactive; a missing status follows inactivated_at.
        inactive = status_text == "inactive" or (not status_text and inactivated_at is not None)
        doc = document or Document()
        return cls(
            id=resource.id,
            first_name=_text(attrs.get("first_name")) or "",
            last_name=_text(attrs.get("last_name")) or "",
            given_name=_text(attrs.get("given_name")),
            nickname=_text(attrs.get("nickname")),
            middle_name=_text(attrs.get("middle_name")),
            gender=normalise_gender(attrs.get("gender")),
            birthdate=_date(attrs.get("birthdate")),
            status="inactive" if inactive else "active",
            inactivated_at=inactivated_at,
            child=_flag(attrs.get("child")),
            membership=_text(attrs.get("membership")),
            remote_id=_id(attrs.get("remote_id")),
            updated_at=_required_updated_at(resource),
            created_at=_datetime(attrs.get("created_at")),
            emails=[PcoEmail.from_resource(r, doc) for r in doc.related(resource, "emails")],
            phone_numbers=[PcoPhone.from_resource(r, doc) for r in doc.related(resource, "phone_numbers")],
            addresses=[PcoAddress.from_resource(r, doc) for r in doc.related(resource, "addresses")],
            household_ids=resource.related_ids("households"),
        )


class PcoHousehold(_PcoRecord):
    name: str | None = None
    primary_contact_id: str | None = None
    primary_contact_name: str | None = None
    member_count: int | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None
    person_ids: list[str] = Field(default_factory=list)

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        person_ids = resource.related_ids("people")
        if not person_ids and document is not None:
            # Without relationships.people, an included person names its households itself.
            person_ids = [
                person.id
                for person in document.included
                if person.type == "Person" and resource.id in person.related_ids("households")
            ]
        return cls(
            id=resource.id,
            name=_text(attrs.get("name")),
            primary_contact_id=_related_id(resource, "primary_contact", "primary_contact_id"),
            primary_contact_name=_text(attrs.get("primary_contact_name")),
            member_count=_count(attrs.get("member_count")),
            updated_at=_datetime(attrs.get("updated_at")),
            created_at=_datetime(attrs.get("created_at")),
            person_ids=person_ids,
        )


class PcoGroup(_PcoRecord):
    name: str = ""
    description: str | None = None
    archived_at: datetime | None = None
    contact_email: str | None = None
    memberships_count: int | None = None
    group_type_id: str | None = None
    created_at: datetime | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        return cls(
            id=resource.id,
            name=_text(attrs.get("name")) or "",
            description=_text(attrs.get("description")),
            archived_at=_datetime(attrs.get("archived_at")),
            contact_email=_text(attrs.get("contact_email")),
            memberships_count=_count(attrs.get("memberships_count")),
            group_type_id=_related_id(resource, "group_type", "group_type_id"),
            created_at=_datetime(attrs.get("created_at")),
        )


class PcoMembership(_PcoRecord):
    person_id: str | None = None
    group_id: str | None = None
    role: Literal["member", "leader"] = "member"
    joined_at: datetime | None = None
    person: Resource | None = None
    """The included Groups-API person (include=person), as PCO sent it."""

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        attrs = resource.attributes
        role = (_text(attrs.get("role")) or "").casefold()
        included_person = document.related(resource, "person") if document is not None else []
        return cls(
            id=resource.id,
            person_id=_related_id(resource, "person", "person_id"),
            group_id=_related_id(resource, "group", "group_id"),
            role="leader" if role == "leader" else "member",
            joined_at=_datetime(attrs.get("joined_at")),
            person=included_person[0] if included_person else None,
        )


class PcoPersonMerger(_PcoRecord):
    person_to_keep_id: str
    person_to_remove_id: str
    created_at: datetime | None = None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        """Ids come as attributes (JSON numbers in webhooks) or relationships; both missing is skippable."""
        attrs = resource.attributes
        keep = _related_id(resource, "person_to_keep", "person_to_keep_id")
        remove = _related_id(resource, "person_to_remove", "person_to_remove_id")
        if keep is None or remove is None:
            raise SkippableRecordError(f"PCO PersonMerger {resource.id} does not name both people")
        return cls(
            id=resource.id,
            person_to_keep_id=keep,
            person_to_remove_id=remove,
            created_at=_datetime(attrs.get("created_at")),
        )
