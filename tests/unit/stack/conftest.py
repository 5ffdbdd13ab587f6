"""Fixtures of the local stack's unit tests: the fixture template and an in-process moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from local.stack.template import Template

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"
REAL_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
PARAMS = {"PcoAppId": "app-1", "PcoSecret": "s3cret", "PcoWebhookSecret": "hook"}


@pytest.fixture
def fixture_template() -> Template:
    return Template.load(FIXTURE_TEMPLATE, parameters=PARAMS)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):  # type: ignore[call-overload]
        yield
