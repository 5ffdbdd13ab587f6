"""The PCO sandbox in-process (WSGI, no socket) behind a real PcoClient, with every request it received."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from local.sandbox.app import Sandbox, SandboxConfig, create_app
from local.sandbox.clock import FakeClock as SandboxClock
from pco_core.pco.client import PcoClient
from pco_core.pco.models import PcoPerson

APP, SECRET = "app", "secret"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Pco:
    """The sandbox app behind a real PcoClient, with every request it received (`on_request` sees each
    one before the sandbox answers, to inject a race)."""

    def __init__(self, people: int = 3) -> None:
        self.sandbox = Sandbox.create(
            SandboxConfig(app_id=APP, secret=SECRET, people=people, seed=3, rate_limit_enabled=False),
            clock=SandboxClock(),
        )
        self.requests: list[httpx.Request] = []
        wsgi = httpx.WSGITransport(app=create_app(self.sandbox))
        self._wsgi = wsgi

        self.on_request: Any = None

        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if self.on_request is not None:
                self.on_request(request)
            return wsgi.handle_request(request)

        self.transport = httpx.MockTransport(handle)

    def client(self) -> PcoClient:
        return PcoClient("http://sandbox.test", APP, SECRET, transport=self.transport)

    def sandbox_admin(self) -> httpx.Client:
        """The sandbox's /_sandbox endpoints (what church staff do in PCO's UI), not counted as requests."""
        return httpx.Client(transport=self._wsgi, base_url="http://sandbox.test")

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests if r.method != "GET"]

    def get(self, path: str, **params: str) -> dict[str, Any]:
        answer = httpx.Client(transport=self.transport, auth=(APP, SECRET)).get(
            "http://sandbox.test" + path, params=params
        )
        self.requests.pop()
        assert answer.status_code == 200, answer.text
        return answer.json()

    def person(self, pco_id: str) -> PcoPerson:
        from pco_core.pco.jsonapi import Document

        doc = Document.model_validate(
            self.get(f"/people/v2/people/{pco_id}", include="emails,phone_numbers,addresses")
        )
        return PcoPerson.from_resource(doc.resources()[0], doc)

    def forward(self, request: httpx.Request) -> httpx.Response:
        """Let the sandbox handle `request` now (a hook that then drops the answer: a lost answer)."""
        return self._wsgi.handle_request(request)

    def people(self) -> list[PcoPerson]:
        """Every person PCO holds."""
        from pco_core.pco.jsonapi import Document

        doc = Document.model_validate(self.get("/people/v2/people", per_page="100"))
        return [PcoPerson.from_resource(resource, doc) for resource in doc.resources()]
