"""/api/connection: which PCO credentials are configured (never their values) and a live test of them."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pco_core.api.answers import documented
from pco_core.api.common import services
from pco_core.connection import ConnectionStatus, ConnectionTest

router = APIGatewayHttpRouter()


@router.get("/api/connection", responses=documented(200, ConnectionStatus))
def connection_status() -> ConnectionStatus:
    return services().connection.status()


@router.post("/api/connection/test", responses=documented(200, ConnectionTest))
def test_connection() -> ConnectionTest:
    # A failed test is still a successful request: the answer says why PCO refused or was unreachable.
    return services().connection.test()
