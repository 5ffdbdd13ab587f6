"""Pull end to end: the real state machine on moto, the real handlers, the PCO sandbox over HTTP.

What PCO holds is read back from the sandbox's own API (independently of our client), and compared
field by field with what the admin API serves after a Full Sync.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.errors import PcoUnavailable
from pco_core.store.runs import RunStore
from tests.stack import ADMIN, APP_ID, SECRET, run_to_end

pytestmark = pytest.mark.timeout(240)


# ----------------------------------------------------------------------------- what PCO holds


def _street_lines(attributes: dict[str, Any]) -> str | None:
    """A 2025 address's street as one text, as pco_core keeps it (line 2 after a newline)."""
    lines = (attributes.get("street_line_1"), attributes.get("street_line_2"))
    return "\n".join(line for line in lines if line) or None


def _read_all(sandbox: RunningSandbox, path: str, params: dict[str, str]) -> tuple[list[dict], dict]:
    """Every resource of a PCO listing, and its included[] by (type, id)."""
    data: list[dict] = []
    included: dict[tuple[str, str], dict] = {}
    url: str | None = sandbox.url + path
    query: dict[str, str] | None = {"per_page": "100", **params}
    with httpx.Client(auth=(APP_ID, SECRET), timeout=10) as http:
        for _ in range(1000):  # a deadline, not a loop without end
            if url is None:
                break
            answer = http.get(url, params=query)
            answer.raise_for_status()
            doc = answer.json()
            data.extend(doc["data"])
            for res in doc.get("included", []):
                included[(res["type"], res["id"])] = res
            url, query = doc.get("links", {}).get("next"), None
    return data, included


def _related(resource: dict, name: str, included: dict) -> list[dict]:
    rel = (resource.get("relationships") or {}).get(name, {}).get("data") or []
    rel = rel if isinstance(rel, list) else [rel]
    return [included[(r["type"], r["id"])] for r in rel if (r["type"], r["id"]) in included]


def _gender(value: str | None) -> str | None:
    return {"M": "Male", "F": "Female"}.get(value or "", value or None)


class Pco:
    """What the sandbox serves, in the shape of our records (PCO ids in place of local ids)."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        people, inc = _read_all(
            sandbox, "/people/v2/people", {"include": "emails,phone_numbers,addresses,households"}
        )
        self.people = {p["id"]: self._person(p, inc) for p in people}
        households, hinc = _read_all(sandbox, "/people/v2/households", {"include": "people"})
        self.households = {h["id"]: h for h in households}
        self.household_people = {
            h["id"]: sorted(r["id"] for r in _related(h, "people", hinc)) for h in households
        }
        groups, _ = _read_all(sandbox, "/groups/v2/groups", {})
        self.groups = {g["id"]: g for g in groups}
        self.memberships: dict[str, list[dict]] = {}
        for group in groups:
            rows, _ = _read_all(sandbox, f"/groups/v2/groups/{group['id']}/memberships", {})
            self.memberships[group["id"]] = rows

    def record_count(self) -> int:
        """What a first sync creates: people, families, groups and each group's membership rows."""
        memberships = sum(len(rows) for rows in self.memberships.values())
        return len(self.people) + len(self.households) + len(self.groups) + memberships

    @staticmethod
    def _person(p: dict, inc: dict) -> dict[str, Any]:
        a = p["attributes"]
        return {
            "pco_id": p["id"],
            "first_name": a["first_name"],
            "last_name": a["last_name"],
            "gender": _gender(a.get("gender")),
            "birthdate": a.get("birthdate"),
            "status": "inactive" if a.get("status") == "inactive" else "active",
            "emails": sorted(
                (e["attributes"]["address"], e["attributes"]["location"], e["attributes"]["primary"])
                for e in _related(p, "emails", inc)
            ),
            "phones": sorted(
                (n["attributes"]["number"], n["attributes"]["location"], n["attributes"]["primary"])
                for n in _related(p, "phone_numbers", inc)
            ),
            "addresses": sorted(
                (
                    x["attributes"].get("street") or _street_lines(x["attributes"]),
                    x["attributes"]["city"],
                    x["attributes"]["state"],
                    x["attributes"]["zip"],
                    x["attributes"]["location"],
                    x["attributes"]["primary"],
                )
                for x in _related(p, "addresses", inc)
            ),
            "households": [h["id"] for h in (p["relationships"]["households"]["data"] or [])],
        }


# ----------------------------------------------------------------------------- what we hold


