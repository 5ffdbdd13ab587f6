"""email / phone_number / address .created / updated / destroyed: the one item of a person they name.

A local item is linked to its PCO item by `pco_id` (set by the pull, by push from PCO's answers, and here),
so an `updated` replaces the linked item and a `destroyed` (PCO sends no attributes, only the person
relationship) removes it. An item not linked yet is found by the value its PCO id last had (the trail
remembers each id's person and `contact_key` from earlier deliveries), else by the new value. The trail also
orders events per PCO item and keeps destroyed ones from coming back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pco_core.merge.contact_item import ContactList, known_items, merge_contacts, placed, removed
from pco_core.merge.contacts import Contact, PcoContact, contact_key, local_contact
from pco_core.pco.models import PcoAddress, PcoEmail, PcoPhone
from pco_core.records import Person
from pco_core.store.deliveries import SubRecordTrace
from pco_core.webhooks.event import Applied, ApplierPorts, Event, merge_outcome, not_newer


@dataclass(frozen=True)
class ContactKind:
    pco_type: str
    attribute: ContactList
    model: type[PcoEmail] | type[PcoPhone] | type[PcoAddress]


EMAIL = ContactKind("Email", "emails", PcoEmail)
PHONE_NUMBER = ContactKind("PhoneNumber", "phones", PcoPhone)
ADDRESS = ContactKind("Address", "addresses", PcoAddress)


@dataclass(frozen=True)
class ContactApplier:
    ports: ApplierPorts
    kind: ContactKind

    def apply(self, event: Event) -> Applied:
        kind, trail = self.kind, self.ports.trail
        pco_id = event.resource.id
        trace = trail.sub_record(kind.pco_type, pco_id)
        if trace is not None and trace.destroyed_at is not None:
            if event.action == "destroyed":
                return Applied("skipped", f"PCO {kind.pco_type} {pco_id} already removed")
            return Applied("stale", f"PCO {kind.pco_type} {pco_id} was destroyed")
        # A destroyed one has no attributes; its person comes from its relationships or our trace.
        pco_item: PcoContact = kind.model.from_resource(event.resource, event.document)
        if (
            event.action != "destroyed"
            and trace is not None
            and not_newer(pco_item.updated_at, trace.updated_at)
        ):
            return Applied("stale", f"an equal or newer version of PCO {kind.pco_type} {pco_id} was applied")
        person_pco_id = pco_item.person_id or (trace.person_pco_id if trace else None)
        if person_pco_id is None:
            return Applied("unknown", f"PCO {kind.pco_type} {pco_id} names no person and was never seen")
        person = self.ports.records.people_by_pco_ids([person_pco_id]).get(person_pco_id)
        # The value PCO's id stood for when we last saw it (a webhook), for items not yet linked by id.
        old_key = trace.match_key if trace is not None and trace.person_pco_id == person_pco_id else None
        if event.action == "destroyed":
            return self._destroyed(event, person_pco_id, person, old_key)
        return self._changed(event, pco_item, person_pco_id, person, old_key)

    def _destroyed(
        self, event: Event, person_pco_id: str, person: Person | None, old_key: tuple[str, ...] | None
    ) -> Applied:
        kind, pco_id = self.kind, event.resource.id
        done = SubRecordTrace(person_pco_id, old_key or (), None, destroyed_at=event.happened_at)
        result = Applied("unknown", f"PCO person {person_pco_id} is not linked locally")
        if person is not None:
            remaining = removed(known_items(person, kind.attribute), pco_id, old_key)
            if remaining is None:
                result = Applied("unknown", f"PCO {kind.pco_type} {pco_id} is not linked locally")
            else:
                result = self._merge(person, remaining, event)
        # Traced only once the person is saved: a retry after a failed save must not find it done.
        self.ports.trail.trace_sub_record(kind.pco_type, pco_id, done)
        return result

    def _changed(
        self,
        event: Event,
        pco_item: PcoContact,
        person_pco_id: str,
        person: Person | None,
        old_key: tuple[str, ...] | None,
    ) -> Applied:
        kind, pco_id = self.kind, event.resource.id
        local = local_contact(pco_item)
        if local is None:
            return Applied("skipped", f"PCO {kind.pco_type} {pco_id} has no value")
        done = SubRecordTrace(person_pco_id, contact_key(local), pco_item.updated_at)
        if person is None:
            self.ports.trail.trace_sub_record(kind.pco_type, pco_id, done)
            return Applied("unknown", f"PCO person {person_pco_id} is not linked locally")
        items = placed(known_items(person, kind.attribute), local, old_key)
        if self.kind is EMAIL and len(items) == 1 and not items[0].primary:
            # PCO makes a person's first email primary, yet its email.created says `primary: false`
            # (developers#1181) and no update follows: the only email is primary, as PCO stores it.
            items = [items[0].model_copy(update={"primary": True})]
        result = self._merge(person, items, event)
        self.ports.trail.trace_sub_record(kind.pco_type, pco_id, done)
        return result

    def _merge(self, person: Person, items: Sequence[Contact], event: Event) -> Applied:
        """PCO's view after this event (what we knew, with the one item changed) merged three ways."""
        merged = merge_contacts(
            person, self.kind.attribute, items, run_id=event.run_id, now=event.now, policy=self.ports.policy
        )
        if merged.record is not None:
            self.ports.records.save_people([(merged.record, person)])
        self.ports.records.log_conflicts(merged.conflicts)
        return merge_outcome(merged, f"person {person.id} {self.kind.attribute}")
