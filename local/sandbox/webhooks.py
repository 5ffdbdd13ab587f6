"""PCO Webhooks for the sandbox: subscriptions (the /webhooks/v2 API), signed EventDelivery POSTs, retries.

Deliveries follow PCO: one POST per event per active subscription, the envelope's `payload` a JSON string,
`X-PCO-Webhooks-Authenticity` the hex HMAC-SHA256 of the exact body bytes under the subscription's
authenticity_secret. Non-2xx answers and connection errors are retried with growing delays (30 s, doubling,
capped at a day: 16 attempts span about 4.4 days; PCO says "30 s .. daily" and deactivates after about
5.4 days, its exact schedule is unpublished). A 410, or running out of attempts, deactivates the
subscription. Time comes from the injected clock, so tests drive retries with a FakeClock and
`deliver_due()`; `start()` runs the same loop in a background thread for demos and the local stack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
import httpx

from local.sandbox.clock import Clock, iso
from local.sandbox.jsonapi import (
    ApiError,
    bad_payload,
    forbidden_attribute,
    json_response,
    not_found,
    validation_error,
)

Sender = Callable[[str, bytes, dict[str, str]], int]

RESOURCE_TYPE = "WebhookSubscription"
ORGANIZATION_ID = "1"
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 86_400
SEND_TIMEOUT_SECONDS = 5.0
WRITABLE_ATTRIBUTES = ("name", "url", "active")


def sign(secret: str, body: bytes) -> str:
    """X-PCO-Webhooks-Authenticity: hex HMAC-SHA256 of the raw body, keyed by the authenticity secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt `attempt` (1-based) before the next one."""
    return int(min(FIRST_RETRY_SECONDS * 2 ** (attempt - 1), MAX_RETRY_SECONDS))


def send_with_httpx(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The default sender: one POST with a short timeout; connection errors raise httpx.TransportError."""
    return httpx.post(url, content=body, headers=headers, timeout=SEND_TIMEOUT_SECONDS).status_code


