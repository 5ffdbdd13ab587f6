"""The webhook worker's logic: one queued PCO event routed by its subject to the applier of that record
kind (webhooks/appliers/), each calling the same merges the pull uses, so a webhook and a pull agree.

Echoes of our own pushes hash the same as the record's `sync.pco_hash` and are skipped. Nothing is ever
deleted: destroyed PCO records unlink their local records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Protocol

from aws_lambda_powertools import Logger

from pco_core.clock import Clock
from pco_core.engine.ports import Records
from pco_core.errors import SkippableRecordError
from pco_core.observability import Metric, count
from pco_core.pco.jsonapi import Document
from pco_core.records import ConflictPolicy
from pco_core.settings import WebhookWorkerEnv
from pco_core.webhooks.appliers.contacts import ADDRESS, EMAIL, PHONE_NUMBER, ContactApplier
from pco_core.webhooks.appliers.group import GroupApplier, MembershipApplier
from pco_core.webhooks.appliers.household import HouseholdApplier
from pco_core.webhooks.appliers.merger import PersonMergerApplier
from pco_core.webhooks.appliers.person import PersonApplier
from pco_core.webhooks.event import Applied, Applier, ApplierPorts, Event, PcoReader, WebhookTrailPort
from pco_core.webhooks.receive import QueuedDelivery, parse_payload

logger = Logger(child=True)

FINISHED: frozenset[str] = frozenset({"applied", "skipped", "stale", "unknown"})
ACTIONS: frozenset[str] = frozenset({"created", "updated", "destroyed"})
# WebhookQueue's RedrivePolicy maxReceiveCount (template.yaml): SQS moves a message that failed on its
# fifth receive to the dead-letter queue.
DEAD_LETTER_AFTER_RECEIVES = 5
_OUTCOME_METRICS = {"applied": Metric.WEBHOOKS_APPLIED, "stale": Metric.WEBHOOKS_STALE}


class DeliveryOutcomes(Protocol):
    def get(self, delivery_id: str) -> dict[str, object] | None: ...

    def finish(
        self, delivery_id: str, name: str, outcome: str, detail: str, at: datetime, *, resource: str = ""
    ) -> None: ...


def apply_queued(
    body: str, applier: WebhookApplier, log: DeliveryOutcomes, *, receive_count: int = 1
) -> Applied:
    """One SQS message (received `receive_count` times so far): the delivery applied once and its outcome
    logged. A message that is not a queued delivery raises (pydantic's ValidationError), as does any failure
    to apply it, so the batch reports it failed and SQS retries it, then moves it to the dead-letter queue."""
    try:
        return _apply_queued(body, applier, log)
    except Exception:
        if receive_count >= DEAD_LETTER_AFTER_RECEIVES:
            count(Metric.WEBHOOKS_DEAD_LETTERED)
            logger.exception("webhook delivery failed for the last time: SQS dead-letters it")
        raise


def _apply_queued(body: str, applier: WebhookApplier, log: DeliveryOutcomes) -> Applied:
    message = QueuedDelivery.model_validate_json(body)
    logged = log.get(message.delivery_id)
    if logged is not None and logged.get("status") in FINISHED:
        # SQS delivers at least once: a second copy of a finished delivery changes nothing.
        return Applied("skipped", f"delivery already {logged.get('status')}")
    result = applier.apply(message.name, message.text(), message.delivery_id)
    log.finish(
        message.delivery_id,
        message.name,
        result.outcome,
        result.detail,
        applier.clock(),
        resource=result.resource,
    )
    logger.info(
        "webhook delivery applied",
        extra={"delivery_id": message.delivery_id, "event": message.name, "outcome": result.outcome},
    )
    count(_OUTCOME_METRICS.get(result.outcome, Metric.WEBHOOKS_SKIPPED))
    return result


def event_subject(name: str) -> tuple[str, str]:
    """`people.v2.events.email.created` -> ("email", "created")."""
    tail = name.rsplit(".events.", 1)[-1]
    subject, _, action = tail.rpartition(".")
    return subject, action


def _event_time(document: Document) -> datetime | None:
    value = document.meta.get("event_time")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def appliers_for(ports: ApplierPorts) -> dict[str, Applier]:
    """The dispatch table: event subject -> the applier of that PCO record kind."""
    return {
        "person": PersonApplier(ports),
        "person_merger": PersonMergerApplier(ports),
        "email": ContactApplier(ports, EMAIL),
        "phone_number": ContactApplier(ports, PHONE_NUMBER),
        "address": ContactApplier(ports, ADDRESS),
        "household": HouseholdApplier(ports),
        "group": GroupApplier(ports),
        "membership": MembershipApplier(ports),
    }


@dataclass
class WebhookApplier:
    """Applies one event; returns what it did for the delivery log."""

    records: Records
    trail: WebhookTrailPort
    clock: Clock
    policy: ConflictPolicy = "review"
    pco: Callable[[], PcoReader] | None = None
    appliers: dict[str, Applier] = field(init=False)

    def __post_init__(self) -> None:
        self.appliers = appliers_for(ApplierPorts(self.records, self.trail, self.policy, self.pco))

    @classmethod
    def from_env(cls, env: WebhookWorkerEnv) -> WebhookApplier:
        """The deployed wiring: the records and state tables, and PCO opened (credentials read) when first
        needed."""
        # Imported here so the applier logic (and its tests) never load boto3 or open a connection.
        from pco_core.clock import utc_now
        from pco_core.pco.client import PcoClient
        from pco_core.store.deliveries import WebhookTrail
        from pco_core.store.records import RecordStore
        from pco_core.store.secrets import load_pco_credentials

        @cache
        def pco() -> PcoClient:
            credentials = load_pco_credentials(env.pco_secret_arn)
            return PcoClient(env.pco_base_url, credentials.app_id, credentials.secret.get_secret_value())

        return cls(
            RecordStore(env.records_table),
            WebhookTrail(env.state_table),
            utc_now,
            policy=env.conflict_policy,
            pco=pco,
        )

    def apply(self, name: str, payload: str, delivery_id: str) -> Applied:
        try:
            document, resource = parse_payload(payload)
        except ValueError as exc:
            return Applied("skipped", f"unreadable payload: {exc}")
        subject, action = event_subject(name)
        applier = self.appliers.get(subject)
        if applier is None or action not in ACTIONS:
            result = Applied("unknown", f"event {name} is not handled")
        else:
            event = Event(
                document, resource, action, _event_time(document), f"webhook:{delivery_id}", self.clock()
            )
            try:
                result = applier.apply(event)
            except SkippableRecordError as exc:
                result = Applied("skipped", str(exc))
        return replace(result, resource=f"{resource.type} {resource.id}")
