"""What the admin API works with, built once per Lambda container from its environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pco_core.clock import Clock, utc_now
from pco_core.connection import PcoConnection
from pco_core.runs.schedule_info import ScheduledRun, deployment_schedules
from pco_core.runs.service import RunService
from pco_core.settings import AdminApiEnv
from pco_core.store.deliveries import DeliveryLog
from pco_core.store.queue import DeadLetterQueue
from pco_core.store.records import RecordStore


@dataclass(frozen=True)
class AdminServices:
    runs: RunService
    records: RecordStore
    role_permissions: Mapping[str, list[str]]
    connection: PcoConnection
    deliveries: DeliveryLog
    dead_letters: DeadLetterQueue
    # When local record edits happen (their `updated_at`), and what the schedule's next start counts from.
    clock: Clock = field(default=utc_now)
    # The deployment's schedules (none: not configured, e.g. in tests that do not need them).
    schedules: list[ScheduledRun] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: AdminApiEnv) -> AdminServices:
        return cls(
            runs=RunService.from_env(env, max_wait_seconds=env.run_max_wait_seconds),
            records=RecordStore(env.records_table),
            role_permissions=env.role_permissions,
            connection=PcoConnection.from_env(env),
            deliveries=DeliveryLog(env.state_table),
            dead_letters=DeadLetterQueue(env.webhook_dlq_url),
            schedules=deployment_schedules(env),
        )
