"""Small pieces every admin route uses: the caller, the services, parameters and JSON answers."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.auth import MANAGE, Principal, principal_from_claims
from pco_core.api.services import AdminServices
from pco_core.errors import BadRequest


def services(router: APIGatewayHttpRouter) -> AdminServices:
    found: AdminServices = router.context["services"]
    return found


def caller(router: APIGatewayHttpRouter, permission: str = MANAGE) -> Principal:
    """The verified caller, who must hold `permission` (401 without a token, 403 without the permission)."""
    claims = router.current_event.request_context.authorizer.jwt_claim
    principal = principal_from_claims(claims, services(router).role_permissions)
    principal.require(permission)
    return principal


def json_body(router: APIGatewayHttpRouter) -> dict[str, Any]:
    raw = router.current_event.decoded_body
    if not raw:
        raise BadRequest("the request needs a JSON object body")
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def int_param(router: APIGatewayHttpRouter, name: str, *, default: int, low: int, high: int) -> int:
    raw = router.current_event.get_query_string_value(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}")
    return value


def json_response(status: int, body: Any) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)
