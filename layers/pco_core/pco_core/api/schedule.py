"""/api/schedule: the deployment's schedules (Incremental Sync, Full Sync), each on or off, and when next."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from pco_core.api.answers import documented
from pco_core.api.common import services
from pco_core.errors import ConfigError
from pco_core.runs.schedule_info import ScheduleStatus

router = APIGatewayHttpRouter()


class Schedules(BaseModel):
    schedules: list[ScheduleStatus]


@router.get("/api/schedule", responses=documented(200, Schedules))
def schedule_status() -> Schedules:
    """Each schedule's expression, time zone, on/off, the run it starts and its next start (null when off
    or unknown), the one that comes round most often first."""
    found = services()
    if not found.schedules:
        raise ConfigError("no sync schedule is configured (SYNC_SCHEDULE)")
    now = found.clock()
    return Schedules(schedules=[scheduled.status(now) for scheduled in found.schedules])
