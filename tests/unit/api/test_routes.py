"""Every route the admin API resolver registers: authorisation, the OpenAPI document, the error mapping.

The routes come from the resolver itself, never from a hand list, so a route added tomorrow is covered
by these tests without anyone remembering to add it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from pco_core import errors
from pco_core.api import create_app
from pco_core.api.answers import STATUS_OF, status_of
from pco_core.api.app import OPENAPI_PATH
from pco_core.api.services import AdminServices
from tests.unit.api.events import ADMIN, VOLUNTEER, http_event


class Untouchable:
    """A service no refused request may reach: any use of it fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused request used the service ({name})")


def make_app() -> APIGatewayHttpResolver:
    services = AdminServices(
        runs=Untouchable(),  # type: ignore[arg-type]
        records=Untouchable(),  # type: ignore[arg-type]
        role_permissions={"TECH_ADMIN": ["pco.manage"], "VOLUNTEER": ["pco.view"]},
        connection=Untouchable(),  # type: ignore[arg-type]
        deliveries=Untouchable(),  # type: ignore[arg-type]
        dead_letters=Untouchable(),  # type: ignore[arg-type]
    )
    return create_app(lambda: services)


APP = make_app()


def registered_routes(app: APIGatewayHttpResolver) -> list[tuple[str, str]]:
    """(method, OpenAPI path) of every route on the resolver, read from the resolver's own registry."""
    routes = app._static_routes + app._dynamic_routes  # the registry itself is what is tested
    return sorted({(route.method, route.openapi_path) for route in routes})


ROUTES = registered_routes(APP)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


def answer(app: APIGatewayHttpResolver, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    result = app.resolve(http_event(method, path, **kwargs), None)  # type: ignore[arg-type]
    assert result["headers"]["Content-Type"] == "application/json"
    return result["statusCode"], json.loads(result["body"])


def test_the_resolver_has_every_admin_route_and_no_webhook_receiver():
    # Given the routes the resolver registered
    paths = {path for _, path in ROUTES}
    # Then the ones the page and the church's tools use are there, the OpenAPI document too
    assert len(ROUTES) >= 22
    assert ("GET", OPENAPI_PATH) in ROUTES
    assert ("PUT", "/api/groups/{group_id}/members/{person_id}") in ROUTES
    # And PCO's webhook receiver is a separate function behind no JWT, never one of these routes
    assert all(path.startswith("/api/") for path in paths)
    assert not any("webhooks/pco" in path for path in paths)


# ---------------------------------------------------------------- one authorisation for every route


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize(
    ("claims", "status", "message_part"),
    [(None, 401, "sign in first"), ({}, 401, "sign in first"), (VOLUNTEER, 403, "'pco.manage' permission")],
)
@pytest.mark.parametrize(
    "body",
    [None, {"type": "people", "first_name": "A", "last_name": "B", "name": "F"}, "{not json", "[" * 10_000],
)
def test_every_route_refuses_a_caller_without_a_token_or_without_pco_manage(
    method, path, claims, status, message_part, body
):
    # Given any body, even one the route would refuse, and no token or a role without pco.manage
    kwargs: dict[str, Any] = {"claims": claims}
    if isinstance(body, str):
        kwargs["raw_body"] = body
    else:
        kwargs["body"] = body
    # When calling the route Then 401/403 before the body is read, and no service was touched
    got, answer_body = answer(APP, method, concrete(path), **kwargs)
    assert got == status, answer_body
    assert message_part in answer_body["message"]
    assert set(answer_body) <= {"message", "details"}


def test_an_unknown_route_without_a_token_is_401_too():
    assert answer(APP, "GET", "/api/nothing-here", claims=None)[0] == 401
    assert answer(APP, "DELETE", "/api/people", claims=VOLUNTEER)[0] == 403


# ---------------------------------------------------------------- the OpenAPI document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    status, body = answer(make_app(), "GET", OPENAPI_PATH, claims=ADMIN)
    assert status == 200
    return body


def test_the_document_lists_every_route_and_nothing_else(document):
    listed = sorted((method.upper(), path) for path, ops in document["paths"].items() for method in ops)
    assert listed == ROUTES


def test_every_route_documents_its_bodies_answers_and_refusals(document):
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            answers = operation["responses"]
            successes = [code for code in answers if code.startswith("2")]
            assert successes, where
            for code in successes:
                if path != OPENAPI_PATH:
                    ref = answers[code]["content"]["application/json"]["schema"]["$ref"]
                    assert ref.removeprefix("#/components/schemas/") in schemas, where
            for code in ("400", "401", "403"):
                assert answers[code]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorAnswer"
                ), where
            if method in ("post", "patch", "put") and "requestBody" in operation:
                body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                body = schemas[body_ref.removeprefix("#/components/schemas/")]
                assert body["additionalProperties"] is False, where
                assert "422" in answers, where
    # Every stored string a body carries has a maximum length.
    for name, schema in schemas.items():
        if name.endswith(("Body", "Create", "Patch")):
            for field, spec in schema["properties"].items():
                for option in spec.get("anyOf", [spec]):
                    if option.get("type") == "string" and not {"format", "enum"} & set(option):
                        assert "maxLength" in option, (name, field)


def test_the_bodies_that_write_are_documented_with_their_limits(document):
    person = document["components"]["schemas"]["PersonCreate"]["properties"]
    assert person["first_name"]["maxLength"] == 100
    assert person["emails"]["maxItems"] == 20
    email = document["components"]["schemas"]["EmailBody"]["properties"]["address"]
    assert (email["format"], email["maxLength"]) == ("email", 254)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["security"] == [{"bearer": []}]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_document_is_built_on_first_request_not_at_import():
    # Given a fresh interpreter importing the admin API's handler module (a cold start)
    probe = (
        "import sys, functions.admin_api.app as handler\n"
        "from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver\n"
        "calls = []\n"
        "real = ApiGatewayResolver.get_openapi_schema\n"
        "ApiGatewayResolver.get_openapi_schema = lambda *a, **k: calls.append(1) or real(*a, **k)\n"
        "print(len(calls), 'aws_lambda_powertools.event_handler.openapi.models' in sys.modules)\n"
    )
    env = {"PYTHONPATH": "layers/pco_core:.", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    # Then no schema was built and the OpenAPI models were not even imported
    assert out.stdout.split() == ["0", "False"]


# ---------------------------------------------------------------- one mapping of refusals to statuses


def refusal_classes() -> list[type[errors.Refused]]:
    found: list[type[errors.Refused]] = []
    pending = [errors.Refused]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize(
    "cls", [c for c in refusal_classes() if c is not errors.Refused], ids=lambda c: c.__name__
)
def test_every_refusal_has_its_own_status(cls):
    assert cls in STATUS_OF, f"{cls.__name__} needs a status in api/answers.py"


@pytest.mark.parametrize(
    ("err", "status"),
    [
        (errors.RunActive("r-1"), 409),
        (errors.RunNotFound("r-1"), 404),
        (errors.InvalidCursor(), 400),
        (errors.InvalidRecord.of([errors.FieldProblem("name", "is required")]), 422),
        (errors.BodyTooLarge(10, 5), 413),
        (errors.NotPermitted("pco.manage"), 403),
    ],
)
def test_refusals_map_to_their_statuses(err, status):
    assert status_of(err) == status


def test_nothing_below_api_knows_an_http_status():
    # The exception tree carries no status; only api/answers.py gives one.
    assert not any(hasattr(cls, "status") for cls in refusal_classes())
