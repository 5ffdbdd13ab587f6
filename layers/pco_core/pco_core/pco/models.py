"""Typed PCO records read from JSON:API resources, tolerant of missing, extra and null attributes.

Each model has `from_resource(resource, document)`: the document resolves included sub-records
(emails, phone numbers, addresses, people). Values PCO may send in more than one shape (ids as numbers,
"M" or "Male", street or street_line_1/2) are normalised here so the sync code sees one shape.
A value we store that is longer than limits.py keeps makes the record unreadable (ValueTooLong, a failed
record with its reason): it is never truncated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pco_core import limits
from pco_core.errors import SkippableRecordError, ValueTooLong
from pco_core.pco.jsonapi import Document, Resource, as_int

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


def _known_flag(value: object) -> bool | None:
    return None if value is None else _flag(value)


def _date(value: object) -> date | None:
    """An ISO date; anything else (PCO has accepted "not-a-date") reads as None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # PCO sends UTC with "Z"; a naive value from another server is read as UTC, never as local time.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _related_id(resource: Resource, relationship: str, attribute: str | None = None) -> str | None:
    ids = resource.related_ids(relationship)
    if ids:
        return ids[0]
    return _id(resource.attributes.get(attribute)) if attribute else None


# PCO values as we read them: blank text is None, ids may be numbers, bad dates and counts read as None.
Text = Annotated[str | None, BeforeValidator(_text)]
Name = Annotated[str, BeforeValidator(lambda v: _text(v) or "")]
Id = Annotated[str | None, BeforeValidator(_id)]
Flag = Annotated[bool, BeforeValidator(_flag)]
KnownFlag = Annotated[bool | None, BeforeValidator(_known_flag)]
Count = Annotated[int | None, BeforeValidator(as_int)]
LenientDate = Annotated[date | None, BeforeValidator(_date)]
Timestamp = Annotated[datetime | None, BeforeValidator(_datetime)]
Gender = Annotated[str | None, BeforeValidator(normalise_gender)]


