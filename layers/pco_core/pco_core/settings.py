"""Each Lambda's environment as a validated model: a missing setting fails at start with its name."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pco_core.errors import ConfigError
from pco_core.records import ConflictPolicy

DEFAULT_ROLE_PERMISSIONS = {"TECH_ADMIN": ["pco.manage"]}


class _Env(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        source = os.environ if env is None else env
        values = {name: source[name.upper()] for name in cls.model_fields if name.upper() in source}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = ", ".join(
                f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"invalid Lambda environment: {problems}") from None


class ConflictEnv(_Env):
    # What a field both sides changed differently keeps (template parameter ConflictPolicy).
    conflict_policy: ConflictPolicy


class StoreEnv(_Env):
    records_table: str = Field(min_length=1)
    state_table: str = Field(min_length=1)


class PcoEnv(_Env):
    pco_secret_arn: str = Field(min_length=1)
    pco_base_url: str = Field(min_length=1)


class RunEnv(_Env):
    state_table: str = Field(min_length=1)
    sync_state_machine_arn: str = Field(min_length=1)
    run_lease_seconds: int = Field(default=900, ge=60)


class ScheduleEnv(_Env):
    # The scheduled Full Sync and Incremental Sync as the template gives them to EventBridge Scheduler (its
    # SyncSchedule, IncrementalSyncSchedule, their *Enabled flags and the shared SyncScheduleTimezone), so
    # the admin page shows what really fires.
    sync_schedule: str = Field(min_length=1)
    sync_schedule_timezone: str = Field(min_length=1)
    sync_schedule_enabled: bool
    incremental_sync_schedule: str = Field(min_length=1)
    incremental_sync_schedule_enabled: bool


class AdminApiEnv(StoreEnv, PcoEnv, RunEnv, ScheduleEnv, ConflictEnv):
    # The longest single Wait a run's state machine makes for PCO's rate limit (tests pass 0).
    run_max_wait_seconds: int = Field(default=300, ge=0, le=3600)
    role_permissions: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_ROLE_PERMISSIONS))
    # What the admin page shows to paste into PCO's webhook settings (the webhook API's URL + /webhooks/pco).
    webhook_url: str = Field(min_length=1)
    # Where deliveries the worker failed five times wait (counted on the admin page, replayed from it).
    webhook_dlq_url: str = Field(min_length=1)

    @field_validator("role_permissions", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("must be a JSON object of role -> [permissions]") from None
        return value


class SyncPageEnv(StoreEnv, PcoEnv, ConflictEnv):
    run_lease_seconds: int = Field(default=900, ge=60)


class RunStepEnv(RunEnv):
    pass


class ScheduledSyncEnv(RunEnv):
    run_max_wait_seconds: int = Field(default=300, ge=0, le=3600)


class WebhookEnv(_Env):
    state_table: str = Field(min_length=1)
    pco_secret_arn: str = Field(min_length=1)
    webhook_queue_url: str = Field(min_length=1)


class WebhookWorkerEnv(StoreEnv, PcoEnv, ConflictEnv):
    # PCO is read once per person_merger.created whose kept person we do not know (confirmed before linking).
    pass
