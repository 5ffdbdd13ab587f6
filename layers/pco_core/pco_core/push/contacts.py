"""Push a person's emails, phone numbers or addresses as the three-way plan says: delete what was removed
here, patch what was edited here (by PCO id), create what is new here. Answers PCO's list after the writes,
in local terms: the new base."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pco_core.merge.contacts import Contact, answers_for, local_contact, same_value
from pco_core.merge.person import ContactPlan
from pco_core.pco.models import PcoAddress, PcoEmail, PcoPhone
from pco_core.push.walk import CountingPco, resource_of
from pco_core.records import Address, Email, Phone


def contact_attributes(item: Contact) -> dict[str, Any]:
    """What PCO takes to create an item: its values, without blanks."""
    return {name: value for name, value in _all_attributes(item).items() if value is not None}


def _all_attributes(item: Contact) -> dict[str, Any]:
    """Every attribute PCO holds for an item, a blank as None (an edit that empties a field clears it)."""
    values = item.model_dump(exclude={"pco_id", *item.PCO_OWN})
    if isinstance(item, Address):
        # The pinned People version refuses `street` (422 Forbidden Attribute): it takes two lines and
        # `country_code` (PCO's People docs, Address, "Assignable Attributes").
        line_1, _, line_2 = (values.pop("street") or "").partition("\n")
        values.update(street_line_1=line_1, street_line_2=line_2)
    return {name: None if value == "" else value for name, value in values.items()}


# Fields PCO fills in itself when left empty (a location defaults to "Home" or "Mobile"): emptying one
# here sends nothing, as a new item would get PCO's default again.
PCO_DEFAULTS = frozenset({"location"})

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
    posts = list(plan.post)
    # Non-primary first: a primary written last is the one PCO keeps (it demotes the others).
    for item in sorted(plan.patch, key=lambda i: i.primary):
        assert item.pco_id is not None
        # An item edited here is sent where it differs from PCO's. PCO ignores a null or empty value
        # (developers#815, addresses), so an item with a field emptied here is replaced by a new one.
        held = after.get(item.pco_id)
        was = _all_attributes(held) if held is not None else {}
        now = _all_attributes(item)
        changed = {
            name: value
            for name, value in now.items()
            if not same_value(was.get(name), value) and not (value is None and name in PCO_DEFAULTS)
        }
        if any(value is None for value in changed.values()):
            pco.delete(f"{path}/{item.pco_id}")
            after.pop(item.pco_id, None)
            posts.append(item.model_copy(update={"pco_id": None}))
        elif changed:
            data = {"type": type_, "id": item.pco_id, "attributes": changed}
            answer = pco.patch(f"{path}/{item.pco_id}", {"data": data})
            after[item.pco_id] = _answered(answer, type_, item)
            _demote_others(after, item.pco_id)
    for item in sorted(posts, key=lambda i: i.primary):
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
    if local is None or not answers_for(local, sent):
        return linked
    return linked.model_validate(local.model_dump())


def _demote_others[C: (Email, Phone, Address)](items: dict[str, C], primary_id: str) -> None:
    if not items[primary_id].primary:
        return
    for pco_id, item in items.items():
        if pco_id != primary_id and item.primary:
            items[pco_id] = item.model_copy(update={"primary": False})
