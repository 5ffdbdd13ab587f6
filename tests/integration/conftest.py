"""Integration fixtures: a seeded PCO sandbox over HTTP and the local stack in-process on top of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.stack.harness import LocalStack

APP_ID = "it-app-id"
SECRET = "it-secret"
WEBHOOK_SECRET = "it-webhook-secret"
SANDBOX_PEOPLE = 300
SANDBOX_SEED = 7


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """The sandbox object (A's Sandbox) with `.url` set to where it is served; shared by the session."""
    pytest.importorskip("local.sandbox.generator", reason="the PCO sandbox is not written yet")
    from local.stack.pco_sandbox import start_sandbox

    url, stop, box = start_sandbox(
        port=0, people=SANDBOX_PEOPLE, seed=SANDBOX_SEED, app_id=APP_ID, secret=SECRET
    )
    try:
        yield SandboxHandle(url, box)
    finally:
        stop()


class SandboxHandle:
    def __init__(self, url: str, sandbox: Any) -> None:
        self.url = url
        self.sandbox = sandbox


@pytest.fixture
def stack(sandbox: SandboxHandle) -> Iterator[LocalStack]:
    """A fresh local stack (empty tables, new handler modules) talking to the session's sandbox."""
    with LocalStack.start(sandbox.url, APP_ID, SECRET, webhook_secret=WEBHOOK_SECRET) as local:
        yield local
