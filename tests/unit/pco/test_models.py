"""Typed PCO records from realistic documents: includes resolved, odd shapes normalised."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pco_core import limits
from pco_core.errors import SkippableRecordError, ValueTooLong
from pco_core.pco.jsonapi import Document, Resource
from pco_core.pco.models import (
    PcoAddress,
    PcoGroup,
    PcoHousehold,
    PcoMembership,
    PcoPerson,
    PcoPersonMerger,
    normalise_gender,
)
from tests.unit.pco.support import load_document, load_json


def _people() -> tuple[PcoPerson, PcoPerson]:
    page = load_document("people_page.json")
    paul, rachel = (PcoPerson.from_resource(r, page) for r in page.resources())
    return paul, rachel


def test_given_a_people_page_with_includes_then_each_person_gets_their_own_sub_records() -> None:
    paul, rachel = _people()

    assert (paul.id, paul.first_name, paul.last_name, paul.nickname) == (
        "45029164",
        "Paul",
        "Revere",
        "Pauly",
    )
    assert paul.birthdate == date(1735, 1, 1)
    assert paul.updated_at == datetime(2024, 3, 2, 14, 5, 9, tzinfo=UTC)
    assert paul.created_at == datetime(2018, 11, 25, 20, 31, 31, tzinfo=UTC)
    assert paul.membership == "Member"
    assert paul.remote_id == "1234"
    assert [(e.address, e.location, e.primary) for e in paul.emails] == [
        ("paul.revere@mailinator.com", "Home", True),
        ("paul@silversmith.example", "Work", False),
    ]
    assert all(e.person_id == "45029164" for e in paul.emails)
    (phone,) = paul.phone_numbers
    assert (phone.id, phone.number, phone.e164, phone.location, phone.primary) == (
        "77001",
        "(617) 555-0100",
        "+16175550100",
        "Mobile",
        True,
    )
    assert paul.household_ids == ["3301"]
    assert rachel.emails == []
    assert rachel.phone_numbers == []
    assert rachel.household_ids == ["3301"]


def test_gender_from_both_forms_is_normalised() -> None:
    paul, rachel = _people()
    assert paul.gender == "Male"  # PCO sent "M"
    assert rachel.gender == "Female"  # PCO sent "Female"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M", "Male"),
        ("m", "Male"),
        ("Male", "Male"),
        ("male ", "Male"),
        ("F", "Female"),
        ("Female", "Female"),
        ("f", "Female"),
        ("Nonbinary", "Nonbinary"),
        ("", None),
        (None, None),
    ],
)
def test_normalise_gender(raw: str | None, expected: str | None) -> None:
    assert normalise_gender(raw) == expected


def test_invalid_birthdate_reads_as_none_and_inactive_status_is_kept() -> None:
    _, rachel = _people()

    assert rachel.birthdate is None  # PCO sent "not-a-date"
    assert rachel.status == "inactive"
    assert rachel.inactivated_at == datetime(2023, 6, 1, tzinfo=UTC)
    assert rachel.child is True
    assert rachel.middle_name == "W"
    assert rachel.membership is None


def test_addresses_in_both_street_forms_read_as_one_street() -> None:
    paul, rachel = _people()

    (new_form,) = paul.addresses
    assert new_form.street == "19 North Square\nApt 2"
    assert (new_form.street_line_1, new_form.street_line_2) == ("19 North Square", "Apt 2")
    assert (new_form.city, new_form.state, new_form.zip, new_form.country_code) == (
        "Boston",
        "MA",
        "02113",
        "US",
    )
    assert new_form.primary is True
    (old_form,) = rachel.addresses
    assert old_form.street == "19 North Square"
    assert old_form.street_line_1 is None
    assert old_form.primary is False  # null primary


def test_address_with_only_street_line_1() -> None:
    address = PcoAddress.from_resource(
        Resource.model_validate({"type": "Address", "id": "1", "attributes": {"street_line_1": "1 Main St"}})
    )
    assert address.street == "1 Main St"


def test_person_with_missing_and_null_attributes_still_parses() -> None:
    resource = Resource.model_validate(
        {
            "type": "Person",
            "id": 7,
            "attributes": {"first_name": None, "child": None, "updated_at": "2024-01-01T00:00:00Z"},
        }
    )
    person = PcoPerson.from_resource(resource)

    assert (person.id, person.first_name, person.last_name) == ("7", "", "")
    assert person.child is None  # not known: never read as "not a child"
    assert person.status == "active"
    assert person.gender is None
    assert person.emails == []
    assert person.household_ids == []


def test_missing_status_with_inactivated_at_reads_inactive() -> None:
    resource = Resource.model_validate(
        {
            "type": "Person",
            "id": "7",
            "attributes": {"inactivated_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
        }
    )
    assert PcoPerson.from_resource(resource).status == "inactive"


def test_person_without_updated_at_is_a_skippable_record() -> None:
    resource = Resource.model_validate(
        {"type": "Person", "id": "7", "attributes": {"updated_at": "yesterday"}}
    )
    with pytest.raises(SkippableRecordError, match="7"):
        PcoPerson.from_resource(resource)


def test_household_with_included_people() -> None:
    doc = load_document("household_with_people.json")
    revere, dawes = (PcoHousehold.from_resource(r, doc) for r in doc.resources())

    assert revere.name == "Revere Household"
    assert revere.person_ids == ["45029164", "45029165"]
    assert revere.primary_contact_id == "45029164"
    assert revere.member_count == 2
    assert revere.updated_at == datetime(2024, 1, 9, 8, tzinfo=UTC)
    # No relationships.people: the included people that name this household are its members.
    assert dawes.person_ids == ["45029170"]
    assert dawes.member_count == 1
    assert dawes.primary_contact_id == "45029170"


def test_household_from_a_people_include_has_no_people() -> None:
    page = load_document("people_page.json")
    (household_resource,) = [r for r in page.included if r.type == "Household"]

    household = PcoHousehold.from_resource(household_resource)
    assert household.person_ids == []
    assert household.primary_contact_id == "45029164"


def test_groups_page() -> None:
    doc = load_document("groups_page.json")
    youth, choir = (PcoGroup.from_resource(r, doc) for r in doc.resources())

    assert (youth.id, youth.name, youth.group_type_id, youth.memberships_count) == (
        "112",
        "Youth Group",
        "7",
        3,
    )
    assert youth.description == "<p>Wednesday night youth</p>"
    assert youth.archived_at is None
    assert not youth.archived
    assert choir.archived
    assert choir.group_type_id is None
    assert choir.memberships_count is None


def test_memberships_with_included_person() -> None:
    doc = load_document("memberships_with_person.json")
    leader, member = (PcoMembership.from_resource(r, doc) for r in doc.resources())

    assert (leader.id, leader.person_id, leader.group_id, leader.role) == (
        "90001",
        "45029164",
        "112",
        "leader",
    )
    assert leader.joined_at == datetime(2022, 9, 4, 15, tzinfo=UTC)
    assert leader.person is not None
    assert leader.person.attributes["first_name"] == "Paul"
    # No relationships.person: attributes.person_id (a number) is used.
    assert (member.person_id, member.role, member.joined_at, member.person) == (
        "45029170",
        "member",
        None,
        None,
    )
    assert doc.next_offset == 2


def test_person_merger_webhook_payload_with_numeric_ids() -> None:
    delivery = Document.model_validate(load_json("person_merger_delivery.json"))
    (event,) = delivery.resources()
    assert event.attributes["name"] == "people.v2.events.person_merger.created"
    payload = Document.model_validate_json(event.attributes["payload"])

    (resource,) = payload.resources()
    merger = PcoPersonMerger.from_resource(resource, payload)
    assert merger.person_to_keep_id == "45029164"
    assert merger.person_to_remove_id == "45029199"
    assert merger.id == "8812"


def test_person_merger_ids_from_attributes_only() -> None:
    resource = Resource.model_validate(
        {
            "type": "PersonMerger",
            "id": 1,
            "attributes": {"person_to_keep_id": 10, "person_to_remove_id": "11"},
        }
    )
    merger = PcoPersonMerger.from_resource(resource)
    assert (merger.person_to_keep_id, merger.person_to_remove_id) == ("10", "11")


def test_person_merger_without_ids_is_skippable() -> None:
    resource = Resource.model_validate(
        {"type": "PersonMerger", "id": "1", "attributes": {"person_to_keep_id": 10}}
    )
    with pytest.raises(SkippableRecordError):
        PcoPersonMerger.from_resource(resource)


# ---- values longer than we keep (limits.py): a failed record with its reason, never truncated ----


def _person_resource(**attributes: object) -> Resource:
    attrs = {"first_name": "Ada", "last_name": "Lovelace", "updated_at": "2026-01-01T00:00:00Z", **attributes}
    return Resource.model_validate({"type": "Person", "id": "9", "attributes": attrs})


def test_given_a_name_at_the_limit_then_it_is_kept_whole() -> None:
    name = "A" * limits.NAME_MAX
    assert PcoPerson.from_resource(_person_resource(first_name=name)).first_name == name


@pytest.mark.parametrize(
    ("attribute", "limit"),
    [("first_name", limits.NAME_MAX), ("last_name", limits.NAME_MAX), ("gender", limits.GENDER_MAX)],
)
def test_given_a_person_value_over_the_limit_then_the_record_fails_naming_the_field(
    attribute: str, limit: int
) -> None:
    with pytest.raises(ValueTooLong) as raised:
        PcoPerson.from_resource(_person_resource(**{attribute: "x" * 300_000}))
    assert str(raised.value) == (
        f"PCO Person 9 holds a value too long to keep: {attribute} is 300000 characters (at most {limit})"
    )
    assert isinstance(raised.value, SkippableRecordError)


def test_given_an_included_email_over_the_limit_then_its_person_fails_naming_the_email() -> None:
    address = "a" * limits.EMAIL_MAX + "@x.org"
    document = Document.model_validate(
        {
            "data": [
                {
                    "type": "Person",
                    "id": "9",
                    "attributes": {"first_name": "Ada", "updated_at": "2026-01-01T00:00:00Z"},
                    "relationships": {"emails": {"data": [{"type": "Email", "id": "e1"}]}},
                }
            ],
            "included": [{"type": "Email", "id": "e1", "attributes": {"address": address}}],
        }
    )
    (resource,) = document.resources()
    with pytest.raises(ValueTooLong, match=r"PCO Email e1 .* address is 260 characters \(at most 254\)"):
        PcoPerson.from_resource(resource, document)


@pytest.mark.parametrize(
    ("model", "type_", "attribute", "limit"),
    [
        (PcoHousehold, "Household", "name", limits.FAMILY_NAME_MAX),
        (PcoGroup, "Group", "name", limits.GROUP_NAME_MAX),
        (PcoAddress, "Address", "city", limits.CITY_MAX),
        (PcoAddress, "Address", "street_line_1", limits.STREET_MAX),
    ],
)
def test_given_other_records_over_the_limit_then_they_fail(
    model: type[PcoHousehold | PcoGroup | PcoAddress], type_: str, attribute: str, limit: int
) -> None:
    too_long = {attribute: "y" * (limit + 1)}
    resource = Resource.model_validate({"type": type_, "id": "5", "attributes": too_long})
    with pytest.raises(ValueTooLong, match=f"PCO {type_} 5 holds a value too long to keep"):
        model.from_resource(resource)
