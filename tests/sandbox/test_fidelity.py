"""The sandbox answers as the real PCO does where issue 11 found it did not: versions, households, events,
list edges, keyset filters, sparse fieldsets and same-second bursts.

Each behaviour names the public record it follows (see tests/fixtures/pco/README.md for the recordings).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock

AUTH = {"Authorization": "Basic " + base64.b64encode(b"app:secret").decode()}
V2018 = {**AUTH, "X-PCO-API-Version": "2018-08-01"}
V2025 = {**AUTH, "X-PCO-API-Version": "2025-11-10"}
Events = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def env() -> tuple[Sandbox, FlaskClient, Events]:
    config = SandboxConfig(app_id="app", secret="secret", people=40, seed=5, rate_limit_enabled=False)
    sandbox = Sandbox.create(config, clock=FakeClock())
    events: Events = []
    sandbox.store.publish = lambda name, resource, included: events.append((name, resource))
    return sandbox, create_app(sandbox).test_client(), events


def get(client: FlaskClient, url: str, headers: dict[str, str] = AUTH, **params: Any) -> Any:
    response = client.get(url, headers=headers, query_string=params or None)
    assert response.status_code == 200, response.json
    return response.json


def body(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"type": kind, "attributes": attributes}}


def someone_with_an_address(sandbox: Sandbox) -> tuple[str, str]:
    address = next(a for a in sandbox.store.all("Address") if a.attributes.get("street_line_1"))
    return str(address.link("person")), address.id


# ---- addresses by version
def test_given_2018_version_when_reading_an_address_then_one_street_and_no_country(env):
    sandbox, client, _ = env
    _, address_id = someone_with_an_address(sandbox)
    stored = sandbox.store.get("Address", address_id).attributes
    stored["street_line_2"] = "Apt 4"
    old = get(client, f"/people/v2/addresses/{address_id}", V2018)["data"]["attributes"]
    assert old["street"] == f"{stored['street_line_1']}\nApt 4"
    assert not {"street_line_1", "street_line_2", "country_code", "country_name"} & set(old)
    new = get(client, f"/people/v2/addresses/{address_id}", V2025)["data"]["attributes"]
    assert (new["street_line_1"], new["street_line_2"]) == (stored["street_line_1"], "Apt 4")
    assert new["country_code"] == "US"
    assert "street" not in new


def test_given_2025_version_when_writing_street_then_422_forbidden_attribute_and_nothing_written(env):
    sandbox, client, _ = env
    person_id, address_id = someone_with_an_address(sandbox)
    before = dict(sandbox.store.get("Address", address_id).attributes)
    for method, url in (
        ("POST", f"/people/v2/people/{person_id}/addresses"),
        ("PATCH", f"/people/v2/addresses/{address_id}"),
    ):
        refused = client.open(url, method=method, headers=V2025, json=body("Address", {"street": "9 Elm"}))
        assert refused.status_code == 422
        assert refused.json == {
            "errors": [
                {"status": "422", "title": "Forbidden Attribute", "detail": "street cannot be assigned"}
            ]
        }
    assert sandbox.store.get("Address", address_id).attributes == before
    assert len(sandbox.store.children("Address", "person", person_id)) == 1


def test_given_2018_version_when_writing_then_street_is_split_and_street_lines_are_refused(env):
    sandbox, client, _ = env
    person_id, address_id = someone_with_an_address(sandbox)
    made = client.post(
        f"/people/v2/people/{person_id}/addresses",
        headers=V2018,
        json=body("Address", {"street": "9 Elm St\nUnit 3", "city": "Waco", "location": "Work"}),
    )
    assert made.status_code == 201
    assert made.json["data"]["attributes"]["street"] == "9 Elm St\nUnit 3"
    stored = sandbox.store.get("Address", made.json["data"]["id"]).attributes
    assert (stored["street_line_1"], stored["street_line_2"]) == ("9 Elm St", "Unit 3")
    lines = client.patch(
        f"/people/v2/addresses/{address_id}", headers=V2018, json=body("Address", {"street_line_1": "x"})
    )
    assert lines.status_code == 422
    assert lines.json["errors"][0]["detail"] == "street_line_1 cannot be assigned"


def test_given_a_2018_request_when_it_changes_an_address_then_the_event_is_in_the_latest_version(env):
    _, client, events = env
    person_id = client.post("/_sandbox/people", json={"first_name": "Ana"}).json["data"]["id"]
    client.post(
        f"/people/v2/people/{person_id}/addresses", headers=V2018, json=body("Address", {"street": "1 Oak"})
    )
    name, resource = events[-1]
    assert name == "people.v2.events.address.created"
    assert resource["attributes"]["street_line_1"] == "1 Oak"
    assert "street" not in resource["attributes"]


# ---- households
def test_households_name_their_people_without_include_and_in_events(env):
    sandbox, client, events = env
    page = get(client, "/people/v2/households", per_page=100)
    assert "included" in page
    assert page["included"] == []
    for household in page["data"]:
        members = sandbox.store.children("HouseholdMembership", "household", household["id"])
        assert [r["id"] for r in household["relationships"]["people"]["data"]] == [
            m.link("person") for m in members
        ]
    household = page["data"][0]
    newcomer = client.post("/_sandbox/people", json={"first_name": "Newcomer"}).json["data"]["id"]
    events.clear()
    assert client.post(f"/_sandbox/households/{household['id']}/members", json={"person_id": newcomer})
    [(name, resource)] = events
    assert name == "people.v2.events.household.updated"
    assert newcomer in [r["id"] for r in resource["relationships"]["people"]["data"]]
    assert resource["attributes"]["updated_at"] == household["attributes"]["updated_at"]
    assert resource["attributes"]["member_count"] == household["attributes"]["member_count"] + 1


def test_deleting_a_member_person_fires_household_updated_after_person_destroyed(env):
    sandbox, client, events = env
    member = sandbox.store.all("HouseholdMembership")[0]
    assert client.delete(f"/_sandbox/people/{member.link('person')}").status_code == 204
    assert [n for n, _ in events] == [
        "people.v2.events.person.destroyed",
        "people.v2.events.household.updated",
    ]
    assert events[1][1]["id"] == member.link("household")


# ---- first email
def test_given_a_new_person_when_their_first_email_is_added_then_the_event_says_primary_false(env):
    sandbox, client, events = env
    person_id = client.post("/_sandbox/people", json={"first_name": "Ana"}).json["data"]["id"]
    made = client.post(
        f"/people/v2/people/{person_id}/emails",
        headers=AUTH,
        json=body("Email", {"address": "a@example.org"}),
    )
    # developers#1181: the event says false, the record (and the API) say true, and no update follows.
    assert made.json["data"]["attributes"]["primary"] is True
    name, resource = events[-1]
    assert name == "people.v2.events.email.created"
    assert resource["attributes"]["primary"] is False
    assert sandbox.store.get("Email", resource["id"]).attributes["primary"] is True
    second = client.post(
        f"/people/v2/people/{person_id}/emails",
        headers=AUTH,
        json=body("Email", {"address": "b@example.org", "primary": True}),
    )
    assert second.status_code == 201
    assert events[-1][1]["attributes"]["primary"] is True
    assert [n for n, _ in events].count("people.v2.events.email.updated") == 0


# ---- list edges (vrwarp/pcomirror golden: page_per_page_zero, people_per_page_over_max)
def test_per_page_zero_returns_no_rows_and_a_next_offset_that_does_not_move(env):
    _, client, _ = env
    page = get(client, "/people/v2/people", per_page=0)
    assert page["data"] == []
    assert page["meta"]["count"] == 0
    assert page["meta"]["next"] == {"offset": 0}
    assert page["links"] == {
        "self": "http://localhost/people/v2/people?per_page=0",
        "next": "http://localhost/people/v2/people?offset=0&per_page=0",
    }


def test_per_page_500_returns_100_rows_and_keeps_500_in_the_next_link():
    sandbox = Sandbox.create(
        SandboxConfig(app_id="app", secret="secret", people=150, seed=2, rate_limit_enabled=False),
        clock=FakeClock(),
    )
    page = get(create_app(sandbox).test_client(), "/people/v2/people", per_page=500)
    assert len(page["data"]) == 100
    assert page["meta"]["next"] == {"offset": 100}
    assert page["links"]["next"] == "http://localhost/people/v2/people?offset=100&per_page=500"


def test_empty_can_lists_are_left_out_of_meta_as_pco_does(env):
    sandbox, client, _ = env
    _person_id, address_id = someone_with_an_address(sandbox)
    listing = get(client, "/people/v2/addresses")["meta"]
    assert "can_include" not in listing
    assert "can_filter" not in listing
    assert "updated_at" in listing["can_order_by"]
    assert "updated_at" not in listing["can_query_by"]
    assert get(client, f"/people/v2/addresses/{address_id}")["meta"] == {
        "parent": {"id": "1", "type": "Organization"}
    }


# ---- keyset filters (issue 13)
@pytest.mark.parametrize("path", ["people", "households", "emails", "phone_numbers"])
def test_keyset_by_updated_at_and_created_at_on_timestamped_collections(env, path):
    _, client, _ = env
    everything = get(client, f"/people/v2/{path}", per_page=100, order="updated_at")["data"]
    stamps = [r["attributes"]["updated_at"] for r in everything]
    assert stamps == sorted(stamps)
    middle = stamps[len(stamps) // 2]
    for operator, keep in (
        ("gte", lambda s: s >= middle),
        ("gt", lambda s: s > middle),
        ("lt", lambda s: s < middle),
        ("lte", lambda s: s <= middle),
    ):
        page = get(client, f"/people/v2/{path}", per_page=100, **{f"where[updated_at][{operator}]": middle})
        assert page["meta"]["total_count"] == len([s for s in stamps if keep(s)]), operator
    created = sorted(r["attributes"]["created_at"] for r in everything)
    since = get(
        client,
        f"/people/v2/{path}",
        per_page=100,
        order="-created_at",
        **{"where[created_at][gte]": created[3]},
    )
    got = [r["attributes"]["created_at"] for r in since["data"]]
    assert got == sorted(got, reverse=True)
    assert len(got) == len([c for c in created if c >= created[3]])


def test_addresses_order_by_updated_at_but_ignore_where_updated_at(env):
    sandbox, client, _ = env
    total = sandbox.store.count("Address")
    ordered = get(client, "/people/v2/addresses", per_page=100, order="-updated_at")
    stamps = [a["attributes"]["updated_at"] for a in ordered["data"]]
    assert stamps == sorted(stamps, reverse=True)
    ignored = get(client, "/people/v2/addresses", **{"where[updated_at][gte]": "2099-01-01T00:00:00Z"})
    assert ignored["meta"]["total_count"] == total


def test_a_same_second_burst_is_representable_and_drained_inside_its_second(env):
    sandbox, client, events = env
    burst = client.post("/_sandbox/people/touch", json={"count": 30, "at": "2026-03-01T10:00:00Z"}).json
    assert burst["updated_at"] == "2026-03-01T10:00:00Z"
    assert len(burst["ids"]) == 30
    assert [n for n, _ in events] == ["people.v2.events.person.updated"] * 30
    second = {
        "where[updated_at][gte]": "2026-03-01T10:00:00Z",
        "where[updated_at][lt]": "2026-03-01T10:00:01Z",
    }
    seen: list[str] = []
    offset = 0
    while True:
        page = get(client, "/people/v2/people", per_page=25, offset=offset, order="updated_at", **second)
        seen += [p["id"] for p in page["data"]]
        if "next" not in page["meta"]:
            break
        offset = page["meta"]["next"]["offset"]
    assert sorted(seen, key=int) == sorted(burst["ids"], key=int)
    chosen = client.post(
        "/_sandbox/people/touch", json={"ids": burst["ids"][:2], "at": "2026-03-02T00:00:00Z"}
    ).json
    assert chosen["ids"] == burst["ids"][:2]
    assert sandbox.store.get("Person", burst["ids"][0]).attributes["updated_at"] == "2026-03-02T00:00:00Z"


# ---- sparse fieldsets (pcomirror golden people_sparse_fieldset)
def test_sparse_fieldsets_keep_only_the_named_attributes_and_relationships(env):
    _, client, _ = env
    page = get(
        client, "/people/v2/people", per_page=5, include="emails", **{"fields[Person]": "last_name,emails"}
    )
    for person in page["data"]:
        assert set(person["attributes"]) == {"last_name"}
        assert set(person["relationships"]) == {"emails"}
        assert person["relationships"]["emails"]["links"]["related"].endswith(
            f"/people/{person['id']}/emails"
        )
    assert {e["type"] for e in page["included"]} == {"Email"}
    assert "address" in page["included"][0]["attributes"]  # only Person was narrowed
    ids_only = get(client, "/people/v2/people", per_page=3, **{"fields[Person]": "created_at"})
    assert [set(p["attributes"]) for p in ids_only["data"]] == [{"created_at"}] * 3
    assert "fields[Person]=created_at" in ids_only["links"]["next"]
