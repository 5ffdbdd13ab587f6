"""PCO credentials from Secrets Manager: validated, cached, and never shown."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from pco_core.errors import ConfigError
from pco_core.store.secrets import PcoCredentials, load_pco_credentials, parse_pco_credentials
from tests.unit.store.tables import REGION

APP_ID = "app-id-123"
SECRET = "s3cr3t-pat-value"
WEBHOOK_SECRET = "whsec-value-456"


@pytest.fixture
def secrets(aws: None) -> Iterator[Any]:
    parameters.clear_caches()
    yield boto3.client("secretsmanager", region_name=REGION)
    parameters.clear_caches()


def put(client: Any, value: str) -> str:
    return client.create_secret(Name="pco-sync/pco", SecretString=value)["ARN"]


def test_credentials_load_from_the_secret(secrets):
    arn = put(secrets, json.dumps({"app_id": APP_ID, "secret": SECRET, "webhook_secret": WEBHOOK_SECRET}))
    creds = load_pco_credentials(arn)
    assert creds.app_id == APP_ID
    assert creds.secret.get_secret_value() == SECRET
    assert creds.webhook_secret is not None
    assert creds.webhook_secret.get_secret_value() == WEBHOOK_SECRET


def test_the_secret_is_cached_between_calls(secrets):
    arn = put(secrets, json.dumps({"app_id": APP_ID, "secret": SECRET}))
    assert load_pco_credentials(arn).webhook_secret is None
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"app_id": "changed", "secret": SECRET}))
    assert load_pco_credentials(arn).app_id == APP_ID  # within max_age: no second fetch


def test_repr_str_and_dumps_never_show_the_secrets(caplog):
    creds = PcoCredentials(app_id=APP_ID, secret=SECRET, webhook_secret=WEBHOOK_SECRET)
    logging.getLogger("test").warning("creds %s %r", creds, creds)
    shown = [
        repr(creds),
        str(creds),
        creds.model_dump_json(),
        json.dumps(creds.model_dump(mode="json")),
        caplog.text,
    ]
    for text in shown:
        assert SECRET not in text
        assert WEBHOOK_SECRET not in text


def test_a_blank_webhook_secret_is_none():
    assert (
        parse_pco_credentials({"app_id": APP_ID, "secret": SECRET, "webhook_secret": "  "}).webhook_secret
        is None
    )


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"secret": SECRET}, "app_id (missing)"),
        ({"app_id": APP_ID}, "secret (missing)"),
        ({"app_id": APP_ID, "secret": ""}, "secret (malformed)"),
        ({"app_id": APP_ID, "secret": SECRET, "webhook_secret": 12345}, "webhook_secret (malformed)"),
    ],
)
def test_a_malformed_secret_names_the_field_but_never_a_value(data, named):
    with pytest.raises(ConfigError) as caught:
        parse_pco_credentials(data)
    message = str(caught.value)
    assert named in message
    assert SECRET not in message
    assert APP_ID not in message
    assert "12345" not in message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_a_secret_that_is_not_a_json_object_is_a_config_error(secrets):
    arn = put(secrets, f"app_id={APP_ID} secret={SECRET}")
    with pytest.raises(ConfigError, match="not valid JSON") as caught:
        load_pco_credentials(arn)
    assert SECRET not in str(caught.value)


def test_a_secret_that_is_json_but_not_an_object_is_a_config_error(secrets):
    arn = put(secrets, json.dumps([APP_ID, SECRET]))
    with pytest.raises(ConfigError, match="JSON object") as caught:
        load_pco_credentials(arn)
    assert SECRET not in str(caught.value)


def test_a_missing_secret_is_a_config_error(secrets):
    with pytest.raises(ConfigError, match="could not be read"):
        load_pco_credentials("arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf")
