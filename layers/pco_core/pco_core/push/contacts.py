"""Push a person's emails, phone numbers or addresses as the three-way plan says: delete what was removed
here, patch what was edited here (by PCO id), create what is new here. Answers PCO's list after the writes,
in local terms: the new base."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pco_core.merge.contacts import Contact, contact_key, local_contact, same_value
from pco_core.merge.person import ContactPlan
from pco_core.pco.models import PcoAddress, PcoEmail, PcoPhone
from pco_core.push.walk import CountingPco, resource_of
from pco_core.records import Address, Email, Phone


def contact_attributes(item: Contact) -> dict[str, Any]:
    """What PCO takes for an item: its values (never a blank: PCO cannot be blanked out by a local gap)."""
    values = item.model_dump(exclude={"pco_id"})
    if isinstance(item, Address):
        # The pinned People version refuses `street` (422 Forbidden Attribute): it takes two lines.
        line_1, _, line_2 = (values.pop("street") or "").partition("\n")
        values.update(street_line_1=line_1, street_line_2=line_2)
    return {name: value for name, value in values.items() if value not in (None, "")}


_MODELS: dict[str, type[PcoEmail] | type[PcoPhone] | type[PcoAddress]] = {
    "Email": PcoEmail,
    "PhoneNumber": PcoPhone,
    "Address": PcoAddress,
}


def write_contacts[C: (Email, Phone, Address)](
    pco: CountingPco, path: str, type_: str, plan: ContactPlan[C], current: Sequence[C]
) -> tuple[C, ...]:
    """Send `plan`'s writes for one contact list of a person; PCO's list after them (local terms, linked)."""
    after: dict[str, C] = {item.pco_id: item for item in current if item.pco_id is not None}
    for pco_id in plan.delete:
        pco.delete(f"{path}/{pco_id}")
        after.pop(pco_id, None)
    # Non-primary first: a primary written last is the one PCO keeps (it demotes the others).
    for item in sorted(plan.patch, key=lambda i: i.primary):
        assert item.pco_id is not None
        held = after.get(item.pco_id)
        changed = {
            name: value
            for name, value in contact_attributes(item).items()
            if held is None or not same_value(contact_attributes(held).get(name), value)
        }
        if changed:
            data = {"type": type_, "id": item.pco_id, "attributes": changed}
            answer = pco.patch(f"{path}/{item.pco_id}", {"data": data})
            after[item.pco_id] = _answered(answer, type_, item)
            _demote_others(after, item.pco_id)
    for item in sorted(plan.post, key=lambda i: i.primary):
        answer = pco.post(path, {"data": {"type": type_, "attributes": contact_attributes(item)}})
        created = _answered(answer, type_, item)
        assert created.pco_id is not None
        after[created.pco_id] = created
        _demote_others(after, created.pco_id)
    return tuple(after.values())


def _answered[C: (Email, Phone, Address)](answer: Any, type_: str, sent: C) -> C:
    """PCO's answer to a write, in local terms (what we sent, linked, when the answer has no values)."""
    resource = resource_of(answer, type_)
    local = local_contact(_MODELS[type_].from_resource(resource, answer))
    linked = sent.model_copy(update={"pco_id": resource.id})
    if local is None or type(local) is not type(sent) or contact_key(local) != contact_key(sent):
        return linked
    return linked.model_validate(local.model_dump())


def _demote_others[C: (Email, Phone, Address)](items: dict[str, C], primary_id: str) -> None:
    if not items[primary_id].primary:
        return
    for pco_id, item in items.items():
        if pco_id != primary_id and item.primary:
            items[pco_id] = item.model_copy(update={"primary": False})
