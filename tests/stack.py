"""The one way tests start a seeded PCO sandbox over HTTP and the local stack in-process on top of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox, start_sandbox

APP_ID = "it-app-id"
SECRET = "it-secret"
WEBHOOK_SECRET = "it-webhook-secret"
ADMIN = "TECH_ADMIN"
# Generous, so the suite's own reads never collide with a run's; PCO's real limit is exercised by the
# sandbox's tests, the 429 burst test and `make bench`.
SANDBOX_RATE_LIMIT = (1000, 20)


@contextmanager
def running_sandbox(people: int, seed: int) -> Iterator[RunningSandbox]:
    """A seeded sandbox on 127.0.0.1 that signs webhook deliveries with the stack's webhook secret."""
    running = start_sandbox(
        port=0,
        people=people,
        seed=seed,
        app_id=APP_ID,
        secret=SECRET,
        webhook_secret=WEBHOOK_SECRET,
        rate_limit=SANDBOX_RATE_LIMIT,
    )
    try:
        yield running
    finally:
        running.stop()


@contextmanager
def running_stack(sandbox: RunningSandbox) -> Iterator[LocalStack]:
    """A fresh local stack (empty tables, new handler modules) talking to `sandbox`.

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


def run_to_end(stack: LocalStack, run_type: str, *, timeout: float = 180) -> dict[str, Any]:
    """Start a run through the admin API as a tech admin and wait for it to end; the run as it ended."""
    status, run = stack.api("POST", "/api/runs", json={"type": run_type}, role=ADMIN)
    assert status == 202, run
    stack.wait_for_run(run["id"], timeout=timeout)
    status, final = stack.api("GET", f"/api/runs/{run['id']}", role=ADMIN)
    assert status == 200, final
    return dict(final)
