"""/api/webhooks: the last PCO deliveries applied, the dead letters waiting, and their replay."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.common import caller, json_response, services

router = APIGatewayHttpRouter()
RECENT_LIMIT = 50


def _delivery(item: dict[str, object]) -> dict[str, object]:
    return {
        "id": item.get("delivery_id"),
        "event": item.get("name"),
        "resource": item.get("resource") or "",
        # Entries logged before received_at was kept show when they were applied instead.
        "received_at": item.get("received_at") or item.get("applied_at"),
        "outcome": item.get("outcome"),
    }


@router.get("/api/webhooks/deliveries")
def list_deliveries() -> Response[Any]:
    caller(router)
    found = services(router)
    deliveries = [_delivery(item) for item in found.deliveries.recent(RECENT_LIMIT)]
    return json_response(200, {"deliveries": deliveries, "dead_letter_count": found.dead_letters.waiting()})


@router.post("/api/webhooks/replay")
def replay_dead_letters() -> Response[Any]:
    caller(router)
    return json_response(202, {"moving": services(router).dead_letters.replay()})
