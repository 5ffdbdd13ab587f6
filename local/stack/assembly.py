"""Put the local stack together on a moto backend: resources, process environment, handlers, API stand-in."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from local.stack.apigw import DEFAULT_ROUTES, ApiFunction, create_api_app
from local.stack.auth import LOCAL_CLIENT_ID, DevIssuer
from local.stack.lambdas import Handler, install_lambda_dispatcher, load_handlers
from local.stack.moto_dynamodb_lock import install as install_dynamodb_lock
from local.stack.moto_fast_json import install as install_fast_json
from local.stack.resources import LocalResources, create_resources
from local.stack.scheduler import LocalSchedule, local_schedules
from local.stack.sqs_events import SqsEventSource, event_sources
from local.stack.sqs_moves import install as install_sqs_move_tasks
from local.stack.template import StackContext, Template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SITE_DIR = REPO_ROOT / "site"

# Always set for local handlers: no X-Ray daemon here.
LOCAL_FUNCTION_ENV = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}


def stack_parameters(
    *,
    app_id: str,
    secret: str,
    webhook_secret: str,
    pco_base_url: str,
    schedule_every_minutes: int | None = None,
) -> dict[str, str]:
    """Template parameter values for a local stack (names the template does not declare are ignored).

    `schedule_every_minutes` replaces the scheduled sync's expression, so the schedule that fires and the
    one the admin page shows (the admin function's SYNC_SCHEDULE) stay the same.
    """
    params = {
        "PcoAppId": app_id,
        "PcoSecret": secret,
        "PcoWebhookSecret": webhook_secret,
        "PcoBaseUrl": pco_base_url,
    }
    if schedule_every_minutes is not None:
        unit = "minute" if schedule_every_minutes == 1 else "minutes"
        params["SyncSchedule"] = f"rate({schedule_every_minutes} {unit})"
        params["SyncScheduleEnabled"] = "true"
    return params


def dev_issuer(template: Template, key: rsa.RSAPrivateKey) -> DevIssuer:
    """The local issuer, posing as the template's JWT authorizer issuer/audience so the check is the same."""
    config = template.jwt_authorizer()
    if config is None:
        return DevIssuer(key)
    issuer, audiences = config
    return DevIssuer(key, issuer=issuer, client_id=audiences[0] if audiences else LOCAL_CLIENT_ID)


@dataclass
class AssembledStack:
    resources: LocalResources
    issuer: DevIssuer
    handlers: dict[str, Handler]
    api_app: Flask
    environment: dict[str, str]
    uninstall_dispatcher: Callable[[], None]
    # The template's SQS event sources (functions with an `SQS` event), polled by sqs_events.SqsPoller.
    event_sources: list[SqsEventSource] = field(default_factory=list)
    # The template's EventBridge schedules bound to their targets' handlers, run by scheduler.LocalScheduler.
    schedules: list[LocalSchedule] = field(default_factory=list)


def assemble(
    *,
    template_path: Path,
    boto_session_or_endpoint: boto3.Session | str | None,
    params: Mapping[str, str],
    env_overrides: Mapping[str, str],
    issuer_key: rsa.RSAPrivateKey,
    site_dir: Path | None,
    api_endpoint: str,
) -> AssembledStack:
    """Create everything, set os.environ for the handlers (see lambdas.py), install the dispatcher."""
    install_sqs_move_tasks()  # the dead-letter replay, which moto lacks
    install_fast_json()  # DynamoDB item answers as JSON, not through moto's shape-walking serializer
    install_dynamodb_lock()  # one DynamoDB request at a time, as a real item's reads and writes are atomic
    template = Template.load(template_path, context=StackContext(api_endpoint=api_endpoint))
    resources = create_resources(
        template,
        boto_session_or_endpoint=boto_session_or_endpoint,
        params=params,
        env_overrides={**LOCAL_FUNCTION_ENV, **env_overrides},
    )
    issuer = dev_issuer(resources.template, issuer_key)
    environment = resources.shared_environment()
    os.environ.update(environment)
    handlers = load_handlers(resources.functions)
    uninstall = install_lambda_dispatcher(handlers, functions=resources.functions)
    routes = resources.template.http_routes() or list(DEFAULT_ROUTES)
    api_functions = {
        lid: ApiFunction(
            name=fn.name,
            handler=handlers[fn.name],
            timeout_seconds=fn.timeout,
            memory_limit_in_mb=fn.memory_size,
        )
        for lid, fn in resources.functions.items()
    }
    api_app = create_api_app(
        routes=routes,
        functions=api_functions,
        verifier=issuer.verifier(),
        site_dir=site_dir,
        dev_issuer=issuer,
    )
    sources = event_sources(resources, handlers)
    schedules = local_schedules(resources, handlers)
    return AssembledStack(resources, issuer, handlers, api_app, environment, uninstall, sources, schedules)
