"""The admin page in headless Chromium against a faked admin API: sign-in, connection, runs, history.

The page's files are served from site/ by a tiny HTTP server; every /api/** and /local/token call is
answered by FakeAdminApi through page.route, and time is Playwright's fake clock (no real waiting).
FakeAdminApi is the real admin API resolver (its routes, authorisation, validation and error answers)
over fake services that hold the state each test sets, so the page is tested against the routes
that deploy, never against a copy of them that can drift.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

import pytest
from axe_playwright_python.base import AxeResults
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, expect

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.connection import ConnectionStatus, ConnectionTest
from pco_core.errors import (
    ReplayRunning,
    RunActive,
    RunAlreadyEnded,
    RunAlreadyResumed,
    RunNotFound,
    RunNotResumable,
)
from pco_core.records import ConflictEvent, Email, FieldConflict, Person
from pco_core.runs.schedule_info import ScheduledRun, SyncSchedule
from pco_core.runstate import RUN_DOMAINS, RecordFailure, Run, RunFailures
from tests.unit.api.events import http_event
from tests.unit.fakes import FakeRecords

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = REPO_ROOT / "site"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
T0 = datetime(2026, 11, 24, 14, 0, 0, tzinfo=UTC)
POLL_MS = 3000
IDLE_MS = 30_000  # the idle refresh of site/js/app.js
LABELS = {
    "incremental_sync": "Incremental Sync",
    "people": "People",
    "families": "Families",
    "groups": "Groups",
    "full_sync": "Full Sync",
    "push_people": "Push People",
    "push_families": "Push Families",
    "push_memberships": "Push Group Memberships",
    "full_push": "Full Push",
}
RUN_BUTTONS = "[data-run-type]"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def token_for(role: str) -> str:
    exp = int((T0 + timedelta(hours=1)).timestamp())
    email = f"{role.lower()}@church.local"
    return fake_jwt({"sub": email, "email": email, "cognito:groups": [role], "exp": exp})


def history_run(
    run_id: str, type_: str, status: str, started: datetime, seconds: float, **extra: Any
) -> dict:
    run = {
        "id": run_id,
        "type": type_,
        "label": LABELS[type_],
        "status": status,
        "started_at": iso(started),
        "finished_at": iso(started + timedelta(seconds=seconds)),
        "duration_seconds": seconds,
        "created": 0,
        "updated": 0,
        "skipped": 0,
        "failed": 0,
        "started_by": "tech_admin@church.local",
        "error": None,
        "progress": {"domain": None, "processed": 0, "total": None},
    }
    run.update(extra)
    return run


REFUSED_REASON = (
    "Planning Center refused the App ID and Secret. The App ID and Secret are the stack parameters "
    "PcoAppId and PcoSecret (kept in AWS Secrets Manager): deploy again with the right ones (sam deploy), "
    "then press Test Connection."
)


@dataclass
class FakeAdminApi:
    """The admin API as the page sees it: the real resolver over services keeping state between calls."""

    now: datetime = T0
    connection: dict[str, Any] = field(
        default_factory=lambda: {
            "app_id_set": True,
            "secret_set": True,
            "webhook_secret_set": False,
            "webhook_url": "https://api.example.org/webhooks/pco",
        }
    )
    test_answer: dict[str, Any] = field(default_factory=lambda: {"ok": True, "organization": "Grace Church"})
    runs: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, Any] | None = None
    total: int = 4000
    step: int = 100
    force_401: bool = False
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    started: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: int = 0
    replay_running: bool = False
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    records: FakeRecords = field(default_factory=FakeRecords)

    def __post_init__(self) -> None:
        services = AdminServices(
            runs=FakeRuns(self),  # type: ignore[arg-type]
            records=self.records,  # type: ignore[arg-type]  # the page reads conflicts from it
            role_permissions={"TECH_ADMIN": ["pco.manage"]},
            connection=FakeConnection(self),  # type: ignore[arg-type]
            deliveries=FakeDeliveries(self),  # type: ignore[arg-type]
            dead_letters=FakeDeadLetters(self),  # type: ignore[arg-type]
            clock=lambda: self.now,
            schedules=[
                ScheduledRun(
                    "incremental_sync", SyncSchedule.of("cron(15 * * * ? *)", "America/Chicago", False)
                ),
                ScheduledRun("full_sync", SyncSchedule.of("cron(0 2 * * ? *)", "America/Chicago", True)),
            ],
        )
        self.resolver = create_app(lambda: services)

    def seed_history(self) -> None:
        self.runs = [
            history_run(
                "20261124T130000Z-cccccccc",
                "groups",
                "CANCELLED",
                T0 - timedelta(hours=1),
                42,
                created=1,
                updated=2,
                skipped=3,
                started_by="schedule",
            ),
            history_run(
                "20261124T120000Z-bbbbbbbb",
                "families",
                "FAILED",
                T0 - timedelta(hours=2),
                9,
                error="PcoUnavailable: PCO answered 503 three times",
            ),
            history_run(
                "20261124T110000Z-aaaaaaaa",
                "people",
                "COMPLETED",
                T0 - timedelta(hours=3),
                125,
                created=12,
                updated=1234,
                skipped=5,
            ),
        ]

    def seed_conflicts(self) -> None:
        """Two open conflicts, as a pull under the review policy leaves them: a last name and an email."""
        person = Person(
            id="p-ada",
            pco_id="1001",
            first_name="Ada",
            last_name="Byron",
            emails=[Email(address="ours@example.org", primary=True, pco_id="e-1")],
            updated_at=T0,
        )
        name = FieldConflict(
            id="20261124T133000Z-00000001",
            field="last_name",
            label="Ada Lovelace",
            base="Lovelace",
            local="Byron",
            pco="King",
            detected_at=T0 - timedelta(minutes=30),
            source="20261124T133000Z-aaaaaaaa",
        )
        email = FieldConflict(
            id="20261124T134000Z-00000002",
            field="emails:e-1",
            label="Ada Lovelace",
            base={"address": "ada@example.org", "location": None, "primary": True},
            local={"address": "ours@example.org", "location": None, "primary": True},
            pco={"address": "theirs@example.org", "location": "Work", "primary": True},
            detected_at=T0 - timedelta(minutes=20),
            source="20261124T133000Z-aaaaaaaa",
        )
        held = person.model_copy(update={"sync": person.sync.model_copy(update={"conflicts": (name, email)})})
        self.records.add(held)
        self.records.log_conflicts([ConflictEvent("person", person.id, c, "open") for c in (name, email)])

    def seed_deliveries(self, count: int, dead_letters: int) -> None:
        """`count` deliveries a minute apart, newest first, as GET /api/webhooks/deliveries lists them."""
        outcomes = ["applied", "applied", "stale", "skipped", "unknown"]
        self.deliveries = [
            {
                "id": f"d-{n:03}",
                "event": "people.v2.events.person.updated",
                "resource": f"Person {100 + n}",
                "received_at": iso(T0 - timedelta(minutes=count - n)),
                "outcome": outcomes[n % len(outcomes)],
            }
            for n in reversed(range(count))
        ]
        self.dead_letters = dead_letters

    # --- routing: API Gateway's JWT check, then the real resolver ----------------------------------
    def handle(self, route: Route) -> None:
        request = route.request
        url = urlparse(request.url)
        auth = request.headers.get("authorization")
        self.requests.append((request.method, url.path, auth))
        if url.path == "/local/token":
            role = (request.post_data_json or {}).get("role")
            route.fulfill(status=200, json={"token": token_for(role)})
            return
        # The authorizer refuses a missing or expired token before the Lambda runs; the fake tokens'
        # claims are trusted as the verified claims it would pass on.
        if self.force_401 or not auth or not auth.startswith("Bearer "):
            route.fulfill(status=401, json={"message": "Unauthorized"})
            return
        claims = json.loads(base64.urlsafe_b64decode(auth.split(".")[1] + "=="))
        event = http_event(
            request.method,
            url.path,
            query=dict(parse_qsl(url.query)) or None,
            claims=claims,
            raw_body=request.post_data,
        )
        answer = self.resolver.resolve(event, None)  # type: ignore[arg-type]
        route.fulfill(status=answer["statusCode"], content_type="application/json", body=answer["body"])

    # --- what another admin (or the run itself) does meanwhile -----------------------------------
    def start(self, run_type: str, started_by: str = "tech_admin@church.local") -> dict[str, Any]:
        if self.active is not None:
            raise RunActive(self.active["id"])
        run = history_run(f"{self.now:%Y%m%dT%H%M%SZ}-dddddddd", run_type, "RUNNING", self.now, 0)
        run.update(
            finished_at=None,
            duration_seconds=None,
            started_by=started_by,
            progress={"domain": RUN_DOMAINS[run_type][0], "processed": 0, "total": self.total},
        )
        self.active = run
        self.runs.insert(0, run)
        return run

    def advance(self) -> dict[str, Any] | None:
        """Each poll moves the active run one page on; the poll after the last page finds it done."""
        run = self.active
        if run is None:
            return None
        progress = run["progress"]
        if progress["processed"] >= progress["total"]:
            self.finish(run, "COMPLETED")
            return None
        progress["processed"] = min(progress["total"], progress["processed"] + self.step)
        run["created"] += 10
        run["updated"] += 30
        run["skipped"] += self.step - 40
        return run

    def fail_active(self, error: str) -> None:
        """The active run fails as the run service records it: FAILED, the state machine's error text kept."""
        assert self.active is not None, "no active run to fail"
        run = self.active
        run["error"] = error
        self.finish(run, "FAILED")

    def finish(self, run: dict[str, Any], status: str) -> None:
        started = datetime.fromisoformat(run["started_at"])
        run.update(
            status=status, finished_at=iso(self.now), duration_seconds=(self.now - started).total_seconds()
        )
        self.active = None

    def polls_with_bearer(self) -> bool:
        return all(
            auth and auth.startswith("Bearer ") for m, p, auth in self.requests if p.startswith("/api/")
        )


