"""resources.py: the template's resources really exist on moto, with their keys, TTL, policies and env."""

from __future__ import annotations

import json

import boto3
import pytest

from local.stack.resources import create_resources
from local.stack.template import Template
from tests.unit.stack.conftest import FIXTURE_TEMPLATE, PARAMS, REAL_TEMPLATE


def test_given_the_fixture_template_when_created_then_moto_holds_every_resource(aws: None) -> None:
    res = create_resources(
        FIXTURE_TEMPLATE,
        boto_session_or_endpoint=None,
        params={**PARAMS, "Undeclared": "ignored"},
        env_overrides={"PCO_BASE_URL": "http://127.0.0.1:4010"},
    )
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")

    table = ddb.describe_table(TableName=res.tables["DataTable"])["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "kind-index"
    ttl = ddb.describe_time_to_live(TableName=res.tables["DataTable"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    assert res.tables["NamedTable"] == "pco-sync-local-named"

    secret = json.loads(sm.get_secret_value(SecretId=res.secrets["Credentials"])["SecretString"])
    assert secret == {"app_id": "app-1", "secret": "s3cret", "webhook_secret": "hook"}

    dlq_arn = sqs.get_queue_attributes(QueueUrl=res.queues["DeadLetters"], AttributeNames=["QueueArn"])
    work = sqs.get_queue_attributes(QueueUrl=res.queues["WorkQueue"], AttributeNames=["All"])["Attributes"]
    assert work["VisibilityTimeout"] == "60"
    assert json.loads(work["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn["Attributes"]["QueueArn"]

    machine = boto3.client("stepfunctions", region_name="us-east-1").describe_state_machine(
        stateMachineArn=res.state_machines["LoopMachine"]
    )
    assert machine["name"] == "pco-sync-local-loop"

    env = res.function_env("EchoFunction")
    # The secret's real ARN (moto adds a random suffix) and the queue's real URL reach the functions.
    assert env["SECRET_ARN"] == res.secrets["Credentials"]
    assert env["QUEUE_URL"] == res.queues["WorkQueue"]
    assert env["PCO_BASE_URL"] == "http://127.0.0.1:4010"
    assert res.shared_environment()["DATA_TABLE"] == res.tables["DataTable"]


def test_functions_disagreeing_on_a_variable_cannot_share_one_environment(aws: None) -> None:
    template = Template.load(FIXTURE_TEMPLATE)
    template.doc["Resources"]["OtherFunction"]["Properties"]["Environment"]["Variables"]["DATA_TABLE"] = (
        "other"
    )
    res = create_resources(template, boto_session_or_endpoint=None, params=PARAMS)

    with pytest.raises(ValueError, match="DATA_TABLE"):
        res.shared_environment()


def test_the_real_template_creates_the_contract_tables(aws: None) -> None:
    if not REAL_TEMPLATE.exists():
        return
    res = create_resources(REAL_TEMPLATE, boto_session_or_endpoint=None, params=PARAMS)
    env = res.shared_environment()

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    assert ddb.describe_table(TableName=env["RECORDS_TABLE"])["Table"]["GlobalSecondaryIndexes"]
    ttl = ddb.describe_time_to_live(TableName=env["STATE_TABLE"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"
    assert env["SYNC_STATE_MACHINE_ARN"] in res.state_machines.values()
    assert env["PCO_SECRET_ARN"] in res.secrets.values()
