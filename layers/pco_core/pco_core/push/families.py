"""Push families: households created, or updated three ways (name, primary contact, members added or
removed, the address on the primary member), sending only what changed here since the base.

A family is pushed only when every member already has a PCO id (Push People first; Full Push does); one
that does not counts as Skipped with the reason logged. PCO's household after the writes is the new base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext
from pco_core.engine.ports import Records
from pco_core.merge.common import Outcome, unchanged_outcome
from pco_core.merge.contacts import contact_key, local_contact
from pco_core.merge.family import (
    FamilyLinks,
    FamilyPlan,
    agreed_family,
    household_fields,
    local_family_fields,
    plan_family,
)
from pco_core.merge.person import ContactPlan
from pco_core.pco import paths
from pco_core.pco.models import PcoAddress, PcoHousehold
from pco_core.push.contacts import write_contacts
from pco_core.push.walk import CountingPco, Lister, PushDomain, resource_of
from pco_core.records import Address, Family, FamilyFields, Person, has_pending_changes

logger = Logger(child=True)


class PushFamilies(PushDomain[Family, dict[str, Person]]):
    def lister(self, records: Records) -> Lister[Family]:
        return records.list_pending_families

    def prepare(self, records: Records, page: Sequence[Family]) -> dict[str, Person]:
        return records.get_people({pid for family in page for pid in family.member_ids})

    def cost(self, record: Family, prepared: dict[str, Person]) -> int:
        return 0 if _skip_reason(record, prepared) else 5 + len(record.member_ids)

    def linked_now(self, records: Records, record: Family) -> str | None:
        stored = records.get_families([record.id]).get(record.id)
        return stored.pco_id if stored is not None else None

    def push(
        self, ctx: DomainContext, pco: CountingPco, record: Family, prepared: dict[str, Person]
    ) -> Mapping[str, int]:
        return _push_family(ctx, pco, ctx.records, record, prepared)


def _skip_reason(family: Family, people: dict[str, Person]) -> str | None:
    """Why a family cannot be pushed now, or None."""
    if not has_pending_changes(family):
        return "unchanged"
    if not family.member_ids:
        return "no members"
    unlinked = [pid for pid in family.member_ids if pid not in people or people[pid].pco_id is None]
    if unlinked:
        return f"members without a PCO id (push people first): {', '.join(unlinked)}"
    return None


def _push_family(
    ctx: DomainContext, pco: CountingPco, records: Records, family: Family, people: dict[str, Person]
) -> dict[str, int]:
    reason = _skip_reason(family, people)
    if reason == "unchanged":
        return {unchanged_outcome(family.sync, ctx.run_id): 1}
    if reason is not None:
        logger.info("family skipped", extra={"family_id": family.id, "reason": reason})
        return {"skipped": 1}
    if family.pco_id is None:
        family, household = _create(ctx, pco, records, family, people)
    else:
        household = _read(pco, family.pco_id)
    current = household_fields(household, _by_pco_id(records, people, household.person_ids))
    plan = plan_family(family, current, policy=ctx.policy, source=ctx.run_id, now=ctx.clock())
    after = _write(pco, family.pco_id or household.id, household, plan, current, people)
    first_attempt = family.sync.last_run_id == ctx.run_id and family.sync.last_outcome == "created"
    outcome: Outcome = "created" if first_attempt else "updated"
    sync = family.sync.model_copy(
        update={
            "pco_updated_at": household.updated_at or family.sync.pco_updated_at,
            "pco_hash": after.content_hash(),
            "base": after,
            "conflicts": plan.conflicts.open_conflicts(),
            "edited": (),
            "last_run_id": ctx.run_id,
            "last_outcome": outcome,
        }
    )
    pushed = agreed_family(family.model_copy(update={"sync": sync}), after, plan)
    records.save_families([(pushed, family)])
    # Members PCO has now and we did not (or no longer) have: their family_id follows.
    links = FamilyLinks(people.values(), ctx.clock())
    links.link(pushed, previous=family)
    links.save(records)
    records.log_conflicts(plan.conflicts.events)
    return {outcome: 1, "conflicts": plan.conflicts.detected_count()}


def _create(
    ctx: DomainContext, pco: CountingPco, records: Records, family: Family, people: dict[str, Person]
) -> tuple[Family, PcoHousehold]:
    """A household for a family never pushed, its PCO id saved at once (a retry updates it)."""
    fields = local_family_fields(family)
    member_ids = [people[pid].pco_id for pid in fields.member_ids]
    primary = people.get(fields.primary_member_id or "") or people[fields.member_ids[0]]
    document = pco.post(
        paths.HOUSEHOLDS,
        {
            "data": {
                "type": "Household",
                "attributes": {"name": fields.name},
                "relationships": {
                    "people": {"data": [{"type": "Person", "id": pid} for pid in member_ids]},
                    "primary_contact": {"data": {"type": "Person", "id": primary.pco_id}},
                },
            }
        },
    )
    household = PcoHousehold.from_resource(resource_of(document, "household"), document)
    # The base is the household as created, but without the family's address (written next, if any).
    base = household_fields(household, _by_pco_id(records, people, household.person_ids))
    linked = family.model_copy(
        update={
            "pco_id": household.id,
            "sync": family.sync.model_copy(
                update={
                    "base": base.model_copy(update={"address": None}),
                    "pco_hash": None,
                    "last_run_id": ctx.run_id,
                    "last_outcome": "created",
                }
            ),
        }
    )
    records.save_families([(linked, family)])
    return linked, household


def _read(pco: CountingPco, household_id: str) -> PcoHousehold:
    document = pco.get(f"{paths.HOUSEHOLDS}/{household_id}", {"include": "people"})
    return PcoHousehold.from_resource(resource_of(document, "household"), document)


def _by_pco_id(records: Records, people: dict[str, Person], pco_ids: Sequence[str]) -> dict[str, Person]:
    """Local people by PCO id: the page's own, and any other member PCO lists."""
    known = {p.pco_id: p for p in people.values() if p.pco_id is not None}
    missing = [pid for pid in pco_ids if pid not in known]
    return {**known, **(records.people_by_pco_ids(missing) if missing else {})}


