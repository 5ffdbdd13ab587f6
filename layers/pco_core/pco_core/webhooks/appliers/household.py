"""household.created / updated / destroyed: merged with the pull's own household merge (merge/family.py).

A destroyed household unlinks its family (name and address kept, members cleared); it is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from pco_core.merge.family import merge_households, unlink_household
from pco_core.pco.models import PcoHousehold
from pco_core.records import Family
from pco_core.webhooks.event import Applied, ApplierPorts, Event, not_newer


@dataclass(frozen=True)
class HouseholdApplier:
    ports: ApplierPorts

    def apply(self, event: Event) -> Applied:
        records = self.ports.records
        pco_id = event.resource.id
        existing = records.families_by_pco_ids([pco_id]).get(pco_id)
        if event.action == "destroyed":
            return self.ports.destroyed(
                "household", event, existing, lambda family: self._unlinked(family, event)
            )
        stale = self.ports.stale_if_destroyed("household", pco_id)
        if stale is not None:
            return stale
        household = PcoHousehold.from_resource(event.resource, event.document)
        if existing is not None and not_newer(household.updated_at, existing.sync.pco_updated_at):
            return Applied("stale", f"family {existing.id} holds a newer PCO version")
        new, _ = merge_households(records, [household], run_id=event.run_id, now=event.now)[household.id]
        if new is None:
            return Applied("skipped", "family unchanged")
        return Applied("applied", f"family {new.id} {'created' if existing is None else 'updated'}")

    def _unlinked(self, family: Family, event: Event) -> Applied:
        cleared = unlink_household(self.ports.records, family, event.now)
        return Applied("applied", f"family {family.id} unlinked, {cleared} members cleared")
