"""Webhook Lambda: POST /webhooks/pco from PCO, verified by its HMAC signature, logged and queued."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.clock import utc_now
from pco_core.observability import logger, metrics, tracer
from pco_core.settings import WebhookEnv
from pco_core.store.deliveries import DeliveryLog
from pco_core.store.queue import DeliveryQueue
from pco_core.store.secrets import read_pco_secret
from pco_core.webhooks.receive import receive_delivery, webhook_secret_of


@cache
def deps() -> tuple[WebhookEnv, DeliveryLog, DeliveryQueue]:
    env = WebhookEnv.from_env()
    return env, DeliveryLog(env.state_table), DeliveryQueue(env.webhook_queue_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env, claims, queue = deps()
    # The secret is cached for a few minutes by Powertools, so a rotated secret is picked up soon.
    secret = webhook_secret_of(read_pco_secret(env.pco_secret_arn))
    return receive_delivery(event, webhook_secret=secret, claims=claims, queue=queue, clock=utc_now)
