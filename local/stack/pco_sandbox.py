"""Start the PCO sandbox in this process (for `make run`, the integration fixtures and the benchmarks)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import flask

from local.sandbox.app import Sandbox, SandboxConfig
from local.sandbox.server import SandboxServer

HOST = "127.0.0.1"

# Every webhook event PCO sends for what the sync keeps (People and Groups).
PCO_WEBHOOK_EVENTS: tuple[str, ...] = (
    *(f"people.v2.events.person.{a}" for a in ("created", "updated", "destroyed")),
    "people.v2.events.person_merger.created",
    *(
        f"people.v2.events.{thing}.{a}"
        for thing in ("household", "email", "phone_number", "address")
        for a in ("created", "updated", "destroyed")
    ),
    *(
        f"groups.v2.events.{thing}.{a}"
        for thing in ("group", "membership")
        for a in ("created", "updated", "destroyed")
    ),
)


# Set to 1 to make the sandbox accept whatever PCO credentials the stack was given.
ADOPT_CREDENTIALS_ENV = "SANDBOX_ADOPT_CREDENTIALS"


@dataclass(frozen=True)
class SandboxCredentials:
    app_id: str
    secret: str
    webhook_secret: str | None


def sandbox_credentials(
    environ: Mapping[str, str], *, own: SandboxCredentials, stack: SandboxCredentials
) -> SandboxCredentials:
    """The credentials the sandbox accepts: its own, as a real PCO has its own, so a stack given a wrong
    PCO_SECRET is refused with 401; the stack's only when SANDBOX_ADOPT_CREDENTIALS=1 says so."""
    return stack if environ.get(ADOPT_CREDENTIALS_ENV, "").strip() == "1" else own


@dataclass
class RequestCount:
    """What reached the sandbox over HTTP: the requests PCO would bill against its rate limit, and the
    deepest offset asked of each path (PCO throttles offsets past 30,000)."""

    total: int = 0
    limited: int = 0  # answered 429
    deepest_offset: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, status: int, path: str = "", offset: int = 0) -> None:
        with self._lock:
            self.total += 1
            self.limited += status == 429
            if offset > self.deepest_offset.get(path, -1):
                self.deepest_offset[path] = offset

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.total, self.limited


@dataclass
class RunningSandbox:
    url: str
    sandbox: Sandbox
    server: SandboxServer
    requests: RequestCount = field(default_factory=RequestCount)

    @property
    def app(self) -> Any:
        return self.server.app

    def stop(self) -> None:
        self.server.stop()

    def subscribe_webhooks(self, url: str, events: tuple[str, ...] = PCO_WEBHOOK_EVENTS) -> int:
        """Point one active subscription per event at `url` (replacing any earlier ones); returns how many.

        The hub signs with the sandbox's webhook_secret when one was given, so the stack verifies them.
        """
        hub = self.sandbox.hub
        for existing in hub.subscriptions():
            hub.delete_subscription(existing.id)
        for name in events:
            hub.create_subscription(name, url)
        return len(events)


def start_sandbox(
    *,
    port: int,
    people: int,
    seed: int,
    app_id: str,
    secret: str,
    webhook_secret: str | None = None,
    rate_limit: tuple[int, int] = (100, 20),
    deliver_webhooks: bool = False,
    port_claim: socket.socket | None = None,
) -> RunningSandbox:
    """A seeded sandbox served on 127.0.0.1:port (0 = any free port), at `rate_limit` (requests, seconds).

    `port_claim`, a socket holding the port until now, is closed only once the church is generated, right
    before the server binds, so the port cannot be taken while the data is made.
    """
    limit, period = rate_limit
    config = SandboxConfig(
        app_id=app_id,
        secret=secret,
        webhook_secret=webhook_secret,
        people=people,
        seed=seed,
        rate_limit=limit,
        rate_period=period,
    )
    server = SandboxServer(Sandbox.create(config), host=HOST, port=port, deliver_webhooks=deliver_webhooks)
    running = RunningSandbox(url="", sandbox=server.sandbox, server=server)

    @server.app.after_request
    def _count(response: Any) -> Any:
        request = flask.request
        if request.path.startswith("/_sandbox"):
            return response  # what staff do in PCO's own UI: not API requests
        offset = request.args.get("offset", "0")
        running.requests.add(response.status_code, request.path, int(offset) if offset.isdigit() else 0)
        return response

    if port_claim is not None:
        port_claim.close()
    server.start()
    running.url = server.url
    return running
