"""One merge for a person: PCO's values in local terms (`person_fields`), the local person in the same terms
(`local_fields`), and the person to write when PCO's values arrive (`merge_person`).

The hash of the mapped fields is what was last exchanged with PCO (`sync.pco_hash`): a record whose hash is
unchanged is skipped, so an unchanged PCO record never overwrites local edits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from pco_core.merge.common import Fields, Outcome, clean, record_id_for, unchanged_outcome
from pco_core.merge.contacts import Contact, local_addresses, local_emails, local_phones, relink
from pco_core.pco.models import PcoPerson
from pco_core.records import Address, Email, Person, PersonStatus, Phone, SyncMeta


def normalise_status(value: str | None) -> PersonStatus:
    return "inactive" if (value or "").strip().casefold() == "inactive" else "active"


class PersonFields(Fields):
    """A person's PCO-owned fields, as the local record holds them."""

    first_name: str
    last_name: str
    gender: str | None
    birthdate: date | None
    status: PersonStatus
    emails: tuple[Email, ...]
    phones: tuple[Phone, ...]
    addresses: tuple[Address, ...]

    _links: ClassVar[dict[str, Any]] = {
        name: {"__all__": {"pco_id"}} for name in ("emails", "phones", "addresses")
    }


def person_fields(pco: PcoPerson) -> PersonFields:
    return PersonFields(
        first_name=clean(pco.first_name),
        last_name=clean(pco.last_name),
        gender=pco.gender,
        birthdate=pco.birthdate,
        status=normalise_status(pco.status),
        emails=local_emails(pco.emails),
        phones=local_phones(pco.phone_numbers),
        addresses=local_addresses(pco.addresses),
    )


def local_fields(person: Person) -> PersonFields:
    """The local person's PCO fields, read through the same model and mapping as PCO's."""
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


def merge_person(
    existing: Person | None,
    fields: PersonFields,
    *,
    pco_id: str,
    pco_updated_at: datetime | None,
    run_id: str,
    now: datetime,
) -> tuple[Person | None, Outcome]:
    """The person to write (None when nothing changed) and how it counts."""
    digest = fields.content_hash()
    if existing is not None and existing.pco_id == pco_id and existing.sync.pco_hash == digest:
        # PCO's values are the ones last exchanged; only links to PCO's emails, phones and addresses may be
        # missing (e.g. a record pushed before it knew them). Linking them is not a change the run counts,
        # and local edits waiting to be pushed are kept: only items with PCO's exact value get its id.
        relinked = existing.model_copy(
            update={
                "emails": relink(existing.emails, fields.emails),
                "phones": relink(existing.phones, fields.phones),
                "addresses": relink(existing.addresses, fields.addresses),
            }
        )
        return (None if relinked == existing else relinked), unchanged_outcome(existing.sync, run_id)
    outcome: Outcome = "created" if existing is None else "updated"
    sync = SyncMeta(pco_updated_at=pco_updated_at, pco_hash=digest, last_run_id=run_id, last_outcome=outcome)
    values = {
        "pco_id": pco_id,
        "first_name": fields.first_name,
        "last_name": fields.last_name,
        "gender": fields.gender,
        "birthdate": fields.birthdate,
        "status": fields.status,
        "emails": list(fields.emails),
        "phones": list(fields.phones),
        "addresses": list(fields.addresses),
        "updated_at": now,
    }
    if existing is None:
        return Person.model_validate({"id": record_id_for("person", pco_id), **values, "sync": sync}), outcome
    return existing.model_copy(update={**values, "sync": sync}), outcome


def unlinked_person(person: Person, now: datetime) -> Person:
    """Inactive and no longer linked to PCO (its PCO person is gone); every local field kept."""
    return person.model_copy(
        update={
            "status": "inactive",
            "pco_id": None,
            "updated_at": now,
            "sync": person.sync.model_copy(update={"pco_hash": None}),
        }
    )