def _list_all(stack: LocalStack, path: str) -> list[dict]:
    items: list[dict] = []
    cursor: str | None = None
    for _ in range(1000):
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        status, body = stack.api("GET", path + query, role=ADMIN)
        assert status == 200, body
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging never ended")


def _local_person_shape(p: dict) -> dict[str, Any]:
    return {
        "pco_id": p["pco_id"],
        "first_name": p["first_name"],
        "last_name": p["last_name"],
        "gender": p["gender"],
        "birthdate": p["birthdate"],
        "status": p["status"],
        "emails": sorted((e["address"], e["location"], e["primary"]) for e in p["emails"]),
        "phones": sorted((n["number"], n["location"], n["primary"]) for n in p["phones"]),
        "addresses": sorted(
            (x["street"], x["city"], x["state"], x["zip"], x["location"], x["primary"])
            for x in p["addresses"]
        ),
    }


@pytest.fixture(scope="module")
def pco(sandbox: RunningSandbox) -> Pco:
    return Pco(sandbox)


# ----------------------------------------------------------------------------- the tests


def test_full_sync_imports_people_families_and_groups_field_by_field(stack: LocalStack, pco: Pco) -> None:
    # Given a seeded church in PCO and an empty deployment
    # When an admin runs a Full Sync to the end
    run = run_to_end(stack, "full_sync")

    # Then the run is COMPLETED with one creation per PCO record and nothing failed
    assert run["status"] == "COMPLETED", run.get("error")
    assert run["label"] == "Full Sync"
    assert run["started_by"]
    assert run["failed"] == 0
    expected_records = pco.record_count()
    assert run["created"] == expected_records
    assert run["updated"] == 0
    assert run["duration_seconds"] is not None
    assert run["finished_at"] is not None

    # And every PCO person is one local person with the same fields
    people = _list_all(stack, "/api/people")
    assert len(people) == len(pco.people)
    by_pco = {p["pco_id"]: p for p in people}
    assert set(by_pco) == set(pco.people)
    for pco_id, expected in pco.people.items():
        got = _local_person_shape(by_pco[pco_id])
        want = {k: v for k, v in expected.items() if k != "households"}
        assert got == want, pco_id

    # And spouses sharing an email stay two people
    shared = [
        a for a, n in Counter(e[0].lower() for p in pco.people.values() for e in p["emails"]).items() if n > 1
    ]
    assert shared, "the seeded church should have spouses sharing an email"
    for address in shared:
        holders = [p for p in people if any(e["address"].lower() == address for e in p["emails"])]
        assert len(holders) >= 2

    # And every household is a family with its members, primary member and that member's address
    families = _list_all(stack, "/api/families")
    fam_by_pco = {f["pco_id"]: f for f in families}
    assert set(fam_by_pco) == set(pco.households)
    local_id = {p["pco_id"]: p["id"] for p in people}
    for hid, household in pco.households.items():
        family = fam_by_pco[hid]
        assert family["name"] == household["attributes"]["name"]
        assert sorted(family["member_ids"]) == sorted(local_id[m] for m in pco.household_people[hid])
        primary = household["attributes"].get("primary_contact_id")
        if primary:
            assert family["primary_member_id"] == local_id[str(primary)]
            primary_addresses = [a for a in pco.people[str(primary)]["addresses"] if a[5]]
            if primary_addresses:
                street, city, state, zip_code, *_ = primary_addresses[0]
                assert family["address"]["street"] == street
                assert (family["address"]["city"], family["address"]["zip"]) == (city, zip_code)
                assert family["address"]["state"] == state
    # And each person points at their family (a child of a split family, in two PCO households, points at
    # one of them; both families list the child as a member)
    for person in people:
        households = pco.people[person["pco_id"]]["households"]
        if households:
            assert person["family_id"] in {fam_by_pco[h]["id"] for h in households}
        else:
            assert person["family_id"] is None

    # And every group sits under "PCO Groups" with its members, roles and joined dates
    groups = _list_all(stack, "/api/groups")
    grp_by_pco = {g["pco_id"]: g for g in groups}
    assert set(grp_by_pco) == set(pco.groups)
    for gid, group in pco.groups.items():
        local = grp_by_pco[gid]
        assert local["name"] == group["attributes"]["name"]
        assert local["department"] == "PCO Groups"
        want_members = sorted(
            (
                local_id[str(m["attributes"].get("person_id") or m["relationships"]["person"]["data"]["id"])],
                m["attributes"]["role"],
                m["attributes"]["joined_at"][:19],
            )
            for m in pco.memberships[gid]
        )
        got_members = sorted(
            (m["person_id"], m["role"], (m["joined_at"] or "")[:19]) for m in local["members"]
        )
        assert got_members == want_members, gid

    # When the same Full Sync runs again with nothing changed in PCO
    again = run_to_end(stack, "full_sync")
    # Then every record is Skipped: no creation, no update
    assert again["status"] == "COMPLETED"
    assert (again["created"], again["updated"], again["failed"]) == (0, 0, 0)
    assert again["skipped"] == expected_records
    assert len(_list_all(stack, "/api/people")) == len(pco.people)


