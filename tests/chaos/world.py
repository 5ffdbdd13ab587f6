"""One fault scenario's world: a seeded PCO sandbox with its fault injection, the local stack on top of it
(the real state machine, handlers and stores on moto), and what a scenario does to them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from werkzeug.serving import make_server

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.store.records import RecordStore
from tests.chaos.compare import Differences, Direction, compare
from tests.stack import ADMIN

RUN_TIMEOUT = 600


class World:
    def __init__(self, sandbox: RunningSandbox, stack: LocalStack) -> None:
        self.sandbox = sandbox
        self.stack = stack
        self.records = RecordStore(stack.env("RECORDS_TABLE"), client=stack.dynamodb)
        self.staff = httpx.Client(base_url=sandbox.url, timeout=30)
        self._delivering: threading.Event | None = None

    # ---- PCO's bad day
    def faults(self, **config: Any) -> None:
        self.sandbox.sandbox.faults.reset()
        self.sandbox.sandbox.faults.configure(**config)

    def calm(self) -> None:
        self.sandbox.sandbox.faults.reset()

    def pco(self, method: str, path: str, **kwargs: Any) -> Any:
        """A change as church staff make it in PCO (the sandbox's /_sandbox endpoints, never faulted)."""
        answer = self.staff.request(method, path, **kwargs)
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    # ---- runs, through the admin API
    def start(self, run_type: str) -> tuple[int, dict[str, Any]]:
        status, body = self.stack.api("POST", "/api/runs", json={"type": run_type}, role=ADMIN)
        return status, body

    def start_when_free(self, run_type: str, deadline_seconds: float = 120) -> tuple[dict[str, Any], int]:
        """Start a run, asking again while the API answers 409; the run and how many 409s came first."""
        refused = 0
        deadline = time.monotonic() + deadline_seconds
        while True:
            status, body = self.start(run_type)
            if status == 202:
                return body, refused
            assert status == 409, body
            refused += 1
            assert time.monotonic() < deadline, f"still refused after {deadline_seconds}s: {body}"
            time.sleep(0.1)

    def run(self, run_type: str) -> dict[str, Any]:
        status, body = self.start(run_type)
        assert status == 202, body
        return self.wait(body["id"])

    def wait(self, run_id: str) -> dict[str, Any]:
        self.stack.wait_for_run(run_id, timeout=RUN_TIMEOUT)
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> dict[str, Any]:
        status, run = self.stack.api("GET", f"/api/runs/{run_id}", role=ADMIN)
        assert status == 200, run
        return dict(run)

    def wait_until(self, run_id: str, predicate: Any, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if predicate(run) or run["status"] != "RUNNING":
                return run
            assert time.monotonic() < deadline, f"run {run_id} never reached the point: {run}"
            time.sleep(0.05)

    def cancel(self, run_id: str) -> int:
        status, _ = self.stack.api("POST", f"/api/runs/{run_id}/cancel", role=ADMIN)
        return status

    def outcome(self, final: dict[str, Any]) -> str:
        """The run's status; a FAILED run is resumed with PCO calm again, and the resume's end told too."""
        if final["status"] != "FAILED":
            return str(final["status"])
        self.calm()
        status, resumed = self.stack.api("POST", f"/api/runs/{final['id']}/resume", role=ADMIN)
        assert status == 202, resumed
        after = self.wait(resumed["id"])
        return f"FAILED ({(final.get('error') or '')[:40]}), resumed: {after['status']}"

    # ---- webhooks from PCO, delivered while things happen
    @contextmanager
    def webhooks(self) -> Iterator[None]:
        """The stack's webhook URL served over HTTP, PCO subscribed to it, deliveries applied as they come."""
        server = make_server("127.0.0.1", 0, self.stack.assembled.api_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="chaos-webhooks", daemon=True)
        thread.start()
        try:
            self.sandbox.sandbox.hub.deliver_due()  # nothing from before the subscription
            self.sandbox.subscribe_webhooks(f"http://127.0.0.1:{server.server_port}/webhooks/pco")
            stop = threading.Event()
            pump = threading.Thread(target=self._pump, args=(stop,), name="chaos-deliveries", daemon=True)
            pump.start()
            try:
                yield
            finally:
                stop.set()
                pump.join(60)
                self.deliver()
        finally:
            server.shutdown()
            thread.join(10)

    def _pump(self, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            self.deliver()

    def deliver(self) -> None:
        self.sandbox.sandbox.hub.deliver_due()
        self.stack.drain_queues(timeout=120)

    # ---- the verdict
    def compare(self, direction: Direction) -> Differences:
        self.calm()
        return compare(self.sandbox, self.records, direction)
