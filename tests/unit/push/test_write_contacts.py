"""write_contacts: what PCO receives for an edited contact item (PCO ignores null, developers#815)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pco_core.merge.person import ContactPlan
from pco_core.pco.jsonapi import Document
from pco_core.push.contacts import write_contacts
from pco_core.push.walk import CountingPco
from pco_core.records import Address, Phone

PATH = "/people/v2/people/9/phone_numbers"
APATH = "/people/v2/people/9/addresses"


class Recording:
    """PCO answering every write with what was sent (a new id for a create)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any] | None]] = []

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Document:
        raise AssertionError("no read expected")

    def post(self, path: str, document: Mapping[str, Any]) -> Document:
        self.sent.append(("POST", path, dict(document["data"]["attributes"])))
        data = {"type": document["data"]["type"], "id": "new1", "attributes": document["data"]["attributes"]}
        return Document.model_validate({"data": data})

    def patch(self, path: str, document: Mapping[str, Any]) -> Document:
        self.sent.append(("PATCH", path, dict(document["data"]["attributes"])))
        return Document.model_validate({"data": {**document["data"]}})

    def delete(self, path: str) -> None:
        self.sent.append(("DELETE", path, None))

    def suggested_wait(self, reserve: int) -> int:
        return 0


HELD = Phone(pco_id="p1", number="(555) 010-0001", location="Mobile", primary=True)


def test_an_edited_number_is_patched_with_only_what_changed() -> None:
    pco = Recording()
    plan: ContactPlan[Phone] = ContactPlan(patch=[HELD.model_copy(update={"number": "(555) 010-0002"})])

    after = write_contacts(CountingPco(pco), PATH, "PhoneNumber", plan, [HELD])

    assert pco.sent == [("PATCH", f"{PATH}/p1", {"number": "(555) 010-0002"})]
    assert [p.pco_id for p in after] == ["p1"]


def test_an_emptied_field_replaces_the_item_since_pco_ignores_null() -> None:
    pco = Recording()
    held = Address(
        pco_id="a1", street="1 Row\nFlat 2", city="Leeds", zip="LS1", location="Home", primary=True
    )
    plan: ContactPlan[Address] = ContactPlan(patch=[held.model_copy(update={"street": "1 Row"})])

    after = write_contacts(CountingPco(pco), APATH, "Address", plan, [held])

    assert pco.sent == [
        ("DELETE", f"{APATH}/a1", None),
        (
            "POST",
            APATH,
            {"street_line_1": "1 Row", "city": "Leeds", "zip": "LS1", "location": "Home", "primary": True},
        ),
    ]
    assert [a.pco_id for a in after] == ["new1"]


def test_an_emptied_location_sends_nothing_since_pco_would_fill_its_default_in_again() -> None:
    pco = Recording()
    plan: ContactPlan[Phone] = ContactPlan(patch=[HELD.model_copy(update={"location": None})])

    write_contacts(CountingPco(pco), PATH, "PhoneNumber", plan, [HELD])

    assert pco.sent == []
