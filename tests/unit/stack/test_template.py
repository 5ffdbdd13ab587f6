"""template.py: resources found by Type, intrinsics resolved against the local stack context."""

from __future__ import annotations

import json

import pytest

from local.stack.template import HttpRoute, Template, TemplateError
from tests.unit.stack.conftest import FIXTURE_TEMPLATE, PARAMS, REAL_TEMPLATE


def test_given_the_fixture_template_then_tables_carry_keys_gsis_and_ttl(fixture_template: Template) -> None:
    tables = {t.logical_id: t for t in fixture_template.tables()}

    data = tables["DataTable"]
    assert data.name == "pco-sync-local-DataTable"
    assert data.key_schema == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert [g["IndexName"] for g in data.global_secondary_indexes] == ["kind-index"]
    assert data.ttl_attribute == "expires_at"
    assert data.billing_mode == "PAY_PER_REQUEST"
    named = tables["NamedTable"]
    assert named.name == "pco-sync-local-named"
    assert named.ttl_attribute is None
    assert named.provisioned_throughput == {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}


def test_secret_string_is_the_templates_json_with_the_parameters(fixture_template: Template) -> None:
    (secret,) = fixture_template.secrets()

    assert secret.name == "pco-sync-local/pco-credentials"
    assert json.loads(secret.secret_string or "") == {
        "app_id": "app-1",
        "secret": "s3cret",
        "webhook_secret": "hook",
    }


def test_queues_skip_false_conditions_and_keep_redrive_with_the_dlq_arn(fixture_template: Template) -> None:
    queues = {q.logical_id: q for q in fixture_template.queues()}

    assert set(queues) == {"DeadLetters", "WorkQueue"}
    assert queues["WorkQueue"].attributes == {"VisibilityTimeout": "60"}
    assert queues["WorkQueue"].redrive_policy == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:pco-sync-local-DeadLetters",
        "maxReceiveCount": 3,
    }


def test_a_true_condition_brings_its_resources_and_if_branches() -> None:
    template = Template.load(FIXTURE_TEMPLATE, parameters={**PARAMS, "Stage": "prod"})

    assert "ProdOnlyQueue" in {q.logical_id for q in template.queues()}
    echo = next(f for f in template.functions() if f.logical_id == "EchoFunction")
    assert echo.environment["OPTIONAL"] == "yes"
    assert echo.environment["LOG_LEVEL"] == "INFO"


def test_state_machine_definition_has_substitutions_and_nothing_else_replaced(
    fixture_template: Template,
) -> None:
    (machine,) = fixture_template.state_machines()

    assert machine.name == "pco-sync-local-loop"
    definition = json.loads(machine.definition)
    assert definition["States"]["Call"]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:pco-sync-local-EchoFunction"
    )
    assert "${NotASubstitution}" in definition["Comment"]


def test_functions_merge_globals_and_resolve_refs_subs_joins_and_novalue(fixture_template: Template) -> None:
    functions = {f.logical_id: f for f in fixture_template.functions()}
    echo = functions["EchoFunction"]

    assert echo.module_file == FIXTURE_TEMPLATE.parent / "functions" / "echo" / "app.py"
    assert echo.handler_attribute == "handler"
    assert (echo.timeout, echo.memory_size) == (10, 512)
    assert echo.environment == {
        "POWERTOOLS_SERVICE_NAME": "fixture",
        "LOG_LEVEL": "DEBUG",
        "DATA_TABLE": "pco-sync-local-DataTable",
        "SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:pco-sync-local/pco-credentials",
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/pco-sync-local-WorkQueue",
        "PCO_BASE_URL": "https://api.planningcenteronline.com",
        "MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:pco-sync-local-loop",
        "JOINED": "us-east-1/arn:aws:dynamodb:us-east-1:123456789012:table/pco-sync-local-DataTable",
    }
    assert functions["OtherFunction"].memory_size == 128


def test_set_physical_changes_what_later_refs_resolve_to(fixture_template: Template) -> None:
    fixture_template.set_physical(
        "Credentials", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
    )

    echo = next(f for f in fixture_template.functions() if f.logical_id == "EchoFunction")
    assert echo.environment["SECRET_ARN"].endswith(":secret:x-AbCdEf")


def test_http_routes_take_the_apis_default_authorizer_unless_none(fixture_template: Template) -> None:
    assert sorted(fixture_template.http_routes(), key=lambda r: r.path) == [
        HttpRoute("ANY", "/api/{proxy+}", "EchoFunction", jwt_required=True),
        HttpRoute("POST", "/webhooks/{source}", "EchoFunction", jwt_required=False),
    ]
    assert fixture_template.jwt_authorizer() == (
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_PcoSyncLocal",
        ["pcosynclocaladminpage"],
    )


def test_a_required_parameter_without_value_is_an_error() -> None:
    template = Template.load(FIXTURE_TEMPLATE)

    with pytest.raises(TemplateError, match="PcoAppId"):
        template.secrets()


def test_a_missing_template_file_is_a_template_error(tmp_path: object) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        Template.load("/nonexistent/template.yaml")


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="template.yaml not written yet")
def test_the_real_template_declares_what_the_contracts_name() -> None:
    template = Template.load(REAL_TEMPLATE, parameters=PARAMS)

    tables = {t.logical_id: t for t in template.tables()}
    assert {"RecordsTable", "SyncStateTable"} <= set(tables)
    indexes = [g["IndexName"] for g in tables["RecordsTable"].global_secondary_indexes]
    assert indexes == ["kind-index", "pending-index"]
    assert tables["SyncStateTable"].ttl_attribute == "expires_at"
    functions = {f.logical_id: f for f in template.functions()}
    assert {"AdminApiFunction", "SyncPageFunction", "RunStepFunction"} <= set(functions)
    for fn in functions.values():
        assert fn.module_file.exists(), fn.module_file
    assert functions["SyncPageFunction"].environment["RECORDS_TABLE"] == tables["RecordsTable"].name
    machines = {m.logical_id: m for m in template.state_machines()}
    definition = json.loads(machines["SyncRunStateMachine"].definition)
    assert machines["SyncRunStateMachine"].name == "pco-sync-local-sync-run"
    assert "${" not in json.dumps(definition["States"])
    (secret,) = template.secrets()
    assert json.loads(secret.secret_string or "")["app_id"] == "app-1"
    assert any(r.path.startswith("/api") and r.jwt_required for r in template.http_routes())
