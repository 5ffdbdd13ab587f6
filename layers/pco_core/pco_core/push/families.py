"""Push families: PCO households created or updated, members added, the address on the primary member.

A family is pushed only when every member already has a PCO id (Push People first; Full Push does); one
that does not counts as Skipped with the reason logged. Its hash is the pull's `FamilyFields` with the
family's own address, so an unchanged family makes no request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext
from pco_core.engine.ports import Records
from pco_core.merge.common import Outcome, unchanged_outcome
from pco_core.merge.contacts import contact_key, local_contact
from pco_core.merge.family import pushed_family_fields
from pco_core.merge.person import ContactPlan, local_fields
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
        return 0 if isinstance(_plan(record, prepared), str) else 4 + len(record.member_ids)

    def push(
        self, ctx: DomainContext, pco: CountingPco, record: Family, prepared: dict[str, Person]
    ) -> Mapping[str, int]:
        return {_push_family(ctx, pco, ctx.records, record, prepared): 1}


UNCHANGED = "unchanged"


@dataclass(frozen=True)
class _Plan:
    members: list[Person]
    primary: Person
    fields: FamilyFields


def _plan(family: Family, people: dict[str, Person]) -> _Plan | str:
    """What pushing a family sends; or why it sends nothing (UNCHANGED, or a reason it is skipped)."""
    members = [people[pid] for pid in dict.fromkeys(family.member_ids) if pid in people]
    unlinked = [pid for pid in family.member_ids if pid not in people or people[pid].pco_id is None]
    if not members:
        return "no members"
    if unlinked:
        return f"members without a PCO id (push people first): {', '.join(unlinked)}"
    primary = people.get(family.primary_member_id or "") or members[0]
    if primary not in members:
        primary = members[0]
    fields = pushed_family_fields(family, members, primary)
    if family.pco_id is not None and family.sync.pco_hash == fields.content_hash():
        return UNCHANGED
    return _Plan(members, primary, fields)


def _push_family(
    ctx: DomainContext, pco: CountingPco, records: Records, family: Family, people: dict[str, Person]
) -> Outcome:
    plan = _plan(family, people)
    if plan == UNCHANGED:
        return unchanged_outcome(family.sync, ctx.run_id)
    if isinstance(plan, str):
        logger.info("family skipped", extra={"family_id": family.id, "reason": plan})
        return "skipped"
    members, primary, fields = plan.members, plan.primary, plan.fields
    digest = fields.content_hash()

    member_ids = [m.pco_id for m in members if m.pco_id is not None]
    assert primary.pco_id is not None
    if family.pco_id is None:
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
        linked = family.model_copy(
            update={
                "pco_id": household.id,
                "sync": family.sync.model_copy(
                    update={"pco_hash": None, "last_run_id": ctx.run_id, "last_outcome": "created"}
                ),
            }
        )
        records.save_families([(linked, family)])  # at once: a retry updates this household
        family = linked
    else:
        household = _update_household(pco, family.pco_id, fields.name, member_ids, primary.pco_id)

    if fields.address is not None:
        _push_primary_address(pco, primary, fields)

    first_attempt = family.sync.last_run_id == ctx.run_id and family.sync.last_outcome == "created"
    outcome: Outcome = "created" if first_attempt else "updated"
    sync = family.sync.model_copy(
        update={
            "pco_updated_at": household.updated_at or family.sync.pco_updated_at,
            "pco_hash": digest,
            "last_run_id": ctx.run_id,
            "last_outcome": outcome,
        }
    )
    records.save_families([(family.model_copy(update={"sync": sync}), family)])
    return outcome


def _update_household(
    pco: CountingPco, household_id: str, name: str, member_ids: list[str], primary_id: str
) -> PcoHousehold:
    path = f"{paths.HOUSEHOLDS}/{household_id}"
    document = pco.get(path, {"include": "people"})
    household = PcoHousehold.from_resource(resource_of(document, "household"), document)
    for pid in member_ids:
        if pid not in household.person_ids:
            pco.post(
                f"{path}/household_memberships",
                {
                    "data": {
                        "type": "HouseholdMembership",
                        "relationships": {"person": {"data": {"type": "Person", "id": pid}}},
                    }
                },
            )
    # After the members: PCO requires the primary contact to be one of them.
    changes: dict[str, Any] = {}
    if name and name != (household.name or ""):
        changes["name"] = name
    if primary_id != household.primary_contact_id:
        changes["primary_contact_id"] = primary_id
    if changes:
        answer = pco.patch(path, {"data": {"type": "Household", "id": household_id, "attributes": changes}})
        household = PcoHousehold.from_resource(resource_of(answer, "household"), answer)
    return household


def _push_primary_address(pco: CountingPco, primary: Person, fields: FamilyFields) -> None:
    """The family address as the primary member's primary PCO address (no request when already pushed)."""
    address = fields.address
    assert address is not None
    assert primary.pco_id is not None
    person = local_fields(primary)
    if not has_pending_changes(primary) and address.unlinked() in [a.unlinked() for a in person.addresses]:
        return  # pushed with the person already
    path = f"{paths.PEOPLE}/{primary.pco_id}/addresses"
    document = pco.get(path, {"per_page": 100})
    current = [
        found
        for resource in document.resources()
        if isinstance(found := local_contact(PcoAddress.from_resource(resource, document)), Address)
    ]
    match = next((a for a in current if contact_key(a) == contact_key(address)), None)
    plan: ContactPlan[Address] = ContactPlan()
    if match is None:
        plan.post.append(address.unlinked())
    elif match.unlinked() != address.unlinked():
        plan.patch.append(address.model_copy(update={"pco_id": match.pco_id}))
    write_contacts(pco, path, "Address", plan, current)
