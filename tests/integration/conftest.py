"""Integration fixtures: a seeded PCO sandbox over HTTP and the local stack in-process on top of it."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox, start_sandbox

APP_ID = "it-app-id"
SECRET = "it-secret"
WEBHOOK_SECRET = "it-webhook-secret"
SANDBOX_PEOPLE = 300
SANDBOX_SEED = 7


# Generous, so the suite's own reads never collide with a run's; PCO's real limit is exercised by the
# sandbox's tests, the 429 burst test here and `make bench`.
SANDBOX_RATE_LIMIT = (1000, 20)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """A seeded PCO sandbox served over HTTP on 127.0.0.1, shared by the session."""
    running = start_sandbox(
        port=0,
        people=SANDBOX_PEOPLE,
        seed=SANDBOX_SEED,
        app_id=APP_ID,
        secret=SECRET,
        rate_limit=SANDBOX_RATE_LIMIT,
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def stack(sandbox: RunningSandbox) -> Iterator[LocalStack]:
    """A fresh local stack (empty tables, new handler modules) talking to the session's sandbox.

    Rate-limit Waits are capped at 1 s so a 429 is really waited out in the state machine, briefly.
    """
    with LocalStack.start(
        sandbox.url,
        APP_ID,
        SECRET,
        webhook_secret=WEBHOOK_SECRET,
        extra_env={"RUN_MAX_WAIT_SECONDS": "1"},
    ) as local:
        yield local


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Step Functions really sleeps between retries (2 s, 4 s, ...): the path matters, not the time."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None))
