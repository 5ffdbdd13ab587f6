"""Fixtures of the PCO client tests."""

from __future__ import annotations

import pytest

from tests.unit.pco.support import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
