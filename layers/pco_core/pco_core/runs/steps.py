"""The state machine's bookkeeping steps: fail a run with the error it caught, or continue it anew."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, RootModel

from pco_core import errors
from pco_core.runs.service import RunService
from pco_core.settings import RunStepEnv
from pco_core.store.connection_checks import ConnectionCheck, ConnectionChecks, refused_check

MAX_ERROR_LENGTH = 500
GAVE_UP = " (still failing after the retries; Resume goes on from the last committed page)"


class CaughtError(BaseModel):
    """What a Step Functions Catch puts at ResultPath: the error name and its cause."""

    model_config = ConfigDict(populate_by_name=True)

    error: str = Field(alias="Error")
    cause: str | None = Field(default=None, alias="Cause")

    def describe(self) -> str:
        """A one-line reason for the run history: the error's name (the page's sentences key on it), the
        Lambda's errorMessage when the cause carries one, and, unless the error is fatal (never retried),
        that the state machine retried before giving up."""
        message = self.cause or ""
        try:
            parsed: Any = json.loads(message)
        except (json.JSONDecodeError, TypeError):
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
            message = parsed["errorMessage"]
        text = f"{self.error}: {message}" if message else self.error
        fatal = getattr(errors, self.error, None)
        suffix = "" if isinstance(fatal, type) and issubclass(fatal, errors.FatalError) else GAVE_UP
        return text[: MAX_ERROR_LENGTH - len(suffix)] + suffix


class FailStep(BaseModel):
    action: Literal["fail"]
    run_id: str
    error: CaughtError


class ContinueStep(BaseModel):
    action: Literal["continue"]
    run_id: str
    max_wait_seconds: int = Field(ge=0)


class RunStep(RootModel[Annotated[FailStep | ContinueStep, Field(discriminator="action")]]):
    pass


class ConnectionChecksPort(Protocol):
    def record(self, check: ConnectionCheck) -> None: ...


@dataclass(frozen=True)
class RunSteps:
    runs: RunService
    checks: ConnectionChecksPort

    @classmethod
    def from_env(cls, env: RunStepEnv) -> RunSteps:
        return cls(RunService.from_env(env), ConnectionChecks(env.state_table))

    def apply(self, step: FailStep | ContinueStep) -> dict[str, Any]:
        if isinstance(step, FailStep):
            self.runs.fail_run(step.run_id, step.error.describe())
            if step.error.error == errors.PcoAuthError.__name__:
                # The connection card says the credentials were refused until a test succeeds.
                self.checks.record(refused_check(step.run_id, self.runs.clock()))
            return {"run_id": step.run_id, "status": "FAILED"}
        return {
            "run_id": step.run_id,
            "execution_arn": self.runs.continue_run(step.run_id, step.max_wait_seconds),
        }
