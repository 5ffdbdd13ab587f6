"""Who is calling, and the one check every admin route gets: a verified caller holding `pco.manage`.

The HTTP API's JWT authorizer verifies the token; its claims arrive in the event. Roles come from the
`cognito:groups` claim (or `roles` from other issuers) and map to permissions by deployment setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from pydantic import BaseModel

from pco_core.api.common import PRINCIPAL, serve_with, services
from pco_core.errors import NotPermitted, NotSignedIn

MANAGE = "pco.manage"


class Principal(BaseModel):
    subject: str
    display_name: str
    roles: frozenset[str]
    permissions: frozenset[str]

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise NotPermitted(permission)


def _roles_from_claim(value: Any) -> frozenset[str]:
    # API Gateway renders array claims as a string like "[TECH_ADMIN OTHER]"; a list also arrives
    # from other issuers. Accept both.
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    if isinstance(value, str):
        return frozenset(part for part in value.strip("[]").replace(",", " ").split() if part)
    return frozenset()


def principal_from_claims(claims: Mapping[str, Any], role_permissions: Mapping[str, list[str]]) -> Principal:
    """The caller, from verified JWT claims; no claims at all means the request was not authenticated."""
    subject = claims.get("sub")
    if not subject:
        raise NotSignedIn("sign in first: no verified token came with this request")
    roles = _roles_from_claim(claims.get("cognito:groups")) | _roles_from_claim(claims.get("roles"))
    permissions = frozenset(p for role in roles for p in role_permissions.get(role, []))
    name = (
        claims.get("email") or claims.get("name") or claims.get("username") or claims.get("cognito:username")
    )
    return Principal(
        subject=str(subject), display_name=str(name or subject), roles=roles, permissions=permissions
    )


def authorise(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Every admin route, and the answer for an unknown one, needs a caller holding `pco.manage`.

    Runs before the body is read or validated, so a caller without the permission learns nothing
    about what a route accepts; the caller is kept for the routes that name them (common.caller).
    """
    claims = app.current_event.request_context.authorizer.jwt_claim
    principal = principal_from_claims(claims, services().role_permissions)
    principal.require(MANAGE)
    return serve_with(PRINCIPAL, principal, app, next_middleware)
