"""Push a person's emails, phone numbers or addresses: create what PCO lacks, patch what differs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pco_core.merge.contacts import Contact, PcoContact, contact_key, same_value
from pco_core.push.walk import CountingPco, resource_of
from pco_core.records import Address, Email, Phone


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
