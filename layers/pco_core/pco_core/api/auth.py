"""Who is calling: the JWT claims the HTTP API authorizer verified, mapped from roles to permissions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from pco_core.errors import ApiError

MANAGE = "pco.manage"


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class Principal(BaseModel):
    subject: str
    display_name: str
    roles: frozenset[str]
    permissions: frozenset[str]

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this action needs the '{permission}' permission, which your roles do not grant")


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
        raise Unauthorized("sign in first: no verified token came with this request")
    roles = _roles_from_claim(claims.get("cognito:groups")) | _roles_from_claim(claims.get("roles"))
    permissions = frozenset(p for role in roles for p in role_permissions.get(role, []))
    name = (
        claims.get("email") or claims.get("name") or claims.get("username") or claims.get("cognito:username")
    )
    return Principal(
        subject=str(subject), display_name=str(name or subject), roles=roles, permissions=permissions
    )
