"""Push people: local people whose PCO fields changed since the last exchange, created or patched in PCO.

A person's pushed fields are the pull's own `PersonFields` (same normalisation, same hash), so a person
pushed and then pulled back hashes the same and is skipped both ways. A new person's PCO id is saved right
after PCO answers the create, before its emails, phones and addresses are written: a retried page then
patches that person instead of creating a second one. For the moment between PCO's answer and that save,
the person is marked `pco_create_sent_at` before the create is sent: a retry of a marked person first looks
for the PCO person that create made (same name, created since, linked to no one else, and confirmed by
its birthdate, an email or a phone) and adopts it; a namesake nothing confirms is a failed record with its
reason, never adopted and never created a second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.engine.domain import DomainContext
from pco_core.engine.ports import Records
from pco_core.errors import SkippableRecordError, UncertainMatch
from pco_core.merge.common import Outcome, unchanged_outcome
from pco_core.merge.contacts import contact_key
from pco_core.merge.person import (
    PersonPlan,
    agreed_person,
    canonical,
    local_fields,
    person_fields,
    plan_person,
)
from pco_core.pco import paths
from pco_core.pco.models import PcoPerson
from pco_core.push.contacts import write_contacts
from pco_core.push.walk import CountingPco, Lister, PushDomain, resource_of
from pco_core.records import (
    PERSON_READ_ONLY,
    PERSON_SCALARS,
    PERSON_WRITABLE,
    Person,
    PersonFields,
    has_pending_changes,
)

logger = Logger(child=True)

CONTACTS = "emails,phone_numbers,addresses"
# Our clock and PCO's may differ: a create sent at T is looked for among people created since T - this.
CREATE_CLOCK_MARGIN = timedelta(minutes=2)


class PushPeople(PushDomain[Person, None]):
    def lister(self, records: Records) -> Lister[Person]:
        return records.list_pending_people

    def prepare(self, records: Records, page: Sequence[Person]) -> None:
        return None

    def cost(self, record: Person, prepared: None) -> int:
        return _estimated_requests(record, local_fields(record))

    def linked_now(self, records: Records, record: Person) -> str | None:
        stored = records.get_people([record.id]).get(record.id)
        return stored.pco_id if stored is not None else None

    def push(self, ctx: DomainContext, pco: CountingPco, record: Person, prepared: None) -> Mapping[str, int]:
        return _push_person(ctx, pco, ctx.records, record, local_fields(record))


def _estimated_requests(person: Person, fields: PersonFields) -> int:
    if person.pco_id is not None and not has_pending_changes(person):
        return 0
    return 2 + len(fields.emails) + len(fields.phones) + len(fields.addresses)


def _push_person(
    ctx: DomainContext, pco: CountingPco, records: Records, person: Person, fields: PersonFields
) -> dict[str, int]:
    if person.pco_id is not None and not has_pending_changes(person):
        return {unchanged_outcome(person.sync, ctx.run_id): 1}
    if person.pco_id is None and person.status != "active":
        return {"skipped": 1}  # PCO only gets the church's active people; an inactive one is never created
    if person.pco_id is None:
        person, current = _create(ctx, pco, records, person, fields)
    else:
        document = pco.get(f"{paths.PEOPLE}/{person.pco_id}", {"include": CONTACTS})
        current = PcoPerson.from_resource(resource_of(document, "person"), document)
    assert person.pco_id is not None

    plan = plan_person(person, person_fields(current), policy=ctx.policy, source=ctx.run_id, now=ctx.clock())
    after = _write(pco, person.pco_id, plan, person_fields(current))
    first_attempt = person.sync.last_run_id == ctx.run_id and person.sync.last_outcome == "created"
    outcome: Outcome = "created" if first_attempt else "updated"
    sync = person.sync.model_copy(
        update={
            "pco_updated_at": current.updated_at,
            "pco_hash": after.content_hash(),
            "base": after,
            "conflicts": plan.conflicts.open_conflicts(),
            "edited": (),  # everything not held back by a conflict is what PCO holds now
            "last_run_id": ctx.run_id,
            "last_outcome": outcome,
        }
    )
    # What PCO holds now is what we hold, but for the fields an open conflict holds back.
    pushed = agreed_person(person.model_copy(update={"sync": sync}), after, plan)
    records.save_people([(pushed, person)])
    records.log_conflicts(plan.conflicts.events)
    return {outcome: 1, "conflicts": plan.conflicts.detected_count()}


def _create(
    ctx: DomainContext, pco: CountingPco, records: Records, person: Person, fields: PersonFields
) -> tuple[Person, PcoPerson]:
    """The PCO person for a local person never pushed: created (its scalar attributes), or found when an
    earlier create's answer was lost. Its PCO id is saved at once, so a crash from here on is retried as an
    update of that PCO person, never a second create."""
    sent_at = person.sync.pco_create_sent_at
    found = _created_before(pco, records, person, fields, sent_at) if sent_at is not None else None
    if found is None:
        sending = person.model_copy(
            update={"sync": person.sync.model_copy(update={"pco_create_sent_at": ctx.clock()})}
        )
        records.save_people([(sending, person)])
        document = pco.post(paths.PEOPLE, _person_document(_attributes(fields.model_dump())))
        person, current = sending, PcoPerson.from_resource(resource_of(document, "person"), document)
    else:
        current = found
    # The base is what PCO holds of this person now; its emails, phones and addresses are local-only.
    base = person_fields(current)
    linked = person.model_copy(
        update={
            "pco_id": current.id,
            "sync": person.sync.model_copy(
                update={
                    "base": base,
                    "pco_hash": base.content_hash(),
                    "pco_create_sent_at": None,
                    "last_run_id": ctx.run_id,
                    "last_outcome": "created",
                }
            ),
        }
    )
    records.save_people([(linked, person)])
    return linked, current


def _write(pco: CountingPco, pco_id: str, plan: PersonPlan, current: PersonFields) -> PersonFields:
    """Send the plan's changes; what PCO holds after them, in local terms (the new base)."""
    scalars = {name: getattr(current, name) for name in PERSON_SCALARS}
    attributes = _attributes(plan.send)
    if attributes:
        answer = pco.patch(f"{paths.PEOPLE}/{pco_id}", _person_document(attributes, pco_id))
        answered = person_fields(PcoPerson.from_resource(resource_of(answer, "person"), answer))
        # What we sent, and what PCO set because of it (inactivated_at follows status), as PCO answered.
        taken = set(plan.send) | PERSON_READ_ONLY
        scalars.update({name: getattr(answered, name) for name in PERSON_SCALARS if name in taken})
    path = f"{paths.PEOPLE}/{pco_id}"
    lists = {
        name: canonical(
            name, write_contacts(pco, f"{path}/{sub}", type_, plan.contacts[name], getattr(current, name))
        )
        for name, sub, type_ in (
            ("emails", "emails", "Email"),
            ("phones", "phone_numbers", "PhoneNumber"),
            ("addresses", "addresses", "Address"),
        )
    }
    return PersonFields.model_validate({**scalars, **lists})


