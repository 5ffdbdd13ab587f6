"""Two-way sync end to end: the real state machine on moto, the real handlers, the admin API for local
edits, and the PCO sandbox over HTTP for PCO's edits and for reading back what PCO holds.

The two orders an admin runs things in (Full Sync then Full Push, and the other way round) with edits on
both sides between them: neither side's edit is lost, and a real conflict is listed and resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from tests.stack import ADMIN, APP_ID, SECRET, run_to_end, running_sandbox

pytestmark = pytest.mark.timeout(300)

ORDERS = {
    "sync then push": ("full_sync", "full_push"),
    "push then sync": ("full_push", "full_sync"),
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(people=12, seed=5) as running:
        yield running


def completed(stack: LocalStack, run_type: str) -> dict[str, Any]:
    final = run_to_end(stack, run_type)
    assert final["status"] == "COMPLETED", final.get("error")
    return final


def pco(sandbox: RunningSandbox, method: str, path: str, body: Any = None) -> dict[str, Any]:
    with httpx.Client(auth=(APP_ID, SECRET), timeout=10) as http:
        answer = http.request(method, sandbox.url + path, json=body)
    answer.raise_for_status()
    return answer.json() if answer.content else {}


def pco_names(sandbox: RunningSandbox, pco_id: str) -> tuple[str, str]:
    attributes = pco(sandbox, "GET", f"/people/v2/people/{pco_id}")["data"]["attributes"]
    return attributes["first_name"], attributes["last_name"]


def local_person(stack: LocalStack, person_id: str) -> dict[str, Any]:
    status, person = stack.api("GET", f"/api/people/{person_id}", role=ADMIN)
    assert status == 200, person
    return dict(person)


def synced_person(stack: LocalStack, sandbox: RunningSandbox) -> tuple[str, str]:
    """A person both sides hold after a Full Sync: (local id, PCO id), distinct per test."""
    completed(stack, "full_sync")
    status, page = stack.api("GET", "/api/people?limit=100", role=ADMIN)
    assert status == 200, page
    person = next(p for p in page["items"] if p["pco_id"] and p["status"] == "active")
    return person["id"], person["pco_id"]


def edit_locally(stack: LocalStack, person_id: str, **changes: Any) -> None:
    status, answer = stack.api("PATCH", f"/api/people/{person_id}", json=changes, role=ADMIN)
    assert status == 200, answer


def edit_in_pco(sandbox: RunningSandbox, pco_id: str, **attributes: Any) -> None:
    body = {"data": {"type": "Person", "id": pco_id, "attributes": attributes}}
    pco(sandbox, "PATCH", f"/people/v2/people/{pco_id}", body)


@pytest.mark.parametrize("order", list(ORDERS))
def test_edits_of_different_fields_on_both_sides_both_reach_both_sides(
    stack: LocalStack, sandbox: RunningSandbox, no_retry_sleep: None, order: str
) -> None:
    person_id, pco_id = synced_person(stack, sandbox)
    # Given our last name edited here and the first name edited in PCO, between two syncs
    ours, theirs = f"Twoway {order}", f"Bothsides {order}"
    edit_locally(stack, person_id, last_name=ours)
    edit_in_pco(sandbox, pco_id, first_name=theirs)

    # When the admin runs both directions, in either order
    for run_type in ORDERS[order]:
        completed(stack, run_type)

    # Then both edits are on both sides, and nothing is left to push or to decide
    held = local_person(stack, person_id)
    assert (held["first_name"], held["last_name"]) == (theirs, ours)
    assert pco_names(sandbox, pco_id) == (theirs, ours)
    status, conflicts = stack.api("GET", "/api/conflicts", role=ADMIN)
    assert (status, conflicts["items"]) == (200, [])
    again = completed(stack, "full_push")
    assert (again["created"], again["updated"], again["conflicts"]) == (0, 0, 0)


@pytest.mark.parametrize("order", list(ORDERS))
def test_one_field_changed_differently_is_listed_kept_ours_until_resolved_then_pushed(
    stack: LocalStack, sandbox: RunningSandbox, no_retry_sleep: None, order: str
) -> None:
    person_id, pco_id = synced_person(stack, sandbox)
    pco_first = pco_names(sandbox, pco_id)[0]
    # (The sandbox outlives each test's stack: each order writes values of its own.)
    ours, theirs = f"Ours {order}", f"Theirs {order}"
    edit_locally(stack, person_id, last_name=ours)
    edit_in_pco(sandbox, pco_id, last_name=theirs)

    runs = [completed(stack, run_type) for run_type in ORDERS[order]]

    # Ours is kept here, PCO keeps its own, the run counted the conflict and the API lists it
    assert local_person(stack, person_id)["last_name"] == ours
    assert pco_names(sandbox, pco_id) == (pco_first, theirs)
    assert sum(run["conflicts"] for run in runs) >= 1
    status, listed = stack.api("GET", "/api/conflicts?status=open", role=ADMIN)
    assert status == 200
    (conflict,) = listed["items"]
    assert (conflict["record_id"], conflict["field"]) == (person_id, "last_name")
    assert (conflict["local"], conflict["pco"]) == (ours, theirs)

    # When the admin keeps ours, Then the next push sends it and the conflict is closed for good
    status, resolved = stack.api(
        "POST", f"/api/conflicts/{conflict['id']}/resolve", json={"keep": "local"}, role=ADMIN
    )
    assert (status, resolved["status"]) == (200, "resolved")
    status, twice = stack.api(
        "POST", f"/api/conflicts/{conflict['id']}/resolve", json={"keep": "pco"}, role=ADMIN
    )
    assert status == 409, twice
    completed(stack, "full_push")
    assert pco_names(sandbox, pco_id) == (pco_first, ours)
    status, listed = stack.api("GET", "/api/conflicts?status=open", role=ADMIN)
    assert listed["items"] == []
