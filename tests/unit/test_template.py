"""template.yaml and samconfig.toml: the contracts' names and schemas, the code folders, least privilege.

cfn-lint and `sam validate --lint` check the template's syntax (`make cfn`); these tests check what they
cannot: that the template says what the other parts rely on.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from pco_core import settings
from pco_core.webhooks.apply import DEAD_LETTER_AFTER_RECEIVES

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SAMCONFIG_PATH = ROOT / "samconfig.toml"
MACHINE_NAME = "${AWS::StackName}-sync-run"
SECRET_PARAMETERS = {"PcoAppId", "PcoSecret", "PcoWebhookSecret"}

# Every env var a function may get besides its settings model's fields.
OBSERVABILITY_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL"}
FUNCTION_SETTINGS: dict[str, type[settings._Env]] = {
    "AdminApiFunction": settings.AdminApiEnv,
    "SyncPageFunction": settings.SyncPageEnv,
    "RunStepFunction": settings.RunStepEnv,
    "ScheduledSyncFunction": settings.ScheduledSyncEnv,
    "WebhookFunction": settings.WebhookEnv,
    "WebhookWorkerFunction": settings.WebhookWorkerEnv,
}
# CloudWatch Logs delivery actions (Step Functions logging) have no resource-level permissions: AWS
# documents Resource "*" for exactly these. Nothing else may use "*".
STAR_RESOURCE_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded, problems = decode(str(TEMPLATE_PATH))
    assert problems == []
    assert loaded is not None
    return dict(loaded)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def sorted_attrs(definitions: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((d["AttributeName"], d["AttributeType"]) for d in definitions)


def keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(k["AttributeName"], k["KeyType"]) for k in schema]


# ---------------------------------------------------------------- tables


def test_records_table_is_the_contracts_schema(resources: dict[str, Any]) -> None:
    table = resources["RecordsTable"]
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert keys(props["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    assert sorted_attrs(props["AttributeDefinitions"]) == [
        ("id", "S"),
        ("kind", "S"),
        ("pending", "S"),
        ("pk", "S"),
        ("sk", "S"),
    ]
    kind_index, pending_index = props["GlobalSecondaryIndexes"]
    assert kind_index["IndexName"] == "kind-index"
    assert keys(kind_index["KeySchema"]) == [("kind", "HASH"), ("id", "RANGE")]
    assert kind_index["Projection"] == {"ProjectionType": "ALL"}
    # Sparse: only records with a local change PCO lacks carry `pending`.
    assert pending_index["IndexName"] == "pending-index"
    assert keys(pending_index["KeySchema"]) == [("pending", "HASH"), ("id", "RANGE")]
    # The church's records outlive the stack.
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_sync_state_table_is_the_contracts_schema(resources: dict[str, Any]) -> None:
    props = resources["SyncStateTable"]["Properties"]
    assert keys(props["KeySchema"]) == [("pk", "HASH"), ("sk", "RANGE")]
    assert sorted_attrs(props["AttributeDefinitions"]) == [("pk", "S"), ("sk", "S")]
    assert "GlobalSecondaryIndexes" not in props
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize("name", ["RecordsTable", "SyncStateTable"])
def test_tables_are_on_demand_encrypted_and_recoverable(resources: dict[str, Any], name: str) -> None:
    props = resources[name]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}


# ---------------------------------------------------------------- code


def test_every_function_code_folder_has_its_handler(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    functions = of_type(resources, "AWS::Serverless::Function")
    assert set(functions) == set(FUNCTION_SETTINGS)
    default_handler = template["Globals"]["Function"]["Handler"]
    for name, function in functions.items():
        props = function["Properties"]
        assert props.get("Handler", default_handler) == "app.handler", name
        app = ROOT / props["CodeUri"] / "app.py"
        assert app.is_file(), f"{name}: {app} missing"
        assert re.search(r"^def handler\(", app.read_text(), re.MULTILINE), f"{name}: no handler in {app}"


def test_runtime_is_pinned_once_for_the_makefile(template: dict[str, Any], resources: dict[str, Any]) -> None:
    # The Makefile reads the first `Runtime: python3.XX` line of template.yaml.
    first = re.search(r"^ *Runtime: (python3\.\d+)", TEMPLATE_PATH.read_text(), re.MULTILINE)
    assert first is not None
    runtime = template["Globals"]["Function"]["Runtime"]
    assert first.group(1) == runtime == "python3.12"
    layer = resources["PcoCoreLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert layer["Metadata"]["BuildMethod"] == runtime
    for name, function in of_type(resources, "AWS::Serverless::Function").items():
        assert "Runtime" not in function["Properties"], f"{name} overrides the pinned runtime"


def test_every_function_uses_the_layer(template: dict[str, Any], resources: dict[str, Any]) -> None:
    layer = resources["PcoCoreLayer"]
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "pco_core" / "__init__.py").is_file()
    assert (content / "requirements.txt").is_file()
    assert template["Globals"]["Function"]["Layers"] == [{"Ref": "PcoCoreLayer"}]


# ---------------------------------------------------------------- environment


def function_env(template: dict[str, Any], resources: dict[str, Any], name: str) -> dict[str, Any]:
    env = dict(template["Globals"]["Function"]["Environment"]["Variables"])
    env.update(resources[name]["Properties"].get("Environment", {}).get("Variables", {}))
    return env


@pytest.mark.parametrize("name", sorted(FUNCTION_SETTINGS))
def test_each_function_gets_exactly_the_settings_it_reads(
    template: dict[str, Any], resources: dict[str, Any], name: str
) -> None:
    # Given the settings model the handler validates at start
    wanted = {field.upper() for field in FUNCTION_SETTINGS[name].model_fields}
    # Then the template sets every one of them, and nothing the function does not read
    env = function_env(template, resources, name)
    assert set(env) - OBSERVABILITY_ENV == wanted
    assert env["POWERTOOLS_SERVICE_NAME"] == {"Ref": "ServiceName"}
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert env["LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_env_values_point_at_the_right_resources(template: dict[str, Any], resources: dict[str, Any]) -> None:
    expected = {
        "RECORDS_TABLE": {"Ref": "RecordsTable"},
        "STATE_TABLE": {"Ref": "SyncStateTable"},
        "PCO_SECRET_ARN": {"Ref": "PcoCredentialsSecret"},
        "PCO_BASE_URL": {"Ref": "PcoBaseUrl"},
        "ROLE_PERMISSIONS": {"Ref": "RolePermissions"},
        "RUN_LEASE_SECONDS": {"Ref": "RunLeaseSeconds"},
    }
    for name in FUNCTION_SETTINGS:
        env = function_env(template, resources, name)
        for var, value in expected.items():
            if var in env:
                assert env[var] == value, f"{name}.{var}"


def test_state_machine_arn_is_built_from_the_machines_name(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # A !Ref to the machine would be a circular dependency (the machine references the functions).
    machine = resources["SyncRunStateMachine"]["Properties"]
    assert machine["Name"] == {"Fn::Sub": MACHINE_NAME}
    for name in ["AdminApiFunction", "RunStepFunction", "ScheduledSyncFunction"]:
        arn = function_env(template, resources, name)["SYNC_STATE_MACHINE_ARN"]
        prefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
        assert arn == {"Fn::Sub": prefix + MACHINE_NAME}


def test_parameter_defaults(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert params["PcoSecret"]["NoEcho"] is True
    assert params["PcoWebhookSecret"]["NoEcho"] is True
    assert params["PcoWebhookSecret"]["Default"] == ""
    assert params["PcoBaseUrl"]["Default"] == "https://api.planningcenteronline.com"
    assert params["RolePermissions"]["Default"] == '{"TECH_ADMIN":["pco.manage"]}'
    assert int(params["RunLeaseSeconds"]["Default"]) == 900
    assert params["LogLevel"]["Default"] == "INFO"
    assert params["ServiceName"]["Default"] == "pco-sync"
    assert params["MetricsNamespace"]["Default"] == "PcoSync"
    assert params["AdminCallbackUrls"]["Type"] == "CommaDelimitedList"


def test_webhook_dead_letter_count_is_the_one_the_worker_reports(resources: dict[str, Any]) -> None:
    # The worker counts a delivery dead-lettered when it fails on the receive SQS moves it after.
    redrive = resources["WebhookQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == DEAD_LETTER_AFTER_RECEIVES


def test_secret_holds_the_three_credentials(resources: dict[str, Any]) -> None:
    secret = resources["PcoCredentialsSecret"]["Properties"]["SecretString"]["Fn::Sub"]
    assert re.findall(r'"(\w+)":"\$\{(\w+)\}"', secret) == [
        ("app_id", "PcoAppId"),
        ("secret", "PcoSecret"),
        ("webhook_secret", "PcoWebhookSecret"),
    ]


# ---------------------------------------------------------------- permissions


def policies(resources: dict[str, Any], name: str) -> list[Any]:
    return list(resources[name]["Properties"].get("Policies", []))


def policy_templates(resources: dict[str, Any], name: str) -> list[tuple[str, Any]]:
    return [
        (kind, args)
        for policy in policies(resources, name)
        if isinstance(policy, dict)
        for kind, args in policy.items()
        if kind != "Statement"
    ]


def all_statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM statement of a resource: SAM inline policies, role policies, bucket policies."""
    props = resource.get("Properties", {})
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies", []) or []:
        if isinstance(policy, dict):
            found += policy.get("Statement") or policy.get("PolicyDocument", {}).get("Statement", [])
    found += props.get("PolicyDocument", {}).get("Statement", [])
    return found


