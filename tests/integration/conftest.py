"""Integration fixtures: a seeded PCO sandbox over HTTP and the local stack in-process on top of it."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from tests.stack import running_sandbox, running_stack

SANDBOX_PEOPLE = 300
SANDBOX_SEED = 7


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningSandbox]:
    """A seeded PCO sandbox served over HTTP on 127.0.0.1, shared by the session."""
    with running_sandbox(SANDBOX_PEOPLE, SANDBOX_SEED) as running:
        yield running


@pytest.fixture
def stack(sandbox: RunningSandbox) -> Iterator[LocalStack]:
    """A fresh local stack talking to the session's sandbox."""
    with running_stack(sandbox) as local:
        yield local


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's Step Functions really sleeps between retries (2 s, 4 s, ...): the path matters, not the time."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None))
