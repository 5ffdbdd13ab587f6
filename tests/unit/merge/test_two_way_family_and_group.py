"""Two-way sync of a family (PCO household) and of a group membership never loses an edit.

The same matrix as for people, on the sandbox's seeded church (three people in one household, all in one
group): {ours only, PCO's only, both the same, both different} x {pull first, push first, webhook first}.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from pco_core.api.bodies import FamilyPatch
from pco_core.api.record_edits import RecordEdits
from pco_core.engine.domain import DomainContext
from pco_core.pull.families import PullFamilies
from pco_core.pull.groups import PullGroups
from pco_core.pull.memberships import PullMemberships
from pco_core.pull.people import PullPeople
from pco_core.push.families import PushFamilies
from pco_core.push.memberships import PushMemberships
from pco_core.records import ConflictPolicy, Family, Group, GroupMember, has_pending_changes
from pco_core.webhooks.apply import WebhookApplier
from tests.unit.fakes import FakeClock, FakeRecords
from tests.unit.merge.test_two_way_person import MemoryTrail, walk
from tests.unit.push.sandbox_pco import Pco

_runs = itertools.count(1)
HOUSEHOLD = "50000001"
GROUP = "81000001"


class Church:
    def __init__(self, policy: ConflictPolicy = "review") -> None:
        self.pco = Pco(people=3)
        self.client = self.pco.client()
        self.records = FakeRecords()
        self.clock = FakeClock()
        self.policy = policy
        self.trail = MemoryTrail()
        for domain in (PullPeople(), PullFamilies(), PullGroups(), PullMemberships()):
            walk(domain.run, self.context())

    def context(self) -> DomainContext:
        return DomainContext(
            pco=self.client,
            records=self.records,
            run_id=f"R{next(_runs)}",
            clock=self.clock,
            policy=self.policy,
        )

    # local side

    @property
    def family(self) -> Family:
        return next(f for f in self.records.families.values() if f.pco_id == HOUSEHOLD)

    @property
    def group(self) -> Group:
        return next(g for g in self.records.groups.values() if g.pco_id == GROUP)

    def local_id(self, pco_person: str) -> str:
        return self.records.person_by_pco(pco_person).id

    def rename_family(self, name: str) -> None:
        RecordEdits(self.records, self.clock).update_family(self.family.id, FamilyPatch(name=name))  # type: ignore[arg-type]

    def set_role(self, pco_person: str, role: str) -> None:
        RecordEdits(self.records, self.clock).put_group_member(self.group.id, self.local_id(pco_person), role)  # type: ignore[arg-type]

    def leave_group(self, pco_person: str) -> None:
        RecordEdits(self.records, self.clock).remove_group_member(self.group.id, self.local_id(pco_person))  # type: ignore[arg-type]

    # PCO's side

    def pco_household(self) -> dict[str, Any]:
        data = self.pco.get(f"/people/v2/households/{HOUSEHOLD}", include="people")["data"]
        return {
            "name": data["attributes"]["name"],
            "people": sorted(r["id"] for r in data["relationships"]["people"]["data"]),
        }

    def pco_rename_household(self, name: str) -> None:
        body = {"data": {"type": "Household", "id": HOUSEHOLD, "attributes": {"name": name}}}
        self.client.patch(f"/people/v2/households/{HOUSEHOLD}", body)

    def pco_remove_from_household(self, pco_person: str) -> None:
        path = f"/people/v2/households/{HOUSEHOLD}/household_memberships"
        for row in self.pco.get(path)["data"]:
            if row["relationships"]["person"]["data"]["id"] == pco_person:
                self.client.delete(f"{path}/{row['id']}")

    def pco_roles(self) -> dict[str, str]:
        rows = self.pco.get(f"/groups/v2/groups/{GROUP}/memberships")["data"]
        return {r["relationships"]["person"]["data"]["id"]: r["attributes"]["role"] for r in rows}

    def pco_membership(self, pco_person: str) -> str:
        rows = self.pco.get(f"/groups/v2/groups/{GROUP}/memberships")["data"]
        return next(r["id"] for r in rows if r["relationships"]["person"]["data"]["id"] == pco_person)

    def pco_set_role(self, pco_person: str, role: str) -> None:
        membership = self.pco_membership(pco_person)
        body = {"data": {"type": "Membership", "id": membership, "attributes": {"role": role}}}
        self.client.patch(f"/groups/v2/groups/{GROUP}/memberships/{membership}", body)

    # the ways a change travels

    def pull(self) -> None:
        for domain in (PullFamilies(), PullMemberships()):
            walk(domain.run, self.context())

    def push(self) -> None:
        for domain in (PushFamilies(), PushMemberships()):
            walk(domain.run, self.context())

    def webhook(self) -> None:
        applier = WebhookApplier(self.records, self.trail, self.clock, policy=self.policy)
        household = self.pco.get(f"/people/v2/households/{HOUSEHOLD}", include="people")
        self._deliver(applier, "people.v2.events.household.updated", household)
        for row in self.pco.get(f"/groups/v2/groups/{GROUP}/memberships", include="person")["data"]:
            self._deliver(applier, "groups.v2.events.membership.updated", {"data": row})

    def _deliver(self, applier: WebhookApplier, name: str, document: dict[str, Any]) -> None:
        self.clock.advance(1)
        payload = {**document, "meta": {"event_time": self.clock().isoformat()}}
        applier.apply(name, json.dumps(payload), f"d{next(_runs)}")

    def open_conflicts(self) -> list[str]:
        return sorted(e.conflict.field for e in self.records.conflict_log.values() if e.status == "open")


FIRST: dict[str, Callable[[Church], None]] = {
    "pull first": lambda c: (c.pull(), c.push()),
    "push first": lambda c: (c.push(), c.pull()),
    "webhook first": lambda c: (c.webhook(), c.push()),
}
ORDERS = list(FIRST)


def settle(church: Church, order: str) -> None:
    FIRST[order](church)
    church.pull()
    church.push()


# ---------------------------------------------------------------- a family field


@pytest.mark.parametrize("order", ORDERS)
def test_a_local_family_rename_reaches_pco(order: str) -> None:
    church = Church()
    church.rename_family("The Lovelaces")
    settle(church, order)
    assert church.family.name == church.pco_household()["name"] == "The Lovelaces"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_a_pco_household_rename_reaches_us(order: str) -> None:
    church = Church()
    church.pco_rename_household("House of Byron")
    settle(church, order)
    assert church.family.name == church.pco_household()["name"] == "House of Byron"


@pytest.mark.parametrize("order", ORDERS)
def test_a_member_removed_in_pco_while_the_family_was_renamed_here_keeps_both(order: str) -> None:
    church = Church()
    church.rename_family("The Lovelaces")
    church.pco_remove_from_household("10000003")
    settle(church, order)
    held = church.pco_household()
    assert church.family.name == held["name"] == "The Lovelaces"
    assert held["people"] == ["10000001", "10000002"]
    assert sorted(church.family.member_ids) == sorted(church.local_id(p) for p in ("10000001", "10000002"))
    assert church.records.person_by_pco("10000003").family_id is None
    assert not has_pending_changes(church.family)


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_family_rename_on_both_sides_converges(order: str) -> None:
    church = Church()
    church.rename_family("Same")
    church.pco_rename_household("Same")
    settle(church, order)
    assert church.family.name == church.pco_household()["name"] == "Same"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_different_family_renames_are_a_conflict(order: str) -> None:
    church = Church()
    church.rename_family("Ours")
    church.pco_rename_household("Theirs")
    settle(church, order)
    assert (church.family.name, church.pco_household()["name"]) == ("Ours", "Theirs")
    assert church.open_conflicts() == ["name"]


# ---------------------------------------------------------------- a group membership


@pytest.mark.parametrize("order", ORDERS)
def test_a_local_role_change_reaches_pco(order: str) -> None:
    church = Church()
    church.set_role("10000002", "leader")
    settle(church, order)
    assert church.pco_roles()["10000002"] == "leader"
    member = next(m for m in church.group.members if m.person_id == church.local_id("10000002"))
    assert member.role == "leader"


@pytest.mark.parametrize("order", ORDERS)
def test_a_pco_role_change_reaches_us(order: str) -> None:
    church = Church()
    church.pco_set_role("10000003", "leader")
    settle(church, order)
    member = next(m for m in church.group.members if m.person_id == church.local_id("10000003"))
    assert member.role == church.pco_roles()["10000003"] == "leader"


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_role_change_on_both_sides_converges(order: str) -> None:
    church = Church()
    church.set_role("10000003", "leader")
    church.pco_set_role("10000003", "leader")
    settle(church, order)
    assert church.pco_roles()["10000003"] == "leader"
    assert church.open_conflicts() == []


@pytest.mark.parametrize("order", ORDERS)
def test_a_member_left_here_and_promoted_in_pco_is_a_conflict(order: str) -> None:
    church = Church()
    church.leave_group("10000002")
    church.pco_set_role("10000002", "leader")
    settle(church, order)
    # Removed here, changed there: neither is lost; the admin decides.
    assert church.pco_roles()["10000002"] == "leader"
    assert church.open_conflicts() == ["member:" + church.local_id("10000002")]


@pytest.mark.parametrize("order", ORDERS)
def test_a_member_left_here_leaves_pco_too(order: str) -> None:
    church = Church()
    church.leave_group("10000003")
    settle(church, order)
    assert "10000003" not in church.pco_roles()
    assert church.local_id("10000003") not in [m.person_id for m in church.group.members]


def test_a_pull_right_after_a_push_of_memberships_changes_nothing() -> None:
    church = Church()
    church.set_role("10000002", "leader")
    church.push()
    before = church.group

    page = PullMemberships().run(church.context(), None)

    assert church.group.members == before.members
    assert (page.counts.created, page.counts.updated) == (0, 0)


def test_group_members_as_agreed_are_kept_beside_the_list() -> None:
    church = Church()
    base = church.group.sync.members_base
    assert base is not None
    assert [m.person_id for m in base] == [m.person_id for m in church.group.members]
    assert all(isinstance(m, GroupMember) for m in base)


@pytest.mark.parametrize("order", ["pull first", "push first"])
def test_a_member_left_here_while_pco_renamed_the_group_keeps_both(order: str) -> None:
    # Given a member who left the group here (not pushed yet) while the group was renamed in PCO
    church = Church()
    church.leave_group("10000003")
    admin = church.pco.sandbox_admin()
    assert admin.patch(f"/_sandbox/groups/{GROUP}", json={"name": "Renamed in PCO"}).status_code == 200
    # When the groups are pulled (the rename) and the change travels in either order
    walk(PullGroups().run, church.context())
    settle(church, order)
    # Then the group has PCO's name and the member left on both sides: the rename did not make us forget
    # the member list we had agreed with PCO (which would take the member back from PCO)
    assert church.group.name == "Renamed in PCO"
    assert "10000003" not in church.pco_roles()
    assert church.local_id("10000003") not in [m.person_id for m in church.group.members]
    assert church.open_conflicts() == []