@dataclass
class FakeRuns:
    """RunService's part the routes use, over FakeAdminApi's runs."""

    api: FakeAdminApi

    def start_run(self, run_type: str, started_by: str) -> Run:
        self.api.started.append((run_type, started_by))
        return Run.model_validate(self.api.start(run_type, started_by))

    def current_run(self) -> Run | None:
        run = self.api.advance()
        return Run.model_validate(run) if run is not None else None

    def list_runs(self, limit: int) -> list[Run]:
        return [Run.model_validate(run) for run in self.api.runs[:limit]]

    def list_failures(self, run_id: str) -> RunFailures:
        run = self.get_run(run_id)
        kept = [RecordFailure.model_validate(f) for f in self.api.failures.get(run_id, [])]
        return RunFailures(run_id=run_id, total=run.failed, kept=len(kept), failures=kept)

    def get_run(self, run_id: str) -> Run:
        found = next((run for run in self.api.runs if run["id"] == run_id), None)
        if found is None:
            raise RunNotFound(run_id)
        return Run.model_validate(found)

    def cancel_run(self, run_id: str) -> Run:
        run = self.api.active
        if run is None or run["id"] != run_id:
            ended = self.get_run(run_id)
            raise RunAlreadyEnded(run_id, ended.status, "cancel")
        self.api.finish(run, "CANCELLED")
        return Run.model_validate(run)

    def resume_run(self, run_id: str, started_by: str) -> Run:
        """As RunService.resume_run: a new run of the failed one's type, linked to it; once per failed run."""
        failed = next((run for run in self.api.runs if run["id"] == run_id), None)
        if failed is None:
            raise RunNotFound(run_id)
        if failed["status"] != "FAILED":
            raise RunNotResumable(run_id, failed["status"])
        if failed.get("resumed_by"):
            raise RunAlreadyResumed(run_id, failed["resumed_by"])
        run = self.api.start(failed["type"], started_by)
        self.api.started.append((failed["type"], started_by))
        run.update(resumed_from=run_id, label=failed["label"])
        failed["resumed_by"] = run["id"]
        return Run.model_validate(run)


@dataclass
class FakeConnection:
    api: FakeAdminApi

    def status(self) -> ConnectionStatus:
        return ConnectionStatus.model_validate(self.api.connection)

    def test(self) -> ConnectionTest:
        """As the real service: a verdict on the credentials is remembered for the connection card."""
        answer = ConnectionTest.model_validate(self.api.test_answer)
        if answer.ok:
            self.api.connection.update(credentials="working", refused_reason=None)
        elif answer.error == "bad_credentials":
            self.api.connection.update(credentials="refused", refused_reason=REFUSED_REASON)
        return answer


@dataclass
class FakeDeliveries:
    api: FakeAdminApi

    def recent(self, limit: int) -> list[dict[str, object]]:
        """As the delivery log stores them (the route turns them into the page's shape)."""
        return [
            {
                "delivery_id": d["id"],
                "name": d["event"],
                "resource": d["resource"],
                "received_at": d["received_at"],
                "outcome": d["outcome"],
            }
            for d in self.api.deliveries[:limit]
        ]


@dataclass
class FakeDeadLetters:
    api: FakeAdminApi

    def waiting(self) -> int:
        return self.api.dead_letters

    def replay(self) -> int:
        if self.api.replay_running:
            raise ReplayRunning
        moving, self.api.dead_letters, self.api.replay_running = self.api.dead_letters, 0, True
        return moving


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(SITE_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# Counts the page's GET /api/runs/current calls (and all its /api/ calls) as fetch() is called, which
# happens synchronously inside the poll timer: so right after clock.run_for() the count is exact (the fake
# API only sees a request later, when Playwright dispatches the route).
COUNT_POLLS = """
(() => {
  window.__runPolls = 0;
  window.__apiCalls = 0;
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    if (String(input).includes('/api/runs/current')) window.__runPolls += 1;
    if (String(input).includes('/api/')) window.__apiCalls += 1;
    return realFetch(input, init);
  };
})();
"""


@dataclass
class Harness:
    page: Page
    api: FakeAdminApi
    base: str

    def advance(self, ms: int) -> None:
        """Move the page's fake clock (firing due timers) and the fake API's idea of now together."""
        self.api.now += timedelta(milliseconds=ms)
        self.page.clock.run_for(ms)

    def polls(self) -> int:
        """How many times the page has asked for the current run since it loaded."""
        return int(self.page.evaluate("window.__runPolls"))

    def api_calls(self) -> int:
        """How many /api/ calls of any kind the page has made since it loaded."""
        return int(self.page.evaluate("window.__apiCalls"))

    def sign_in(self, role: str = "TECH_ADMIN") -> None:
        self.page.goto(self.base + "/")
        expect(self.page.locator("#signin-view")).to_be_visible()
        if not (ARTIFACTS / "sign-in.png").exists():
            self.shot("sign-in", full_page=False)
        self.page.get_by_label("Role").select_option(role)
        self.page.get_by_role("button", name="Sign in").click()

    def shot(self, name: str, *, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page, animations="disabled")


@pytest.fixture
def make_harness(browser: Browser, site_url: str) -> Iterator[Any]:
    contexts = []
    page_errors: list[str] = []

    def make(viewport: dict[str, int] | None = None, seed: bool = True) -> Harness:
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="America/New_York",
        )
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.add_init_script(COUNT_POLLS)
        api = FakeAdminApi()
        if seed:
            api.seed_history()
        page.route("**/api/**", api.handle)
        page.route("**/local/token", api.handle)
        page.clock.install(time=T0 - timedelta(seconds=1))
        page.clock.pause_at(T0)
        return Harness(page, api, site_url)

    yield make
    for context in contexts:
        context.close()
    assert page_errors == [], "the page threw uncaught errors"


