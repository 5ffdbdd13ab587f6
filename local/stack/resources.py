"""Create the template's tables, secrets, queues and state machines on moto; resolve each function's env."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3

from local.stack.template import FunctionDef, Template

LOCAL_ROLE_ARN = "arn:aws:iam::{account}:role/{stack}-{lid}Role"


@dataclass
class LocalResources:
    """What was created (logical id -> physical name/ARN/URL) and what each function should see."""

    template: Template
    tables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionDef] = field(default_factory=dict)

    def function_env(self, logical_id: str) -> dict[str, str]:
        return dict(self.functions[logical_id].environment)

    def shared_environment(self) -> dict[str, str]:
        """The union of every function's variables; a name two functions set differently is an error.

        The local stack runs all handlers in one process, so it sets one environment for all of them.
        """
        merged: dict[str, str] = {}
        owners: dict[str, str] = {}
        for lid, fn in self.functions.items():
            for key, value in fn.environment.items():
                if key in merged and merged[key] != value:
                    raise ValueError(
                        f"{owners[key]} and {lid} set {key} differently ({merged[key]!r} vs {value!r}); "
                        "the local stack shares one environment between functions"
                    )
                merged[key] = value
                owners[key] = lid
        return merged


def _clients(boto_session_or_endpoint: boto3.Session | str | None, region: str) -> tuple[Any, ...]:
    if isinstance(boto_session_or_endpoint, str):
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto accepts any credentials
            region_name=region,
        )
        kwargs: dict[str, Any] = {"endpoint_url": boto_session_or_endpoint, "region_name": region}
    else:
        session = boto_session_or_endpoint or boto3.Session(region_name=region)
        kwargs = {"region_name": region}
    return tuple(
        session.client(name, **kwargs) for name in ("dynamodb", "secretsmanager", "sqs", "stepfunctions")
    )


def create_resources(
    template: Template | str | Path,
    *,
    boto_session_or_endpoint: boto3.Session | str | None,
    params: Mapping[str, str],
    env_overrides: Mapping[str, str] | None = None,
) -> LocalResources:
    """Create every table, secret, queue and machine the template declares; resolve the functions' env.

    `params` are template parameter values (names the template does not declare are ignored).
    `env_overrides` are set on every function last (e.g. PCO_BASE_URL pointing at the sandbox).
    """
    base = template if isinstance(template, Template) else Template.load(template)
    declared = set((base.doc.get("Parameters") or {}).keys())
    bound = base.with_parameters({k: v for k, v in params.items() if k in declared})
    ctx = bound.context
    dynamodb, secretsmanager, sqs, stepfunctions = _clients(boto_session_or_endpoint, ctx.region)
    out = LocalResources(template=bound)

    for queue in bound.queues():
        attributes = dict(queue.attributes)
        url = sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bound.set_physical(queue.logical_id, url, Arn=arn, QueueUrl=url, QueueName=queue.name)
        out.queues[queue.logical_id] = url
    # Redrive policies name other queues' ARNs: set them once every queue exists.
    for queue in bound.queues():
        if queue.redrive_policy:
            sqs.set_queue_attributes(
                QueueUrl=out.queues[queue.logical_id],
                Attributes={"RedrivePolicy": json.dumps(queue.redrive_policy)},
            )

    for table in bound.tables():
        kwargs: dict[str, Any] = {
            "TableName": table.name,
            "KeySchema": table.key_schema,
            "AttributeDefinitions": table.attribute_definitions,
            "BillingMode": table.billing_mode,
        }
        if table.global_secondary_indexes:
            kwargs["GlobalSecondaryIndexes"] = table.global_secondary_indexes
        if table.local_secondary_indexes:
            kwargs["LocalSecondaryIndexes"] = table.local_secondary_indexes
        if table.provisioned_throughput:
            kwargs["ProvisionedThroughput"] = {k: int(v) for k, v in table.provisioned_throughput.items()}
        if table.stream_view_type:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
        desc = dynamodb.create_table(**kwargs)["TableDescription"]
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
        bound.set_physical(table.logical_id, table.name, Arn=desc["TableArn"])
        out.tables[table.logical_id] = table.name

    for secret in bound.secrets():
        value = secret.secret_string
        if value is None:
            value = "local-generated-secret" if secret.generate else "{}"
        arn = secretsmanager.create_secret(Name=secret.name, SecretString=value)["ARN"]
        bound.set_physical(secret.logical_id, arn, Name=secret.name, Id=arn)
        out.secrets[secret.logical_id] = arn

    # Machines reference function ARNs (DefinitionSubstitutions); functions are only dispatched, not
    # created, so their predicted names/ARNs are final.
    for machine in bound.state_machines():
        role = LOCAL_ROLE_ARN.format(account=ctx.account_id, stack=ctx.stack_name, lid=machine.logical_id)
        arn = stepfunctions.create_state_machine(
            name=machine.name, definition=machine.definition, roleArn=role, type=machine.machine_type
        )["stateMachineArn"]
        bound.set_physical(machine.logical_id, arn, Arn=arn, Name=machine.name)
        out.state_machines[machine.logical_id] = arn

    for fn in bound.functions():
        env = {**fn.environment, **(env_overrides or {})}
        out.functions[fn.logical_id] = replace(fn, environment=env)
    return out
