"""PcoConnection with the real PCO client over httpx.MockTransport: each outcome's exact reason, no secret."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from pco_core.connection import ORGANIZATION_PATH, PcoConnection
from pco_core.errors import ConfigError
from pco_core.pco.client import PcoClient
from pco_core.store.connection_checks import ConnectionCheck

APP_ID = "app-id-123"
SECRET = "s3cr3t-value-xyz"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BASE = "https://pco.test"
ORGANIZATION = {
    "data": {
        "type": "Organization",
        "id": "1",
        "attributes": {"name": "Grace Community Church", "time_zone": "America/Chicago"},
    },
    "included": [],
    "meta": {},
}


@dataclass
class MemoryChecks:
    """The last connection check, in memory (the store's is tested on moto)."""

    last: ConnectionCheck | None = None

    def latest(self) -> ConnectionCheck | None:
        return self.last

    def record(self, check: ConnectionCheck) -> None:
        self.last = check


def connection(
    handler: Any, stored: Any = None, checks: MemoryChecks | None = None
) -> tuple[PcoConnection, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result: httpx.Response = handler(request)
        return result

    secret = {"app_id": APP_ID, "secret": SECRET, "webhook_secret": ""} if stored is None else stored
    return (
        PcoConnection(
            read_secret=lambda: secret,
            open_client=lambda app_id, key: PcoClient(
                BASE, app_id, key, transport=httpx.MockTransport(record)
            ),
            base_url=BASE,
            webhook_url="https://hooks.test/webhooks/pco",
            checks=checks if checks is not None else MemoryChecks(),
            clock=lambda: NOW,
        ),
        seen,
    )


def assert_no_secret(answer: Any) -> None:
    text = answer.model_dump_json()
    assert SECRET not in text
    assert base64.b64encode(f"{APP_ID}:{SECRET}".encode()).decode() not in text


def test_given_good_credentials_then_ok_with_the_organisation_from_one_get():
    conn, seen = connection(lambda request: httpx.Response(200, json=ORGANIZATION))
    answer = conn.test()
    assert answer.ok is True
    assert answer.organization == "Grace Community Church"
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", ORGANIZATION_PATH)
    expected = "Basic " + base64.b64encode(f"{APP_ID}:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == expected


def test_given_bad_credentials_then_the_reason_says_so():
    body = {"errors": [{"status": "401", "title": "Unauthorized", "detail": "Unknown app id " + SECRET}]}
    conn, _ = connection(lambda request: httpx.Response(401, json=body))
    answer = conn.test()
    assert (answer.ok, answer.error) == (False, "bad_credentials")
    assert answer.reason is not None
    assert answer.reason.startswith("Bad credentials: PCO rejected the credentials (401)")
    assert_no_secret(answer)


def test_given_pco_rate_limits_then_the_reason_and_retry_after():
    conn, _ = connection(lambda request: httpx.Response(429, headers={"Retry-After": "17"}, json={}))
    answer = conn.test()
    assert (answer.ok, answer.error, answer.retry_after) == (False, "rate_limited", 17)
    assert answer.reason == "Rate limited: PCO asks to wait 17 s before the next request"


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout])
def test_given_pco_cannot_be_reached_then_unreachable_naming_the_url(failure):
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("boom", request=request)

    conn, _ = connection(fail)
    answer = conn.test()
    assert (answer.ok, answer.error) == (False, "unreachable")
    assert answer.reason == f"Unreachable: no answer from {BASE} ({failure.__name__})"


@pytest.mark.parametrize(
    ("status", "reason_part"), [(503, "PCO answered 503"), (404, "PCO answered 404: Not Found")]
)
def test_given_another_status_then_a_pco_error_with_it(status, reason_part):
    body = {"errors": [{"status": str(status), "title": "Not Found" if status == 404 else "Unavailable"}]}
    conn, _ = connection(lambda request: httpx.Response(status, json=body))
    answer = conn.test()
    assert (answer.ok, answer.error) == (False, "pco_error")
    assert answer.reason is not None
    assert reason_part in answer.reason


@pytest.mark.parametrize(
    "stored", [{}, {"app_id": "", "secret": SECRET}, {"app_id": APP_ID, "secret": "  "}, "not a dict"]
)
def test_given_missing_credentials_then_not_configured_and_pco_is_not_called(stored):
    conn, seen = connection(lambda request: httpx.Response(200, json=ORGANIZATION), stored=stored)
    answer = conn.test()
    assert (answer.ok, answer.error) == (False, "not_configured")
    assert seen == []
    assert_no_secret(answer)


def test_status_says_which_credentials_are_set():
    conn, seen = connection(None, stored={"app_id": APP_ID, "secret": SECRET, "webhook_secret": " "})
    status = conn.status()
    assert status.model_dump() == {
        "app_id_set": True,
        "secret_set": True,
        "webhook_secret_set": False,
        "webhook_url": "https://hooks.test/webhooks/pco",
        "credentials": "untested",  # no test yet, no run refused
        "checked_at": None,
        "refused_reason": None,
    }
    assert SECRET not in status.model_dump_json()
    assert seen == []


def test_status_of_an_unreadable_secret_is_a_config_error():
    def unreadable() -> Any:
        raise ConfigError("the PCO secret arn:x could not be read: AccessDenied")

    conn = PcoConnection(
        read_secret=unreadable, open_client=None, base_url=BASE, webhook_url="u", checks=MemoryChecks()
    )  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="AccessDenied"):
        conn.status()
    assert conn.test().error == "not_configured"


def test_given_a_refused_test_then_the_status_says_refused_and_where_to_fix_it_until_a_test_succeeds():
    checks = MemoryChecks()
    refusing, _ = connection(lambda request: httpx.Response(401, json={"errors": []}), checks=checks)
    assert refusing.status().credentials == "untested"

    refusing.test()

    status = refusing.status()
    assert (status.credentials, status.checked_at) == ("refused", NOW)
    assert status.refused_reason is not None
    assert "PcoAppId" in status.refused_reason
    assert "sam deploy" in status.refused_reason
    assert (status.app_id_set, status.secret_set) == (True, True)  # configured, and refused all the same

    working, _ = connection(lambda request: httpx.Response(200, json=ORGANIZATION), checks=checks)
    working.test()
    assert (working.status().credentials, working.status().refused_reason) == ("working", None)


def test_an_unreachable_pco_says_nothing_about_the_credentials():
    checks = MemoryChecks()
    conn, _ = connection(lambda request: httpx.Response(503, json={}), checks=checks)
    conn.test()
    assert checks.last is None
