"""Emails, phone numbers and addresses: matched by PCO id, else by value; PCO's items in local terms.

A person holds at most one item per value and at most one primary per kind, as PCO does. The PCO id of an
item is a link, not content: two items with the same values are the same item whatever their ids.
"""

from __future__ import annotations

from collections.abc import Sequence

from pco_core.merge.common import clean, country, optional, street
from pco_core.pco.models import PcoAddress, PcoEmail, PcoPhone
from pco_core.records import Address, Email, Phone

type Contact = Email | Phone | Address
type PcoContact = PcoEmail | PcoPhone | PcoAddress


def _norm(value: object) -> object:
    if isinstance(value, str):
        lines = [" ".join(line.split()) for line in value.splitlines()]
        return "\n".join(line for line in lines if line) or None
    return value


def contact_key(item: Contact | PcoContact) -> tuple[str, ...]:
    """What makes two emails (phones, addresses) the same one when no PCO id says so."""
    if isinstance(item, Email | PcoEmail):
        return (str(_norm(item.address) or "").casefold(),)
    if isinstance(item, Phone | PcoPhone):
        return ("".join(ch for ch in str(item.number or "") if ch.isdigit()),)
    # The country is part of an address: a change of country alone is a change, as in PCO.
    return tuple(
        str(_norm(v) or "").casefold() for v in (item.street, item.city, item.zip, item.country_code)
    )


def answers_for(answered: Contact, sent: Contact) -> bool:
    """Whether PCO's answer to a write is the item we sent: the same value, where a country we did not
    send may be one PCO filled in (the sandbox fills in the organisation's "US")."""
    if isinstance(answered, Address) and isinstance(sent, Address) and sent.country_code is None:
        return contact_key(answered)[:-1] == contact_key(sent)[:-1]
    return type(answered) is type(sent) and contact_key(answered) == contact_key(sent)


def same_value(a: object, b: object) -> bool:
    """Equal apart from normalisation (spacing of strings), as PCO compares what we send."""
    return _norm(a) == _norm(b)


def relink[C: (Email, Phone, Address)](items: Sequence[C], linked: Sequence[C]) -> list[C]:
    """`items`, each given the PCO id of the `linked` item with its value (ids it had are kept otherwise)."""
    ids = {contact_key(item): item.pco_id for item in linked if item.pco_id}
    return [
        item.model_copy(update={"pco_id": ids[key]})
        if (key := contact_key(item)) in ids and item.pco_id != ids[key]
        else item
        for item in items
    ]


def one_primary[T: (Email, Phone, Address)](items: list[T], key: str) -> tuple[T, ...]:
    """At most one primary (the first PCO marks), primary first, then a stable order so the hash is stable."""
    seen_primary = False
    flagged: list[T] = []
    for item in items:
        primary = item.primary and not seen_primary
        seen_primary = seen_primary or primary
        flagged.append(item if item.primary == primary else item.model_copy(update={"primary": primary}))
    return tuple(sorted(flagged, key=lambda i: (not i.primary, str(getattr(i, key) or "").casefold())))


def local_emails(items: Sequence[PcoEmail]) -> tuple[Email, ...]:
    """PCO's emails in local terms: one per address (PCO may hold the same address twice)."""
    emails: dict[str, Email] = {}
    for email in items:
        local = local_contact(email)
        if isinstance(local, Email) and local.address.casefold() not in emails:
            emails[local.address.casefold()] = local
    return one_primary(list(emails.values()), "address")


def local_phones(items: Sequence[PcoPhone]) -> tuple[Phone, ...]:
    return one_primary([p for p in (local_contact(i) for i in items) if isinstance(p, Phone)], "number")


def local_addresses(items: Sequence[PcoAddress]) -> tuple[Address, ...]:
    return one_primary([a for a in (local_contact(i) for i in items) if isinstance(a, Address)], "street")


def local_contact(item: PcoContact) -> Contact | None:
    """One PCO email, phone or address in local terms; None for an email or phone without a value."""
    if isinstance(item, PcoEmail):
        address = clean(item.address)
        if not address:
            return None
        return Email(
            address=address,
            location=optional(item.location),
            primary=item.primary,
            blocked=item.blocked,
            pco_id=item.id or None,
        )
    if isinstance(item, PcoPhone):
        number = clean(item.number)
        if not number:
            return None
        return Phone(
            number=number, location=optional(item.location), primary=item.primary, pco_id=item.id or None
        )
    return Address(
        street=street(item.street),
        city=optional(item.city),
        state=optional(item.state),
        zip=optional(item.zip),
        country_code=country(item.country_code),
        location=optional(item.location),
        primary=item.primary,
        pco_id=item.id or None,
    )


def union[C: (Email, Phone, Address)](kept: Sequence[C], removed: Sequence[C]) -> list[C]:
    """The kept items, then those of `removed` that are not among them (never primary)."""
    have = {contact_key(item) for item in kept}
    extra = [item.model_copy(update={"primary": False}) for item in removed if contact_key(item) not in have]
    return list(kept) + extra
