"""The one place Powertools' logger, tracer and metrics are created, and the names of every metric we emit.

Service name and metrics namespace come from the environment (POWERTOOLS_SERVICE_NAME,
POWERTOOLS_METRICS_NAMESPACE), which template.yaml sets from its ServiceName and MetricsNamespace
parameters. Metrics are CloudWatch EMF lines: handlers flush them with `@metrics.log_metrics`; the run
outcomes, which carry their run type as a dimension, are written at once (`count_run`).
"""

from __future__ import annotations

import os
import threading
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider


class Metric(StrEnum):
    RUNS_STARTED = "RunsStarted"
    RUNS_COMPLETED = "RunsCompleted"
    RUNS_FAILED = "RunsFailed"
    RUNS_CANCELLED = "RunsCancelled"
    PAGES = "Pages"
    RECORDS_CREATED = "RecordsCreated"
    RECORDS_UPDATED = "RecordsUpdated"
    RECORDS_SKIPPED = "RecordsSkipped"
    RECORDS_FAILED = "RecordsFailed"
    PCO_REQUESTS = "PcoRequests"
    PCO_RATE_LIMITED = "PcoRateLimited"
    PCO_READS_RETRIED = "PcoReadsRetried"
    WEBHOOKS_RECEIVED = "WebhookDeliveriesReceived"
    WEBHOOKS_REFUSED = "WebhookDeliveriesRefused"
    WEBHOOKS_APPLIED = "WebhookDeliveriesApplied"
    WEBHOOKS_STALE = "WebhookDeliveriesStale"
    WEBHOOKS_SKIPPED = "WebhookDeliveriesSkipped"
    WEBHOOKS_DEAD_LETTERED = "WebhookDeliveriesDeadLettered"


RUN_TYPE_DIMENSION = "RunType"
# The template's MetricsNamespace default: metrics counted before the environment names a namespace (a
# module imported early by a local tool) still have one, so counting never breaks the work it counts.
DEFAULT_NAMESPACE = "PcoSync"


class _SharedEmf(AmazonCloudWatchEMFProvider):
    """Powertools' EMF provider with one lock around adding and flushing.

    Lambda runs one invocation per process at a time; the local stack runs every handler in one process on
    several threads, where one handler's flush would otherwise iterate the metric set while another adds.
    A flush with nothing counted prints nothing (and warns about nothing)."""

    _lock = threading.RLock()

    def add_metric(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self._resolve()
            super().add_metric(*args, **kwargs)

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        with self._lock:
            self._resolve()
            if self.metric_set or raise_on_empty_metrics:
                super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)

    def _resolve(self) -> None:
        """Namespace and service as the environment says now (it may be set after this module's import)."""
        self.namespace = os.getenv("POWERTOOLS_METRICS_NAMESPACE") or self.namespace or DEFAULT_NAMESPACE
        self.service = os.getenv("POWERTOOLS_SERVICE_NAME") or self.service


logger = Logger()
tracer = Tracer()
_emf = _SharedEmf()
metrics = Metrics(provider=_emf)


def count(metric: Metric, value: int = 1) -> None:
    """Add `value` to `metric` in this invocation's metric set (flushed by the handler's log_metrics)."""
    if value:
        metrics.add_metric(name=metric.value, unit=MetricUnit.Count, value=value)


def count_run(metric: Metric, run_type: str) -> None:
    """One run outcome, by run type: written at once, as its own EMF line with the RunType dimension."""
    _emf._resolve()
    with single_metric(name=metric.value, unit=MetricUnit.Count, value=1, namespace=_emf.namespace) as single:
        single.add_dimension(name=RUN_TYPE_DIMENSION, value=run_type)
        if _emf.service:
            single.add_dimension(name="service", value=str(_emf.service))
