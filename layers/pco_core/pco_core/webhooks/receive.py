"""The webhook endpoint's logic: verify PCO's signature on the raw body, then log and queue each delivery.

A body over limits.WEBHOOK_BODY_MAX_BYTES is answered 413 and nothing of it is stored or queued.
Order per delivery: claim its id (`receiving`), send it to SQS, mark it `queued`. A failed send drops the
claim and answers 503 so PCO retries; a receiver that dies between claim and send leaves a `receiving`
item, which a retry may claim again. So no delivery is lost, and a duplicate message is possible only
after such a crash (applying is idempotent). Never 410: that would disable the subscription in PCO.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Protocol, Self

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pco_core.clock import Clock
from pco_core.errors import PcoSyncError, RetriableError
from pco_core.limits import WEBHOOK_BODY_MAX_BYTES
from pco_core.observability import Metric, count
from pco_core.pco.jsonapi import Document, Resource

logger = Logger(child=True)

SIGNATURE_HEADER = "x-pco-webhooks-authenticity"


class DeliveryAttributes(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    attempt: int = 1
    payload: str


class EventDelivery(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    type: Literal["EventDelivery"]
    attributes: DeliveryAttributes


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    data: list[EventDelivery] = Field(min_length=1)


# SQS takes messages up to 256 KiB; a little is left for the message's other fields.
SQS_BODY_LIMIT = 256 * 1024 - 1024


class QueuedDelivery(BaseModel):
    """The SQS message the worker consumes: one delivery, its payload still the JSON string PCO sent, or,
    when that would not fit in an SQS message, the same string zlib-compressed and base64-encoded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delivery_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    attempt: int = 1
    payload: str = ""
    payload_zlib: str | None = None

    @model_validator(mode="after")
    def _one_payload(self) -> Self:
        if (self.payload_zlib is None) == (not self.payload):
            raise ValueError("exactly one of payload and payload_zlib")
        return self

    @classmethod
    def body_for(cls, delivery: EventDelivery) -> str:
        """The SQS message body for a delivery: the payload as text, or compressed when that is too big."""
        plain = cls(
            delivery_id=delivery.id,
            name=delivery.attributes.name,
            attempt=delivery.attributes.attempt,
            payload=delivery.attributes.payload,
        )
        body = plain.model_dump_json()
        if len(body.encode()) <= SQS_BODY_LIMIT:
            return body
        packed = base64.b64encode(zlib.compress(delivery.attributes.payload.encode(), 9)).decode()
        return plain.model_copy(update={"payload": "", "payload_zlib": packed}).model_dump_json()

    def text(self) -> str:
        """The payload as PCO sent it."""
        if self.payload_zlib is None:
            return self.payload
        return zlib.decompress(base64.b64decode(self.payload_zlib)).decode()


def parse_payload(payload: str) -> tuple[Document, Resource]:
    """The payload as a JSON:API document with one primary resource; ValueError when it is not."""
    try:
        document = Document.model_validate_json(payload)
    except ValidationError as exc:
        raise ValueError(f"payload is not a JSON:API document ({exc.error_count()} problems)") from None
    if not isinstance(document.data, Resource):
        raise ValueError("payload data must be one resource")
    return document, document.data


class DeliveryClaims(Protocol):
    def begin(self, delivery_id: str, name: str, received_at: datetime) -> bool: ...

    def mark_queued(self, delivery_id: str) -> None: ...

    def abandon(self, delivery_id: str) -> None: ...

    def finish(
        self, delivery_id: str, name: str, outcome: str, detail: str, at: datetime, *, resource: str = ""
    ) -> None: ...


class MessageSender(Protocol):
    def send(self, body: str) -> None: ...


def _answer(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body, separators=(",", ":")),
    }


def _refused(status: int, message: str) -> dict[str, Any]:
    count(Metric.WEBHOOKS_REFUSED)
    return _answer(status, {"message": message})


