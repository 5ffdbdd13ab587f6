"""Webhook worker Lambda: queued PCO deliveries applied in SQS batches; a failed message alone is retried."""

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from pco_core.observability import logger, metrics, tracer
from pco_core.settings import WebhookWorkerEnv
from pco_core.store.deliveries import DeliveryLog
from pco_core.webhooks.apply import WebhookApplier, apply_queued

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def deps() -> tuple[WebhookApplier, DeliveryLog]:
    env = WebhookWorkerEnv.from_env()
    return WebhookApplier.from_env(env), DeliveryLog(env.state_table)


def record_handler(record: SQSRecord) -> None:
    applier, log = deps()
    apply_queued(record.body, applier, log, receive_count=int(record.attributes.approximate_receive_count))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
