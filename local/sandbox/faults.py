"""Faults on demand for reliability tests: latency, 500/503s, 429 bursts, dropped connections, slow pages.

All off by default. Random choices come from a seeded generator, so a seed replays the same faults for the
same sequence of requests. Latency sleeps through the injected clock (a FakeClock makes it instant).
Tests and demos change faults at run time through `GET/POST /_sandbox/faults`.
"""

from __future__ import annotations

import dataclasses
import random
import socket
import threading
from dataclasses import dataclass
from typing import Any

import flask

from local.sandbox.clock import Clock
from local.sandbox.jsonapi import error_response

EXEMPT_PREFIX = "/_sandbox"

_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ConnectionDropped(ConnectionAbortedError):
    """Raised when a drop is due but the server gives no socket to close (e.g. Flask's test client)."""


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: int = 0  # added to every request
    error_rate: float = 0.0  # share of requests answered with one of error_statuses
    error_statuses: tuple[int, ...] = (500, 503)
    burst_429: int = 0  # the next N requests get 429
    burst_retry_after: int = 1  # Retry-After of those 429s
    drop_rate: float = 0.0  # share of requests whose connection is closed without an answer
    slow_page_ms: int = 0  # added to list requests (GET of a collection)
    seed: int = 0

    def __post_init__(self) -> None:
        # Coerce JSON lists and check ranges here so bad values fail at configure time, not mid-request.
        object.__setattr__(self, "error_statuses", tuple(int(s) for s in self.error_statuses))
        for name in ("latency_ms", "burst_429", "slow_page_ms"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0")
        for name in ("error_rate", "drop_rate"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.burst_retry_after < 1:
            raise ValueError("burst_retry_after must be >= 1")
        if not self.error_statuses or any(not 400 <= s <= 599 for s in self.error_statuses):
            raise ValueError("error_statuses must be HTTP error statuses")

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        return data


_FIELD_TYPES: dict[str, type] = {
    "latency_ms": int,
    "error_rate": float,
    "burst_429": int,
    "burst_retry_after": int,
    "drop_rate": float,
    "slow_page_ms": int,
    "seed": int,
}


def _is_list_request(request: flask.Request) -> bool:
    """A GET of a collection: PCO ids are numeric, so a path not ending in one names a collection."""
    last = request.path.rstrip("/").rsplit("/", 1)[-1]
    return request.method == "GET" and not last.isdigit()


def _drop_connection(request: flask.Request) -> None:
    """Close the client's socket without an answer. Werkzeug's server then fails to write the response,
    treats that as a connection the client dropped, and moves on quietly."""
    sock = request.environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        raise ConnectionDropped("fault injection: connection dropped")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError as err:  # already gone: the client left first, which is the outcome wanted anyway
        raise ConnectionDropped("fault injection: connection dropped") from err


class FaultInjector:
    """Decides, per request, which fault (if any) to apply; thread-safe."""

    def __init__(self, config: FaultConfig, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._apply(config)

    def _apply(self, config: FaultConfig) -> None:
        self.config = config
        self.burst_remaining = config.burst_429
        self._rng = random.Random(config.seed)

    def configure(self, **changes: Any) -> FaultConfig:
        """Change some fields; a changed burst_429 starts a new burst, any change restarts the seed."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(FaultConfig)}
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._apply(dataclasses.replace(self.config, **changes))
            return self.config

    def reset(self) -> None:
        with self._lock:
            self._apply(FaultConfig())

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {**self.config.as_json(), "burst_429_remaining": self.burst_remaining}

    def _draw(self) -> tuple[bool, bool, int]:
        """One request's fate: (drop?, 429 from the burst?, error status or 0). Draws happen in a fixed
        order on every request so a seed replays exactly."""
        with self._lock:
            config = self.config
            drop = self._rng.random() < config.drop_rate
            error_roll = self._rng.random()
            status_pick = self._rng.choice(config.error_statuses)
            if drop:
                return True, False, 0
            if self.burst_remaining > 0:
                self.burst_remaining -= 1
                return False, True, 0
            return False, False, status_pick if error_roll < config.error_rate else 0

    def before_request(self, request: flask.Request) -> flask.Response | None:
        """Apply this request's faults; a response ends the request, None lets it through."""
        config = self.config
        delay_ms = config.latency_ms + (config.slow_page_ms if _is_list_request(request) else 0)
        if delay_ms > 0:
            self.clock.sleep(delay_ms / 1000)
        drop, burst, status = self._draw()
        if drop:
            _drop_connection(request)
            return flask.Response(status=500)  # never reaches the client: its socket is closed
        if burst:
            response = error_response(
                429,
                "Too Many Requests",
                "Rate limit exceeded (fault injection burst)",
                code="429",
            )
            response.headers["Retry-After"] = str(config.burst_retry_after)
            return response
        if status:
            title = _TITLES.get(status, "Error")
            return error_response(status, title, f"{title} (fault injection)")
        return None


def _config_changes(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object of FaultConfig fields")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if name == "error_statuses":
            if not isinstance(value, list) or not all(type(v) is int for v in value):
                raise ValueError("error_statuses must be a list of integers")
            changes[name] = tuple(value)
            continue
        kind = _FIELD_TYPES.get(name)
        if kind is None:
            raise ValueError(f"unknown fault field: {name}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and type(value) is not int)
        ):
            raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'}")
        changes[name] = kind(value)
    return changes


def install_faults(app: flask.Flask, injector: FaultInjector) -> None:
    """Apply faults before every request except /_sandbox ones, and serve GET/POST /_sandbox/faults.

    POST takes FaultConfig fields to change (plus `"reset": true` to start from the defaults first)."""

    @app.before_request
    def _inject_faults() -> flask.Response | None:
        if flask.request.path.startswith(EXEMPT_PREFIX):
            return None
        return injector.before_request(flask.request)

    @app.get("/_sandbox/faults")
    def _read_faults() -> flask.Response:
        return flask.jsonify(injector.state())

    @app.post("/_sandbox/faults")
    def _change_faults() -> flask.Response:
        body = flask.request.get_json(silent=True)
        try:
            if isinstance(body, dict) and body.get("reset") is True:
                body = {k: v for k, v in body.items() if k != "reset"}
                injector.reset()
            injector.configure(**_config_changes(body))
        except ValueError as err:  # messages are ours: they name the field and the rule
            return error_response(400, "Bad Request", str(err), code="invalid_fault_config")
        return flask.jsonify(injector.state())