def _write(
    pco: CountingPco,
    household_id: str,
    household: PcoHousehold,
    plan: FamilyPlan,
    current: FamilyFields,
    people: dict[str, Person],
) -> FamilyFields:
    """Send the plan's changes; what PCO holds after them, in local terms (the new base)."""
    path = f"{paths.HOUSEHOLDS}/{household_id}"
    members = list(current.member_ids)
    for pid in plan.add_members:
        pco.post(
            f"{path}/household_memberships",
            {
                "data": {
                    "type": "HouseholdMembership",
                    "relationships": {"person": {"data": {"type": "Person", "id": people[pid].pco_id}}},
                }
            },
        )
        members.append(pid)
    # After the members: PCO requires the primary contact to be one of them.
    changes: dict[str, Any] = {}
    if "name" in plan.send:
        changes["name"] = plan.send["name"]
    primary_id = plan.send.get("primary_member_id")
    if primary_id is not None and primary_id in people:
        changes["primary_contact_id"] = people[primary_id].pco_id
    name, primary = current.name, current.primary_member_id
    if changes:
        answer = pco.patch(path, {"data": {"type": "Household", "id": household_id, "attributes": changes}})
        answered = PcoHousehold.from_resource(resource_of(answer, "household"), answer)
        name = answered.name or name
        primary = primary_id if "primary_contact_id" in changes else primary
    if plan.remove_members:
        _remove_members(pco, path, [people[pid].pco_id for pid in plan.remove_members if pid in people])
        members = [pid for pid in members if pid not in plan.remove_members]
    address = current.address
    if "address" in plan.send and plan.send["address"] is not None and primary in people:
        address = _push_primary_address(pco, people[primary], plan.send["address"])
    return FamilyFields(
        name=name,
        member_ids=tuple(sorted(dict.fromkeys(members))),
        primary_member_id=primary,
        address=address,
    )


def _remove_members(pco: CountingPco, path: str, person_pco_ids: Sequence[str | None]) -> None:
    document = pco.get(f"{path}/household_memberships", {"per_page": 100})
    for resource in document.resources():
        if any(pid in person_pco_ids for pid in resource.related_ids("person")):
            pco.delete(f"{path}/household_memberships/{resource.id}")


def _push_primary_address(pco: CountingPco, primary: Person, address: Address) -> Address:
    """The family address as the primary member's primary PCO address; the address PCO holds after."""
    assert primary.pco_id is not None
    path = f"{paths.PEOPLE}/{primary.pco_id}/addresses"
    document = pco.get(path, {"per_page": 100})
    current = [
        found
        for resource in document.resources()
        if isinstance(found := local_contact(PcoAddress.from_resource(resource, document)), Address)
    ]
    wanted = address.model_copy(update={"primary": True})
    match = next((a for a in current if contact_key(a) == contact_key(wanted)), None)
    plan: ContactPlan[Address] = ContactPlan()
    if match is None:
        plan.post.append(wanted.unlinked())
    elif match.unlinked() != wanted.unlinked():
        plan.patch.append(wanted.model_copy(update={"pco_id": match.pco_id}))
    after = write_contacts(pco, path, "Address", plan, current)
    return next((a for a in after if contact_key(a) == contact_key(wanted)), wanted)