def test_a_crash_mid_run_resumes_from_the_cursor_without_losing_or_doubling(
    stack: LocalStack, pco: Pco, monkeypatch: pytest.MonkeyPatch, no_retry_sleep: None
) -> None:
    # Given a page that dies after writing its records but before committing its counters (twice)
    real_commit = RunStore.commit_page
    calls = {"n": 0}

    def crashing_commit(self: RunStore, *args: Any, **kwargs: Any) -> bool:
        calls["n"] += 1
        if calls["n"] in (2, 5):
            raise PcoUnavailable("injected crash after the page's records were written")
        return real_commit(self, *args, **kwargs)

    monkeypatch.setattr(RunStore, "commit_page", crashing_commit)

    # When the Full Sync runs (the state machine retries the page from the saved cursor)
    run = run_to_end(stack, "full_sync")

    # Then nothing is lost or doubled: the counters and the records match PCO exactly
    assert calls["n"] > 5
    assert run["status"] == "COMPLETED", run.get("error")
    assert run["created"] == pco.record_count()
    assert (run["updated"], run["skipped"], run["failed"]) == (0, 0, 0)
    people = _list_all(stack, "/api/people")
    assert sorted(p["pco_id"] for p in people) == sorted(pco.people)


def test_pco_outages_are_retried_and_a_429_burst_is_waited_out(
    stack: LocalStack, sandbox: RunningSandbox, pco: Pco, no_retry_sleep: None
) -> None:
    # Given PCO answers the next requests with 429 (Retry-After 1 s)
    sandbox.sandbox.faults.configure(burst_429=3, burst_retry_after=1)
    try:
        # When People are pulled
        run = run_to_end(stack, "people")
    finally:
        sandbox.sandbox.faults.reset()

    # Then the run waited in the state machine (never in a Lambda) and completed with every person
    assert run["status"] == "COMPLETED", run.get("error")
    assert run["created"] == len(pco.people)
    executions = stack.stepfunctions.list_executions(stateMachineArn=stack.env("SYNC_STATE_MACHINE_ARN"))
    arn = next(e["executionArn"] for e in executions["executions"] if e["name"] == run["id"])
    waits = [e for e in stack.execution_history(arn) if e["type"] == "WaitStateEntered"]
    assert len(waits) == 3


def test_one_run_at_a_time(stack: LocalStack) -> None:
    # Given a Full Sync is running
    status, first = stack.api("POST", "/api/runs", json={"type": "full_sync"}, role=ADMIN)
    assert status == 202
    # When another run is started
    status, body = stack.api("POST", "/api/runs", json={"type": "people"}, role=ADMIN)
    # Then it is refused with 409, naming the active run
    assert status == 409, body
    assert body["message"] == "a run is already active"
    status, current = stack.api("GET", "/api/runs/current", role=ADMIN)
    assert current["run"]["id"] == first["id"]
    # And once the first ends, a new run may start
    stack.wait_for_run(first["id"], timeout=180)
    status, current = stack.api("GET", "/api/runs/current", role=ADMIN)
    assert current == {"run": None}
    status, second = stack.api("POST", "/api/runs", json={"type": "people"}, role=ADMIN)
    assert status == 202
    stack.wait_for_run(second["id"], timeout=180)
    status, history = stack.api("GET", "/api/runs?limit=20", role=ADMIN)
    assert [r["id"] for r in history["runs"]] == [second["id"], first["id"]]


def test_the_api_refuses_without_a_token_and_without_the_permission(stack: LocalStack) -> None:
    assert stack.api("POST", "/api/runs", json={"type": "people"})[0] == 401
    status, body = stack.api("POST", "/api/runs", json={"type": "people"}, role="VOLUNTEER")
    assert status == 403
    assert "pco.manage" in body["message"]
    assert stack.api("GET", "/api/runs/current", role=ADMIN)[1] == {"run": None}
