"""JSON:API documents as PCO sends them: tolerant parsing, includes, paging fields."""

from __future__ import annotations

import json

from pco_core.pco.jsonapi import Document, Relationship, Resource, ResourceIdentifier
from tests.unit.pco.support import load_document, load_json


def test_given_a_people_page_when_parsed_then_resources_and_paging_fields_are_read() -> None:
    page = load_document("people_page.json")

    assert [person.id for person in page.resources()] == ["45029164", "45029165"]
    assert page.total_count == 36
    assert page.next_offset == 2
    assert page.next_url is not None
    assert "offset=2" in page.next_url
    assert page.has_next


def test_given_unknown_fields_when_parsed_then_they_are_kept_not_rejected() -> None:
    page = load_document("people_page.json")

    rachel = page.resources()[1]
    assert rachel.attributes["some_future_attribute"] == {"x": 1}
    assert page.meta["parent"] == {"id": "263468", "type": "Organization"}


def test_related_resolves_identifiers_in_order_and_skips_missing_includes() -> None:
    page = load_document("people_page.json")
    paul, rachel = page.resources()

    assert [email.id for email in page.related(paul, "emails")] == ["29871166", "29871167"]
    # Address 9999 is named by the relationship but not included: skipped, not an error.
    assert [address.id for address in page.related(rachel, "addresses")] == ["5502"]
    assert page.related(paul, "primary_campus") == []
    assert page.related(paul, "no_such_relationship") == []


def test_related_matches_on_type_as_well_as_id() -> None:
    doc = Document.model_validate(
        {
            "data": {
                "type": "Person",
                "id": "1",
                "relationships": {"emails": {"data": [{"type": "Email", "id": "7"}]}},
            },
            "included": [{"type": "PhoneNumber", "id": "7"}, {"type": "Email", "id": "7"}],
        }
    )
    (person,) = doc.resources()
    assert [(r.type, r.id) for r in doc.related(person, "emails")] == [("Email", "7")]


def test_numeric_ids_become_strings_everywhere() -> None:
    delivery = load_json("person_merger_delivery.json")
    payload = Document.model_validate_json(delivery["data"][0]["attributes"]["payload"])

    (merger,) = payload.resources()
    assert merger.id == "8812"
    assert merger.related_ids("person_to_keep") == ["45029164"]
    assert isinstance(ResourceIdentifier.model_validate({"type": "Person", "id": 5}).id, str)


def test_destroyed_event_payload_without_attributes_parses() -> None:
    payload = json.dumps(
        {"data": {"type": "Person", "id": "45029199", "relationships": None, "links": {}}, "meta": {}}
    )
    doc = Document.model_validate_json(payload)

    (person,) = doc.resources()
    assert person.attributes == {}
    assert person.relationships == {}


def test_single_resource_and_null_data_documents() -> None:
    single = Document.model_validate({"data": {"type": "Person", "id": "1", "attributes": None}})
    empty = Document.model_validate({"data": None, "included": None, "meta": None})

    assert [r.id for r in single.resources()] == ["1"]
    assert empty.resources() == []
    assert empty.total_count is None
    assert empty.next_offset is None
    assert not empty.has_next


def test_next_offset_falls_back_to_links_next_query() -> None:
    doc = Document.model_validate(
        {
            "data": [],
            "links": {
                "next": "https://api.planningcenteronline.com/people/v2/people?per_page=100&offset=300"
            },
        }
    )
    assert doc.next_offset == 300


def test_next_offset_prefers_meta_and_reads_string_offsets() -> None:
    doc = Document.model_validate({"data": [], "meta": {"next": {"offset": "200"}, "total_count": "250"}})
    assert doc.next_offset == 200
    assert doc.total_count == 250
    assert doc.next_url is None
    assert doc.has_next


def test_last_page_has_no_next() -> None:
    doc = Document.model_validate(
        {"data": [], "links": {"self": "https://x/people/v2/people?offset=400"}, "meta": {"total_count": 400}}
    )
    assert doc.next_offset is None
    assert doc.next_url is None
    assert not doc.has_next


def test_relationship_identifiers_for_one_many_none() -> None:
    one = Relationship.model_validate({"data": {"type": "Group", "id": "1"}})
    many = Relationship.model_validate({"data": [{"type": "Person", "id": "1"}, {"type": "Person", "id": 2}]})
    none = Relationship.model_validate({"links": {"related": "https://x"}})

    assert [i.id for i in one.identifiers()] == ["1"]
    assert [i.id for i in many.identifiers()] == ["1", "2"]
    assert none.identifiers() == []
    assert none.first_id() is None
    assert Resource.model_validate({"type": "Person", "id": "1"}).related_ids("emails") == []