def test_no_star_resource_in_inline_statements(resources: dict[str, Any]) -> None:
    assert all_statements(resources["SyncSchedulerRole"]), "role policies are inspected"
    assert all_statements(resources["SiteBucketPolicy"]), "bucket policies are inspected"
    for name, resource in resources.items():
        for statement in all_statements(resource):
            targets = statement.get("Resource", [])
            targets = targets if isinstance(targets, list) else [targets]
            if "*" in targets:
                actions = statement["Action"]
                actions = set(actions if isinstance(actions, list) else [actions])
                assert actions <= STAR_RESOURCE_ACTIONS, f"{name}: '*' resource for {actions}"


def test_functions_get_only_what_they_need(resources: dict[str, Any]) -> None:
    crud_both = [
        ("DynamoDBCrudPolicy", {"TableName": {"Ref": "RecordsTable"}}),
        ("DynamoDBCrudPolicy", {"TableName": {"Ref": "SyncStateTable"}}),
    ]
    read_secret = [("AWSSecretsManagerGetSecretValuePolicy", {"SecretArn": {"Ref": "PcoCredentialsSecret"}})]
    start_machine = [("StepFunctionsExecutionPolicy", {"StateMachineName": {"Fn::Sub": MACHINE_NAME}})]
    assert policy_templates(resources, "AdminApiFunction") == crud_both + read_secret + start_machine
    assert policy_templates(resources, "SyncPageFunction") == crud_both + read_secret
    assert policy_templates(resources, "RunStepFunction") == crud_both[1:] + start_machine
    assert policy_templates(resources, "ScheduledSyncFunction") == crud_both[1:] + start_machine
    for name in FUNCTION_SETTINGS:
        assert all(isinstance(p, dict) for p in policies(resources, name)), f"{name}: managed policy by name"


