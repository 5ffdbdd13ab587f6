"""Scheduled sync Lambda: the EventBridge Scheduler target that starts the sync its schedule names."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.observability import logger, metrics, tracer
from pco_core.runs.schedule import ScheduledSync, ScheduleInput
from pco_core.settings import ScheduledSyncEnv


@cache
def scheduled_sync() -> ScheduledSync:
    return ScheduledSync.from_env(ScheduledSyncEnv.from_env())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return scheduled_sync().start(ScheduleInput.model_validate(event or {})).model_dump(mode="json")
