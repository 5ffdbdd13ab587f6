"""Push families: PCO households created or updated, members added, the address on the primary member.

A family is pushed only when every member already has a PCO id (Push People first; Full Push does); one
that does not counts as Skipped with the reason logged. Its hash is the pull's `FamilyFields` with the
family's own address, so an unchanged family makes no request.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from pco_core.errors import PcoRequestError, RunStopped
from pco_core.pco.models import PcoAddress, PcoHousehold
from pco_core.push.common import (
    REQUEST_BUDGET,
    CountingPco,
    PushRecords,
    RecordWalk,
    ensure_running,
    push_ports,
    resource_of,
)
from pco_core.push.people import PEOPLE_PATH, local_fields, push_contacts
from pco_core.records import Family, Person
from pco_core.sync.domain import DomainContext, DomainPage, Position, Tally
from pco_core.sync.mapping import FamilyFields, Outcome, family_fields, unchanged_outcome

logger = Logger(child=True)

HOUSEHOLDS_PATH = "/people/v2/households"


def push_families_page(ctx: DomainContext, position: Position) -> DomainPage:
    pco, records = push_ports(ctx)
    walk = RecordWalk(records.list_families, position)
    people = records.get_people({pid for family in walk.records for pid in family.member_ids})
    tally = Tally()
    done: list[Family] = []
    for family in walk.records:
        if done and pco.requests + 4 + len(family.member_ids) > REQUEST_BUDGET:
            break
        try:
            tally.add(_push_family(ctx, pco, records, family, people))
        except RunStopped:
            break
        except PcoRequestError as exc:
            logger.warning("family not pushed", extra={"family_id": family.id, "reason": str(exc)})
            tally.failed()
        done.append(family)
    return DomainPage(
        counts=tally.counts,
        next_position=walk.position_after(done),
        processed=walk.processed + len(done),
    )


def pushed_family_fields(family: Family, members: list[Person], primary: Person) -> FamilyFields:
    fields = family_fields(family.name, members, primary)
    if family.address is None:
        return fields
    return fields.model_copy(update={"address": family.address.model_copy(update={"primary": True})})


def _push_family(
    ctx: DomainContext, pco: CountingPco, records: PushRecords, family: Family, people: dict[str, Person]
) -> Outcome:
    members = [people[pid] for pid in dict.fromkeys(family.member_ids) if pid in people]
    unlinked = [pid for pid in family.member_ids if pid not in people or people[pid].pco_id is None]
    if not members or unlinked:
        reason = "no members" if not members else "members without a PCO id (push people first)"
        logger.info("family skipped", extra={"family_id": family.id, "reason": reason, "members": unlinked})
        return "skipped"
    primary = people.get(family.primary_member_id or "") or members[0]
    if primary not in members:
        primary = members[0]
    fields = pushed_family_fields(family, members, primary)
    digest = fields.content_hash()
    if family.pco_id is not None and family.sync.pco_hash == digest:
        return unchanged_outcome(family.sync, ctx.run_id)
    ensure_running(ctx)

    member_ids = [m.pco_id for m in members if m.pco_id is not None]
    assert primary.pco_id is not None
    if family.pco_id is None:
        document = pco.post(
            HOUSEHOLDS_PATH,
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
    path = f"{HOUSEHOLDS_PATH}/{household_id}"
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
    if primary.sync.pco_hash == person.content_hash() and address.unlinked() in [
        a.unlinked() for a in person.addresses
    ]:
        return  # pushed with the person already
    path = f"{PEOPLE_PATH}/{primary.pco_id}/addresses"
    document = pco.get(path, {"per_page": 100})
    current = [PcoAddress.from_resource(resource, document) for resource in document.resources()]
    push_contacts(pco, path, "Address", [address], current)
