"""Loading the recorded PCO answers of tests/fixtures/pco and serving them through httpx.MockTransport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from pco_core.pco.client import PcoClient

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pco"
BASE_URL = "https://api.planningcenteronline.com"


def recording(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def replaying_client(name: str, seen: list[httpx.Request] | None = None) -> PcoClient:
    """A PcoClient whose every request is answered with the recording's status and body (and its
    X-PCO-API-* headers when it kept them)."""
    response = recording(name)["response"]

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(response["status"], json=response["body"], headers=response.get("headers", {}))

    return PcoClient(BASE_URL, "app-id", "secret", transport=httpx.MockTransport(answer))


def request_path(name: str) -> str:
    """The recorded request's path and query, under /people/v2 when the recording left the product out
    (pcomirror records paths relative to /people/v2)."""
    request = recording(name)["request"]
    path = request["path"]
    if not path.startswith(("/people/", "/groups/", "/webhooks/")):
        path = "/people/v2" + path
    return f"{path}?{request['query']}" if request.get("query") else path
