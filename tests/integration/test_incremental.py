"""Incremental sync, the deletion audit and walks that skip nothing, end to end: the real state machine on
moto, the real handlers, and a PCO sandbox of its own over HTTP (these tests change PCO's data).

What PCO holds is read back from the sandbox's own API and compared field by field with what the admin API
serves, as in test_pull.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.pco.client import PcoClient
from pco_core.pco.paginate import DEEP_OFFSET
from tests.integration.test_pull import Pco, _list_all, _local_person_shape
from tests.stack import ADMIN, run_to_end, running_sandbox, running_stack

pytestmark = pytest.mark.timeout(300)

PEOPLE = 250  # three pages of people: a walk that PCO can change under


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(PEOPLE, 11) as running:
        yield running


@pytest.fixture
def stack(sandbox: RunningSandbox) -> Iterator[LocalStack]:
    with running_stack(sandbox) as local:
        yield local


class Staff:
    """What church staff do in PCO's own UI (the sandbox's /_sandbox endpoints)."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.http = httpx.Client(base_url=sandbox.url, timeout=10)
        self.store = sandbox.sandbox.store

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(method, f"/_sandbox{path}", json=body)
        assert answer.status_code < 300, answer.text
        return answer.json() if answer.content else None

    def people_by_created_at(self) -> list[str]:
        records = sorted(self.store.all("Person"), key=lambda r: (r.attributes["created_at"], int(r.id)))
        return [r.id for r in records]


def _linked_people(stack: LocalStack) -> dict[str, dict[str, Any]]:
    return {p["pco_id"]: p for p in _list_all(stack, "/api/people") if p["pco_id"]}


