"""Push people: local people whose PCO fields changed since the last exchange, created or patched in PCO.

A person's pushed fields are the pull's own `PersonFields` (same normalisation, same hash), so a person
pushed and then pulled back hashes the same and is skipped both ways. A new person's PCO id is saved right
after PCO answers the create, before its emails, phones and addresses are written: a retried page then
patches that person instead of creating a second one. For the moment between PCO's answer and that save,
the person is marked `pco_create_sent_at` before the create is sent: a retry of a marked person first looks
for the PCO person that create made (same name and birthdate, created since) and adopts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from pco_core.errors import PcoRequestError, SkippableRecordError
from pco_core.pco.jsonapi import Document
from pco_core.pco.models import PcoPerson
from pco_core.push.common import REQUEST_BUDGET, CountingPco, PushRecords, RecordWalk, push_ports, resource_of
from pco_core.records import Address, Email, Person, Phone
from pco_core.sync.domain import DomainContext, DomainPage, Position, Tally
from pco_core.sync.mapping import (
    Contact,
    Outcome,
    PcoContact,
    PersonFields,
    contact_key,
    person_fields,
    relink,
    same_value,
    unchanged_outcome,
)

logger = Logger(child=True)

PEOPLE_PATH = "/people/v2/people"
PERSON_ATTRIBUTES = ("first_name", "last_name", "gender", "birthdate", "status")
CONTACTS = "emails,phone_numbers,addresses"
# Our clock and PCO's may differ: a create sent at T is looked for among people created since T - this.
CREATE_CLOCK_MARGIN = timedelta(minutes=2)


def local_fields(person: Person) -> PersonFields:
    """The local person's PCO fields, read through the same model and mapping the pull uses."""
    as_pco = PcoPerson.model_validate(
        {
            "id": person.pco_id or person.id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "gender": person.gender,
            "birthdate": person.birthdate,
            "status": person.status,
            "updated_at": person.updated_at,
            "emails": [_as_pco(e) for e in person.emails],
            "phone_numbers": [_as_pco(p) for p in person.phones],
            "addresses": [_as_pco(a) for a in person.addresses],
        }
    )
    return person_fields(as_pco)


def _as_pco(item: Contact) -> dict[str, Any]:
    # An item never exchanged with PCO has no id ("" maps back to pco_id None).
    return {**item.model_dump(exclude={"pco_id"}), "id": item.pco_id or ""}


def push_people_page(ctx: DomainContext, position: Position) -> DomainPage:
    pco, records = push_ports(ctx)
    walk = RecordWalk(records.list_people, position)
    tally = Tally()
    done: list[Person] = []
    for person in walk.records:
        fields = local_fields(person)
        if done and pco.requests + _estimated_requests(person, fields) > REQUEST_BUDGET:
            break
        try:
            tally.add(_push_person(ctx, pco, records, person, fields))
        except PcoRequestError as exc:
            # PCO refused this person (a validation error): the others still go.
            logger.warning("person not pushed", extra={"person_id": person.id, "reason": str(exc)})
            tally.failed()
        done.append(person)
    return DomainPage(
        counts=tally.counts,
        next_position=walk.position_after(done),
        processed=walk.processed + len(done),
    )


def _estimated_requests(person: Person, fields: PersonFields) -> int:
    if person.pco_id is not None and person.sync.pco_hash == fields.content_hash():
        return 0
    return 2 + len(fields.emails) + len(fields.phones) + len(fields.addresses)


def _push_person(
    ctx: DomainContext, pco: CountingPco, records: PushRecords, person: Person, fields: PersonFields
) -> Outcome:
    digest = fields.content_hash()
    if person.pco_id is not None and person.sync.pco_hash == digest:
        return unchanged_outcome(person.sync, ctx.run_id)
    if person.pco_id is None and person.status != "active":
        return "skipped"  # PCO only gets the church's active people; an inactive one is never created

    if person.pco_id is None:
        # A create sent before whose answer we never saved (a crash in between) is found, not repeated.
        sent_at = person.sync.pco_create_sent_at
        found = _created_before(pco, person, fields, sent_at) if sent_at is not None else None
        if found is None:
            sending = person.model_copy(
                update={"sync": person.sync.model_copy(update={"pco_create_sent_at": ctx.clock()})}
            )
            records.save_people([(sending, person)])
            document = pco.post(PEOPLE_PATH, _person_document(_attributes(fields)))
            person, current = sending, PcoPerson.from_resource(resource_of(document, "person"), document)
        else:
            current = found
        linked = person.model_copy(
            update={
                "pco_id": current.id,
                "sync": person.sync.model_copy(
                    update={
                        "pco_hash": None,
                        "pco_create_sent_at": None,
                        "last_run_id": ctx.run_id,
                        "last_outcome": "created",
                    }
                ),
            }
        )
        # At once: a crash from here on is retried as a patch of this PCO person, never a second create.
        records.save_people([(linked, person)])
        person = linked
    else:
        document = pco.get(f"{PEOPLE_PATH}/{person.pco_id}", {"include": CONTACTS})
        current = PcoPerson.from_resource(resource_of(document, "person"), document)
        changed = _changed(_attributes(fields), _attributes(person_fields(current)))
        if changed:
            answer = pco.patch(f"{PEOPLE_PATH}/{person.pco_id}", _person_document(changed, person.pco_id))
            current = current.model_copy(update={"updated_at": _updated_at(answer, current.updated_at)})
    assert person.pco_id is not None

    base = f"{PEOPLE_PATH}/{person.pco_id}"
    emails = push_contacts(pco, f"{base}/emails", "Email", fields.emails, current.emails)
    phones = push_contacts(pco, f"{base}/phone_numbers", "PhoneNumber", fields.phones, current.phone_numbers)
    addresses = push_contacts(pco, f"{base}/addresses", "Address", fields.addresses, current.addresses)

    first_attempt = person.sync.last_run_id == ctx.run_id and person.sync.last_outcome == "created"
    outcome: Outcome = "created" if first_attempt else "updated"
    sync = person.sync.model_copy(
        update={
            "pco_updated_at": current.updated_at,
            "pco_hash": digest,
            "last_run_id": ctx.run_id,
            "last_outcome": outcome,
        }
    )
    pushed = person.model_copy(
        update={
            "emails": relink(person.emails, emails),
            "phones": relink(person.phones, phones),
            "addresses": relink(person.addresses, addresses),
            "sync": sync,
        }
    )
    records.save_people([(pushed, person)])
    return outcome


