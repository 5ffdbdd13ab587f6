"""/api/webhooks: the last PCO deliveries applied, the dead letters waiting, and their replay."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.answers import documented
from pco_core.api.common import services
from pco_core.records import display_name
from pco_core.store.records import RecordStore

router = APIGatewayHttpRouter()
RECENT_LIMIT = 50
# The PCO resource types whose records are kept here by PCO id, so a delivery can show their name.
_NAMED_KINDS = frozenset({"Person", "Household", "Group"})


class Delivery(BaseModel):
    id: str | None
    event: str | None
    resource: str
    # The person's, household's or group's name when it is linked here; None otherwise.
    name: str | None = None
    received_at: str | None  # as logged (ISO 8601)
    outcome: str | None


class Deliveries(BaseModel):
    deliveries: list[Delivery]
    dead_letter_count: int


class ReplayStarted(BaseModel):
    moving: int


def _delivery(item: dict[str, Any]) -> Delivery:
    return Delivery(
        id=item.get("delivery_id"),
        event=item.get("name"),
        resource=item.get("resource") or "",
        # Entries logged before received_at was kept show when they were applied instead.
        received_at=item.get("received_at") or item.get("applied_at"),
        outcome=item.get("outcome"),
    )


def _named(deliveries: list[Delivery], records: RecordStore) -> list[Delivery]:
    """Each delivery with the name of the record it is about, when that record is linked here (one batch
    read per kind)."""
    wanted: dict[str, set[str]] = {}
    for delivery in deliveries:
        kind, pco_id = _about(delivery)
        if kind in _NAMED_KINDS and pco_id:
            wanted.setdefault(kind, set()).add(pco_id)
    names: dict[tuple[str, str], str] = {}
    if "Person" in wanted:
        for pco_id, person in records.people_by_pco_ids(wanted["Person"]).items():
            names["Person", pco_id] = display_name(person)
    if "Household" in wanted:
        for pco_id, family in records.families_by_pco_ids(wanted["Household"]).items():
            names["Household", pco_id] = family.name
    if "Group" in wanted:
        for pco_id, group in records.groups_by_pco_ids(wanted["Group"]).items():
            names["Group", pco_id] = group.name
    return [d.model_copy(update={"name": names.get(_about(d)) or None}) for d in deliveries]


def _about(delivery: Delivery) -> tuple[str, str]:
    """The PCO type and id a delivery's resource names ("Person 10000400")."""
    kind, _, pco_id = delivery.resource.partition(" ")
    return kind, pco_id


@router.get("/api/webhooks/deliveries", responses=documented(200, Deliveries, 502))
def list_deliveries() -> Deliveries:
    found = services()
    recent = [_delivery(item) for item in found.deliveries.recent(RECENT_LIMIT)]
    return Deliveries(
        deliveries=_named(recent, found.records),
        dead_letter_count=found.dead_letters.waiting(),
    )


@router.post("/api/webhooks/replay", status_code=202, responses=documented(202, ReplayStarted, 409, 502))
def replay_dead_letters() -> ReplayStarted:
    return ReplayStarted(moving=services().dead_letters.replay())
