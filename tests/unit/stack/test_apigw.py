"""apigw.py: requests become HTTP API payload 2.0 events; the JWT authorizer refuses before any handler."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from local.stack.apigw import ApiFunction, create_api_app, match_route, render_claims
from local.stack.auth import DevIssuer
from local.stack.template import HttpRoute
from tests.unit.stack.conftest import FIXTURES

NOW = 1_795_528_800.0  # 2026-11-24T14:00:00Z
ISSUER = DevIssuer(
    rsa.generate_private_key(public_exponent=65537, key_size=2048),
    issuer="https://issuer.test/pool",
    client_id="client-1",
)
ROUTES = [
    HttpRoute("ANY", "/api/{proxy+}", "Admin", jwt_required=True),
    HttpRoute("ANY", "/api", "Admin", jwt_required=True),
    HttpRoute("POST", "/webhooks/{source}", "Hook", jwt_required=False),
]
EXAMPLE = json.loads((FIXTURES / "apigw_v2_event.json").read_text())


class Recorder:
    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "{}"}
        self.error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if self.error:
            raise self.error
        return self.answer


def client_for(handler: Recorder, site_dir: Path | None = FIXTURES / "site") -> FlaskClient:
    functions = {"Admin": ApiFunction("admin-fn", handler), "Hook": ApiFunction("hook-fn", handler)}
    verifier = ISSUER.verifier()
    app = create_api_app(
        routes=ROUTES,
        functions=functions,
        verifier=type(verifier)(verifier.jwks, verifier.issuer, verifier.audiences, clock=lambda: NOW),
        site_dir=site_dir,
        clock=lambda: NOW,
    )
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_given_a_valid_token_when_calling_the_api_then_the_event_is_what_api_gateway_sends() -> None:
    handler = Recorder()
    token = ISSUER.issue_token("TECH_ADMIN", email="a@church.test", now=NOW - 10)

    client = client_for(handler)
    client.set_cookie("c1", "v1")
    client.set_cookie("c2", "v2")

    response = client.post(
        "/api/people/42?x=1&x=2&y=", json={"first_name": "Ann"}, headers={**bearer(token), "X-Custom": "Yes"}
    )

    assert response.status_code == 200
    (event,) = handler.events
    assert set(event) <= set(EXAMPLE)
    assert set(event["requestContext"]) <= set(EXAMPLE["requestContext"])
    assert set(event["requestContext"]["http"]) == set(EXAMPLE["requestContext"]["http"])
    APIGatewayProxyEventV2Model.model_validate(event)  # Powertools' own model of the event accepts it
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "ANY /api/{proxy+}"
    assert (event["rawPath"], event["rawQueryString"]) == ("/api/people/42", "x=1&x=2&y=")
    assert event["queryStringParameters"] == {"x": "1,2", "y": ""}
    assert event["pathParameters"] == {"proxy": "people/42"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-custom"] == "Yes"
    assert "cookie" not in event["headers"]
    assert all(name == name.lower() for name in event["headers"])
    assert json.loads(event["body"]) == {"first_name": "Ann"}
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["http"]["method"], ctx["http"]["path"]) == (
        "$default",
        "POST",
        "/api/people/42",
    )
    assert (ctx["time"], ctx["timeEpoch"]) == ("24/Nov/2026:14:00:00 +0000", int(NOW * 1000))
    claims = ctx["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[TECH_ADMIN]"
    assert claims["email"] == "a@church.test"
    assert claims["exp"] == str(int(NOW - 10) + 8 * 3600)
    assert claims["email_verified"] == "true"
    assert ctx["authorizer"]["jwt"]["scopes"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer(ISSUER.issue_token("TECH_ADMIN", ttl=60, now=NOW - 120)),
        bearer(
            DevIssuer(ISSUER.key, issuer="https://other.test", client_id="client-1").issue_token("R", now=NOW)
        ),
        bearer(DevIssuer(ISSUER.key, issuer=ISSUER.issuer, client_id="other").issue_token("R", now=NOW)),
        bearer("garbage"),
    ],
    ids=["missing", "expired", "wrong-issuer", "wrong-audience", "garbage"],
)
def test_requests_the_authorizer_refuses_never_reach_the_handler(headers: dict[str, str]) -> None:
    handler = Recorder()

    response = client_for(handler).get("/api/runs", headers=headers)

    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}
    assert handler.events == []


def test_a_token_without_the_bearer_prefix_is_taken_as_the_authorizer_does() -> None:
    handler = Recorder()

    response = client_for(handler).get("/api", headers={"Authorization": ISSUER.issue_token("R", now=NOW)})

    assert response.status_code == 200
    assert handler.events[0]["routeKey"] == "ANY /api"
    assert "pathParameters" not in handler.events[0]


def test_webhook_routes_need_no_token_and_binary_bodies_arrive_base64() -> None:
    handler = Recorder()

    response = client_for(handler).post(
        "/webhooks/pco", data=b"\x00\x01raw", headers={"Content-Type": "application/octet-stream"}
    )

    assert response.status_code == 200
    (event,) = handler.events
    assert "authorizer" not in event["requestContext"]
    assert event["pathParameters"] == {"source": "pco"}
    assert event["routeKey"] == "POST /webhooks/{source}"
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, b"\x00\x01raw")


def test_handler_answers_become_http_responses() -> None:
    token = ISSUER.issue_token("R", now=NOW)
    full = Recorder(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Echo": "1"},
            "cookies": ["a=b; Path=/"],
            "body": base64.b64encode(b"bytes!").decode(),
            "isBase64Encoded": True,
        }
    )
    plain = Recorder({"hello": "world"})
    broken = Recorder(error=RuntimeError("boom"))

    r1 = client_for(full).get("/api/x", headers=bearer(token))
    r2 = client_for(plain).get("/api/x", headers=bearer(token))
    r3 = client_for(broken).get("/api/x", headers=bearer(token))

    assert (r1.status_code, r1.data, r1.headers["X-Echo"], r1.headers["Set-Cookie"]) == (
        201,
        b"bytes!",
        "1",
        "a=b; Path=/",
    )
    assert r1.headers["Content-Type"] == "text/plain"
    assert (r2.status_code, r2.get_json(), r2.headers["Content-Type"]) == (
        200,
        {"hello": "world"},
        "application/json",
    )
    assert (r3.status_code, r3.get_json()) == (500, {"message": "Internal Server Error"})


def test_everything_else_is_the_static_site_and_unknown_api_paths_are_404() -> None:
    client = client_for(Recorder())

    assert client.get("/").data.startswith(b"<!doctype html>")
    assert client.get("/app.css").status_code == 200
    assert client.get("/missing.js").status_code == 404
    assert client.get("/../template.yaml").status_code == 404
    assert client.get("/webhooks/a/b").get_json() == {"message": "Not Found"}
    assert client.get("/webhooks/pco").status_code == 404  # POST only


def test_the_most_specific_route_wins() -> None:
    routes = [
        HttpRoute("ANY", "/api/{proxy+}", "A", jwt_required=True),
        HttpRoute("GET", "/api/runs/{id}", "B", jwt_required=True),
        HttpRoute("GET", "/api/runs/current", "C", jwt_required=True),
    ]

    assert match_route(routes, "GET", "/api/runs/current").route.function_logical_id == "C"  # type: ignore[union-attr]
    assert match_route(routes, "GET", "/api/runs/7").path_parameters == {"id": "7"}  # type: ignore[union-attr]
    assert match_route(routes, "POST", "/api/runs/7").route.function_logical_id == "A"  # type: ignore[union-attr]
    assert match_route(routes, "GET", "/other") is None


def test_claims_are_rendered_as_strings_like_api_gateway() -> None:
    assert render_claims({"groups": ["A", "B"], "n": 5, "ok": False, "s": "x"}) == {
        "groups": "[A B]",
        "n": "5",
        "ok": "false",
        "s": "x",
    }


def test_the_local_sign_in_issues_tokens_the_authorizer_accepts_and_refuses_a_bad_role() -> None:
    # Given the stand-in with the dev issuer (as make run builds it)
    handler = Recorder()
    functions = {"Admin": ApiFunction("admin-fn", handler)}
    app = create_api_app(routes=ROUTES, functions=functions, verifier=ISSUER.verifier(), dev_issuer=ISSUER)
    client = app.test_client()
    # When the page signs in locally as a TECH_ADMIN
    answer = client.post("/local/token", json={"role": "TECH_ADMIN"})
    # Then the token passes the authorizer and carries the role as Cognito would
    assert answer.status_code == 200
    token = answer.get_json()["token"]
    assert client.get("/api/runs", headers=bearer(token)).status_code == 200
    claims = handler.events[0]["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["cognito:groups"] == "[TECH_ADMIN]"
    # And as the one local admin `make token` and `make run`'s banner also name
    assert claims["email"] == "tech_admin@church.local"
    # And a missing or malformed role is a 400 with a message, issuing nothing
    for body in ({}, {"role": ""}, {"role": "<script>"}, ["TECH_ADMIN"]):
        refused = client.post("/local/token", json=body)
        assert refused.status_code == 400
        assert "role" in refused.get_json()["message"]


def test_without_a_dev_issuer_there_is_no_local_sign_in() -> None:
    assert client_for(Recorder()).post("/local/token", json={"role": "TECH_ADMIN"}).status_code == 404