def _created_before(
    pco: CountingPco, person: Person, fields: PersonFields, sent_at: datetime
) -> PcoPerson | None:
    """The PCO person an earlier attempt created for this one: same name (and birthdate, when we have
    one), created since that attempt was sent (less a margin for clock skew), newest first."""
    since = (sent_at - CREATE_CLOCK_MARGIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = pco.get(
        PEOPLE_PATH,
        {
            "where[first_name]": fields.first_name,
            "where[last_name]": fields.last_name,
            "where[created_at][gte]": since,
            "order": "-created_at",
            "include": CONTACTS,
            "per_page": 25,
        },
    )
    for resource in document.resources():
        try:
            candidate = PcoPerson.from_resource(resource, document)
        except SkippableRecordError:
            continue
        if fields.birthdate is None or candidate.birthdate == fields.birthdate:
            logger.info("person create found in PCO", extra={"person_id": person.id, "pco_id": candidate.id})
            return candidate
    return None


def _attributes(fields: PersonFields) -> dict[str, Any]:
    """The writable person attributes we have values for: PCO is never blanked out by a local gap."""
    values: dict[str, Any] = {
        "first_name": fields.first_name,
        "last_name": fields.last_name,
        "gender": fields.gender,
        "birthdate": fields.birthdate.isoformat() if fields.birthdate else None,
        "status": fields.status,
    }
    return {name: values[name] for name in PERSON_ATTRIBUTES if values[name] not in (None, "")}


def _changed(wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def _person_document(attributes: dict[str, Any], pco_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "Person", "attributes": attributes}
    if pco_id is not None:
        data["id"] = pco_id
    return {"data": data}


def _updated_at(document: Document, fallback: datetime) -> datetime:
    try:
        return PcoPerson.from_resource(resource_of(document, "person"), document).updated_at
    except SkippableRecordError:  # an answer without a readable updated_at keeps the one we had
        return fallback


# ---- emails, phone numbers, addresses


def _contact_attributes(item: Contact) -> dict[str, Any]:
    values = item.model_dump(exclude={"pco_id"})
    if isinstance(item, Address):
        # The pinned People version refuses `street` (422 Forbidden Attribute): it takes two lines.
        line_1, _, line_2 = (values.pop("street") or "").partition("\n")
        values.update(street_line_1=line_1, street_line_2=line_2)
    return {name: value for name, value in values.items() if value not in (None, "")}


def push_contacts[C: (Email, Phone, Address)](
    pco: CountingPco, path: str, type_: str, wanted: Sequence[C], current: Sequence[PcoContact]
) -> list[C]:
    """Create the local items PCO lacks and patch the ones that differ; PCO's extra items stay.
    Items are matched by value (a local edit of an address is a new PCO email, the old one stays); the
    answer is `wanted` linked to the PCO items written, so later webhooks about them find them."""
    existing = {contact_key(item): item for item in current}
    linked: list[C] = []
    # Non-primary first: a primary written last is the one PCO keeps (it demotes the others).
    for item in sorted(wanted, key=lambda i: i.primary):
        attributes = _contact_attributes(item)
        match = existing.get(contact_key(item))
        if match is None:
            answer = pco.post(path, {"data": {"type": type_, "attributes": attributes}})
            linked.append(item.model_copy(update={"pco_id": resource_of(answer, type_).id}))
            continue
        changed = {
            name: value
            for name, value in attributes.items()
            if not same_value(getattr(match, name, None), value)
        }
        if changed:
            pco.patch(f"{path}/{match.id}", {"data": {"type": type_, "id": match.id, "attributes": changed}})
        linked.append(item.model_copy(update={"pco_id": match.id}))
    return linked