def _raw_body(event: Mapping[str, Any]) -> bytes | None:
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return None
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            return None
    return body.encode()


def _signature(event: Mapping[str, Any]) -> str | None:
    headers = event.get("headers") or {}
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == SIGNATURE_HEADER and isinstance(value, str):
            return value.strip()
    return None


def signature_is_valid(secret: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.lower().encode())


def receive_delivery(
    event: Mapping[str, Any],
    *,
    webhook_secret: str | None,
    claims: DeliveryClaims,
    queue: MessageSender,
    clock: Clock,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event -> the answer for PCO."""
    if not webhook_secret:
        logger.warning("webhook refused: no webhook secret is configured")
        return _refused(401, "webhook secret not configured; deliveries cannot be verified")
    raw = _raw_body(event)
    if raw is not None and len(raw) > WEBHOOK_BODY_MAX_BYTES:
        logger.warning("webhook refused: body too large", extra={"bytes": len(raw)})
        return _refused(
            413, f"the delivery is {len(raw)} bytes; at most {WEBHOOK_BODY_MAX_BYTES} bytes are accepted"
        )
    signature = _signature(event)
    if raw is None or not signature or not signature_is_valid(webhook_secret, raw, signature):
        logger.warning("webhook refused: missing or wrong signature")
        return _refused(401, "missing or wrong X-PCO-Webhooks-Authenticity signature")

    try:
        envelope = Envelope.model_validate_json(raw)
        for delivery in envelope.data:
            parse_payload(delivery.attributes.payload)
    except (ValidationError, ValueError) as exc:
        detail = f"{exc.error_count()} problems" if isinstance(exc, ValidationError) else str(exc)
        logger.warning("webhook refused: malformed envelope", extra={"detail": detail})
        return _refused(400, f"malformed EventDelivery envelope: {detail}")

    now = clock()
    accepted = duplicates = 0
    for delivery in envelope.data:
        try:
            fresh = _enqueue(delivery, claims, queue, now)
        except (PcoSyncError, OSError) as exc:
            logger.exception("webhook delivery not queued", extra={"delivery_id": delivery.id})
            return _answer(
                503, {"message": f"delivery {delivery.id} could not be queued: {type(exc).__name__}"}
            )
        accepted += fresh
        duplicates += not fresh
    count(Metric.WEBHOOKS_RECEIVED, accepted)
    logger.info(
        "webhook deliveries received",
        extra={
            "accepted": accepted,
            "duplicates": duplicates,
            "names": [d.attributes.name for d in envelope.data],
        },
    )
    return _answer(200, {"accepted": accepted, "duplicates": duplicates})


def _enqueue(delivery: EventDelivery, claims: DeliveryClaims, queue: MessageSender, now: datetime) -> bool:
    if not claims.begin(delivery.id, delivery.attributes.name, now):
        return False
    body = QueuedDelivery.body_for(delivery)
    if len(body.encode()) > SQS_BODY_LIMIT:
        # Even compressed it does not fit. Answering 503 would make PCO retry it for days and then disable
        # the subscription; instead it is logged as failed on the page, and the next pull brings the change.
        claims.finish(
            delivery.id,
            delivery.attributes.name,
            "failed",
            f"payload too large to queue ({len(body)} bytes); the next pull applies the change",
            now,
        )
        logger.error("webhook delivery too large to queue", extra={"delivery_id": delivery.id})
        return True
    try:
        queue.send(body)
    except RetriableError:
        claims.abandon(delivery.id)
        raise
    claims.mark_queued(delivery.id)
    return True


def webhook_secret_of(secret_json: object) -> str | None:
    """The `webhook_secret` of the PCO secret's JSON; None when it is absent or blank."""
    if not isinstance(secret_json, Mapping):
        return None
    value = secret_json.get("webhook_secret")
    return value.strip() or None if isinstance(value, str) else None
