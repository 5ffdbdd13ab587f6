"""Admin API Lambda: the HTTP API's /api/* routes (JWT verified by the API Gateway authorizer)."""

from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.observability import logger, metrics, tracer
from pco_core.settings import AdminApiEnv


@cache
def services() -> AdminServices:
    return AdminServices.from_env(AdminApiEnv.from_env())


app = create_app(services)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
