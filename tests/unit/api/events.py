"""HTTP API (payload 2.0) events as API Gateway sends them after its JWT authorizer."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {
            "content-type": "application/json",
            "host": "example.execute-api.us-east-1.amazonaws.com",
        },
        "queryStringParameters": query or None,
        "pathParameters": {"proxy": path.removeprefix("/api/")},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "example",
            "authorizer": {"jwt": {"claims": claims or {}, "scopes": None}} if claims is not None else {},
            "domainName": "example.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": "24/Nov/2026:14:00:00 +0000",
            "timeEpoch": 1795528800000,
        },
        "body": text,
        "isBase64Encoded": False,
    }


ADMIN = {"sub": "u-1", "email": "admin@church.example", "cognito:groups": "[TECH_ADMIN]"}
VOLUNTEER = {"sub": "u-2", "email": "volunteer@church.example", "cognito:groups": "[VOLUNTEER]"}
