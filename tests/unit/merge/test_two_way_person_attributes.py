"""The person attributes a church would lose without them (membership, middle name, nickname, given name,
child, grade, anniversary, inactivated_at) are decided three ways like the name: against the PCO sandbox
in-process, in every order of pull, push and webhook; records stored before they existed still load and
take PCO's values without a conflict."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from pco_core.merge.contacts import contact_key, local_contact
from pco_core.merge.person import local_fields
from pco_core.pco.jsonapi import Resource
from pco_core.pco.models import PcoAddress
from pco_core.records import Address, Person, PersonFields, content_hash, has_pending_changes
from tests.unit.merge.test_two_way_person import ORDERS, Church, settle

NEW_FIELDS = ("given_name", "middle_name", "nickname", "membership", "child", "grade", "anniversary")


@pytest.mark.parametrize("order", ORDERS)
def test_local_edits_of_every_writable_attribute_reach_pco_with_pcos_types(order: str) -> None:
    church = Church()
    church.edit_local(
        membership="Member",
        middle_name="Augusta",
        nickname="Ada",
        given_name="Augusta Ada",
        child=True,
        grade=4,
        anniversary="2001-06-02",
    )

    settle(church, order)

    in_pco = church.pco_person()
    assert {name: in_pco[name] for name in ("membership", "middle_name", "nickname", "given_name")} == {
        "membership": "Member",
        "middle_name": "Augusta",
        "nickname": "Ada",
        "given_name": "Augusta Ada",
    }
    assert (in_pco["child"], in_pco["grade"], in_pco["anniversary"]) == (True, 4, "2001-06-02")
    local = church.local
    assert (local.membership, local.child, local.grade, local.anniversary) == (
        "Member",
        True,
        4,
        date(2001, 6, 2),
    )
    assert church.open_conflicts() == []
    assert not has_pending_changes(local)


@pytest.mark.parametrize("order", ORDERS)
def test_pco_edits_of_the_attributes_reach_us(order: str) -> None:
    church = Church()
    church.edit_pco(membership="Visitor", nickname="Addie", grade=0)

    settle(church, order)

    local = church.local
    assert (local.membership, local.nickname, local.grade) == ("Visitor", "Addie", 0)
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_different_edits_of_the_membership_are_a_conflict_that_keeps_ours(order: str) -> None:
    church = Church()
    church.edit_local(membership="Member", nickname="Ada")
    church.edit_pco(membership="Visitor")

    settle(church, order)

    assert church.local.membership == "Member"  # ours, kept for an admin to decide
    assert church.pco_person()["membership"] == "Visitor"  # held back from push
    assert church.pco_person()["nickname"] == "Ada"  # every other field syncs as usual
    assert church.open_conflicts() == [("membership", "Member", "Visitor")]


@pytest.mark.parametrize("order", ORDERS)
def test_a_local_inactivation_pushes_the_status_and_takes_the_time_pco_stamps(order: str) -> None:
    church = Church()
    church.edit_local(status="inactive")

    settle(church, order)

    in_pco = church.pco_person()
    assert in_pco["status"] == "inactive"
    assert in_pco["inactivated_at"] is not None
    local = church.local
    assert local.status == "inactive"
    assert local.inactivated_at is not None
    assert local.inactivated_at.strftime("%Y-%m-%dT%H:%M:%SZ") == in_pco["inactivated_at"]
    assert not has_pending_changes(local)
    assert church.open_conflicts() == []


def test_an_inactivation_in_pco_reaches_us_with_its_time_and_a_reactivation_clears_it() -> None:
    church = Church()
    church.edit_pco(status="inactive")
    church.pull()
    assert church.local.status == "inactive"
    assert church.local.inactivated_at is not None

    church.edit_local(status="active")
    church.push()

    assert church.pco_person()["inactivated_at"] is None
    assert (church.local.status, church.local.inactivated_at) == ("active", None)


def test_a_local_gap_never_blanks_pco_out_and_takes_pcos_value_back() -> None:
    church = Church()
    church.edit_pco(nickname="Addie")
    church.pull()

    church.edit_local(nickname=None)
    church.push()

    assert church.pco_person()["nickname"] == "Addie"
    assert church.local.nickname == "Addie"


# ---------------------------------------------------------------- records stored before these fields


def test_a_person_and_a_base_stored_before_these_fields_still_load() -> None:
    church = Church()
    stored = church.local.model_dump(mode="json")
    stored["sync"] = church.local.sync.model_dump(mode="json")
    for name in (*NEW_FIELDS, "inactivated_at"):
        del stored[name]
        del stored["sync"]["base"][name]

    loaded = Person.model_validate(stored)

    assert loaded.membership is None
    assert loaded.sync.base is not None
    assert loaded.sync.base.child is None


def test_a_record_from_before_these_fields_takes_pcos_values_without_a_conflict() -> None:
    church = Church()
    church.edit_pco(membership="Member", child=True, middle_name="Augusta")
    church.pull()
    # As stored before these fields were kept: neither the person nor its base holds them.
    person = church.local
    assert person.sync.base is not None
    blank = dict.fromkeys((*NEW_FIELDS, "inactivated_at"))
    old_base = person.sync.base.model_copy(update=blank)
    church.records.add(
        person.model_copy(update={**blank, "sync": person.sync.model_copy(update={"base": old_base})})
    )

    church.pull()

    local = church.local
    assert (local.membership, local.child, local.middle_name) == ("Member", True, "Augusta")
    assert church.open_conflicts() == []


def test_a_hash_stored_before_these_fields_still_means_nothing_was_pending() -> None:
    church = Church()
    # A person as stored before these fields: none of them set.
    fields = local_fields(church.local.model_copy(update=dict.fromkeys((*NEW_FIELDS, "inactivated_at"))))
    not_yet: dict[str, Any] = {name: True for name in (*NEW_FIELDS, "inactivated_at")}
    before = fields.model_dump(mode="json", exclude={**not_yet, "emails": {"__all__": {"pco_id", "blocked"}}})

    assert fields.content_hash() == content_hash(before)
    # ...and a value in a new field is content: it changes the hash.
    assert fields.model_copy(update={"membership": "Member"}).content_hash() != fields.content_hash()


# ---------------------------------------------------------------- the address country


def _pco_address(**attributes: Any) -> PcoAddress:
    resource = Resource.model_validate({"type": "Address", "id": "9", "attributes": attributes})
    return PcoAddress.from_resource(resource)


def test_pcos_country_is_kept_upper_case_and_a_2018_address_has_none() -> None:
    lines = local_contact(_pco_address(street_line_1="1 Rue Sainte", city="Montreal", country_code="ca"))
    old = local_contact(_pco_address(street="1 Main St", city="Austin"))

    assert isinstance(lines, Address)
    assert isinstance(old, Address)
    assert (lines.street, lines.country_code) == ("1 Rue Sainte", "CA")
    assert (old.street, old.country_code) == ("1 Main St", None)


def test_an_address_that_differs_only_in_its_country_is_another_value() -> None:
    home = Address(street="1 Main St", city="Springfield", zip="01101", country_code="US", pco_id="a1")
    moved = home.model_copy(update={"country_code": "CA"})
    assert contact_key(home) != contact_key(moved)
    person = Person(
        id="p", pco_id="1", first_name="A", last_name="B", addresses=[moved], updated_at=datetime.now(UTC)
    )
    base: PersonFields = local_fields(person.model_copy(update={"addresses": [home]}))

    synced = person.model_copy(update={"sync": person.sync.model_copy(update={"base": base})})
    assert has_pending_changes(synced)


def test_an_admins_own_value_for_a_conflict_is_checked_as_a_write_of_that_field() -> None:
    from pco_core.api.conflicts import _validated
    from pco_core.errors import InvalidRecord

    assert _validated("grade", 5) == 5
    assert _validated("addresses:a1", {"street": "1 Main St", "country_code": "gb"})["country_code"] == "GB"
    with pytest.raises(InvalidRecord) as refused:
        _validated("grade", 99)
    assert [p.field for p in refused.value.problems] == ["value"]
    with pytest.raises(InvalidRecord):
        _validated("inactivated_at", "2026-01-01T00:00:00Z")  # PCO's own: never a value of ours
