"""The push tests' PCO (the sandbox in-process) and local records (in memory)."""

from __future__ import annotations

import pytest

from tests.unit.fakes import FakeRecords
from tests.unit.push.sandbox_pco import Pco


@pytest.fixture
def pco() -> Pco:
    return Pco()


@pytest.fixture
def records() -> FakeRecords:
    return FakeRecords()
