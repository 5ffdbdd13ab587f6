"""/api/webhooks: the last PCO deliveries applied, the dead letters waiting, and their replay."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.answers import documented
from pco_core.api.common import services

router = APIGatewayHttpRouter()
RECENT_LIMIT = 50


class Delivery(BaseModel):
    id: str | None
    event: str | None
    resource: str
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


@router.get("/api/webhooks/deliveries", responses=documented(200, Deliveries, 502))
def list_deliveries() -> Deliveries:
    found = services()
    return Deliveries(
        deliveries=[_delivery(item) for item in found.deliveries.recent(RECENT_LIMIT)],
        dead_letter_count=found.dead_letters.waiting(),
    )


@router.post("/api/webhooks/replay", status_code=202, responses=documented(202, ReplayStarted, 409, 502))
def replay_dead_letters() -> ReplayStarted:
    return ReplayStarted(moving=services().dead_letters.replay())
