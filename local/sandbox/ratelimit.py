"""PCO's request rate limit for the sandbox: a fixed window per credential, the three rate headers, 429s.

PCO allows 100 requests per 20 s per credential. The window of a credential opens with its first request
and lasts `period` seconds. Every counted request, including the ones answered 429, adds to the window's
count: PCO reports counts above the limit ("118 of 100"), and since the window is fixed, counting rejected
requests never pushes back the moment it frees. A client that waits the `Retry-After` it was given lands
in a fresh window and gets through.

Past offset 30,000 PCO documents 75 / 20 s, but enforces 10 / 20 s while the rate headers still say 100
(developers#1449: "Rate limit exceeded: 23 of 10 requests per 20 seconds" at offset=32700; #1450). A
deep-offset request shares the credential's counter and is allowed only while the count (itself included)
stays within `deep_offset_limit`; its headers report the normal limit unless `deep_offset_honest_headers`.
Its 429 names the deep limit, as PCO's does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import flask

from local.sandbox.clock import Clock
from local.sandbox.jsonapi import json_response

LIMIT_HEADER = "X-PCO-API-Request-Rate-Limit"
PERIOD_HEADER = "X-PCO-API-Request-Rate-Period"
COUNT_HEADER = "X-PCO-API-Request-Rate-Count"
EXEMPT_PREFIX = "/_sandbox"

_DECISION_KEY = "pco_rate_decision"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int  # the limit this request was held to
    period: int
    count: int
    retry_after: int  # whole seconds until the window frees; 0 when allowed
    reported_limit: int = 0  # what X-PCO-API-Request-Rate-Limit says (0: the same as `limit`)


@dataclass
class _Window:
    started_at: float
    count: int = 0


class RateLimiter:
    """Counts requests per credential in fixed windows; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        *,
        limit: int = 100,
        period: int = 20,
        deep_offset_limit: int = 10,
        deep_offset_threshold: int = 30000,
        deep_offset_honest_headers: bool = False,
        enabled: bool = True,
    ) -> None:
        if limit < 1 or period < 1 or deep_offset_limit < 1:
            raise ValueError("limit, period and deep_offset_limit must be at least 1")
        self.clock = clock
        self.limit = limit
        self.period = period
        self.deep_offset_limit = deep_offset_limit
        self.deep_offset_threshold = deep_offset_threshold
        self.deep_offset_honest_headers = deep_offset_honest_headers
        self.enabled = enabled
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, credential: str, *, offset: int = 0) -> RateDecision:
        """Count one request of `credential` and say whether it may proceed."""
        deep = offset > self.deep_offset_threshold
        limit = self.deep_offset_limit if deep else self.limit
        reported = limit if not deep or self.deep_offset_honest_headers else self.limit
        now = self.clock.now()
        with self._lock:
            window = self._windows.get(credential)
            if window is None or now >= window.started_at + self.period:
                window = _Window(started_at=now)
                self._windows[credential] = window
            window.count += 1
            count = window.count
            frees_at = window.started_at + self.period
        allowed = not self.enabled or count <= limit
        retry_after = 0 if allowed else max(1, math.ceil(frees_at - now))
        return RateDecision(
            allowed=allowed,
            limit=limit,
            period=self.period,
            count=count,
            retry_after=retry_after,
            reported_limit=reported,
        )

    def reset(self, credential: str | None = None) -> None:
        """Forget the windows of one credential, or of all."""
        with self._lock:
            if credential is None:
                self._windows.clear()
            else:
                self._windows.pop(credential, None)


def too_many_requests(decision: RateDecision) -> flask.Response:
    """PCO's 429 answer, shaped as developers#1449 quotes it: {"errors":[{"code":"429","title":"Too Many
    Requests","detail":"Rate limit exceeded: 23 of 10 requests per 20 seconds"}]} (no `status`)."""
    detail = (
        f"Rate limit exceeded: {decision.count} of {decision.limit} requests per {decision.period} seconds"
    )
    error = {"code": "429", "title": "Too Many Requests", "detail": detail}
    response = json_response({"errors": [error]}, status=429)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


def _offset_of(request: flask.Request) -> int:
    try:
        return int(request.args.get("offset", "0"))
    except ValueError:
        return 0


def install_rate_limit(
    app: flask.Flask,
    limiter: RateLimiter,
    credential_of: Callable[[flask.Request], str | None],
) -> None:
    """Count every credentialed request (except /_sandbox ones), refuse with 429 over the limit, and put
    the rate headers on every counted response, errors included."""

    @app.before_request
    def _count_request() -> flask.Response | None:
        request = flask.request
        if request.path.startswith(EXEMPT_PREFIX):
            return None
        credential = credential_of(request)
        if not credential:
            return None
        decision = limiter.hit(credential, offset=_offset_of(request))
        setattr(flask.g, _DECISION_KEY, decision)
        if not decision.allowed:
            return too_many_requests(decision)
        return None

    @app.after_request
    def _add_rate_headers(response: flask.Response) -> flask.Response:
        decision: RateDecision | None = flask.g.get(_DECISION_KEY)
        if decision is not None:
            response.headers[LIMIT_HEADER] = str(decision.reported_limit or decision.limit)
            response.headers[PERIOD_HEADER] = str(decision.period)
            response.headers[COUNT_HEADER] = str(decision.count)
        return response
