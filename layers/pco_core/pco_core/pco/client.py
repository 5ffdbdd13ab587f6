"""The HTTP client for PCO's People, Groups and Webhooks APIs: the only code in pco_core that does HTTP.

It never sleeps and never retries (pco/retry.py retries a page's reads, the state machine whole pages); it
classifies every answer into the exception tree of pco_core.errors and remembers PCO's rate-limit headers
so a page can ask how long to wait.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
from aws_lambda_powertools import Logger
from pydantic import ValidationError

from pco_core.errors import ConfigError, PcoAuthError, PcoRequestError, PcoUnavailable, RateLimited
from pco_core.observability import Metric, count
from pco_core.pco.jsonapi import Document

logger = Logger(child=True)

# The one place versions are pinned, per product (PCO resolves a date to the nearest version at or before
# it); see PCO_API.md. People 2026-06-04 is the newest seen answering (vrwarp/pcomirror tests/golden,
# recorded under it); against 2025-11-10's documented Person it lacks only directory_shared_info,
# mfa_configured and stripe_customer_identifier, none of which we sync, and its Address, Email, Phone
# and Household shapes are the ones tests/recorded feeds through the models.
API_VERSIONS: Mapping[str, str] = {
    "people": "2026-06-04",
    "groups": "2023-07-10",
    "webhooks": "2022-10-20",
}
VERSION_HEADER = "X-PCO-API-Version"
PROCESSED_AS_HEADER = "X-PCO-API-Processed-As-Version"
RATE_LIMIT_HEADER = "X-PCO-API-Request-Rate-Limit"
RATE_PERIOD_HEADER = "X-PCO-API-Request-Rate-Period"
RATE_COUNT_HEADER = "X-PCO-API-Request-Rate-Count"
DEFAULT_RATE_PERIOD = 20
_REDACTED = "***"


@dataclass(frozen=True, slots=True)
class RateInfo:
    """PCO's rate-limit headers of one response: `count` of `limit` requests used in `period` seconds."""

    limit: int
    period: int
    count: int

    @property
    def remaining(self) -> int:
        return self.limit - self.count


def _leading_int(value: str | None) -> int | None:
    """ "20" or "20 seconds" -> 20; "-3" -> -3; anything else -> None."""
    if value is None:
        return None
    text = value.strip()
    digits = ""
    for index, char in enumerate(text):
        if char.isdigit() or (char == "-" and index == 0):
            digits += char
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return None


def parse_rate(headers: httpx.Headers) -> RateInfo | None:
    """The rate-limit headers of a response, or None when any of the three is missing or unreadable."""
    limit = _leading_int(headers.get(RATE_LIMIT_HEADER))
    period = _leading_int(headers.get(RATE_PERIOD_HEADER))
    count = _leading_int(headers.get(RATE_COUNT_HEADER))
    if limit is None or period is None or count is None:
        return None
    return RateInfo(limit=limit, period=period, count=count)


def _retry_after(response: httpx.Response) -> int:
    seconds = _leading_int(response.headers.get("Retry-After"))
    if seconds is None:
        rate = parse_rate(response.headers)
        seconds = rate.period if rate is not None else DEFAULT_RATE_PERIOD
    # PCO has sent a negative Retry-After (developers#606): never wait less than a second.
    return max(1, seconds)


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [error for error in errors if isinstance(error, dict)]


