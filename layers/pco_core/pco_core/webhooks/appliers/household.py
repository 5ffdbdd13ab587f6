"""household.created / updated / destroyed: merged with the pull's own household merge (merge/family.py).

A destroyed household unlinks its family (name and address kept, members cleared); it is never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pco_core.merge.common import closed_as_gone
from pco_core.merge.family import merge_households, unlink_household
from pco_core.pco.models import PcoHousehold
from pco_core.records import Family
from pco_core.webhooks.event import Applied, ApplierPorts, Event


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
        # PCO fires household.updated when members change without moving the household's updated_at
        # (developers#708, #1253): household events are ordered by when they happened, never by it.
        if existing is not None and _older(event.time, existing.sync.pco_updated_at):
            return Applied("stale", f"family {existing.id} holds a newer PCO version")
        # The family remembers the latest event applied, so an older one arriving late changes nothing.
        seen = max((t for t in (household.updated_at, event.time) if t is not None), default=None)
        household = household.model_copy(update={"updated_at": seen})
        merged = merge_households(
            records, [household], run_id=event.run_id, now=event.now, policy=self.ports.policy
        )[household.id]
        records.log_conflicts(merged.conflicts)
        new = merged.record
        if new is None or merged.outcome == "skipped":
            return Applied("skipped", "family unchanged")
        return Applied("applied", f"family {new.id} {merged.outcome}")

    def _unlinked(self, family: Family, event: Event) -> Applied:
        cleared = unlink_household(self.ports.records, family, event.now)
        self.ports.records.log_conflicts(closed_as_gone("family", family))
        return Applied("applied", f"family {family.id} unlinked, {cleared} members cleared")


def _older(event_time: datetime | None, held: datetime | None) -> bool:
    return event_time is not None and held is not None and event_time < held
