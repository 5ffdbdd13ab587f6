"""Sync page Lambda: one bounded page of a run, called in a loop by the sync-run state machine."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.engine.page import PageDeps
from pco_core.observability import logger, metrics, tracer
from pco_core.runs.page import PageRequest, page_deps_from_env, run_sync_page
from pco_core.settings import SyncPageEnv


@cache
def deps() -> PageDeps:
    return page_deps_from_env(SyncPageEnv.from_env())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=PageRequest)
def handler(event: PageRequest, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(run_id=event.run_id)
    # Rounded up: the lock must say "in flight" for as long as this invocation could possibly write.
    page_seconds = -(-context.get_remaining_time_in_millis() // 1000) + 1
    return run_sync_page(event, deps(), page_seconds=page_seconds).model_dump(mode="json")