class _PcoRecord(BaseModel):
    """A PCO resource's attributes read through the lenient types above; `from_resource` adds the id and
    whatever a subclass resolves from relationships and included records (`_relations`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        values = {
            **resource.attributes,
            **cls._relations(resource, document or Document()),
            "id": resource.id,
        }
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            too_long = [
                f"{'.'.join(str(part) for part in error['loc'])} is {len(str(error['input']))} characters "
                f"(at most {error['ctx']['max_length']})"
                for error in exc.errors()
                if error["type"] == "string_too_long"
            ]
            if too_long:
                raise ValueTooLong(
                    f"PCO {resource.type} {resource.id} holds a value too long to keep: {'; '.join(too_long)}"
                ) from None
            raise SkippableRecordError(f"PCO {resource.type} {resource.id} is unreadable: {exc}") from None

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        return {}


class _PersonOwned(_PcoRecord):
    """An email, phone number or address: it names its person through a relationship."""

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        return {"person_id": _related_id(resource, "person")}


class PcoEmail(_PersonOwned):
    address: Text = Field(default=None, max_length=limits.EMAIL_MAX)
    location: Text = Field(default=None, max_length=limits.LOCATION_MAX)
    primary: Flag = False
    blocked: Flag = False
    person_id: str | None = None
    updated_at: Timestamp = None


class PcoPhone(_PersonOwned):
    number: Text = Field(default=None, max_length=limits.PHONE_MAX)
    location: Text = Field(default=None, max_length=limits.LOCATION_MAX)
    primary: Flag = False
    carrier: Text = None
    e164: Text = None
    international: Text = None
    national: Text = None
    country_code: Text = None
    person_id: str | None = None
    updated_at: Timestamp = None


class PcoAddress(_PersonOwned):
    street: Text = Field(default=None, max_length=limits.STREET_MAX)
    """One string: `street` (API 2022-07-14) or street_line_1 + newline + street_line_2 (since 2023-03)."""
    street_line_1: Text = None
    street_line_2: Text = None
    city: Text = Field(default=None, max_length=limits.CITY_MAX)
    state: Text = Field(default=None, max_length=limits.STATE_MAX)
    zip: Text = Field(default=None, max_length=limits.ZIP_MAX)
    country_code: Text = None
    location: Text = Field(default=None, max_length=limits.LOCATION_MAX)
    primary: Flag = False
    person_id: str | None = None
    updated_at: Timestamp = None

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        attrs = resource.attributes
        street = _text(attrs.get("street"))
        if street is None:
            lines = [_text(attrs.get("street_line_1")), _text(attrs.get("street_line_2"))]
            street = "\n".join(line for line in lines if line) or None
        return {**super()._relations(resource, document), "street": street}


class PcoPerson(_PcoRecord):
    first_name: Name = Field(default="", max_length=limits.NAME_MAX)
    last_name: Name = Field(default="", max_length=limits.NAME_MAX)
    given_name: Text = None
    nickname: Text = None
    middle_name: Text = None
    gender: Gender = Field(default=None, max_length=limits.GENDER_MAX)
    birthdate: LenientDate = None
    status: Literal["active", "inactive"] = "active"
    inactivated_at: Timestamp = None
    child: KnownFlag = None
    grade: Count = None
    anniversary: LenientDate = None
    membership: Text = None
    remote_id: Id = None
    updated_at: datetime
    created_at: Timestamp = None
    emails: list[PcoEmail] = Field(default_factory=list)
    phone_numbers: list[PcoPhone] = Field(default_factory=list)
    addresses: list[PcoAddress] = Field(default_factory=list)
    household_ids: list[str] = Field(default_factory=list)

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        """Raises SkippableRecordError when updated_at is missing or invalid (it cannot be ordered)."""
        if _datetime(resource.attributes.get("updated_at")) is None:
            raise SkippableRecordError(f"PCO {resource.type} {resource.id} has no valid updated_at")
        return super().from_resource(resource, document)

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        attrs = resource.attributes
        status = (_text(attrs.get("status")) or "").casefold()
        # PCO only knows active/inactive; a missing status follows inactivated_at.
        inactive = status == "inactive" or (not status and _datetime(attrs.get("inactivated_at")) is not None)
        return {
            "status": "inactive" if inactive else "active",
            "updated_at": _datetime(attrs.get("updated_at")),
            "emails": [PcoEmail.from_resource(r, document) for r in document.related(resource, "emails")],
            "phone_numbers": [
                PcoPhone.from_resource(r, document) for r in document.related(resource, "phone_numbers")
            ],
            "addresses": [
                PcoAddress.from_resource(r, document) for r in document.related(resource, "addresses")
            ],
            "household_ids": resource.related_ids("households"),
        }


class PcoHousehold(_PcoRecord):
    name: Text = Field(default=None, max_length=limits.FAMILY_NAME_MAX)
    primary_contact_id: str | None = None
    primary_contact_name: Text = None
    member_count: Count = None
    updated_at: Timestamp = None
    created_at: Timestamp = None
    person_ids: list[str] = Field(default_factory=list)

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        person_ids = resource.related_ids("people") or [
            # Without relationships.people, an included person names its households itself.
            person.id
            for person in document.included
            if person.type == "Person" and resource.id in person.related_ids("households")
        ]
        return {
            "person_ids": person_ids,
            "primary_contact_id": _related_id(resource, "primary_contact", "primary_contact_id"),
        }


class PcoGroup(_PcoRecord):
    name: Name = Field(default="", max_length=limits.GROUP_NAME_MAX)
    description: Text = None
    archived_at: Timestamp = None
    contact_email: Text = None
    memberships_count: Count = None
    group_type_id: str | None = None
    created_at: Timestamp = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        return {"group_type_id": _related_id(resource, "group_type", "group_type_id")}


class PcoMembership(_PcoRecord):
    person_id: str | None = None
    group_id: str | None = None
    role: Literal["member", "leader"] = "member"
    joined_at: Timestamp = None
    person: Resource | None = None
    """The included Groups-API person (include=person), as PCO sent it."""

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        role = (_text(resource.attributes.get("role")) or "").casefold()
        included_person = document.related(resource, "person")
        return {
            "person_id": _related_id(resource, "person", "person_id"),
            "group_id": _related_id(resource, "group", "group_id"),
            "role": "leader" if role == "leader" else "member",
            "person": included_person[0] if included_person else None,
        }


class PcoPersonMerger(_PcoRecord):
    person_to_keep_id: str
    person_to_remove_id: str
    created_at: Timestamp = None

    @classmethod
    def from_resource(cls, resource: Resource, document: Document | None = None) -> Self:
        """Ids come as attributes (JSON numbers in webhooks) or relationships; both missing is skippable."""
        if _related_id(resource, "person_to_keep", "person_to_keep_id") is None or (
            _related_id(resource, "person_to_remove", "person_to_remove_id") is None
        ):
            raise SkippableRecordError(f"PCO PersonMerger {resource.id} does not name both people")
        return super().from_resource(resource, document)

    @classmethod
    def _relations(cls, resource: Resource, document: Document) -> dict[str, Any]:
        return {
            "person_to_keep_id": _related_id(resource, "person_to_keep", "person_to_keep_id"),
            "person_to_remove_id": _related_id(resource, "person_to_remove", "person_to_remove_id"),
        }
