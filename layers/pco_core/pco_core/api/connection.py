"""/api/connection: which PCO credentials are configured (never their values) and a live test of them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.common import caller, json_response, services

router = APIGatewayHttpRouter()


@router.get("/api/connection")
def connection_status() -> Response[Any]:
    caller(router)
    return json_response(200, services(router).connection.status().model_dump(mode="json"))


@router.post("/api/connection/test")
def test_connection() -> Response[Any]:
    caller(router)
    # A failed test is still a successful request: the answer says why PCO refused or was unreachable.
    result = services(router).connection.test()
    return json_response(200, result.model_dump(mode="json", exclude_none=True))
