"""person.created / updated / destroyed: PCO's person merged with the pull's own matching and merge.

Ordering: an event older than the PCO `updated_at` a record already holds changes nothing, and a destroyed
person leaves a tombstone, so an `updated` arriving after its `destroyed` cannot bring it back. Nothing is
deleted: a destroyed person is marked inactive and unlinked.
"""

from __future__ import annotations

from dataclasses import dataclass

from pco_core.merge.common import closed_as_gone
from pco_core.merge.contacts import contact_key
from pco_core.merge.matching import PersonMatch
from pco_core.merge.person import local_fields, merge_person, person_fields, unlinked_person
from pco_core.pco.models import PcoPerson
from pco_core.records import Person
from pco_core.store.deliveries import SubRecordTrace
from pco_core.webhooks.event import Applied, ApplierPorts, Event, merge_outcome, not_newer

# A payload that leaves out a kind of sub-record says nothing about it: those the person keeps.
_CONTACT_RELATIONS = (("emails", "emails"), ("phones", "phone_numbers"), ("addresses", "addresses"))


@dataclass(frozen=True)
class PersonApplier:
    ports: ApplierPorts

    def apply(self, event: Event) -> Applied:
        if event.action == "destroyed":
            return self._destroyed(event)
        records, trail = self.ports.records, self.ports.trail
        pco_id = event.resource.id
        stale = self.ports.stale_if_destroyed("person", pco_id)
        if stale is not None:
            return stale
        pco = PcoPerson.from_resource(event.resource, event.document)
        existing = PersonMatch(records).match_page([pco])[pco.id]
        fields = person_fields(pco)
        if existing is not None:
            known = existing.sync.base or local_fields(existing)
            keep = {
                attribute: getattr(known, attribute)
                for attribute, relation in _CONTACT_RELATIONS
                if not event.document.related(event.resource, relation)
            }
            fields = fields.model_copy(update=keep)
            if existing.pco_id == pco.id and fields.content_hash() == existing.sync.pco_hash:
                return Applied("skipped", f"person {existing.id} already has PCO's values")
            if existing.pco_id == pco.id and not_newer(pco.updated_at, existing.sync.pco_updated_at):
                return Applied("stale", f"person {existing.id} holds a newer PCO version")
        merged = merge_person(
            existing,
            fields,
            pco_id=pco.id,
            pco_updated_at=pco.updated_at,
            run_id=event.run_id,
            now=event.now,
            policy=self.ports.policy,
        )
        if merged.record is not None:
            records.save_people([(merged.record, existing)])
        records.log_conflicts(merged.conflicts)
        # After the save, so a retry of a failed save is not taken for an already applied event.
        for kind, items in (
            ("Email", pco.emails),
            ("PhoneNumber", pco.phone_numbers),
            ("Address", pco.addresses),
        ):
            for item in items:
                trail.trace_sub_record(
                    kind, item.id, SubRecordTrace(pco.id, contact_key(item), item.updated_at)
                )
        person = merged.record or existing
        return merge_outcome(merged, f"person {person.id if person else pco.id}")

    def _destroyed(self, event: Event) -> Applied:
        pco_id = event.resource.id
        existing = self.ports.records.people_by_pco_ids([pco_id]).get(pco_id)
        return self.ports.destroyed("person", event, existing, lambda person: self._unlinked(person, event))

    def _unlinked(self, person: Person, event: Event) -> Applied:
        self.ports.records.save_people([(unlinked_person(person, event.now), person)])
        self.ports.records.log_conflicts(closed_as_gone("person", person))
        return Applied("applied", f"person {person.id} marked inactive and unlinked")
