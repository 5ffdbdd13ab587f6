"""The PCO connection as the admin page shows it: which credentials are configured, and a live test.

Neither answer ever carries a credential: the status says only whether each one is set, and the test's
reasons come from PCO's error classes (whose messages the client has already redacted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import MISSING, BaseModel

from pco_core.clock import Clock, utc_now
from pco_core.errors import ConfigError, PcoAuthError, PcoRequestError, PcoUnavailable, RateLimited
from pco_core.pco.jsonapi import Document
from pco_core.settings import AdminApiEnv
from pco_core.store.connection_checks import (
    ConnectionCheck,
    ConnectionChecks,
    refused_check,
)
from pco_core.store.secrets import parse_pco_credentials

# PCO answers GET /people/v2 with the Organization resource; it is the cheapest call that proves the
# credentials work, and it names the church.
ORGANIZATION_PATH = "/people/v2"
# Well inside the HTTP API's 30 s integration timeout, even with the client's one connect retry.
TEST_TIMEOUT_SECONDS = 8.0

FailureKind = Literal["not_configured", "bad_credentials", "unreachable", "rate_limited", "pco_error"]


Credentials = Literal["untested", "working", "refused"]


class ConnectionStatus(BaseModel):
    app_id_set: bool
    secret_set: bool
    webhook_secret_set: bool
    webhook_url: str
    # What the last check found (a Test Connection, or a run PCO refused): "refused" until a test succeeds.
    credentials: Credentials = "untested"
    checked_at: datetime | None = None
    refused_reason: str | None = None


class ConnectionTest(BaseModel):
    """`ok` with the organisation's name, or not `ok` with the reason (`retry_after` when rate limited).

    A field that does not apply is left out of the answer rather than sent as null.
    """

    ok: bool
    organization: str | MISSING = MISSING
    error: FailureKind | MISSING = MISSING
    reason: str | MISSING = MISSING
    retry_after: int | MISSING = MISSING

    @classmethod
    def failed(cls, error: FailureKind, reason: str, retry_after: int | MISSING = MISSING) -> ConnectionTest:
        return cls(ok=False, error=error, reason=reason, retry_after=retry_after)


class OrganizationReader(Protocol):
    def get(self, path: str) -> Document: ...

    def close(self) -> None: ...


SecretReader = Callable[[], Any]
ClientOpener = Callable[[str, str], OrganizationReader]


class ConnectionChecksPort(Protocol):
    def latest(self) -> ConnectionCheck | None: ...

    def record(self, check: ConnectionCheck) -> None: ...


def _is_set(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


@dataclass(frozen=True)
class PcoConnection:
    """Reads the stored credentials (`read_secret`) and talks to PCO through `open_client(app_id, secret)`."""

    read_secret: SecretReader
    open_client: ClientOpener
    base_url: str
    webhook_url: str
    checks: ConnectionChecksPort
    clock: Clock = utc_now

    @classmethod
    def from_env(cls, env: AdminApiEnv) -> PcoConnection:
        # Imported here: only the deployed wiring needs Secrets Manager and HTTP.
        from pco_core.pco.client import PcoClient
        from pco_core.store.secrets import read_pco_secret

        def open_client(app_id: str, secret: str) -> OrganizationReader:
            return PcoClient(env.pco_base_url, app_id, secret, timeout=TEST_TIMEOUT_SECONDS)

        return cls(
            read_secret=lambda: read_pco_secret(env.pco_secret_arn),
            open_client=open_client,
            base_url=env.pco_base_url,
            webhook_url=env.webhook_url,
            checks=ConnectionChecks(env.state_table),
        )

    def status(self) -> ConnectionStatus:
        """Which credentials are configured; ConfigError when the secret itself cannot be read."""
        stored = self.read_secret()
        fields = stored if isinstance(stored, dict) else {}
        last = self.checks.latest()
        credentials: Credentials = "untested" if last is None else "working" if last.ok else "refused"
        return ConnectionStatus(
            app_id_set=_is_set(fields.get("app_id")),
            secret_set=_is_set(fields.get("secret")),
            webhook_secret_set=_is_set(fields.get("webhook_secret")),
            webhook_url=self.webhook_url,
            credentials=credentials,
            checked_at=last.checked_at if last else None,
            refused_reason=last.reason if last and not last.ok else None,
        )

    def test(self) -> ConnectionTest:
        """One GET of PCO's organisation with the stored credentials, and what came of it. A verdict on the
        credentials (accepted, or refused) is remembered for the connection card."""
        answer = self._test()
        if answer.ok:
            self.checks.record(ConnectionCheck(ok=True, checked_at=self.clock(), source="test"))
        elif answer.error == "bad_credentials":
            self.checks.record(refused_check("test", self.clock()))
        return answer

    def _test(self) -> ConnectionTest:
        try:
            credentials = parse_pco_credentials(self.read_secret())
        except ConfigError as exc:
            return ConnectionTest.failed("not_configured", f"Not configured: {exc}")
        client = self.open_client(credentials.app_id, credentials.secret.get_secret_value())
        try:
            document = client.get(ORGANIZATION_PATH)
        except PcoAuthError as exc:
            return ConnectionTest.failed("bad_credentials", f"Bad credentials: {exc}")
        except RateLimited as exc:
            return ConnectionTest.failed(
                "rate_limited",
                f"Rate limited: PCO asks to wait {exc.retry_after} s before the next request",
                retry_after=exc.retry_after,
            )
        except PcoUnavailable as exc:
            # The client chains transport failures (refused, timed out, dropped) to the httpx error;
            # a 5xx or an unreadable answer has no cause: PCO was reached.
            if exc.__cause__ is not None:
                return ConnectionTest.failed(
                    "unreachable",
                    f"Unreachable: no answer from {self.base_url} ({type(exc.__cause__).__name__})",
                )
            return ConnectionTest.failed("pco_error", f"PCO error: {exc}")
        except PcoRequestError as exc:
            return ConnectionTest.failed("pco_error", f"PCO error: {exc} (is PCO_BASE_URL right?)")
        finally:
            client.close()
        return ConnectionTest(ok=True, organization=_organization_name(document) or MISSING)


def _organization_name(document: Document) -> str | None:
    for resource in document.resources():
        if resource.type == "Organization":
            name = resource.attributes.get("name")
            return name if isinstance(name, str) and name else None
    return None