def _assert_people_match(stack: LocalStack, sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    """Every person PCO holds is one linked local person with the same fields, and no local person is linked
    to a PCO id PCO does not hold."""
    pco = Pco(sandbox)
    local = _linked_people(stack)
    assert sorted(local) == sorted(pco.people)
    for pco_id, expected in pco.people.items():
        want = {k: v for k, v in expected.items() if k != "households"}
        assert _local_person_shape(local[pco_id]) == want, pco_id
    return local


def test_given_people_deleted_merged_and_added_mid_full_sync_then_nothing_is_skipped(
    stack: LocalStack, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (Executions hand the run on every 3 pages, Step Functions' history limit scaled down: the run's
    # cursor, watermarks and audit carry across executions.)
    import pco_core.engine.page as engine_page

    monkeypatch.setattr(engine_page, "PAGES_BEFORE_CONTINUE_AS_NEW", 3)
    staff = Staff(sandbox)
    ordered = staff.people_by_created_at()
    before = set(ordered)
    changed: dict[str, set[str]] = {"deleted": set(), "merged_away": set(), "added": set()}
    real_get = PcoClient.get
    walk_pages = {"n": 0}
    one_person_reads: list[str] = []

    def get_then_change(self: PcoClient, path: str, params: Any = None) -> Any:
        if path.startswith("/people/v2/people/"):
            one_person_reads.append(path.rsplit("/", 1)[-1])
        answer = real_get(self, path, params)
        is_walk = path == "/people/v2/people" and "fields[Person]" not in (params or {})
        if is_walk:
            walk_pages["n"] += 1
        if is_walk and walk_pages["n"] == 2:
            # Given, once the Full Sync has read two pages of people, PCO deletes 20 people (10 read, 10 not
            # yet), merges 10 pairs (the removed one read or not, the kept one not yet read) and adds 5
            for pid in ordered[20:30] + ordered[210:220]:
                staff.call("DELETE", f"/people/{pid}")
                changed["deleted"].add(pid)
            for n in range(10):
                keep, remove = ordered[230 + n], ordered[40 + n] if n < 5 else ordered[235 + n]
                staff.call(
                    "POST", "/person_mergers", {"person_to_keep_id": keep, "person_to_remove_id": remove}
                )
                changed["merged_away"].add(remove)
            for n in range(5):
                added = staff.call("POST", "/people", {"first_name": "Walk", "last_name": f"Newcomer{n}"})
                changed["added"].add(added["data"]["id"])
        return answer

    monkeypatch.setattr(PcoClient, "get", get_then_change)

    # When the Full Sync runs to the end
    run = run_to_end(stack, "full_sync", timeout=240)

    # Then it completed, and every person PCO holds now is a local person with PCO's fields: none skipped
    assert run["status"] == "COMPLETED", run.get("error")
    assert walk_pages["n"] >= 3
    local = _assert_people_match(stack, sandbox)
    assert changed["added"] <= set(local)
    assert len(local) == len(before) - 20 - 10 + 5
    # And those PCO removed that the run had already read are kept locally, inactive and unlinked
    everyone = {p["id"]: p for p in _list_all(stack, "/api/people")}
    unlinked = [p for p in everyone.values() if p["pco_id"] is None]
    assert all(p["status"] == "inactive" for p in unlinked)
    read_then_removed = {
        pid for pid in changed["deleted"] | changed["merged_away"] if ordered.index(pid) < 200
    }
    assert len(unlinked) == len(read_then_removed)
    # And the drift check agrees: PCO's totals are the local linked counts
    assert run["totals"]["people"] == {"pco": len(local), "local": len(local)}
    assert run["totals"]["households"]["pco"] == run["totals"]["households"]["local"]
    # And the run took several executions (continue-as-new every 3 pages; a page reads several PCO pages
    # since the walks batch them, so this church's Full Sync is about a dozen pages), each named after it,
    # all of which succeeded
    machine = stack.env("SYNC_STATE_MACHINE_ARN")
    executions = [
        e
        for e in stack.stepfunctions.list_executions(stateMachineArn=machine)["executions"]
        if e["name"].startswith(run["id"])
    ]
    assert len(executions) >= 3
    assert {e["status"] for e in executions} == {"SUCCEEDED"}


def test_incremental_sync_is_cheap_when_quiet_and_exact_after_changes_and_full_sync_unlinks_the_deleted(
    stack: LocalStack, sandbox: RunningSandbox
) -> None:
    staff = Staff(sandbox)
    first = run_to_end(stack, "full_sync", timeout=240)
    assert first["status"] == "COMPLETED", first.get("error")

    # When Sync People runs on a quiet day
    before, _ = sandbox.requests.snapshot()
    quiet = run_to_end(stack, "people")
    after, _ = sandbox.requests.snapshot()
    # Then it costs at most 5 PCO requests and changes nothing
    assert quiet["status"] == "COMPLETED"
    assert after - before <= 5
    assert (quiet["created"], quiet["updated"], quiet["failed"]) == (0, 0, 0)

    # Given staff change a name, an email, a phone number and an address, and add a person
    ordered = staff.people_by_created_at()
    staff.call("PATCH", f"/people/{ordered[3]}", {"last_name": "Incremental"})
    email = sorted(staff.store.all("Email"), key=lambda r: int(r.id))[10]
    staff.call("PATCH", f"/emails/{email.id}", {"address": "moved@example.org"})
    phone = sorted(staff.store.all("PhoneNumber"), key=lambda r: int(r.id))[20]
    staff.call("PATCH", f"/phone_numbers/{phone.id}", {"number": "555-019-0000"})
    address = sorted(staff.store.all("Address"), key=lambda r: int(r.id))[5]
    staff.call("PATCH", f"/addresses/{address.id}", {"city": "Elsewhere"})
    added = staff.call("POST", "/people", {"first_name": "Ines", "last_name": "Incremental"})["data"]["id"]

    # When the scheduled Incremental Sync runs
    changes = run_to_end(stack, "incremental_sync", timeout=240)

    # Then PCO and the local records agree, field by field
    assert changes["status"] == "COMPLETED", changes.get("error")
    assert changes["type"] == "incremental_sync"
    assert changes["created"] >= 1
    local = _assert_people_match(stack, sandbox)
    assert local[added]["first_name"] == "Ines"

    # Given a person deleted in PCO while no webhook reached us
    gone = ordered[7]
    kept = local[gone]
    staff.call("DELETE", f"/people/{gone}")
    # When the next Full Sync runs
    nightly = run_to_end(stack, "full_sync", timeout=240)
    # Then that person is inactive and unlinked locally, with everything else it had
    assert nightly["status"] == "COMPLETED", nightly.get("error")
    status, person = stack.api("GET", f"/api/people/{kept['id']}", role=ADMIN)
    assert status == 200
    assert (person["status"], person["pco_id"]) == ("inactive", None)
    assert (person["first_name"], person["last_name"], person["emails"]) == (
        kept["first_name"],
        kept["last_name"],
        kept["emails"],
    )
    _assert_people_match(stack, sandbox)
    assert nightly["totals"]["people"]["pco"] == nightly["totals"]["people"]["local"]
    # And no request ever asked people or households for an offset PCO throttles
    for path in ("/people/v2/people", "/people/v2/households"):
        assert sandbox.requests.deepest_offset.get(path, 0) <= DEEP_OFFSET
