"""The webhook Lambda as deployed: settings from the environment, the webhook secret from Secrets Manager."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from local.sandbox.webhooks import sign
from pco_core.webhooks.receive import webhook_secret_of
from tests.unit.store.tables import REGION
from tests.unit.webhooks.conftest import SECRET, http_event, queued_messages
from tests.unit.webhooks.test_worker import FakeContext

ROOT = Path(__file__).resolve().parents[3]
BODY = json.dumps(
    {
        "data": [
            {
                "id": "d-42",
                "type": "EventDelivery",
                "attributes": {
                    "name": "people.v2.events.person.created",
                    "attempt": 1,
                    "payload": json.dumps({"data": {"type": "Person", "id": "1", "attributes": {}}}),
                },
            }
        ]
    }
).encode()


def _webhook_module(
    monkeypatch: pytest.MonkeyPatch, state_table: str, queue_url: str, webhook_secret: str
) -> Iterator[ModuleType]:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name="pco-credentials",
        SecretString=json.dumps({"app_id": "app", "secret": "s", "webhook_secret": webhook_secret}),
    )["ARN"]
    for name, value in {
        "STATE_TABLE": state_table,
        "PCO_SECRET_ARN": arn,
        "WEBHOOK_QUEUE_URL": queue_url,
    }.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    spec = importlib.util.spec_from_file_location("webhook_app", ROOT / "functions/webhook/app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    module.deps.cache_clear()
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch, state_table: str, queue_url: str) -> Iterator[ModuleType]:
    yield from _webhook_module(monkeypatch, state_table, queue_url, SECRET)


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch, state_table: str, queue_url: str) -> Iterator[ModuleType]:
    yield from _webhook_module(monkeypatch, state_table, queue_url, "  ")


def test_a_signed_delivery_is_queued_by_the_deployed_handler(
    webhook: ModuleType, sqs: Any, queue_url: str
) -> None:
    answer = webhook.handler(
        http_event(BODY, {"X-PCO-Webhooks-Authenticity": sign(SECRET, BODY)}), FakeContext()
    )
    assert answer["statusCode"] == 200
    assert [m["delivery_id"] for m in queued_messages(sqs, queue_url)] == ["d-42"]


def test_a_blank_webhook_secret_refuses_every_delivery(
    unconfigured: ModuleType, sqs: Any, queue_url: str
) -> None:
    answer = unconfigured.handler(
        http_event(BODY, {"X-PCO-Webhooks-Authenticity": sign("", BODY)}), FakeContext()
    )
    assert answer["statusCode"] == 401
    assert queued_messages(sqs, queue_url) == []


def test_the_deployed_handler_flushes_its_metrics_in_the_templates_namespace(
    webhook: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the namespace template.yaml gives every function
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ChurchSync")
    capsys.readouterr()
    # When a delivery with a wrong signature arrives
    answer = webhook.handler(http_event(BODY, {"X-PCO-Webhooks-Authenticity": "0" * 64}), FakeContext())
    # Then the handler, on its way out, printed one EMF line counting one refused delivery
    assert answer["statusCode"] == 401
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith('{"_aws"')]
    (line,) = lines
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ChurchSync"
    assert [m["Name"] for m in directive["Metrics"]] == ["WebhookDeliveriesRefused"]
    assert line["WebhookDeliveriesRefused"] in (1.0, [1.0])


@pytest.mark.parametrize(
    ("secret_json", "expected"),
    [
        ({"webhook_secret": " abc "}, "abc"),
        ({"webhook_secret": ""}, None),
        ({"webhook_secret": None}, None),
        ({}, None),
        ("not an object", None),
    ],
)
def test_webhook_secret_of(secret_json: object, expected: str | None) -> None:
    assert webhook_secret_of(secret_json) == expected
