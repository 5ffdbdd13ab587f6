"""The sandbox's answer to each recorded request has the recorded answer's shape (tests/recorded/shapes.py),
in the recording's API version, so the sandbox cannot drift from PCO unnoticed."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock
from local.sandbox.data import Record
from tests.recorded.shapes import assert_same_document_shape
from tests.recorded.support import recording

AUTH = {"Authorization": "Basic " + base64.b64encode(b"app:secret").decode()}


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    config = SandboxConfig(app_id="app", secret="secret", people=150, seed=7, rate_limit_enabled=False)
    return Sandbox.create(config, clock=FakeClock())


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> FlaskClient:
    return create_app(sandbox).test_client()


def complete_person(sandbox: Sandbox) -> Record:
    """Someone with an email, a phone number, an address and a household, as the recorded people have."""
    store = sandbox.store
    return next(
        p
        for p in sorted(store.all("Person"), key=lambda r: int(r.id))
        if all(store.children(kind, "person", p.id) for kind in ("Email", "PhoneNumber", "Address"))
        and store.children("HouseholdMembership", "person", p.id)
    )


def answer(client: FlaskClient, name: str, path: str, query: str | None = None) -> tuple[dict[str, Any], Any]:
    """The recorded body and the sandbox's answer to the same request in the recording's version."""
    recorded = recording(name)
    version = (
        recorded["source"].get("api_version")
        or recorded["response"]["headers"]["X-PCO-API-Processed-As-Version"]
    )
    query = recorded["request"]["query"] if query is None else query
    ours = client.get(f"{path}?{query}" if query else path, headers={**AUTH, "X-PCO-API-Version": version})
    assert ours.status_code == recorded["response"]["status"], ours.json
    assert ours.headers["X-PCO-API-Processed-As-Version"] == version
    return recorded["response"]["body"], ours.json


@pytest.mark.parametrize(
    ("name", "kind", "path"),
    [
        ("pcomirror_single_address.json", "Address", "/people/v2/addresses/{id}"),
        ("pcomirror_single_email.json", "Email", "/people/v2/emails/{id}"),
        ("pcomirror_single_phone_number.json", "PhoneNumber", "/people/v2/phone_numbers/{id}"),
        ("pcomirror_households_single.json", "Household", "/people/v2/households/{id}"),
    ],
)
def test_single_contacts_and_households_have_the_recorded_shape(sandbox, client, name, kind, path):
    person = complete_person(sandbox)
    if kind == "Household":
        record_id = sandbox.store.children("HouseholdMembership", "person", person.id)[0].link("household")
    else:
        record_id = sandbox.store.children(kind, "person", person.id)[0].id
    assert_same_document_shape(*answer(client, name, path.format(id=record_id)))


@pytest.mark.parametrize(
    "name", ["pcomirror_people_single.json", "pcomirror_people_single_include_contacts.json"]
)
def test_a_person_alone_and_with_contacts_has_the_recorded_shape(sandbox, client, name):
    assert_same_document_shape(*answer(client, name, f"/people/v2/people/{complete_person(sandbox).id}"))


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("pcomirror_households_collection.json", "/people/v2/households"),
        ("pcomirror_addresses_collection.json", "/people/v2/addresses"),
        ("pcomirror_page_per_page_zero.json", "/people/v2/people"),
        ("pcomirror_people_per_page_over_max.json", "/people/v2/people"),
        ("pcomirror_err_unknown_order.json", "/people/v2/people"),
        ("pcomirror_people_sparse_fieldset.json", "/people/v2/people"),
        ("pcomirror_people_not_found.json", "/people/v2/people/948521736"),
    ],
)
def test_lists_edges_and_errors_have_the_recorded_shape(client, name, path):
    recorded, ours = answer(client, name, path)
    assert_same_document_shape(recorded, ours)
    if "data" in recorded and isinstance(recorded["data"], list):
        assert ours["meta"]["count"] == min(recorded["meta"]["count"], ours["meta"]["total_count"])


def test_a_2018_page_with_addresses_has_the_recorded_address_shape(sandbox, client):
    # People attributes have grown since 2019 in every version; the 2018 address shape has not.
    person = complete_person(sandbox)
    query = f"offset=0&per_page=25&include=addresses&where[first_name]={person.attributes['first_name']}"
    recorded, ours = answer(client, "pypco_people_include_addresses.json", "/people/v2/people", query)
    assert_same_document_shape(recorded, ours, types=["Address"])
    assert all("street" in a["attributes"] for a in ours["included"])