# Chromium keeps a headless tab visible: the page is told it was hidden (or shown) as a browser would.
SET_HIDDEN = """(hidden) => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
    Object.defineProperty(document, 'visibilityState', {configurable: true,
                          get: () => hidden ? 'hidden' : 'visible'});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def confirm_cancel(page: Page) -> None:
    """Press Cancel run and confirm in the dialog it opens."""
    page.get_by_role("button", name="Cancel run").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel the run").click()


def start_full_sync(h: Harness) -> None:
    h.sign_in()
    expect(h.page.locator("#history-body tr").first).to_be_visible()
    h.page.get_by_role("button", name="Full Sync").click()
    expect(h.page.locator("#progress-card")).to_be_visible()


# ---------------------------------------------------------------------------------------------------


def test_format_helpers_give_human_durations_percent_and_time_left(make_harness: Any) -> None:
    # Given the page's own format module loaded in the browser
    h = make_harness()
    h.page.goto(h.base + "/")
    result = h.page.evaluate(
        """async () => {
          const f = await import('./js/format.js');
          const run = {id: 'r', type: 'full_sync', started_at: '2026-11-24T14:00:00Z',
                       progress: {domain: 'people', processed: 100, total: 4000}};
          const t0 = Date.parse('2026-11-24T14:00:00Z');
          const first = f.nextBaseline(null, run, t0 + 3000);
          const families = {...run, progress: {domain: 'families', processed: 50, total: 500}};
          const moved = f.nextBaseline(first, families, t0 + 60000);
          return {
            d: [f.formatDuration(125), f.formatDuration(45), f.formatDuration(3725), f.formatDuration(0.2),
                f.formatDuration(null), f.formatDuration(120)],
            p: [f.percentDone(100, 4000), f.percentDone(5, null), f.percentDone(9999, 100),
                f.percentDone(1, 0)],
            e: [f.estimateSecondsLeft(100, 4000, 3), f.estimateSecondsLeft(0, 4000, 3),
                f.estimateSecondsLeft(5, null, 3)],
            t: [f.formatTimeLeft(117), f.formatTimeLeft(30), f.formatTimeLeft(2), f.formatTimeLeft(null),
                f.formatTimeLeft(3 * 3600 + 600)],
            first: f.runSecondsLeft(run, first, t0 + 3000),
            moved: [moved.domain, moved.startProcessed, moved.startMs === t0 + 60000],
            movedLeft: f.runSecondsLeft(
                {...families, progress: {domain: 'families', processed: 150, total: 500}}, moved, t0 + 70000),
            text: [f.progressText({domain: 'memberships', processed: 1200, total: null}, 'en-US'),
                   f.statusClass('CANCELLED'), f.startedByText('schedule')],
          };
        }"""
    )
    # Then every helper gives what an admin should read
    assert result["d"] == ["2 min 5 s", "45 s", "1 h 2 min", "< 1 s", "—", "2 min"]
    assert result["p"] == [2, None, 100, None]
    assert result["e"] == [117, None, None]
    assert result["t"] == [
        "About 2 min left",
        "Less than a minute left",
        "Almost done",
        "Estimating time left…",
        "About 3 h 10 min left",
    ]
    assert result["first"] == 117  # measured from the run's start: 3 s for 100 of 4000
    assert result["moved"] == ["families", 50, True]  # a new domain restarts the rate measurement
    assert result["movedLeft"] == pytest.approx(35)  # 100 more in 10 s, 350 to go
    assert result["text"] == ["Group memberships: 1,200 processed", "badge--cancelled", "Schedule"]


def test_local_sign_in_shows_connection_indicators_and_history(make_harness: Any) -> None:
    h = make_harness()
    # When a tech admin signs in locally
    h.sign_in()
    page = h.page
    # Then the connection indicators say what is configured, never a value
    expect(page.locator(".check[data-key=app_id_set] .check__state")).to_have_text("Configured")
    expect(page.locator(".check[data-key=secret_set] .check__state")).to_have_text("Configured")
    expect(page.locator(".check[data-key=webhook_secret_set] .check__state")).to_contain_text(
        "Not configured"
    )
    expect(page.get_by_label("Webhook URL")).to_have_value("https://api.example.org/webhooks/pco")
    expect(page.locator("#account-name")).to_have_text("Signed in as tech_admin@church.local")
    # And the history lists the runs with badges, local start times, human durations and who started them
    rows = page.locator("#history-body tr:not(.history__detail)")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".badge")).to_have_class("badge badge--cancelled")
    expect(rows.nth(0).locator('td[data-label="By"]')).to_have_text("Schedule")
    expect(rows.nth(1).locator(".badge")).to_have_class("badge badge--failed")
    completed = rows.nth(2)
    expect(completed.locator(".badge")).to_have_class("badge badge--completed")
    expect(completed.locator("td")).to_have_text(
        [
            "People",
            "Completed",
            "Nov 24, 2026, 6:00 AM",
            "2 min 5 s",
            "12",
            "1,234",
            "5",
            "0",  # failed
            "0",  # conflicts
            "tech_admin@church.local",
        ]
    )
    # And every API call carried the bearer token
    assert h.api.polls_with_bearer()
    assert ("GET", "/api/runs") in [(m, p) for m, p, _ in h.api.requests]
    h.shot("desktop-signed-in")


def test_a_full_sync_whose_totals_disagree_is_a_warning_above_the_history(make_harness: Any) -> None:
    h = make_harness()
    # Given the latest completed Full Sync counted 4,000 people in PCO and 3,998 linked here
    totals = {
        "people": {"pco": 4000, "local": 3998},
        "households": {"pco": 1500, "local": 1500},
        "groups": {"pco": 40, "local": 40},
    }
    h.api.runs = [
        history_run(
            "20261124T130000Z-eeeeeeee", "incremental_sync", "COMPLETED", T0 - timedelta(hours=1), 20
        ),
        history_run(
            "20261124T070000Z-dddddddd", "full_sync", "COMPLETED", T0 - timedelta(hours=7), 900, totals=totals
        ),
    ]
    # When a tech admin signs in
    h.sign_in()
    page = h.page
    # Then a warning names the kind that is apart and both counts, and not the kinds that agree
    warning = page.locator("#drift-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("PCO has 4,000 people, 3,998 are linked here")
    expect(warning).not_to_contain_text("households")
    # And the Full Sync's row carries its totals; the incremental run reads as its own type
    rows = page.locator("#history-body tr:not(.history__detail)")
    expect(rows.nth(0).locator("td").first).to_have_text("Incremental Sync")
    title = rows.nth(1).locator("td").first.get_attribute("title") or ""
    assert "PCO 4,000 people · 3,998 linked here" in title
    assert "PCO 1,500 households · 1,500 linked here" in title

    # When the next Full Sync agrees, the warning goes
    totals["people"]["local"] = 4000
    h.api.runs.insert(
        0,
        history_run("20261124T140000Z-ffffffff", "full_sync", "COMPLETED", T0, 800, totals=totals),
    )
    page.locator("#refresh-history").click()
    expect(warning).to_be_hidden()


def test_failed_run_error_opens_on_click_and_enter(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in()
    page = h.page
    failed = page.locator("#history-body tr.history__row--expandable")
    expect(failed).to_have_count(1)
    detail = page.locator("#history-body tr.history__detail")
    expect(detail).to_be_hidden()
    # When the failed row is clicked, its error shows; clicked again, it hides
    failed.click()
    expect(detail).to_be_visible()
    expect(detail.locator(".history__reason")).to_have_text(
        "Planning Center did not answer, or answered with a server error, even after retrying. Resume the "
        "run later (below its error in Sync History): it goes on from where it stopped."
    )
    technical = detail.get_by_text("PcoUnavailable: PCO answered 503 three times")
    expect(technical).to_be_hidden()
    detail.get_by_text("Details").click()
    expect(technical).to_be_visible()
    expect(failed).to_have_attribute("aria-expanded", "true")
    failed.click()
    expect(detail).to_be_hidden()
    # And from the keyboard: focus the row and press Enter
    failed.focus()
    page.keyboard.press("Enter")
    expect(detail).to_be_visible()
    h.shot("history-failed-open")


def test_the_run_card_says_when_the_scheduled_full_sync_starts_next(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in()
    # 02:00 in Chicago on 25 Nov is 08:00 UTC: 3:00 AM for this admin in New York
    expect(h.page.locator("#schedule-note .schedule-note__line")).to_have_text(
        [
            "The scheduled Incremental Sync is off (cron(15 * * * ? *), America/Chicago).",
            "Next scheduled Full Sync: Nov 25, 2026, 3:00 AM (cron(0 2 * * ? *), America/Chicago).",
        ]
    )


def test_a_failed_run_resumes_from_its_error_row_and_the_history_says_so(make_harness: Any) -> None:
    # Given the seeded history with a failed Families run
    h = make_harness()
    h.sign_in()
    page = h.page
    failed_id = "20261124T120000Z-bbbbbbbb"
    page.locator(f'#history-body tr[data-run-id="{failed_id}"]').click()
    detail = page.locator("#history-body tr.history__detail")
    resume = detail.get_by_role("button", name="Resume Families from where it stopped")
    expect(resume).to_be_visible()
    # When the admin presses Resume
    resume.click()
    # Then the page asked the API to resume that run and watches the new run it started
    assert ("POST", f"/api/runs/{failed_id}/resume") in [(m, p) for m, p, _ in h.api.requests]
    expect(page.locator("#progress-card")).to_be_visible()
    expect(page.locator("#progress-label")).to_have_text("Families")
    expect(page.locator("#progress-status")).to_have_text("Running")
    # And the history lists the new run as resumed, and the failed one no longer offers Resume
    expect(page.locator("#history-body tr[data-run-id]").first.locator(".history__type")).to_have_text(
        "Families (resumed)"
    )
    # (its error row stays open across the refresh)
    expect(detail.get_by_text("Resumed by a later run.")).to_be_visible()
    expect(detail.get_by_role("button", name="Resume Families from where it stopped")).to_have_count(0)
    h.shot("history-resumed")


def test_test_connection_shows_organisation_or_what_to_do_with_the_reason_behind_details(
    make_harness: Any,
) -> None:
    h = make_harness()
    h.sign_in()
    page = h.page
    button = page.get_by_role("button", name="Test Connection")
    button.click()
    expect(page.locator("#test-result")).to_have_text("Connected to Grace Church")
    # Given PCO now rejects the credentials (the answer as pco_core.connection.ConnectionTest serves it)
    h.api.test_answer = {
        "ok": False,
        "error": "bad_credentials",
        "reason": "Bad credentials: PCO rejected the credentials (401)",
    }
    button.click()
    result = page.locator("#test-result")
    # Then the page says what happened and where the credentials are set
    expect(result.locator(".message__text")).to_have_text(
        "Connection failed: Planning Center refused the App ID and Secret. Correct the stack's PcoAppId and "
        "PcoSecret parameters and deploy again (under make run: PCO_APP_ID and PCO_SECRET), then press "
        "Test Connection."
    )
    expect(result).to_have_class("test-result test-result--fail")
    # And PCO's own reason waits behind Details
    reason = result.get_by_text("Bad credentials: PCO rejected the credentials (401)")
    expect(reason).to_be_hidden()
    result.get_by_text("Details").click()
    expect(reason).to_be_visible()
    expect(button).to_be_enabled()
    # Given an answer without a known kind, its reason is shown as it is
    h.api.test_answer = {"ok": False, "reason": "PCO rejected the credentials (401)"}
    button.click()
    expect(result).to_have_text("Connection failed: PCO rejected the credentials (401)")


def test_full_sync_progress_runs_to_completed_with_buttons_locked_meanwhile(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    # While running: every sync button is disabled, a spinner and a Cancel button show
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_disabled()
    expect(page.locator("#progress-label")).to_have_text("Full Sync")
    expect(page.locator("#progress-status")).to_have_text("Running")
    expect(page.locator("#progress-spinner")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    polls_at_start = h.polls()

    # When the 3 s poll comes round, counters, percent and time left follow the run
    h.advance(POLL_MS)
    expect(page.locator("#count-created")).to_have_text("10")
    expect(page.locator("#count-updated")).to_have_text("30")
    expect(page.locator("#count-skipped")).to_have_text("60")
    expect(page.locator("#count-failed")).to_have_text("0")
    expect(page.locator("#progress-percent")).to_have_text("2%")
    expect(page.locator("#progress-domain")).to_have_text("People: 100 of 4,000")
    expect(page.locator("#progress-eta")).to_contain_text("About 2 min left")
    expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "2")
    assert h.polls() == polls_at_start + 1
    h.shot("desktop-running")

    # No poll before the interval is up (and none overlapping)
    h.advance(POLL_MS - 500)
    assert h.polls() == polls_at_start + 1
    h.advance(500)
    expect(page.locator("#count-created")).to_have_text("20")
    expect(page.locator("#progress-percent")).to_have_text("5%")
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_disabled()

    # Given the run is near its end, the next polls finish it
    h.api.active["progress"]["processed"] = 3900  # type: ignore[index]
    h.advance(POLL_MS)
    expect(page.locator("#progress-percent")).to_have_text("100%")
    h.advance(POLL_MS)
    # Then the run shows COMPLETED, the buttons come back and history has a green row on top
    expect(page.locator("#progress-status")).to_have_text("Completed")
    expect(page.locator("#progress-spinner")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel run")).to_be_hidden()
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_enabled()
    top = page.locator("#history-body tr").first
    expect(top.locator("td").first).to_have_text("Full Sync")
    expect(top.locator(".badge")).to_have_class("badge badge--completed")
    expect(top.locator("td").nth(3)).to_have_text("12 s")
    expect(top.locator("td").nth(4)).to_have_text("30")
    h.advance(100)  # the live region is refilled a tick later so repeated messages are announced
    expect(page.locator("#announcer")).to_have_text(
        "Full Sync completed: 30 created, 90 updated, 180 skipped, 0 failed."
    )
    # And polling stopped with the run
    polls = h.polls()
    h.advance(POLL_MS * 3)
    assert h.polls() == polls
    h.shot("desktop-completed")


def test_a_full_sync_shows_its_step_and_one_percentage_for_the_whole_run(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    # Given the run is on its second step, 40% through the whole run by the API's weighting
    progress = h.api.active["progress"]  # type: ignore[index]
    progress.update(domain="families", processed=0, total=4000, step=2, steps=4, percent=40)

    h.advance(POLL_MS)

    # Then the step is named and the bar shows the whole run, not the step's 2%
    expect(page.locator("#progress-domain")).to_have_text("Step 2 of 4: Families: 100 of 4,000")
    expect(page.locator("#progress-percent")).to_have_text("40%")
    expect(page.locator("#progress-bar")).to_have_attribute("aria-valuenow", "40")
    # And the time left follows the whole run's rate (10% in 3 s: the other 50% in about 15 s)
    progress["percent"] = 50
    h.advance(POLL_MS)
    expect(page.locator("#progress-percent")).to_have_text("50%")
    expect(page.locator("#progress-eta")).to_contain_text("Less than a minute left")
    # And the step's own numbers move on without the percentage going back
    progress.update(domain="groups", processed=0, total=10, step=3)
    h.advance(POLL_MS)
    expect(page.locator("#progress-domain")).to_have_text("Step 3 of 4: Groups: 10 of 10")
    expect(page.locator("#progress-percent")).to_have_text("50%")
    # And "Created" is told apart per step: groups and their memberships are not lumped together
    h.api.active["counts_by_domain"] = {  # type: ignore[index]
        "groups": {"created": 12},
        "memberships": {"created": 125, "updated": 3},
    }
    h.advance(POLL_MS)
    expect(page.locator("#count-split")).to_have_text(
        "Groups: 12 created; Group memberships: 125 created, 3 updated"
    )


def test_a_rate_limit_wait_is_said_in_words_with_a_countdown_and_left_out_of_the_time_left(
    make_harness: Any,
) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    # Given PCO's rate limit holds the run until 23 s after it started
    h.api.active["waiting"] = {"reason": "rate_limit", "until": iso(T0 + timedelta(seconds=23))}  # type: ignore[index]

    h.advance(POLL_MS)

    eta = page.locator("#progress-eta")
    expect(eta).to_contain_text("Waiting for Planning Center's rate limit")
    expect(eta).to_contain_text("continuing in 20 s")
    # Then the countdown moves every second between polls
    h.advance(1000)
    expect(eta).to_contain_text("continuing in 19 s")
    h.shot("desktop-rate-limit-wait")
    # And once the wait is over the time left comes back
    h.api.active["waiting"] = None  # type: ignore[index]
    h.advance(POLL_MS * 2)
    expect(eta).not_to_contain_text("Waiting")
    expect(eta).to_contain_text("left")


def test_pco_unavailable_is_said_in_words_with_the_attempt_and_a_countdown(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    # Given PCO failing a read, which the page tries again (attempt 2 of 4) 4 s after it started
    h.api.active["waiting"] = {  # type: ignore[index]
        "reason": "pco_unavailable",
        "until": iso(T0 + timedelta(seconds=POLL_MS // 1000 + 4)),
        "attempt": 2,
        "attempts": 4,
    }
    h.advance(POLL_MS)
    eta = h.page.locator("#progress-eta")
    expect(eta).to_contain_text("Planning Center is not answering: trying again (attempt 2 of 4) in 4 s")
    h.advance(1000)
    expect(eta).to_contain_text("in 3 s")


def test_cancel_stops_the_run_and_shows_a_grey_cancelled_badge(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    h.advance(POLL_MS)
    expect(page.locator("#count-created")).to_have_text("10")
    confirm_cancel(page)
    expect(page.locator("#progress-status")).to_have_text("Cancelled")
    expect(page.locator("#progress-status")).to_have_class("badge badge--cancelled")
    expect(page.locator("#count-created")).to_have_text("10")  # counters kept
    top = page.locator("#history-body tr").first
    expect(top.locator(".badge")).to_have_class("badge badge--cancelled")
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_enabled()
    assert any(p.endswith("/cancel") for _, p, _ in h.api.requests)
    polls = h.polls()
    h.advance(POLL_MS * 2)
    assert h.polls() == polls


def test_a_push_starts_like_a_sync_and_a_busy_lock_answers_409(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in()
    page = h.page
    # When the admin starts a push
    page.get_by_role("button", name="Push Group Memberships").click()
    # Then it runs as a sync does: its progress shows and every run button waits for it
    expect(page.locator("#progress-label")).to_have_text("Push Group Memberships")
    expect(page.locator("#progress-status")).to_have_text("Running")
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_disabled()
    assert h.api.started == [("push_memberships", "tech_admin@church.local")]
    confirm_cancel(page)
    expect(page.locator("#progress-status")).to_have_text("Cancelled")
    # Given another admin started a run since
    h.api.start("people")
    page.get_by_role("button", name="Sync Groups").click()
    expect(page.locator("#run-error")).to_have_text("Could not start Sync Groups: a run is already active")
    # Then the page picks up that run and locks the buttons
    expect(page.locator("#progress-label")).to_have_text("People")
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_disabled()


def test_a_user_without_pco_manage_sees_the_message_and_no_controls(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in("VOLUNTEER")
    page = h.page
    expect(page.locator("#forbidden-message")).to_have_text(
        "Your account does not have the pco.manage permission"
    )
    expect(page.locator(RUN_BUTTONS).first).to_be_hidden()
    expect(page.get_by_role("button", name="Test Connection")).to_be_hidden()
    expect(page.locator("#history-table")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    h.shot("forbidden")


def test_an_expired_session_goes_back_to_sign_in(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in()
    expect(h.page.locator("#dashboard-view")).to_be_visible()
    h.api.force_401 = True
    h.page.get_by_role("button", name="Sync People").click()
    expect(h.page.locator("#signin-view")).to_be_visible()
    expect(h.page.locator("#signin-error")).to_have_text("Your session has ended. Please sign in again.")
    assert h.page.evaluate("sessionStorage.getItem('pcoSync.idToken')") is None


def test_polling_pauses_while_the_tab_is_hidden(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    before = h.polls()
    page.evaluate(SET_HIDDEN, True)
    h.advance(POLL_MS * 4)
    assert h.polls() == before
    # When the tab is shown again, it polls at once (the first page of the run: nothing moved while
    # hidden), then every 3 s
    page.evaluate(SET_HIDDEN, False)
    expect(page.locator("#count-created")).to_have_text("10")
    assert h.polls() == before + 1
    h.advance(POLL_MS)
    expect(page.locator("#count-created")).to_have_text("20")
    assert h.polls() == before + 2


def test_phone_viewport_has_no_horizontal_scroll(make_harness: Any) -> None:
    h = make_harness(viewport={"width": 390, "height": 844})
    start_full_sync(h)
    h.advance(POLL_MS)
    page = h.page
    expect(page.locator("#count-created")).to_have_text("10")
    page.locator("#history-body tr.history__row--expandable").click()
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    # The action buttons stay big enough to tap
    box = page.get_by_role("button", name="Full Sync").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    h.shot("phone-running")
    page.locator("#progress-card").scroll_into_view_if_needed()
    h.shot("phone-progress", full_page=False)


def test_webhook_deliveries_list_the_last_50_and_replay_the_dead_letters(make_harness: Any) -> None:
    # Given 55 deliveries logged and 3 waiting in the dead-letter queue
    h = make_harness()
    h.api.seed_deliveries(55, dead_letters=3)
    h.api.records.add(Person(id="p-153", pco_id="153", first_name="Ada", last_name="Lovelace", updated_at=T0))
    h.sign_in()
    page = h.page
    card = page.get_by_role("region", name="Webhook deliveries", exact=True)
    # Then the card lists the last 50, newest first: event, resource, local received time, outcome badge
    rows = page.locator("#deliveries-body tr")
    expect(rows).to_have_count(50)
    expect(rows.nth(0).locator("td")).to_have_text(
        ["person.updated", "Person 154", "Nov 24, 2026, 8:59 AM", "Unknown event"]
    )
    expect(rows.nth(0).locator(".badge")).to_have_class("badge badge--cancelled")
    # A person linked here is shown by name, PCO's type and id kept in the title
    expect(rows.nth(1).locator('td[data-label="Resource"]')).to_have_text("Ada Lovelace")
    expect(rows.nth(1).locator('td[data-label="Resource"]')).to_have_attribute("title", "Person 153")
    expect(rows.nth(1).locator(".badge")).to_have_class("badge badge--cancelled")
    expect(rows.nth(3).locator(".badge")).to_have_text("Applied")
    expect(rows.nth(3).locator(".badge")).to_have_class("badge badge--completed")
    expect(rows.nth(0).locator("td").nth(0)).to_have_attribute("title", "people.v2.events.person.updated")
    expect(page.locator("#deliveries-table caption")).to_have_text(
        "The last 50 webhook deliveries from Planning Center, most recent first"
    )
    # And the dead-letter count, with the replay button enabled
    expect(page.locator("#dead-letter-count")).to_have_text("3 deliveries wait in the dead-letter queue")
    replay = page.get_by_role("button", name="Replay dead letters")
    expect(replay).to_be_enabled()
    card.scroll_into_view_if_needed()
    h.shot("webhook-deliveries", full_page=False)
    # When the admin replays them
    replay.click()
    # Then the page POSTs the replay and says what is moving
    expect(page.locator("#replay-result")).to_have_text(
        "Replaying 3 dead letters: they go back to the webhook queue."
    )
    assert [(m, p) for m, p, _ in h.api.requests if p == "/api/webhooks/replay"] == [
        ("POST", "/api/webhooks/replay")
    ]
    # And refreshing with the history shows the emptied queue, the button disabled at 0
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#dead-letter-count")).to_have_text("0 deliveries wait in the dead-letter queue")
    expect(replay).to_be_disabled()


def test_a_replay_already_running_answers_409_and_no_deliveries_show_the_empty_note(
    make_harness: Any,
) -> None:
    # Given no deliveries yet, one dead letter, and a replay another admin started
    h = make_harness()
    h.api.dead_letters = 1
    h.api.replay_running = True
    h.sign_in()
    page = h.page
    expect(page.locator("#deliveries-empty")).to_be_visible()
    expect(page.locator("#deliveries-table")).to_be_hidden()
    expect(page.locator("#dead-letter-count")).to_have_text("1 delivery waits in the dead-letter queue")
    # When this admin presses Replay
    page.get_by_role("button", name="Replay dead letters").click()
    # Then the page says a replay is running, and the button can be pressed again later
    expect(page.locator("#replay-result")).to_have_text(
        "A replay is already running; refresh in a moment to see it finish."
    )
    expect(page.get_by_role("button", name="Replay dead letters")).to_be_enabled()


def test_cognito_sign_in_uses_pkce_and_sends_the_id_token(make_harness: Any) -> None:
    h = make_harness(seed=False)
    page = h.page
    domain = "https://church.auth.us-east-1.amazoncognito.com"
    redirect = h.base + "/"
    config = {
        "apiBaseUrl": "",
        "auth": {"mode": "cognito", "domain": domain, "clientId": "client-123", "redirectUri": redirect},
    }
    seen: dict[str, Any] = {}
    id_token = token_for("TECH_ADMIN")

    def serve_config(route: Route) -> None:
        route.fulfill(status=200, json=config)

    def authorize(route: Route) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        seen["authorize"] = {k: v[0] for k, v in query.items()}
        target = f"{redirect}?code=the-code&state={seen['authorize']['state']}"
        route.fulfill(
            status=200, content_type="text/html", body=f"<script>location.replace({target!r})</script>"
        )

    def token(route: Route) -> None:
        seen["token"] = {k: v[0] for k, v in parse_qs(route.request.post_data or "").items()}
        route.fulfill(status=200, json={"id_token": id_token, "access_token": "a", "token_type": "Bearer"})

    page.route("**/config.json", serve_config)
    page.route(f"{domain}/oauth2/authorize**", authorize)
    page.route(f"{domain}/oauth2/token", token)
    page.goto(redirect)
    page.get_by_role("button", name="Sign in with your church account").click()
    expect(page.locator("#dashboard-view")).to_be_visible()

    auth = seen["authorize"]
    assert auth["response_type"] == "code"
    assert auth["client_id"] == "client-123"
    assert auth["redirect_uri"] == redirect
    assert auth["code_challenge_method"] == "S256"
    verifier = seen["token"]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert auth["code_challenge"] == digest
    assert seen["token"]["grant_type"] == "authorization_code"
    assert seen["token"]["code"] == "the-code"
    assert "code=" not in page.url  # the code is not left in the address bar
    assert h.api.requests[0][2] == f"Bearer {id_token}"
    # Signing out forgets the token
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('pcoSync.idToken')") is None


# --- what an admin reads when something failed --------------------------------------------------------


def test_error_texts_become_sentences_and_resources_read_as_words(make_harness: Any) -> None:
    # Given the page's errors and format modules loaded in the browser
    h = make_harness(seed=False)
    h.page.goto(h.base + "/")
    texts = [
        "PcoAuthError: PCO rejected the credentials (401)",
        "PcoUnavailable: PCO answered 503 three times",
        "ConnectError: [Errno 111] Connection refused",
        "States.Timeout",
        "KeyError: 'data'",
        "skipped: run 20261129T070000Z-daa608bc was active",
        "lease expired",
        "a run is already active",
        "Bad credentials: PCO rejected the credentials",
        "",
    ]
    result = h.page.evaluate(
        """async (texts) => {
          const e = await import('./js/errors.js');
          const f = await import('./js/format.js');
          return {
            explained: texts.map((text) => e.explainError(text)),
            rateLimited: e.explainConnectionTest(
              {ok: false, error: 'rate_limited', reason: 'Rate limited: wait 20 s', retry_after: 20}),
            unreachable: e.explainConnectionTest(
              {ok: false, error: 'unreachable', reason: 'Unreachable: no answer (ConnectError)'}),
            caught: e.explainCaught(new Error('PcoRequestError: PCO answered 422')),
            resources: ['Person 10000400', 'PhoneNumber 55', 'PersonMerger 7', 'odd text', '', null]
              .map(f.resourceLabel),
          };
        }""",
        texts,
    )
    explained = dict(zip(texts, result["explained"], strict=True))
    # Then a class name never reaches the sentence: it stays, whole, in the details
    for text in texts[:5]:
        assert explained[text]["details"] == text
        assert text.split(":")[0] not in explained[text]["sentence"]
    assert explained[texts[0]]["sentence"].startswith("Planning Center refused the App ID and Secret.")
    assert "PcoAppId and PcoSecret" in explained[texts[0]]["sentence"]
    assert explained[texts[1]]["sentence"].startswith("Planning Center did not answer")
    assert explained[texts[2]]["sentence"].startswith("PCO Sync could not reach Planning Center")
    assert (
        explained[texts[3]]["sentence"]
        == "A step of the run took too long and was stopped. Start the run again."
    )
    assert explained[texts[4]]["sentence"].startswith("Something unexpected went wrong.")
    # And the run service's own texts are reworded, keeping the original as details
    assert explained[texts[5]] == {"sentence": "Skipped: another run was active.", "details": texts[5]}
    assert explained[texts[6]]["sentence"] == "The run stopped answering and was ended. Start it again."
    # And a message already written for people is shown as it is
    assert explained[texts[7]] == {"sentence": "a run is already active", "details": None}
    assert explained[texts[8]] == {"sentence": texts[8], "details": None}
    assert explained[""] == {"sentence": "No error message was recorded.", "details": None}
    assert result["rateLimited"] == {
        "sentence": "Planning Center asks to wait 20 s before the next request. Try again then.",
        "details": "Rate limited: wait 20 s",
    }
    assert result["unreachable"]["sentence"].startswith("Planning Center could not be reached.")
    assert result["caught"]["sentence"].startswith("Planning Center refused a request PCO Sync made.")
    assert result["resources"] == [
        "Person 10000400",
        "Phone number 55",
        "Person merger 7",
        "odd text",
        "—",
        "—",
    ]


def test_a_failed_run_says_what_to_do_and_keeps_the_technical_error_behind_details(
    make_harness: Any,
) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    h.advance(POLL_MS)
    expect(page.locator("#count-created")).to_have_text("10")
    # When PCO refuses the credentials mid-run and the run fails
    technical = "PcoAuthError: PCO rejected the credentials (401 Unauthorized)"
    h.api.fail_active(technical)
    h.advance(POLL_MS)
    # Then the progress card says FAILED with a sentence naming where the credentials are set
    expect(page.locator("#progress-status")).to_have_text("Failed")
    error = page.locator("#progress-error")
    expect(error.locator(".message__text")).to_have_text(
        "Error: Planning Center refused the App ID and Secret. Correct the stack's PcoAppId and PcoSecret "
        "parameters and deploy again (under make run: PCO_APP_ID and PCO_SECRET), then press Test Connection."
    )
    assert "PcoAuthError" not in error.inner_text()
    # And the technical text is one click away, under Details
    expect(error.get_by_text(technical)).to_be_hidden()
    error.get_by_text("Details").click()
    expect(error.get_by_text(technical)).to_be_visible()
    # And the history's row for the run opens to the same sentence
    top = page.locator("#history-body tr").first
    expect(top.locator(".badge")).to_have_text("Failed")
    top.click()
    detail = page.locator("#history-body tr.history__detail").first
    expect(detail.locator(".history__reason")).to_contain_text(
        "Planning Center refused the App ID and Secret."
    )
    assert "PcoAuthError" not in detail.inner_text()
    h.shot("failed-run-details")


# --- the page keeps itself current ----------------------------------------------------------------------


def delivery(n: int, resource: str, outcome: str = "applied") -> dict[str, Any]:
    """One entry as GET /api/webhooks/deliveries lists it (pco_core/api/webhooks.py)."""
    return {
        "id": f"new-{n}",
        "event": "people.v2.events.phone_number.updated",
        "resource": resource,
        "received_at": iso(T0 + timedelta(seconds=n)),
        "outcome": outcome,
    }


def signed_in(h: Harness) -> None:
    """Sign in and wait for the dashboard to load (it focuses main last, once the idle refresh is armed)."""
    h.sign_in()
    expect(h.page.locator("#main")).to_be_focused()


def test_while_idle_the_page_refreshes_every_30_s_and_picks_up_a_run_started_elsewhere(
    make_harness: Any,
) -> None:
    h = make_harness()
    h.api.seed_deliveries(2, dead_letters=0)
    signed_in(h)
    page = h.page
    deliveries = page.locator("#deliveries-body tr")
    expect(deliveries).to_have_count(2)
    polls = h.polls()
    # Given a new webhook delivery and a run another admin started, after this page loaded
    h.api.deliveries.insert(0, delivery(1, "PhoneNumber 55"))
    h.api.start("people")
    # Then nothing is asked before 30 s
    h.advance(IDLE_MS - 1000)
    assert h.polls() == polls
    expect(deliveries).to_have_count(2)
    expect(page.locator("#progress-card")).to_be_hidden()
    # When 30 s have passed since the dashboard loaded
    h.advance(1000)
    # Then the run shows as running with the run buttons locked
    expect(page.locator("#progress-label")).to_have_text("People")
    expect(page.locator("#progress-status")).to_have_text("Running")
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_disabled()
    # And the new delivery (its resource in words) and the running run's history row appear
    expect(deliveries).to_have_count(3)
    expect(deliveries.first.locator('td[data-label="Resource"]')).to_have_text("Phone number 55")
    expect(deliveries.first.locator('td[data-label="Resource"]')).to_have_attribute("title", "PhoneNumber 55")
    expect(page.locator("#history-body tr").first.locator(".badge")).to_have_text("Running")
    assert h.polls() == polls + 1
    # And while it runs, the run is polled every 3 s
    h.advance(POLL_MS)
    assert h.polls() == polls + 2
    # When the run ends, the slower idle refresh takes over again
    h.api.active["progress"]["processed"] = h.api.total  # type: ignore[index]
    h.advance(POLL_MS)
    expect(page.locator("#progress-status")).to_have_text("Completed")
    after = h.polls()
    h.advance(IDLE_MS - 1000)
    assert h.polls() == after
    h.advance(1000)
    assert h.polls() == after + 1


def test_the_idle_refresh_pauses_while_the_tab_is_hidden_and_catches_up_when_shown(make_harness: Any) -> None:
    h = make_harness()
    signed_in(h)
    page = h.page
    calls = h.api_calls()
    # Given the tab is hidden
    page.evaluate(SET_HIDDEN, True)
    h.api.start("people")
    # Then nothing at all is asked of the API, however long it stays hidden
    h.advance(IDLE_MS * 4)
    assert h.api_calls() == calls
    # When the tab is shown again, the page catches up at once
    page.evaluate(SET_HIDDEN, False)
    expect(page.locator("#progress-label")).to_have_text("People")
    assert h.api_calls() > calls


def test_a_list_that_failed_to_load_takes_its_error_away_once_a_refresh_loads_it(make_harness: Any) -> None:
    h = make_harness()
    h.api.seed_deliveries(2, dead_letters=0)
    page = h.page
    # Given the deliveries answer 500 once (the real API's shape for an unexpected error)
    page.route(
        "**/api/webhooks/deliveries",
        lambda route: route.fulfill(
            status=500, json={"message": "internal error (request r-1); see the logs"}
        ),
        times=1,
    )
    signed_in(h)
    banner = page.locator("#page-error")
    expect(banner).to_contain_text(
        "Could not load the webhook deliveries: internal error (request r-1); see the logs"
    )
    # And the history loaded regardless
    expect(page.locator("#history-body tr[data-run-id]")).to_have_count(3)
    # When the idle refresh loads the deliveries
    h.advance(IDLE_MS)
    # Then they show and the banner about them has gone
    expect(page.locator("#deliveries-body tr")).to_have_count(2)
    expect(banner).to_be_hidden()


def test_a_run_is_already_active_error_goes_once_that_run_has_ended(make_harness: Any) -> None:
    h = make_harness()
    signed_in(h)
    page = h.page
    # Given another admin's run is active, which this tab has not seen yet
    h.api.start("people")
    page.get_by_role("button", name="Sync Groups").click()
    run_error = page.locator("#run-error")
    expect(run_error).to_have_text("Could not start Sync Groups: a run is already active")
    expect(page.locator("#progress-label")).to_have_text("People")
    # When that run ends
    h.api.finish(h.api.active, "COMPLETED")  # type: ignore[arg-type]
    h.advance(POLL_MS)
    # Then its end shows and the error saying a run is active goes with it
    expect(page.locator("#progress-status")).to_have_text("Completed")
    expect(run_error).to_be_hidden()
    for button in page.locator(RUN_BUTTONS).all():
        expect(button).to_be_enabled()


def test_a_run_that_ended_before_the_page_could_show_it_leaves_a_hint_the_idle_refresh_clears(
    make_harness: Any,
) -> None:
    h = make_harness()
    signed_in(h)
    page = h.page
    h.api.start("people")

    def refuse_then_end(route: Route) -> None:
        # The other admin's run ends right after it made this tab's start answer 409.
        h.api.handle(route)
        if route.request.method == "POST" and h.api.active is not None:
            h.api.finish(h.api.active, "COMPLETED")

    page.route("**/api/runs", refuse_then_end)
    page.get_by_role("button", name="Sync Groups").click()
    run_error = page.locator("#run-error")
    expect(run_error).to_have_text(
        "Another run was active and has just ended: press Sync Groups again to start it."
    )
    expect(page.locator("#progress-card")).to_be_hidden()
    # When the idle refresh finds no run active
    h.advance(IDLE_MS)
    # Then the hint has gone
    expect(run_error).to_be_hidden()


# --- confirmation, keyboard, layout ---------------------------------------------------------------------


def test_cancel_asks_first_and_keeping_the_run_changes_nothing(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    cancel = page.get_by_role("button", name="Cancel run")
    cancel.click()
    # Then a dialog asks, naming the run, with the safe choice focused
    dialog = page.get_by_role("dialog", name="Cancel Full Sync?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Keep running")).to_be_focused()
    h.shot("cancel-dialog", full_page=False)
    # When the admin keeps the run
    dialog.get_by_role("button", name="Keep running").click()
    # Then nothing was cancelled and the focus is back on Cancel run
    expect(dialog).to_be_hidden()
    expect(cancel).to_be_focused()
    expect(page.locator("#progress-status")).to_have_text("Running")
    assert not any(p.endswith("/cancel") for _, p, _ in h.api.requests)
    # When the run ends while the dialog is open, the dialog goes (there is nothing left to cancel)
    cancel.click()
    expect(dialog).to_be_visible()
    h.api.active["progress"]["processed"] = h.api.total  # type: ignore[index]
    h.advance(POLL_MS)
    expect(page.locator("#progress-status")).to_have_text("Completed")
    expect(dialog).to_be_hidden()
    assert not any(p.endswith("/cancel") for _, p, _ in h.api.requests)


def test_keyboard_alone_reaches_every_control_starts_a_run_and_cancels_it(make_harness: Any) -> None:
    h = make_harness()
    h.api.seed_deliveries(3, dead_letters=1)
    signed_in(h)
    page = h.page
    describe = """() => {
      const el = document.activeElement;
      return el.dataset.runType || el.id || (el.dataset.runId ? 'row ' + el.dataset.runId : el.tagName);
    }"""
    # When the admin tabs through the dashboard from the top of main
    seen = []
    for _ in range(15):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(describe))
    # Then every control comes in reading order, the run buttons among them
    assert seen == [
        "webhook-url",
        "copy-webhook",
        "test-connection",
        "people",
        "families",
        "groups",
        "full_sync",
        "push_people",
        "push_families",
        "push_memberships",
        "full_push",
        "refresh-history",
        "row 20261124T120000Z-bbbbbbbb",
        "replay-dead-letters",
        "deliveries-scroll",
    ]
    # When the admin goes back to Sync People and presses Space
    page.locator("#main").focus()
    for _ in range(4):
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sync People")).to_be_focused()
    page.keyboard.press("Space")
    # Then the run starts and the focus moves to its progress card, the next stop being Cancel run
    expect(page.locator("#progress-label")).to_have_text("People")
    expect(page.locator("#progress-title")).to_be_focused()
    page.keyboard.press("Tab")
    cancel = page.get_by_role("button", name="Cancel run")
    expect(cancel).to_be_focused()
    # When Enter opens the confirmation and Escape closes it, the run goes on
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Keep running")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cancel).to_be_focused()
    assert not any(p.endswith("/cancel") for _, p, _ in h.api.requests)
    # When Space opens it again and the admin tabs to "Cancel the run" and presses Enter
    page.keyboard.press("Space")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Cancel the run")).to_be_focused()
    page.keyboard.press("Enter")
    # Then the run is cancelled and the focus stays in the progress card
    expect(page.locator("#progress-status")).to_have_text("Cancelled")
    expect(page.locator("#progress-title")).to_be_focused()


# Below 1,120 px the history is shown as cards (nine columns do not fit a narrower table).
@pytest.mark.parametrize("width", [1280, 1140])
def test_on_a_desktop_the_by_column_keeps_each_address_on_one_line(make_harness: Any, width: int) -> None:
    h = make_harness(viewport={"width": width, "height": 900})
    long_address = "administrator.of.the.parish.office@st-bartholomews-parish.example.org"
    h.api.runs[:0] = [
        history_run(
            "20261124T133000Z-eeeeeeee",
            "push_memberships",
            "FAILED",
            T0 - timedelta(minutes=30),
            3,
            error="PcoRequestError: PCO answered 422",
            started_by="tech_admin@local.pco-sync",
        ),
        history_run(
            "20261124T134000Z-ffffffff",
            "full_push",
            "COMPLETED",
            T0 - timedelta(minutes=20),
            30,
            failed=2,  # "Completed with failures", the widest status
            started_by=long_address,
        ),
    ]
    signed_in(h)
    by = h.page.locator("#history-body .history__by-text")
    expect(by).to_have_count(5)
    measure = """(el) => ({
      lines: el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight),
      cut: el.scrollWidth > el.clientWidth,
      title: el.title,
      text: el.textContent,
    })"""
    cells = {m["text"]: m for m in (el.evaluate(measure) for el in by.all())}
    # Then every address is on one line, with the whole address in its title
    for text, m in cells.items():
        assert m["lines"] < 1.5, (text, m)
        assert m["title"] == text
    # And the table fits inside its card, so nothing scrolls sideways
    fit = h.page.locator("#history-table").evaluate(
        """(table) => {
          const card = getComputedStyle(table.parentElement);
          const inside = table.parentElement.clientWidth - parseFloat(card.paddingLeft)
            - parseFloat(card.paddingRight);
          return {table: table.getBoundingClientRect().width, inside,
                  page: document.documentElement.scrollWidth - document.documentElement.clientWidth};
        }"""
    )
    assert fit["table"] <= fit["inside"] + 0.5, fit
    assert fit["page"] <= 0, fit
    # And an unusually long address is cut with an ellipsis; at 1280 px an ordinary one fits whole
    assert cells[long_address]["cut"]
    if width == 1280:
        assert not cells["tech_admin@local.pco-sync"]["cut"]
        assert not cells["tech_admin@church.local"]["cut"]
        h.shot("desktop-history-by")


def test_on_a_phone_the_deliveries_are_cards_in_the_page_below_the_replay_button(make_harness: Any) -> None:
    h = make_harness(viewport={"width": 390, "height": 844})
    h.api.seed_deliveries(20, dead_letters=2)
    signed_in(h)
    page = h.page
    rows = page.locator("#deliveries-body tr")
    expect(rows).to_have_count(20)
    # Then the list is not a scroll box inside the page: it grows with its cards
    scroll = page.locator("#deliveries-scroll").evaluate(
        "(el) => ({inner: el.scrollHeight - el.clientHeight, overflow: getComputedStyle(el).overflowY})"
    )
    assert scroll == {"inner": 0, "overflow": "visible"}
    # And the Replay button keeps clear of the first delivery card
    replay = page.get_by_role("button", name="Replay dead letters").bounding_box()
    first = rows.first.bounding_box()
    assert replay is not None
    assert first is not None
    assert replay["y"] + replay["height"] + 8 <= first["y"]
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    page.get_by_role("button", name="Replay dead letters").scroll_into_view_if_needed()
    h.shot("phone-deliveries", full_page=False)


# --- accessibility: axe on the page in its main states ---------------------------------------------------

BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Page) -> AxeResults:
    """Run axe-core on the page; its timers run on the fake clock, so that clock is stepped (bounded)."""
    page.evaluate(Axe().axe_script)
    page.evaluate(
        "() => { window.__axe = null;"
        " axe.run(document, {resultTypes: ['violations']}).then((r) => { window.__axe = r; }); }"
    )
    for _ in range(200):
        response = page.evaluate("window.__axe")
        if response is not None:
            return AxeResults(response)
        page.clock.run_for(5)
    raise AssertionError("axe did not finish within 1 s of the page's clock")


def seed_failures(h: Harness) -> str:
    """A Full Push that completed with 3 failed records, 2 of them kept; its run id."""
    run_id = "20261124T135000Z-99999999"
    h.api.runs.insert(
        0, history_run(run_id, "full_push", "COMPLETED", T0 - timedelta(minutes=10), 40, created=4, failed=3)
    )
    h.api.failures[run_id] = [
        {
            "kind": "person",
            "record_id": "p-ada",
            "pco_id": "10000301",
            "name": "Ada Lovelace",
            "operation": "create in PCO",
            "status": 422,
            "message": "Created in PCO (id 10000301), but not completely: PCO refused the email address "
            "(422): Address is invalid.",
            "at": iso(T0 - timedelta(minutes=9)),
        },
        {
            "kind": "membership",
            "record_id": "g-choir",
            "pco_id": "77",
            "name": "Byron King in Choir",
            "operation": "add to the group in PCO",
            "status": 422,
            "message": "PCO refused the request (422): Person must be active.",
            "at": iso(T0 - timedelta(minutes=8)),
        },
    ]
    return run_id


def reach_signed_out(h: Harness) -> None:
    h.page.goto(h.base + "/")
    expect(h.page.locator("#signin-view")).to_be_visible()


def reach_idle(h: Harness) -> None:
    h.api.seed_deliveries(5, dead_letters=1)
    signed_in(h)
    h.page.locator("#history-body tr.history__row--expandable").click()
    h.page.get_by_role("button", name="Test Connection").click()
    expect(h.page.locator("#test-result")).to_have_text("Connected to Grace Church")


def reach_running(h: Harness) -> None:
    h.api.seed_deliveries(5, dead_letters=0)
    start_full_sync(h)
    h.advance(POLL_MS)
    expect(h.page.locator("#count-created")).to_have_text("10")


def reach_cancel_dialog(h: Harness) -> None:
    reach_running(h)
    h.page.get_by_role("button", name="Cancel run").click()
    expect(h.page.get_by_role("dialog")).to_be_visible()


def reach_failed(h: Harness) -> None:
    reach_running(h)
    h.api.fail_active("PcoUnavailable: PCO answered 503 three times")
    h.advance(POLL_MS)
    expect(h.page.locator("#progress-status")).to_have_text("Failed")
    h.page.locator("#progress-error").get_by_text("Details").click()


def reach_conflicts(h: Harness) -> None:
    h.api.seed_conflicts()
    signed_in(h)
    expect(h.page.locator("#conflicts-list li")).to_have_count(2)


def reach_forbidden(h: Harness) -> None:
    h.sign_in("VOLUNTEER")
    expect(h.page.locator("#forbidden-view")).to_be_visible()


def reach_failures_dialog(h: Harness) -> None:
    seed_failures(h)
    signed_in(h)
    h.page.locator('#history-body td[data-label="Failed"] button').click()
    expect(h.page.locator("#failures-dialog .failure")).to_have_count(2)


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize(
    ("reach", "viewport"),
    [
        (reach_signed_out, None),
        (reach_idle, None),
        (reach_running, None),
        (reach_cancel_dialog, None),
        (reach_failed, None),
        (reach_forbidden, None),
        (reach_conflicts, None),
        (reach_failures_dialog, None),
        (reach_idle, PHONE),
        (reach_running, PHONE),
        (reach_conflicts, PHONE),
        (reach_failures_dialog, PHONE),
    ],
    ids=[
        "signed-out",
        "idle",
        "running",
        "cancel-dialog",
        "failed",
        "forbidden",
        "conflicts",
        "failures-dialog",
        "phone-idle",
        "phone-running",
        "phone-conflicts",
        "phone-failures-dialog",
    ],
)
def test_axe_finds_no_serious_or_critical_violation(
    make_harness: Any, reach: Any, viewport: dict[str, int] | None
) -> None:
    h = make_harness(viewport=viewport)
    reach(h)
    results = axe_violations(h.page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, AxeResults({"violations": blocking}).generate_report()


def test_a_runs_failed_records_open_by_keyboard_from_history_and_say_which_and_why(make_harness: Any) -> None:
    h = make_harness()
    run_id = seed_failures(h)
    signed_in(h)
    row = h.page.locator(f'#history-body tr[data-run-id="{run_id}"]')
    expect(row.locator(".badge")).to_have_text("Completed with failures")
    expect(row.locator(".badge")).to_have_class("badge badge--warning")
    count = row.locator('td[data-label="Failed"]').get_by_role("button")
    expect(count).to_have_text("3")

    count.focus()
    h.page.keyboard.press("Enter")

    dialog = h.page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#failures-dialog-summary")).to_have_text(
        "Showing the first 2 of 3 failed records."
    )
    items = dialog.locator(".failure")
    expect(items.nth(0).locator(".failure__title")).to_have_text("Ada Lovelace (person)")
    expect(items.nth(1).locator(".failure__title")).to_have_text("Byron King in Choir (membership)")
    expect(items.nth(1).locator(".failure__why")).to_have_text(
        "PCO refused the request (422): Person must be active."
    )
    h.shot("desktop-failures-dialog", full_page=False)
    h.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(count).to_be_focused()


def test_on_a_phone_the_failed_records_fit_the_screen(make_harness: Any) -> None:
    h = make_harness(viewport=PHONE)
    seed_failures(h)
    signed_in(h)
    h.page.locator('#history-body td[data-label="Failed"] button').click()
    dialog = h.page.locator("#failures-dialog")
    expect(dialog.locator(".failure")).to_have_count(2)
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    h.shot("phone-failures-dialog", full_page=False)


# --- conflicts: side by side, resolved with one click ---------------------------------------------------


def test_open_conflicts_show_side_by_side_with_a_count_in_the_header(make_harness: Any) -> None:
    h = make_harness()
    h.api.seed_conflicts()
    signed_in(h)
    page = h.page

    expect(page.locator("#conflict-badge")).to_have_text("2 conflicts")
    expect(page.locator("#conflict-badge")).to_be_visible()
    items = page.locator("#conflicts-list li")
    expect(items).to_have_count(2)
    newest = items.first  # the email, found later
    expect(newest.locator(".conflict__head")).to_contain_text("Ada Lovelace · Email")
    expect(newest.locator(".conflict__side--base dd")).to_have_text("ada@example.org (primary)")
    expect(newest.locator(".conflict__side--local dd")).to_have_text("ours@example.org (primary)")
    expect(newest.locator(".conflict__side--pco dd")).to_have_text("theirs@example.org (Work, primary)")
    name = items.nth(1)
    expect(name.locator(".conflict__head")).to_contain_text("Last name")
    expect(name.locator(".conflict__side--local dd")).to_have_text("Byron")
    expect(name.locator(".conflict__side--pco dd")).to_have_text("King")
    expect(page.locator("#conflicts-empty")).to_be_hidden()


def test_keep_pcos_resolves_the_conflict_and_the_record_takes_pcos_value(make_harness: Any) -> None:
    h = make_harness()
    h.api.seed_conflicts()
    signed_in(h)
    page = h.page

    page.get_by_role("button", name="Keep PCO's: Last name of Ada Lovelace").click()

    expect(page.locator("#conflicts-list li")).to_have_count(1)
    expect(page.locator("#conflict-badge")).to_have_text("1 conflict")
    person = h.api.records.people["p-ada"]
    assert person.last_name == "King"
    assert [c.field for c in person.sync.conflicts] == ["emails:e-1"]
    assert h.api.records.get_conflict("20261124T133000Z-00000001").resolution == "admin_pco"
    assert ("POST", "/api/conflicts/20261124T133000Z-00000001/resolve") in [
        (m, p) for m, p, _ in h.api.requests
    ]


def test_keep_ours_by_keyboard_closes_the_last_conflict(make_harness: Any) -> None:
    h = make_harness()
    h.api.seed_conflicts()
    signed_in(h)
    page = h.page
    for label in ("Keep ours: Email of Ada Lovelace", "Keep ours: Last name of Ada Lovelace"):
        button = page.get_by_role("button", name=label)
        button.focus()
        page.keyboard.press("Enter")
        expect(button).to_have_count(0)

    expect(page.locator("#conflicts-empty")).to_be_visible()
    expect(page.locator("#conflict-badge")).to_be_hidden()
    person = h.api.records.people["p-ada"]
    assert (person.last_name, person.sync.conflicts) == ("Byron", ())
    assert person.sync.edited == ("last_name",)  # ours is a local change the next push sends


def test_without_conflicts_the_card_says_so_and_the_header_shows_no_badge(make_harness: Any) -> None:
    h = make_harness()
    signed_in(h)
    expect(h.page.locator("#conflicts-empty")).to_be_visible()
    expect(h.page.locator("#conflict-badge")).to_be_hidden()


def test_on_a_phone_a_conflicts_values_stack(make_harness: Any) -> None:
    h = make_harness(viewport=PHONE)
    h.api.seed_conflicts()
    signed_in(h)
    first = h.page.locator("#conflicts-list li").first
    sides = [first.locator(f".conflict__side--{s}").bounding_box() for s in ("base", "local", "pco")]
    assert all(box is not None for box in sides)
    xs = {round(box["x"]) for box in sides if box}
    ys = [box["y"] for box in sides if box]
    assert len(xs) == 1  # one column
    assert ys == sorted(ys)
    assert h.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# --- the connection card tells the truth about the credentials -------------------------------------------


def test_after_pco_refuses_the_credentials_the_card_says_so_until_a_test_succeeds(make_harness: Any) -> None:
    h = make_harness()
    refused = {"ok": False, "error": "bad_credentials", "reason": "PCO rejected the credentials (401)"}
    h.api.test_answer = refused
    h.sign_in()
    page = h.page
    app_id = page.locator('.check[data-key="app_id_set"] .check__state')
    expect(app_id).to_have_text("Configured")

    page.get_by_role("button", name="Test Connection").click()

    expect(app_id).to_have_text("Refused by Planning Center")
    expect(page.locator('.check[data-key="secret_set"]')).to_have_class("check check--missing")
    expect(page.locator("#credentials-refused")).to_contain_text("PcoAppId and PcoSecret")

    h.api.test_answer = {"ok": True, "organization": "Grace Church"}
    page.get_by_role("button", name="Test Connection").click()

    expect(app_id).to_have_text("Configured and working")
    expect(page.locator("#credentials-refused")).to_be_hidden()
