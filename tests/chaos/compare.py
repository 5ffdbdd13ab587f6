"""What PCO holds against what we hold, field by field: records lost, doubled and mismatched.

PCO is read over HTTP from the sandbox (with its faults switched off), our side from the records table.
Pull: every PCO person, household and group must be one local record with the same fields (a group with
the same members and roles). Push: every active local person must be one PCO person with the same fields,
and PCO must hold no second copy of it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from local.stack.pco_sandbox import RunningSandbox
from pco_core.records import Family, Group, Person
from pco_core.store.records import RecordStore
from tests.stack import APP_ID, SECRET

Direction = Literal["pull", "push"]
Shape = tuple[Any, ...]


@dataclass
class Differences:
    lost: int = 0
    doubled: int = 0
    mismatched: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, kind: Literal["lost", "doubled", "mismatched"], what: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 8:
            self.examples.append(f"{kind}: {what}")


def _gender(value: str | None) -> str | None:
    return {"M": "Male", "F": "Female"}.get(value or "", value or None)


def _street(attributes: dict[str, Any]) -> str | None:
    if attributes.get("street"):
        return str(attributes["street"])
    lines = (attributes.get("street_line_1"), attributes.get("street_line_2"))
    return "\n".join(line for line in lines if line) or None


class PcoState:
    """Everything the sandbox holds that the sync keeps, read through its public API."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self._http = httpx.Client(base_url=sandbox.url, auth=(APP_ID, SECRET), timeout=30)
        try:
            people, included = self._all("/people/v2/people", include="emails,phone_numbers,addresses")
            self.people = {p["id"]: self._person(p, included) for p in people}
            households, _ = self._all("/people/v2/households", include="people")
            self.households = {
                h["id"]: (
                    h["attributes"]["name"],
                    tuple(sorted(r["id"] for r in h["relationships"]["people"]["data"] or [])),
                )
                for h in households
            }
            groups, _ = self._all("/groups/v2/groups")
            self.groups: dict[str, Shape] = {}
            for group in groups:
                rows, _ = self._all(f"/groups/v2/groups/{group['id']}/memberships")
                members = sorted(
                    (r["relationships"]["person"]["data"]["id"], r["attributes"]["role"]) for r in rows
                )
                self.groups[group["id"]] = (group["attributes"]["name"], tuple(members))
        finally:
            self._http.close()

    def _all(self, path: str, **params: str) -> tuple[list[dict[str, Any]], dict[tuple[str, str], Any]]:
        data: list[dict[str, Any]] = []
        included: dict[tuple[str, str], Any] = {}
        url: str | None = path
        query: dict[str, str] | None = {"per_page": "100", **params}
        for _ in range(10_000):  # a deadline, not a loop without end
            if url is None:
                return data, included
            answer = self._http.get(url, params=query)
            answer.raise_for_status()
            doc = answer.json()
            data.extend(doc["data"])
            included.update({(r["type"], r["id"]): r["attributes"] for r in doc.get("included", [])})
            url, query = doc.get("links", {}).get("next"), None
        raise AssertionError(f"{path} never ended")

    @staticmethod
    def _person(p: dict[str, Any], included: dict[tuple[str, str], Any]) -> Shape:
        def related(name: str) -> list[dict[str, Any]]:
            rel = p["relationships"].get(name, {}).get("data") or []
            return [included[(r["type"], r["id"])] for r in rel if (r["type"], r["id"]) in included]

        a = p["attributes"]
        return (
            a["first_name"],
            a["last_name"],
            _gender(a.get("gender")),
            a.get("birthdate"),
            "inactive" if a.get("status") == "inactive" else "active",
            tuple(sorted((e["address"], e["location"], e["primary"]) for e in related("emails"))),
            tuple(sorted((n["number"], n["location"], n["primary"]) for n in related("phone_numbers"))),
            tuple(
                sorted(
                    (_street(x), x["city"], x["state"], x["zip"], x["location"], x["primary"])
                    for x in related("addresses")
                )
            ),
        )


