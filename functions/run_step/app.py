"""Run step Lambda: the state machine's bookkeeping steps (fail a run, continue it in a new execution)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.observability import logger, metrics, tracer
from pco_core.runs.steps import RunStep, RunSteps
from pco_core.settings import RunStepEnv


@cache
def steps() -> RunSteps:
    return RunSteps.from_env(RunStepEnv.from_env())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=RunStep)
def handler(event: RunStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(run_id=event.root.run_id)
    return steps().apply(event.root)
