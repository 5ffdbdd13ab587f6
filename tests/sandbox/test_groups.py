"""The sandbox's Groups API: groups (patch only), group types, memberships, one membership per person."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock

AUTH = {"Authorization": "Basic " + base64.b64encode(b"app:secret").decode()}
Env = tuple[Sandbox, FlaskClient, list[tuple[str, dict[str, Any]]]]


@pytest.fixture
def env() -> Env:
    config = SandboxConfig(app_id="app", secret="secret", people=200, seed=5, rate_limit_enabled=False)
    sandbox = Sandbox.create(config, clock=FakeClock())
    events: list[tuple[str, dict[str, Any]]] = []
    sandbox.store.publish = lambda name, resource, included: events.append((name, resource))
    return sandbox, create_app(sandbox).test_client(), events


def get(client: FlaskClient, url: str, **params: Any) -> Any:
    response = client.get(url, headers=AUTH, query_string=params or None)
    assert response.status_code == 200, response.json
    return response.json


def membership_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "Membership", "attributes": attributes}}


def a_group(sandbox: Sandbox) -> str:
    return next(g.id for g in sandbox.store.all("Group") if not g.attributes.get("archived_at"))


def outsider(sandbox: Sandbox, group_id: str) -> str:
    members = {m.link("person") for m in sandbox.store.children("Membership", "group", group_id)}
    return next(p.id for p in sandbox.store.all("Person") if p.id not in members)


def test_groups_list_hides_archived_by_default_and_filters_by_archive_status_and_name(env):
    sandbox, client, _ = env
    groups = sandbox.store.all("Group")
    archived = sandbox.store.get("Group", groups[-1].id)
    archived.attributes["archived_at"] = "2025-01-01T00:00:00Z"
    listed = get(client, "/groups/v2/groups", per_page=100)
    assert archived.id not in [g["id"] for g in listed["data"]]
    assert listed["meta"]["total_count"] == len([g for g in groups if not g.attributes.get("archived_at")])
    only = get(client, "/groups/v2/groups", **{"where[archive_status]": "only"})
    assert [g["id"] for g in only["data"]] == [archived.id]
    everything = get(client, "/groups/v2/groups", per_page=100, **{"where[archive_status]": "include"})
    assert everything["meta"]["total_count"] == len(groups)
    not_archived = get(client, "/groups/v2/groups", per_page=100, **{"where[archive_status]": "not_archived"})
    assert [g["id"] for g in not_archived["data"]] == [g["id"] for g in listed["data"]]
    # A value PCO's docs do not list (the sandbox's old `archived`) is ignored: the default list, 200.
    unknown = get(client, "/groups/v2/groups", per_page=100, **{"where[archive_status]": "archived"})
    assert [g["id"] for g in unknown["data"]] == [g["id"] for g in listed["data"]]
    name = groups[0].attributes["name"]
    by_name = get(client, "/groups/v2/groups", **{"where[name]": name.upper()})
    assert [g["attributes"]["name"] for g in by_name["data"]] == [name]
    group = listed["data"][0]
    assert "updated_at" not in group["attributes"]  # PCO groups have no updated_at
    assert group["relationships"]["group_type"]["data"]["type"] == "GroupType"


def test_groups_cannot_be_created_or_deleted_through_the_api_but_can_be_patched(env):
    sandbox, client, events = env
    group_id = a_group(sandbox)
    created = client.post(
        "/groups/v2/groups", headers=AUTH, json={"data": {"type": "Group", "attributes": {}}}
    )
    assert created.status_code == 405
    assert created.json["errors"][0]["status"] == "405"
    assert client.delete(f"/groups/v2/groups/{group_id}", headers=AUTH).status_code == 405
    patched = client.patch(
        f"/groups/v2/groups/{group_id}",
        headers=AUTH,
        json={"data": {"type": "Group", "attributes": {"name": "New"}}},
    )
    assert patched.status_code == 200
    assert patched.json["data"]["attributes"]["name"] == "New"
    forbidden = client.patch(
        f"/groups/v2/groups/{group_id}",
        headers=AUTH,
        json={"data": {"type": "Group", "attributes": {"memberships_count": 1}}},
    )
    assert forbidden.status_code == 422
    assert forbidden.json["errors"][0]["title"] == "Forbidden Attribute"
    assert events == [("groups.v2.events.group.updated", events[0][1])]
    assert client.get("/groups/v2/groups/1", headers=AUTH).status_code == 404


def test_group_types_list_and_their_groups(env):
    _sandbox, client, _ = env
    types = get(client, "/groups/v2/group_types")
    assert types["meta"]["total_count"] >= 3
    type_id = types["data"][0]["id"]
    groups = get(client, f"/groups/v2/group_types/{type_id}/groups", per_page=100)
    assert groups["data"]
    assert all(g["relationships"]["group_type"]["data"]["id"] == type_id for g in groups["data"])
    included = get(client, "/groups/v2/groups", include="group_type")["included"]
    assert {r["type"] for r in included} == {"GroupType"}


def test_memberships_include_person_filter_by_role_and_order_by_joined_at(env):
    sandbox, client, _ = env
    group_id = max(
        sandbox.store.all("Group"), key=lambda g: len(sandbox.store.children("Membership", "group", g.id))
    ).id
    page = get(
        client, f"/groups/v2/groups/{group_id}/memberships", include="person", order="joined_at", per_page=100
    )
    joined = [m["attributes"]["joined_at"] for m in page["data"]]
    assert joined == sorted(joined)
    people = {p["id"]: p for p in page["included"]}
    for member in page["data"]:
        person = people[member["relationships"]["person"]["data"]["id"]]
        assert person["type"] == "Person"
        # Groups 2023-07-10 removed the person's details from Membership.
        assert set(member["attributes"]) == {"joined_at", "role"}
    by_name = get(client, f"/groups/v2/groups/{group_id}/memberships", include="person", order="-first_name")
    named = {p["id"]: p["attributes"]["first_name"] for p in by_name["included"]}
    firsts = [named[m["relationships"]["person"]["data"]["id"]] for m in by_name["data"]]
    assert firsts == sorted(firsts, key=str.casefold, reverse=True)
    old = client.get(
        f"/groups/v2/groups/{group_id}/memberships",
        headers={**AUTH, "X-PCO-API-Version": "2018-08-01"},
        query_string={"include": "person"},
    ).json
    old_people = {p["id"]: p for p in old["included"]}
    for member in old["data"]:
        person = old_people[member["relationships"]["person"]["data"]["id"]]
        assert member["attributes"]["first_name"] == person["attributes"]["first_name"]
    leaders = get(client, f"/groups/v2/groups/{group_id}/memberships", **{"where[role]": "LEADER"})
    assert leaders["data"]
    assert {m["attributes"]["role"] for m in leaders["data"]} == {"leader"}
    assert page["meta"]["parent"] == {"id": group_id, "type": "Group"}


def test_create_patch_delete_membership_and_one_active_membership_per_person(env):
    sandbox, client, events = env
    group_id = a_group(sandbox)
    person_id = outsider(sandbox, group_id)
    url = f"/groups/v2/groups/{group_id}/memberships"
    made = client.post(url, headers=AUTH, json=membership_body(person_id=person_id, role="member"))
    assert made.status_code == 201
    membership = made.json["data"]
    assert membership["relationships"]["person"]["data"]["id"] == person_id
    duplicate = client.post(url, headers=AUTH, json=membership_body(person_id=person_id))
    assert duplicate.status_code == 422
    assert duplicate.json["errors"][0]["title"] == "Validation Error"
    assert duplicate.json["errors"][0]["meta"] == {"resource": "Membership", "associated_resources": []}
    by_relationship = client.post(
        url,
        headers=AUTH,
        json={
            "data": {
                "type": "Membership",
                "relationships": {"person": {"data": {"type": "Person", "id": "1"}}},
            }
        },
    )
    assert by_relationship.status_code == 422  # PCO wants attributes.person_id (#755)
    bad_role = client.post(
        url, headers=AUTH, json=membership_body(person_id=outsider(sandbox, group_id), role="boss")
    )
    assert bad_role.status_code == 422
    assert bad_role.json["errors"][0]["source"] == {"parameter": "role"}
    promoted = client.patch(f"{url}/{membership['id']}", headers=AUTH, json=membership_body(role="leader"))
    assert promoted.json["data"]["attributes"]["role"] == "leader"
    assert client.delete(f"{url}/{membership['id']}", headers=AUTH).status_code == 204
    assert client.get(f"{url}/{membership['id']}", headers=AUTH).status_code == 404
    assert [n for n, _ in events] == [
        "groups.v2.events.membership.created",
        "groups.v2.events.membership.updated",
        "groups.v2.events.membership.destroyed",
    ]
    again = client.post(
        url, headers=AUTH, json=membership_body(person_id=person_id, joined_at="2024-05-01T10:00:00Z")
    )
    assert again.status_code == 201
    assert again.json["data"]["attributes"]["joined_at"] == "2024-05-01T10:00:00Z"


def test_a_setting_gives_groups_person_ids_of_their_own(env):
    sandbox, client, _ = env
    sandbox.store.settings.groups_person_id_offset = 5_000_000
    group_id = a_group(sandbox)
    person_id = outsider(sandbox, group_id)
    groups_id = str(int(person_id) + 5_000_000)
    url = f"/groups/v2/groups/{group_id}/memberships"
    assert client.post(url, headers=AUTH, json=membership_body(person_id=person_id)).status_code == 422
    made = client.post(url, headers=AUTH, json=membership_body(person_id=groups_id))
    assert made.status_code == 201
    assert made.json["data"]["relationships"]["person"]["data"]["id"] == groups_id
    assert get(client, f"/groups/v2/people/{groups_id}")["data"]["id"] == groups_id