def test_state_machine_invokes_only_its_two_functions(resources: dict[str, Any]) -> None:
    machine = resources["SyncRunStateMachine"]["Properties"]
    assert machine["DefinitionUri"] == "statemachines/sync_run.asl.json"
    assert machine["DefinitionSubstitutions"] == {
        "SyncPageFunctionArn": {"Fn::GetAtt": ["SyncPageFunction", "Arn"]},
        "RunStepFunctionArn": {"Fn::GetAtt": ["RunStepFunction", "Arn"]},
    }
    placeholders = set(re.findall(r"\$\{(\w+)\}", (ROOT / machine["DefinitionUri"]).read_text()))
    assert placeholders == set(machine["DefinitionSubstitutions"])
    assert policy_templates(resources, "SyncRunStateMachine") == [
        ("LambdaInvokePolicy", {"FunctionName": {"Ref": "SyncPageFunction"}}),
        ("LambdaInvokePolicy", {"FunctionName": {"Ref": "RunStepFunction"}}),
    ]
    assert machine["Logging"]["IncludeExecutionData"] is False
    assert machine["Logging"]["Level"] in {"ALL", "ERROR"}
    assert machine["Tracing"] == {"Enabled": True}


# ---------------------------------------------------------------- admin sign-in and API


def test_admin_api_requires_a_cognito_jwt(resources: dict[str, Any]) -> None:
    auth = resources["AdminHttpApi"]["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["JwtConfiguration"]["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert authorizer["JwtConfiguration"]["audience"] == [{"Ref": "UserPoolClient"}]
    events = resources["AdminApiFunction"]["Properties"]["Events"]
    for event in events.values():
        assert event["Type"] == "HttpApi"
        assert event["Properties"]["ApiId"] == {"Ref": "AdminHttpApi"}
        # No route opts out of the default authorizer.
        assert "Auth" not in event["Properties"]
    assert {e["Properties"]["Path"] for e in events.values()} == {"/api", "/api/{proxy+}"}


def test_sign_in_is_invite_only_with_pkce_client(resources: dict[str, Any]) -> None:
    pool = resources["UserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    client = resources["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert set(client["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    # The CloudFront page is always a callback; AdminCallbackUrls adds development URLs.
    for prop in ("CallbackURLs", "LogoutURLs"):
        separator, (text, variables) = client[prop]["Fn::Split"][0], client[prop]["Fn::Split"][1]["Fn::Sub"]
        assert separator == ","
        assert text == "https://${SiteDistribution.DomainName}/,${Extra}"
        assert variables == {"Extra": {"Fn::Join": [",", {"Ref": "AdminCallbackUrls"}]}}
    group = resources["TechAdminGroup"]["Properties"]
    assert group["GroupName"] == "TECH_ADMIN"


def test_admin_page_origin_may_call_the_api(resources: dict[str, Any]) -> None:
    cors = resources["AdminHttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"]
    text, variables = cors["Fn::Split"][1]["Fn::Sub"]
    assert text == "https://${SiteDistribution.DomainName},${Extra}"  # an origin has no trailing slash
    assert variables == {"Extra": {"Fn::Join": [",", {"Ref": "AdminAllowedOrigins"}]}}


def test_webhook_url_is_the_webhook_apis_url(template: dict[str, Any], resources: dict[str, Any]) -> None:
    # The admin function cannot reference the API that invokes it (a cycle), so webhooks have their own.
    expected = {"Fn::Sub": "${WebhookHttpApi.ApiEndpoint}/webhooks/pco"}
    assert function_env(template, resources, "AdminApiFunction")["WEBHOOK_URL"] == expected
    assert template["Outputs"]["WebhookUrl"]["Value"] == expected
    assert resources["WebhookHttpApi"]["Type"] == "AWS::Serverless::HttpApi"
    assert "Auth" not in resources["WebhookHttpApi"]["Properties"]


# ---------------------------------------------------------------- schedule


SCHEDULES = {
    # schedule -> (expression parameter, enabled condition, enabled parameter, default, run it starts)
    "NightlySyncSchedule": (
        "SyncSchedule",
        "SyncScheduleIsEnabled",
        "SyncScheduleEnabled",
        "cron(0 7 * * ? *)",
        "full_sync",
    ),
    "HourlySyncSchedule": (
        "IncrementalSyncSchedule",
        "IncrementalSyncScheduleIsEnabled",
        "IncrementalSyncScheduleEnabled",
        "cron(0 * * * ? *)",
        "incremental_sync",
    ),
}


def test_two_schedules_start_the_scheduled_sync_function_with_the_run_each_names(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    params = template["Parameters"]
    assert sorted(of_type(resources, "AWS::Scheduler::Schedule")) == sorted(SCHEDULES)
    for name, (expression, condition, enabled, default, run_type) in SCHEDULES.items():
        assert params[expression]["Default"] == default
        assert params[enabled]["AllowedValues"] == ["true", "false"]
        assert template["Conditions"][condition] == {"Fn::Equals": [{"Ref": enabled}, "true"]}
        props = resources[name]["Properties"]
        assert props["ScheduleExpression"] == {"Ref": expression}
        assert props["ScheduleExpressionTimezone"] == {"Ref": "SyncScheduleTimezone"}
        assert props["State"] == {"Fn::If": [condition, "ENABLED", "DISABLED"]}
        assert props["Target"]["Arn"] == {"Fn::GetAtt": ["ScheduledSyncFunction", "Arn"]}
        assert props["Target"]["RoleArn"] == {"Fn::GetAtt": ["SyncSchedulerRole", "Arn"]}
        assert json.loads(props["Target"]["Input"]) == {"type": run_type}


def test_admin_function_is_told_the_schedules_the_scheduler_is_given(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the two schedules EventBridge Scheduler fires
    nightly = resources["NightlySyncSchedule"]["Properties"]
    hourly = resources["HourlySyncSchedule"]["Properties"]
    # Then the admin API (GET /api/schedule) reads the very same parameters, so the page shows what fires
    env = function_env(template, resources, "AdminApiFunction")
    assert env["SYNC_SCHEDULE"] == nightly["ScheduleExpression"]
    assert env["SYNC_SCHEDULE_TIMEZONE"] == nightly["ScheduleExpressionTimezone"]
    assert env["SYNC_SCHEDULE_ENABLED"] == {"Ref": "SyncScheduleEnabled"}
    assert env["INCREMENTAL_SYNC_SCHEDULE"] == hourly["ScheduleExpression"]
    assert env["SYNC_SCHEDULE_TIMEZONE"] == hourly["ScheduleExpressionTimezone"]
    assert env["INCREMENTAL_SYNC_SCHEDULE_ENABLED"] == {"Ref": "IncrementalSyncScheduleEnabled"}


def test_scheduler_role_may_only_invoke_the_scheduled_sync_function(resources: dict[str, Any]) -> None:
    role = resources["SyncSchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "ManagedPolicyArns" not in role
    assert all_statements(resources["SyncSchedulerRole"]) == [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": {"Fn::GetAtt": ["ScheduledSyncFunction", "Arn"]},
        }
    ]


# ---------------------------------------------------------------- admin page hosting


def test_site_bucket_is_private_encrypted_and_tls_only(resources: dict[str, Any]) -> None:
    bucket = resources["SiteBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"], True
    )
    (sse,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert "WebsiteConfiguration" not in bucket
    policy = resources["SiteBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "SiteBucket"}
    deny, allow = policy["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Only this distribution may read, and only objects.
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${SiteDistribution}")


def test_site_is_served_by_cloudfront_through_origin_access_control(resources: dict[str, Any]) -> None:
    oac = resources["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    config = resources["SiteDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultCacheBehavior"]["AllowedMethods"] == ["GET", "HEAD"]


def test_outputs(template: dict[str, Any]) -> None:
    assert template["Outputs"]["AdminPageUrl"]["Value"] == {
        "Fn::Sub": "https://${SiteDistribution.DomainName}/"
    }
    assert {
        "AdminPageUrl",
        "SiteBucketName",
        "SiteDistributionId",
        "WebhookUrl",
        "AdminApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "SyncStateMachineArn",
        "RecordsTableName",
        "SyncStateTableName",
        "SecretArn",
    } <= set(template["Outputs"])


# ---------------------------------------------------------------- samconfig.toml


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG_PATH.read_text())


def test_samconfig_default_deploy(samconfig: dict[str, Any]) -> None:
    assert samconfig["version"] == 0.1
    deploy = samconfig["default"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "pco-sync"
    assert deploy["capabilities"] == "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True


def test_samconfig_never_stores_secrets(template: dict[str, Any], samconfig: dict[str, Any]) -> None:
    declared = set(template["Parameters"])
    for env_name, env in samconfig.items():
        if not isinstance(env, dict):
            continue
        overrides = env.get("deploy", {}).get("parameters", {}).get("parameter_overrides", [])
        overrides = overrides if isinstance(overrides, list) else overrides.split()
        names = {override.split("=", 1)[0] for override in overrides}
        assert names <= declared, f"{env_name}: unknown parameters {names - declared}"
        assert not names & SECRET_PARAMETERS, f"{env_name} stores a secret"


def test_samconfig_has_an_example_church(samconfig: dict[str, Any]) -> None:
    deploy = samconfig["example-church"]["deploy"]["parameters"]
    assert deploy["stack_name"] == "pco-sync-example-church"
    assert deploy["capabilities"] == "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
