"""Schemathesis against the admin API's own OpenAPI document: every route, valid and invalid inputs.

The API runs in-process behind the local API Gateway stand-in (JWT checked as the deployed authorizer
does), wired as deployed (AdminServices.from_env) on moto with the template's own tables and queues,
every AWS write logged;
PCO's URL is a closed port on 127.0.0.1, so the connection test answers "unreachable". A bounded,
deterministic number of examples per route keeps it well under a minute.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from moto import mock_aws
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import sqs_moves
from local.stack.apigw import DEFAULT_ROUTES, ApiFunction, create_api_app
from local.stack.auth import DevIssuer
from local.stack.resources import create_resources
from pco_core.api import create_app
from pco_core.api.app import OPENAPI_PATH
from pco_core.api.services import AdminServices
from pco_core.records import ConflictEvent, FieldConflict, Group
from pco_core.settings import AdminApiEnv
from tests.unit.stack.conftest import PARAMS, REAL_TEMPLATE

MAX_EXAMPLES = 25
GENERATION = {
    "generation": {
        # Every request carries an admin's token (tests/unit/api/test_routes.py covers the others).
        "with-security-parameters": False,
        # A query parameter a route does not have is ignored, as HTTP APIs do; bodies refuse extras.
        "allow-extra-parameters": False,
    }
}


# The AWS calls that change something: a refused request must make none of them.
WRITES = frozenset(
    {
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "SendMessage",
        "SendMessageBatch",
        "DeleteMessage",
        "StartMessageMoveTask",
        "StartExecution",
        "PutSecretValue",
    }
)


class FuzzedStack:
    """The admin API on moto, and a log of every AWS write it made."""

    def __init__(self) -> None:
        self.writes: list[str] = []
        # Clients copy their session's event handlers when made, so every client the API makes from
        # here on reports its calls (scanning the tables instead cost more than the requests).
        boto3.setup_default_session(region_name="us-east-1")
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("after-call", self._record)
        sqs_moves.install()
        resources = create_resources(
            REAL_TEMPLATE,
            boto_session_or_endpoint=None,
            params=PARAMS,
            env_overrides={"PCO_BASE_URL": "http://127.0.0.1:9"},
        )
        env = AdminApiEnv.from_env(resources.function_env("AdminApiFunction"))
        services = AdminServices.from_env(env)
        resolver = create_app(lambda: services)
        issuer = DevIssuer(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.wsgi = create_api_app(
            routes=DEFAULT_ROUTES,
            functions={"AdminApiFunction": ApiFunction("admin-api", resolver.resolve)},
            verifier=issuer.verifier(),
        )
        self.auth = {"Authorization": f"Bearer {issuer.issue_token('TECH_ADMIN')}"}
        self.known = self.seed(services, resources.queues["WebhookDeadLetterQueue"])
        # The log sees the API's writes (so a refused request's empty log means something).
        assert {"BatchWriteItem", "SendMessage"} <= set(self.writes), self.writes

    def _record(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.name in WRITES and http_response.status_code < 300:
            self.writes.append(model.name)

    def seed(self, services: AdminServices, dead_letter_queue: str) -> dict[str, str]:
        """Something to read, change and refuse: a person in a family, a group, a run, a dead letter;
        their ids, for the requests that should find them."""
        client = self.wsgi.test_client()
        person = client.post("/api/people", json={"first_name": "Ann", "last_name": "Lee"}, headers=self.auth)
        assert person.status_code == 201, person.json
        family = client.post(
            "/api/families",
            json={"name": "Lee Household", "member_ids": [person.json["id"]]},
            headers=self.auth,
        )
        assert family.status_code == 201, family.json
        group = Group(id="youth", pco_id="301", name="Youth", updated_at=datetime.now(UTC))
        services.records.save_groups([(group, None)])
        ann = services.records.get_person(person.json["id"])
        assert ann is not None
        conflict = FieldConflict(
            id="20261129T120000Z-0000seed",
            field="last_name",
            label="Ann Lee",
            base="Lee",
            local="Lee-Smith",
            pco="Li",
            detected_at=datetime.now(UTC),
            source="seed",
        )
        held = ann.model_copy(update={"sync": ann.sync.model_copy(update={"conflicts": (conflict,)})})
        services.records.save_people([(held, ann)])
        services.records.log_conflicts([ConflictEvent("person", ann.id, conflict, "open")])
        run = client.post("/api/runs", json={"type": "people"}, headers=self.auth)
        assert run.status_code == 202, run.json
        sqs = boto3.client("sqs", region_name="us-east-1")
        sqs.send_message(QueueUrl=dead_letter_queue, MessageBody='{"delivery_id": "dead-1"}')
        return {
            "person_id": person.json["id"],
            "family_id": family.json["id"],
            "group_id": group.id,
            "run_id": run.json["id"],
            "conflict_id": conflict.id,
        }


@pytest.fixture(scope="module")
def stack() -> Iterator[FuzzedStack]:
    # One stack for every route: what one route's requests write, the next route's requests read.
    default_session = boto3.DEFAULT_SESSION
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(name, "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            yield FuzzedStack()
    boto3.DEFAULT_SESSION = default_session


@pytest.fixture(scope="module")
def schema(stack: FuzzedStack) -> Any:
    return schemathesis.openapi.from_wsgi(
        OPENAPI_PATH, stack.wsgi, config=SchemathesisConfig.from_dict(GENERATION), headers=stack.auth
    )


def documented_cases() -> list[tuple[GenerationMode, str, str]]:
    """(mode, method, path) for every operation the document lists (built without AWS): valid requests
    for each, invalid ones for each that takes any input (one without input has no invalid request)."""
    document = json.loads(create_app(lambda: None).get_openapi_json_schema())
    cases = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            cases.append((GenerationMode.POSITIVE, method.upper(), path))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append((GenerationMode.NEGATIVE, method.upper(), path))
    return sorted(cases)


def check(case: Any, stack: FuzzedStack) -> None:
    # Given the AWS writes made so far
    writes = len(stack.writes)
    # When the request is made with an admin's token
    response = case.call(headers=stack.auth)
    # Then no 5xx, every status and body is documented, invalid data is refused
    case.validate_response(
        response,
        checks=[
            schemathesis.checks.not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
        headers=stack.auth,
    )
    if response.status_code >= 400:
        # And a refusal says why in a JSON message, and changed nothing
        body = response.json()
        assert isinstance(body, dict), body
        assert isinstance(body.get("message"), str), body
        assert body["message"], body
        assert stack.writes[writes:] == [], f"{case.method} {case.path} was refused but wrote"


@pytest.mark.parametrize(("mode", "method", "path"), documented_cases())
def test_no_request_gets_a_5xx_every_refusal_is_a_json_message_and_writes_nothing(
    stack: FuzzedStack, schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = schema[path][method]
    # Valid requests name records that exist, so they reach the routes' work, not just their 404.
    known = {name: stack.known[name] for name in re.findall(r"{(\w+)}", path)}
    fixed = known if mode is GenerationMode.POSITIVE else None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def requests_of_this_route(case: Any) -> None:
        check(case, stack)

    requests_of_this_route()