def _local_person(p: Person) -> Shape:
    return (
        p.first_name,
        p.last_name,
        p.gender,
        p.birthdate.isoformat() if p.birthdate else None,
        p.status,
        tuple(sorted((e.address, e.location, e.primary) for e in p.emails)),
        tuple(sorted((n.number, n.location, n.primary) for n in p.phones)),
        tuple(sorted((x.street, x.city, x.state, x.zip, x.location, x.primary) for x in p.addresses)),
    )


def _everything[R](lister: Any) -> list[R]:
    items: list[R] = []
    cursor: str | None = None
    while True:
        page, cursor = lister(1000, cursor)
        items.extend(page)
        if cursor is None:
            return items


def compare(sandbox: RunningSandbox, records: RecordStore, direction: Direction) -> Differences:
    """Faults must be off: this reads PCO like any client."""
    pco = PcoState(sandbox)
    people: list[Person] = _everything(records.list_people)
    diff = Differences()
    linked: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        if person.pco_id is not None:
            linked[person.pco_id].append(person)
    for pco_id, holders in linked.items():
        if len(holders) > 1:
            diff.note("doubled", f"PCO person {pco_id} linked by {len(holders)} local people")
        if pco_id not in pco.people:
            diff.note("mismatched", f"local {holders[0].id} linked to PCO person {pco_id}, gone from PCO")
        elif _local_person(holders[0]) != pco.people[pco_id]:
            diff.note("mismatched", f"person {pco_id}: {_local_person(holders[0])} != {pco.people[pco_id]}")
    if direction == "pull":
        for pco_id in pco.people.keys() - linked.keys():
            diff.note("lost", f"PCO person {pco_id} {pco.people[pco_id][:2]} not held locally")
        _compare_families(pco, _everything(records.list_families), people, diff)
        _compare_groups(pco, _everything(records.list_groups), people, diff)
    else:
        _compare_pushed(pco, people, linked, diff)
    return diff


def _compare_pushed(
    pco: PcoState, people: list[Person], linked: dict[str, list[Person]], diff: Differences
) -> None:
    for person in people:
        if person.status == "active" and person.pco_id is None:
            diff.note("lost", f"local {person.id} {person.first_name} {person.last_name} never reached PCO")
    # A second PCO copy of a pushed person: same name and birthdate, linked by nobody here.
    names = {(p.first_name, p.last_name, p.birthdate.isoformat() if p.birthdate else None) for p in people}
    copies = Counter((*shape[:2], shape[3]) for pco_id, shape in pco.people.items() if pco_id not in linked)
    for name, count in copies.items():
        if name in names:
            for _ in range(count):
                diff.note("doubled", f"PCO holds an unlinked copy of {name}")


def _compare_families(pco: PcoState, families: list[Family], people: list[Person], diff: Differences) -> None:
    pco_of = {p.id: p.pco_id for p in people}
    held = Counter(f.pco_id for f in families if f.pco_id is not None)
    by_pco = {f.pco_id: f for f in families if f.pco_id is not None}
    for household_id, (name, members) in pco.households.items():
        family = by_pco.get(household_id)
        if family is None:
            diff.note("lost", f"PCO household {household_id} not held locally")
            continue
        if held[household_id] > 1:
            diff.note("doubled", f"PCO household {household_id} held {held[household_id]} times")
        local = (family.name, tuple(sorted(str(pco_of.get(m)) for m in family.member_ids)))
        if local != (name, members):
            diff.note("mismatched", f"household {household_id}: {local} != {(name, members)}")


def _compare_groups(pco: PcoState, groups: list[Group], people: list[Person], diff: Differences) -> None:
    pco_of = {p.id: p.pco_id for p in people}
    by_pco = {g.pco_id: g for g in groups if g.pco_id is not None}
    for group_id, (name, members) in pco.groups.items():
        group = by_pco.get(group_id)
        if group is None:
            diff.note("lost", f"PCO group {group_id} not held locally")
            continue
        local = (group.name, tuple(sorted((str(pco_of.get(m.person_id)), m.role) for m in group.members)))
        if local != (name, members):
            diff.note("mismatched", f"group {group_id} members: {local} != {(name, members)}")