def _created_before(
    pco: CountingPco, records: Records, person: Person, fields: PersonFields, sent_at: datetime
) -> PcoPerson | None:
    """The PCO person an earlier attempt created for this one, None when that create never reached PCO.

    Candidates are PCO people with the same name created since that attempt was sent (less a margin for
    clock skew) that no other local person is linked to. One is adopted only when more than the name
    confirms it: the birthdate, or an email or phone number in common. A candidate nothing confirms
    raises UncertainMatch (no adoption, no second create): linking the wrong person merges two people.
    """
    since = (sent_at - CREATE_CLOCK_MARGIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = pco.get(
        paths.PEOPLE,
        {
            "where[first_name]": fields.first_name,
            "where[last_name]": fields.last_name,
            "where[created_at][gte]": since,
            "order": "-created_at",
            "include": CONTACTS,
            "per_page": 25,
        },
    )
    namesakes: list[PcoPerson] = []
    for resource in document.resources():
        try:
            namesakes.append(PcoPerson.from_resource(resource, document))
        except SkippableRecordError:
            continue
    linked = records.people_by_pco_ids([c.id for c in namesakes])
    free = [c for c in namesakes if c.id not in linked or linked[c.id].id == person.id]
    confirmed = [c for c in free if _confirms(fields, person_fields(c))]
    if len(confirmed) == 1:
        logger.info("person create found in PCO", extra={"person_id": person.id, "pco_id": confirmed[0].id})
        return confirmed[0]
    if not free:
        return None
    ids = ", ".join(c.id for c in (confirmed or free))
    raise UncertainMatch(
        f"an earlier create of {fields.first_name} {fields.last_name} got no answer, and PCO has "
        f"{'several people' if len(confirmed) > 1 else 'a person'} of that name created since (PCO id {ids}) "
        "that nothing else confirms is this one: link or remove it in PCO; it was not created again"
    )


def _confirms(ours: PersonFields, theirs: PersonFields) -> bool:
    """More than the name says a PCO person is ours: the same birthdate, or an email or phone in common
    (a differing birthdate rules it out)."""
    if ours.birthdate is not None and theirs.birthdate is not None:
        return ours.birthdate == theirs.birthdate
    shared_email = {contact_key(e) for e in ours.emails} & {contact_key(e) for e in theirs.emails}
    shared_phone = {contact_key(p) for p in ours.phones} & {contact_key(p) for p in theirs.phones}
    return bool(shared_email or shared_phone)


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """The writable person attributes among `values` that have a value: PCO is never blanked out by a
    local gap (and PCO ignores a PATCH to null anyway)."""
    out = {name: values[name] for name in PERSON_WRITABLE if values.get(name) not in (None, "")}
    for name in ("birthdate", "anniversary"):
        if isinstance(out.get(name), date):
            out[name] = out[name].isoformat()
    return out


def _person_document(attributes: dict[str, Any], pco_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "Person", "attributes": attributes}
    if pco_id is not None:
        data["id"] = pco_id
    return {"data": data}