def _detail(errors: list[dict[str, Any]], response: httpx.Response) -> str:
    if errors:
        for key in ("detail", "title", "code"):
            value = errors[0].get(key)
            if value:
                return value if isinstance(value, str) else str(value)
    return response.reason_phrase or f"HTTP {response.status_code}"


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def raise_for_pco_status(response: httpx.Response, *, redact: Iterable[str] = ()) -> None:
    """Classify one PCO answer: return on 2xx, else raise the pco_core.errors class the state machine expects.

    429 -> RateLimited (Retry-After, else the rate period, else 20; at least 1); 401/403 -> PcoAuthError;
    5xx -> PcoUnavailable; any other status -> PcoRequestError with PCO's first error detail and all errors.
    Every text in `redact` (the secret, the Authorization value) is blanked out of the messages.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    secrets = [secret for secret in redact if secret]
    errors = _errors(response)
    detail = _redact(_detail(errors, response), secrets)
    if status == 429:
        raise RateLimited(_retry_after(response), message=f"PCO rate limit exceeded: {detail}")
    if status in (401, 403):
        # Only PCO's error text, never the request: the Authorization header must not reach a log.
        raise PcoAuthError(f"PCO rejected the credentials ({status}): {detail}")
    if status >= 500:
        # A 503 may say when to come back; a negative or unreadable one is no advice at all.
        advised = _leading_int(response.headers.get("Retry-After"))
        raise PcoUnavailable(
            f"PCO answered {status}: {detail}", retry_after=advised if advised and advised > 0 else None
        )
    raise PcoRequestError(status, detail, errors)


def api_version_for(path: str) -> str | None:
    """The pinned X-PCO-API-Version for a path such as /people/v2/people (None for an unknown product)."""
    product = path.lstrip("/").split("/", 1)[0]
    return API_VERSIONS.get(product)


def _warn_if_processed_as_another(
    pinned: str | None, response: httpx.Response, warned: set[tuple[str, str]]
) -> None:
    """PCO answered in another version than pinned (an older PCO, or a version withdrawn): say so once."""
    processed = response.headers.get(PROCESSED_AS_HEADER)
    if pinned is None or processed is None or processed == pinned:
        return
    if (pinned, processed) not in warned:
        warned.add((pinned, processed))
        logger.warning(
            "PCO processed the request as another API version",
            extra={"pinned": pinned, "processed_as": processed, "path": response.request.url.path},
        )


class PcoClient:
    """A PCO API client: Basic auth with the app id and secret, one pinned API version per product."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        user_agent: str = "pco-sync",
    ) -> None:
        token = base64.b64encode(f"{app_id}:{secret}".encode()).decode()
        # Everything that could leak the secret is blanked out of error messages.
        self._redact = (secret, f"{app_id}:{secret}", token)
        self._http = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(app_id, secret),
            timeout=timeout,
            # httpx retries only connection establishment, never a sent request; the state machine retries.
            transport=transport if transport is not None else httpx.HTTPTransport(retries=1),
            headers={"Accept": "application/json", "User-Agent": user_agent},
            follow_redirects=False,
        )
        self._request_count = 0
        self._warned_versions: set[tuple[str, str]] = set()
        self.last_rate: RateInfo | None = None

    @property
    def request_count(self) -> int:
        """Requests sent by this client, whatever their outcome."""
        return self._request_count

    def suggested_wait(self, reserve: int) -> int:
        """0 while more than `reserve` requests remain in the window, else the window length in seconds."""
        rate = self.last_rate
        if rate is None or rate.remaining > reserve:
            return 0
        return max(1, rate.period)

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Document:
        return self._document(self._send("GET", path, params=params))

    def get_url(self, absolute_url: str) -> Document:
        """Follow a links.next/links.self URL; refuses any other scheme, host or port than base_url's."""
        url = httpx.URL(absolute_url)
        base = self._http.base_url
        if url.is_absolute_url and (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            # Following it would send the credentials elsewhere; the base URL and PCO disagree.
            raise ConfigError(
                f"refusing to follow a PCO link to {url.scheme}://{url.host}: it is not PCO_BASE_URL's host"
            )
        return self._document(self._send("GET", absolute_url))

    def post(self, path: str, document: Mapping[str, Any]) -> Document:
        return self._document(self._send("POST", path, json=document))

    def patch(self, path: str, document: Mapping[str, Any]) -> Document:
        return self._document(self._send("PATCH", path, json=document))

    def delete(self, path: str) -> None:
        self._send("DELETE", path)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        request = self._http.build_request(method, url, params=params, json=json)
        version = api_version_for(self._product_path(request.url))
        if version is not None:
            request.headers[VERSION_HEADER] = version
        self._request_count += 1
        count(Metric.PCO_REQUESTS)
        try:
            response = self._http.send(request)
        except httpx.RequestError as exc:
            # Timeouts, refused or dropped connections, undecodable bodies: all worth another try later.
            raise PcoUnavailable(
                f"PCO request {method} {request.url.path} failed: {type(exc).__name__}"
            ) from exc
        self.last_rate = parse_rate(response.headers)
        logger.debug(
            "PCO answered",
            extra={
                "method": method,
                "path": request.url.path,
                "status": response.status_code,
                "rate_count": self.last_rate.count if self.last_rate else None,
                "rate_limit": self.last_rate.limit if self.last_rate else None,
            },
        )
        _warn_if_processed_as_another(version, response, self._warned_versions)
        if response.status_code == 429:
            count(Metric.PCO_RATE_LIMITED)
        raise_for_pco_status(response, redact=self._redact)
        return response

    def _product_path(self, url: httpx.URL) -> str:
        """The path below base_url's own path (base_url may carry a prefix, e.g. behind a proxy)."""
        base_path = self._http.base_url.path
        path = url.path
        return path[len(base_path) :] if path.startswith(base_path) else path

    @staticmethod
    def _document(response: httpx.Response) -> Document:
        if response.status_code == 204:
            return Document()
        try:
            return Document.model_validate_json(response.content)
        except ValidationError as exc:
            # A 2xx that is not a JSON:API document (a proxy's HTML page, a cut-off body) is PCO misbehaving.
            raise PcoUnavailable(
                f"PCO answered {response.status_code} with an unreadable body ({exc.error_count()} problems)"
            ) from None