@dataclass
class Subscription:
    id: str
    name: str
    url: str
    active: bool
    authenticity_secret: str
    created_at: float
    updated_at: float

    def resource(self, base_url: str) -> dict[str, Any]:
        return {
            "type": RESOURCE_TYPE,
            "id": self.id,
            "attributes": {
                "name": self.name,
                "url": self.url,
                "active": self.active,
                "authenticity_secret": self.authenticity_secret,
                "created_at": iso(self.created_at),
                "updated_at": iso(self.updated_at),
            },
            "relationships": {},
            "links": {"self": f"{base_url}/webhooks/v2/webhook_subscriptions/{self.id}"},
        }


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST the hub made (or tried to make): what tests and demos inspect."""

    delivery_id: str
    subscription_id: str
    name: str
    url: str
    attempt: int
    status: int | None  # None: the connection failed
    body: bytes
    headers: dict[str, str]
    at: float
    error: str | None = None


@dataclass
class _Pending:
    delivery_id: str
    subscription_id: str
    name: str
    payload: str  # fixed at publish: the same event_time and idempotency_token on every attempt
    event_time: str
    attempt: int
    due_at: float


class WebhookHub:
    """Subscriptions plus the queue of EventDeliveries; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        *,
        webhook_secret: str | None = None,
        sender: Sender | None = None,
        max_attempts: int = 16,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.clock = clock
        self.webhook_secret = webhook_secret
        self.sender: Sender = sender or send_with_httpx
        self.max_attempts = max_attempts
        self._subscriptions: dict[str, Subscription] = {}
        self._next_id = 1
        self._queue: list[_Pending] = []
        self._attempts: list[DeliveryAttempt] = []
        self._lock = threading.Lock()  # guards the state above
        self._delivering = threading.Lock()  # one deliver_due at a time, so nothing is sent twice
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # Subscriptions ------------------------------------------------------------------------------------

    def _new_secret(self) -> str:
        return self.webhook_secret if self.webhook_secret is not None else secrets.token_hex(32)

    def create_subscription(self, name: str, url: str, *, active: bool = True) -> Subscription:
        now = self.clock.now()
        with self._lock:
            subscription = Subscription(
                id=str(self._next_id),
                name=name,
                url=url,
                active=active,
                authenticity_secret=self._new_secret(),
                created_at=now,
                updated_at=now,
            )
            self._next_id += 1
            self._subscriptions[subscription.id] = subscription
            return dataclasses.replace(subscription)

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return [dataclasses.replace(s) for s in self._subscriptions.values()]

    def get_subscription(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            return dataclasses.replace(subscription) if subscription else None

    def update_subscription(self, subscription_id: str, **changes: Any) -> Subscription | None:
        unknown = set(changes) - set(WRITABLE_ATTRIBUTES)
        if unknown:
            raise ValueError(f"not writable: {', '.join(sorted(unknown))}")
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None:
                return None
            for name, value in changes.items():
                setattr(subscription, name, value)
            subscription.updated_at = self.clock.now()
            return dataclasses.replace(subscription)

    def delete_subscription(self, subscription_id: str) -> bool:
        with self._lock:
            return self._subscriptions.pop(subscription_id, None) is not None

    def rotate_secret(self, subscription_id: str) -> Subscription | None:
        """A fresh random secret (or, with a deployment-wide webhook_secret, that secret again)."""
        with self._lock:
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None:
                return None
            subscription.authenticity_secret = self._new_secret()
            subscription.updated_at = self.clock.now()
            return dataclasses.replace(subscription)

    # Events -------------------------------------------------------------------------------------------

    def publish(
        self, event_name: str, resource: dict[str, Any], included: list[dict[str, Any]] | None = None
    ) -> list[str]:
        """Queue one EventDelivery per active subscription to `event_name`; returns their delivery ids."""
        if event_name.endswith(".destroyed"):
            resource = {k: v for k, v in resource.items() if k != "attributes"}
        now = self.clock.now()
        event_time = iso(now)
        delivery_ids = []
        with self._lock:
            for subscription in self._subscriptions.values():
                if not subscription.active or subscription.name != event_name:
                    continue
                document = {
                    "data": resource,
                    "included": included or [],
                    "meta": {
                        "can_include": [],
                        "parent": {"id": ORGANIZATION_ID, "type": "Organization"},
                        "event_time": event_time,
                        "idempotency_token": uuid.uuid4().hex,
                    },
                }
                pending = _Pending(
                    delivery_id=str(uuid.uuid4()),
                    subscription_id=subscription.id,
                    name=event_name,
                    payload=json.dumps(document, separators=(",", ":")),
                    event_time=event_time,
                    attempt=1,
                    due_at=now,
                )
                self._queue.append(pending)
                delivery_ids.append(pending.delivery_id)
        return delivery_ids

    @staticmethod
    def envelope(pending: _Pending) -> bytes:
        body = {
            "data": [
                {
                    "id": pending.delivery_id,
                    "type": "EventDelivery",
                    "attributes": {
                        "name": pending.name,
                        "attempt": pending.attempt,
                        "payload": pending.payload,
                    },
                    "relationships": {
                        "organization": {"data": {"type": "Organization", "id": ORGANIZATION_ID}}
                    },
                }
            ]
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @property
    def deliveries(self) -> list[DeliveryAttempt]:
        with self._lock:
            return list(self._attempts)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def next_due_at(self) -> float | None:
        with self._lock:
            return min((p.due_at for p in self._queue), default=None)

    def deliver_due(self) -> int:
        """Attempt every delivery due now (synchronously); returns how many POSTs were attempted."""
        with self._delivering:
            now = self.clock.now()
            with self._lock:
                due = sorted((p for p in self._queue if p.due_at <= now), key=lambda p: p.due_at)
                self._queue = [p for p in self._queue if p.due_at > now]
                targets = {p.delivery_id: self._subscriptions.get(p.subscription_id) for p in due}
            attempted = 0
            for pending in due:
                subscription = targets[pending.delivery_id]
                if subscription is None or not subscription.active:
                    continue  # deleted or deactivated since: PCO drops what it no longer may send
                self._attempt(pending, subscription.url, subscription.authenticity_secret)
                attempted += 1
            return attempted

    def _attempt(self, pending: _Pending, url: str, secret: str) -> None:
        body = self.envelope(pending)
        headers = {
            "Content-Type": "application/json",
            "X-PCO-Webhooks-Authenticity": sign(secret, body),
            "X-PCO-Webhooks-Event": pending.delivery_id,
            "X-PCO-Webhooks-Name": pending.name,
            "X-PCO-Webhooks-Event-Time": pending.event_time,
        }
        status: int | None = None
        error: str | None = None
        try:
            status = self.sender(url, body, headers)
        except (OSError, httpx.HTTPError) as err:  # the receiver is down or unreachable: retry later
            error = f"{type(err).__name__}: {err}"
        now = self.clock.now()
        record = DeliveryAttempt(
            delivery_id=pending.delivery_id,
            subscription_id=pending.subscription_id,
            name=pending.name,
            url=url,
            attempt=pending.attempt,
            status=status,
            body=body,
            headers=headers,
            at=now,
            error=error,
        )
        with self._lock:
            self._attempts.append(record)
            if status is not None and 200 <= status < 300:
                return
            if status == 410 or pending.attempt >= self.max_attempts:
                self._deactivate(pending.subscription_id, now)
                return
            self._queue.append(
                dataclasses.replace(
                    pending, attempt=pending.attempt + 1, due_at=now + retry_delay(pending.attempt)
                )
            )

    def _deactivate(self, subscription_id: str, now: float) -> None:
        subscription = self._subscriptions.get(subscription_id)
        if subscription is not None and subscription.active:
            subscription.active = False
            subscription.updated_at = now
        self._queue = [p for p in self._queue if p.subscription_id != subscription_id]

    # Background delivery ------------------------------------------------------------------------------

    def start(self, interval: float = 0.5) -> None:
        """Deliver in a background thread every `interval` real seconds until stop()."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="webhook-hub", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.deliver_due()
            self._stop.wait(interval)

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None


# The /webhooks/v2 API ---------------------------------------------------------------------------------

COLLECTIONS = ("webhook_subscriptions", "subscriptions")  # PCO_API.md: the docs and the observed path differ
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def _base_url() -> str:
    return flask.request.host_url.rstrip("/")


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = flask.request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Bad Request", f"{name} must be an integer", source={"parameter": name}) from None
    return max(low, min(value, high))


def _list_document(subscriptions: list[Subscription]) -> dict[str, Any]:
    per_page = _int_param("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    offset = _int_param("offset", 0, 0, 10**9)
    page = subscriptions[offset : offset + per_page]
    base = _base_url()
    path = f"{base}{flask.request.path}"

    def link(page_offset: int) -> str:
        params = {k: v for k, v in flask.request.args.items() if k not in ("offset", "per_page")}
        params.update(per_page=str(per_page), offset=str(page_offset))
        return f"{path}?{urlencode(params)}"

    links: dict[str, str] = {"self": link(offset)}
    meta: dict[str, Any] = {
        "total_count": len(subscriptions),
        "count": len(page),
        "can_order_by": ["created_at", "updated_at"],
        "can_query_by": ["name", "active"],
        "parent": {"id": ORGANIZATION_ID, "type": "Organization"},
    }
    if offset + per_page < len(subscriptions):
        links["next"] = link(offset + per_page)
        meta["next"] = {"offset": offset + per_page}
    if offset > 0:
        links["prev"] = link(max(0, offset - per_page))
        meta["prev"] = {"offset": max(0, offset - per_page)}
    return {"links": links, "data": [s.resource(base) for s in page], "included": [], "meta": meta}


def _attributes_of(document: Any, *, creating: bool) -> dict[str, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise bad_payload("The payload must be a JSON object with a data object")
    data = document["data"]
    if data.get("type", RESOURCE_TYPE) != RESOURCE_TYPE:
        raise bad_payload(f"data.type must be {RESOURCE_TYPE}")
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise bad_payload("data.attributes must be an object")
    for name in attributes:
        if name not in WRITABLE_ATTRIBUTES:
            raise forbidden_attribute(name, RESOURCE_TYPE)
    for name in ("name", "url"):
        if name in attributes or creating:
            value = attributes.get(name)
            if not isinstance(value, str) or not value.strip():
                raise validation_error(name, f"{name.capitalize()} can't be blank", RESOURCE_TYPE)
    if "url" in attributes:
        parts = urlsplit(attributes["url"])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise validation_error("url", "Url is invalid", RESOURCE_TYPE)
    if "active" in attributes and not isinstance(attributes["active"], bool):
        raise validation_error("active", "Active must be true or false", RESOURCE_TYPE)
    return attributes


def webhooks_blueprint(hub: WebhookHub) -> flask.Blueprint:
    """The Webhooks API (mount as is: its url_prefix is /webhooks/v2); auth is the app's business."""
    blueprint = flask.Blueprint("pco_webhooks", __name__, url_prefix="/webhooks/v2")
    blueprint.register_error_handler(ApiError, lambda err: err.to_response())

    def found(subscription_id: str) -> Subscription:
        subscription = hub.get_subscription(subscription_id)
        if subscription is None:
            raise not_found()
        return subscription

    def one(subscription: Subscription, status: int = 200) -> flask.Response:
        return json_response({"data": subscription.resource(_base_url()), "included": [], "meta": {}}, status)

    def list_subscriptions() -> flask.Response:
        subscriptions = sorted(hub.subscriptions(), key=lambda s: int(s.id))
        name = flask.request.args.get("where[name]")
        if name is not None:
            subscriptions = [s for s in subscriptions if s.name.casefold() == name.casefold()]
        active = flask.request.args.get("where[active]")
        if active is not None:
            subscriptions = [s for s in subscriptions if str(s.active).lower() == active.lower()]
        return json_response(_list_document(subscriptions))

    def create_subscription() -> flask.Response:
        attributes = _attributes_of(flask.request.get_json(silent=True), creating=True)
        for existing in hub.subscriptions():
            if existing.name == attributes["name"] and existing.url == attributes["url"]:
                raise validation_error("name", "Name has already been taken for this url", RESOURCE_TYPE)
        created = hub.create_subscription(
            attributes["name"], attributes["url"], active=attributes.get("active", True)
        )
        return one(created, 201)

    def show_subscription(subscription_id: str) -> flask.Response:
        return one(found(subscription_id))

    def update_subscription(subscription_id: str) -> flask.Response:
        found(subscription_id)
        attributes = _attributes_of(flask.request.get_json(silent=True), creating=False)
        updated = hub.update_subscription(subscription_id, **attributes)
        if updated is None:  # deleted meanwhile
            raise not_found()
        return one(updated)

    def delete_subscription(subscription_id: str) -> flask.Response:
        if not hub.delete_subscription(subscription_id):
            raise not_found()
        return flask.Response(status=204)

    def rotate_secret(subscription_id: str) -> flask.Response:
        rotated = hub.rotate_secret(subscription_id)
        if rotated is None:
            raise not_found()
        return one(rotated)

    for collection in COLLECTIONS:
        base = f"/{collection}"
        blueprint.add_url_rule(base, f"{collection}_list", list_subscriptions, methods=["GET"])
        blueprint.add_url_rule(base, f"{collection}_create", create_subscription, methods=["POST"])
        item = f"{base}/<subscription_id>"
        blueprint.add_url_rule(item, f"{collection}_show", show_subscription, methods=["GET"])
        blueprint.add_url_rule(item, f"{collection}_update", update_subscription, methods=["PATCH"])
        blueprint.add_url_rule(item, f"{collection}_delete", delete_subscription, methods=["DELETE"])
        blueprint.add_url_rule(
            f"{item}/rotate_secret", f"{collection}_rotate", rotate_secret, methods=["POST"]
        )
    return blueprint
