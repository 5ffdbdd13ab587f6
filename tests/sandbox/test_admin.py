"""/_sandbox admin endpoints: changes as staff make them in PCO's UI, with the webhooks PCO would fire."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock

AUTH = {"Authorization": "Basic " + base64.b64encode(b"app:secret").decode()}
Env = tuple[Sandbox, FlaskClient, list[tuple[str, dict[str, Any]]]]


@pytest.fixture
def env() -> Env:
    config = SandboxConfig(app_id="app", secret="secret", people=40, seed=11, rate_limit_enabled=False)
    sandbox = Sandbox.create(config, clock=FakeClock())
    events: list[tuple[str, dict[str, Any]]] = []
    sandbox.store.publish = lambda name, resource, included: events.append((name, resource))
    return sandbox, create_app(sandbox).test_client(), events


def test_health_needs_no_auth_and_counts_records(env):
    _, client, _ = env
    health = client.get("/_sandbox/health")
    assert health.status_code == 200
    assert health.json["status"] == "ok"
    assert health.json["counts"]["Person"] == 40


def test_staff_create_a_person_with_contacts_which_fires_events_and_shows_in_the_api(env):
    _sandbox, client, events = env
    made = client.post(
        "/_sandbox/people",
        json={
            "first_name": "Renée",
            "last_name": "O'Brien",
            "emails": [{"address": "renee@example.com"}],
            "phone_numbers": [{"number": "(615) 555-0199"}],
        },
    )
    assert made.status_code == 201
    pid = made.json["data"]["id"]
    assert [n for n, _ in events] == [
        "people.v2.events.person.created",
        "people.v2.events.email.created",
        "people.v2.events.phone_number.created",
    ]
    person = client.get(f"/people/v2/people/{pid}?include=emails", headers=AUTH).json
    assert person["included"][0]["attributes"]["address"] == "renee@example.com"
    assert person["included"][0]["attributes"]["primary"] is True
    edited = client.patch(f"/_sandbox/people/{pid}", json={"nickname": "Ren"})
    assert edited.json["data"]["attributes"]["name"] == "Ren O'Brien"
    assert client.delete(f"/_sandbox/people/{pid}").status_code == 204
    assert events[-1][0] == "people.v2.events.person.destroyed"
    assert "attributes" not in events[-1][1]


def test_merge_keeps_one_moves_contacts_removes_the_other_and_fires_person_merger_created(env):
    sandbox, client, events = env
    keep = client.post("/_sandbox/people", json={"first_name": "John", "last_name": "Smith"}).json["data"][
        "id"
    ]
    remove = client.post(
        "/_sandbox/people",
        json={"first_name": "Jon", "last_name": "Smith", "emails": [{"address": "jon@example.com"}]},
    ).json["data"]["id"]
    group = sandbox.store.all("Group")[0].id
    client.post(f"/_sandbox/groups/{group}/memberships", json={"person_id": remove, "role": "member"})
    events.clear()
    merged = client.post(
        "/_sandbox/person_mergers", json={"person_to_keep_id": keep, "person_to_remove_id": remove}
    )
    assert merged.status_code == 201
    names = [n for n, _ in events]
    assert "people.v2.events.person.destroyed" in names
    assert names[-1] == "people.v2.events.person_merger.created"
    merger = events[-1][1]["attributes"]
    assert merger["person_to_keep_id"] == int(keep)
    assert merger["person_to_remove_id"] == int(remove)
    assert client.get(f"/people/v2/people/{remove}", headers=AUTH).status_code == 404
    emails = client.get(f"/people/v2/people/{keep}/emails", headers=AUTH).json["data"]
    assert [e["attributes"]["address"] for e in emails] == ["jon@example.com"]
    members = {m.link("person") for m in sandbox.store.children("Membership", "group", group)}
    assert keep in members
    assert remove not in members
    mergers = client.get("/people/v2/person_mergers", headers=AUTH).json
    assert mergers["meta"]["total_count"] == 1
    assert client.post("/_sandbox/person_mergers", json={"person_to_keep_id": keep}).status_code == 400


def test_staff_manage_households_groups_and_memberships(env):
    sandbox, client, events = env
    ids = [p.id for p in sandbox.store.all("Person")[:2]]
    household = client.post("/_sandbox/households", json={"name": "Test", "people": ids}).json["data"]
    assert household["attributes"]["member_count"] == 2
    assert household["attributes"]["primary_contact_id"] == ids[0]
    assert client.delete(f"/_sandbox/households/{household['id']}/members/{ids[0]}").status_code == 204
    after = client.get(f"/people/v2/households/{household['id']}", headers=AUTH).json["data"]["attributes"]
    assert after["member_count"] == 1
    assert after["primary_contact_id"] == ids[1]
    assert after["updated_at"] == household["attributes"]["updated_at"]  # PCO does not move it (#1253)
    update = events[1][1]
    assert [p["id"] for p in update["relationships"]["people"]["data"]] == [ids[1]]
    type_id = sandbox.store.all("GroupType")[0].id
    group = client.post("/_sandbox/groups", json={"name": "Prayer Team", "group_type_id": type_id}).json[
        "data"
    ]
    archived = client.patch(f"/_sandbox/groups/{group['id']}", json={"archived_at": "2026-01-01T00:00:00Z"})
    assert archived.json["data"]["attributes"]["archived_at"] == "2026-01-01T00:00:00Z"
    assert client.delete(f"/_sandbox/groups/{group['id']}").status_code == 204
    names = [n for n, _ in events]
    assert names == [
        "people.v2.events.household.created",
        "people.v2.events.household.updated",  # the member removed (developers#708)
        "groups.v2.events.group.created",
        "groups.v2.events.group.updated",
        "groups.v2.events.group.destroyed",
    ]


def test_settings_reset_and_dataset_round_trip(env):
    sandbox, client, _ = env
    assert client.patch("/_sandbox/settings", json={"gender_style": "short"}).json["gender_style"] == "short"
    assert client.patch("/_sandbox/settings", json={"gender_style": "x"}).status_code == 400
    assert client.patch("/_sandbox/settings", json={"shoe": 1}).status_code == 400
    dataset = client.get("/_sandbox/dataset").json
    assert client.post("/_sandbox/reset", json={"people": 12, "seed": 2}).json["counts"]["Person"] == 12
    assert client.put("/_sandbox/dataset", json=dataset).json["counts"]["Person"] == 40
    assert client.get("/_sandbox/dataset").json == dataset
    assert client.put("/_sandbox/dataset", json={"data": [{"type": "Alien", "id": "1"}]}).status_code == 400
    before = sandbox.clock.now()
    assert client.post("/_sandbox/clock/advance", json={"seconds": 5}).json["now"] == before + 5


def test_an_api_write_reaches_a_webhook_subscriber_as_a_signed_delivery():
    received: list[tuple[str, bytes, dict[str, str]]] = []

    def sender(url: str, body: bytes, headers: dict[str, str]) -> int:
        received.append((url, body, headers))
        return 200

    config = SandboxConfig(app_id="app", secret="secret", people=5, webhook_secret="w")
    sandbox = Sandbox.create(config, clock=FakeClock(), sender=sender)
    sandbox.hub.create_subscription("people.v2.events.person.created", "http://127.0.0.1:9/hook")
    client = create_app(sandbox).test_client()
    client.post("/_sandbox/people", json={"first_name": "Ada"})
    sandbox.hub.deliver_due()
    assert len(received) == 1
    payload = json.loads(json.loads(received[0][1])["data"][0]["attributes"]["payload"])
    assert payload["data"]["type"] == "Person"
    assert payload["data"]["attributes"]["first_name"] == "Ada"
    assert "X-PCO-Webhooks-Authenticity" in received[0][2]
