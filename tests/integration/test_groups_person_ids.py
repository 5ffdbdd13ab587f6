"""A church whose PCO Groups API names people by other ids than its People API (developers#764): the
sandbox's `groups_person_id_offset` makes every Groups person id the People id + 1,000,000.

Memberships still reach the right local people (learned through PCO's own answers, once), a second
Full Sync costs no extra request, and a membership pushed from here names the Groups id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.records import GroupMember
from pco_core.store.records import RecordStore
from tests.stack import APP_ID, SECRET, run_to_end, running_sandbox

OFFSET = 1_000_000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(60, 23) as running:
        answer = httpx.patch(f"{running.url}/_sandbox/settings", json={"groups_person_id_offset": OFFSET})
        assert answer.status_code == 200, answer.text
        yield running


def _get(sandbox: RunningSandbox, path: str, **params: str) -> dict[str, Any]:
    answer = httpx.get(sandbox.url + path, params=params, auth=(APP_ID, SECRET), timeout=10)
    answer.raise_for_status()
    return answer.json()


def _memberships(sandbox: RunningSandbox, group_pco_id: str) -> dict[str, str]:
    """People id -> role of a PCO group's members (Groups ids translated back by the offset)."""
    rows = _get(sandbox, f"/groups/v2/groups/{group_pco_id}/memberships", per_page="100")["data"]
    return {
        str(int(r["relationships"]["person"]["data"]["id"]) - OFFSET): r["attributes"]["role"] for r in rows
    }


def test_memberships_reach_the_right_people_when_groups_ids_differ(
    stack: LocalStack, sandbox: RunningSandbox
) -> None:
    # When a Full Sync runs against a PCO whose Groups ids are not its People ids
    start = sandbox.requests.total
    first = run_to_end(stack, "full_sync")
    first_requests = sandbox.requests.total - start
    assert first["status"] == "COMPLETED", first.get("error")

    # Then each local group holds exactly PCO's members, each the person linked to the right People id
    store = RecordStore(stack.env("RECORDS_TABLE"), client=stack.dynamodb)
    groups = [g for g in store.list_groups(100, None)[0] if g.pco_id is not None]
    assert groups
    checked = 0
    for group in groups:
        people = store.get_people(m.person_id for m in group.members)
        got = {people[m.person_id].pco_id: m.role for m in group.members}
        assert got == _memberships(sandbox, group.pco_id), group.name
        checked += len(got)
    assert checked > 0
    # ... and each member learned its Groups id
    member = store.get_people([groups[0].members[0].person_id])[groups[0].members[0].person_id]
    assert member.sync.groups_person_id == str(int(member.pco_id or "0") + OFFSET)

    # When a second Full Sync runs, Then nothing changes and no person is looked up by email again: the
    # first run's extra requests (at least one email lookup per distinct member) are not made twice
    learned = {m.person_id for g in groups for m in g.members}
    before = sandbox.requests.total
    again = run_to_end(stack, "full_sync")
    assert (again["status"], again["created"], again["updated"], again["failed"]) == ("COMPLETED", 0, 0, 0)
    assert first_requests - (sandbox.requests.total - before) >= len(learned)

    # When a member of one group is added here to another group and pushed
    target = next(g for g in groups if member.id not in {m.person_id for m in g.members})
    joined = [*target.members, GroupMember(person_id=member.id, role="leader")]
    store.save_groups([(target.model_copy(update={"members": joined}), target)])
    pushed = run_to_end(stack, "full_push")

    # Then PCO's group has them, named by their Groups id, and nothing failed
    assert (pushed["status"], pushed["failed"]) == ("COMPLETED", 0)
    assert _memberships(sandbox, target.pco_id or "")[member.pco_id or ""] == "leader"
