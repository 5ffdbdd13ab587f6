"""/api/schedule: when the scheduled Full Sync runs next, and whether it is on."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.answers import documented
from pco_core.api.common import services
from pco_core.errors import ConfigError
from pco_core.runs.schedule_info import ScheduleStatus

router = APIGatewayHttpRouter()


@router.get("/api/schedule", responses=documented(200, ScheduleStatus))
def schedule_status() -> ScheduleStatus:
    """The schedule's expression, time zone and on/off, and its next start (null when off or unknown)."""
    found = services()
    if found.schedule is None:
        raise ConfigError("no sync schedule is configured (SYNC_SCHEDULE)")
    return found.schedule.status(found.clock())
