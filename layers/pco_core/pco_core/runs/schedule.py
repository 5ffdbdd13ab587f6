"""The syncs the EventBridge schedules start: the hourly Incremental Sync and the nightly Full Sync, as the
schedule's input names (`{"type": ...}`). A start while a run is active is skipped and recorded in the
history, never queued."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pco_core.errors import RunActive
from pco_core.observability import logger
from pco_core.runs.service import RunService
from pco_core.settings import ScheduledSyncEnv

SCHEDULED_RUN_TYPE: Literal["incremental_sync", "full_sync"] = "full_sync"
SCHEDULE_STARTER = "schedule"


class ScheduleInput(BaseModel):
    """The schedule target's Input; a schedule that names no run (an older deployment's `{}`) starts the
    Full Sync, as it always did."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["incremental_sync", "full_sync"] = SCHEDULED_RUN_TYPE


class ScheduledStart(BaseModel):
    outcome: Literal["started", "skipped"]
    run_id: str
    active_run_id: str | None = None


@dataclass(frozen=True)
class ScheduledSync:
    runs: RunService

    @classmethod
    def from_env(cls, env: ScheduledSyncEnv) -> ScheduledSync:
        return cls(RunService.from_env(env, max_wait_seconds=env.run_max_wait_seconds))

    def start(self, scheduled: ScheduleInput | None = None) -> ScheduledStart:
        run_type = (scheduled or ScheduleInput()).type
        try:
            run = self.runs.start_run(run_type, started_by=SCHEDULE_STARTER)
        except RunActive as active_run:
            active = active_run.run_id
            skipped = self.runs.record_skipped_run(run_type, SCHEDULE_STARTER, active)
            logger.warning("scheduled sync skipped: a run is active", extra={"active_run_id": active})
            return ScheduledStart(outcome="skipped", run_id=skipped.id, active_run_id=active)
        return ScheduledStart(outcome="started", run_id=run.id)
