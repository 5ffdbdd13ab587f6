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
from playwright.sync_api import Browser, Page, Route, expect

from pco_core.api import create_app
from pco_core.api.services import AdminServices
from pco_core.connection import ConnectionStatus, ConnectionTest
from pco_core.errors import ReplayRunning, RunActive, RunAlreadyEnded, RunNotFound
from pco_core.runs.models import RUN_DOMAINS, Run
from tests.unit.api.events import http_event

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = REPO_ROOT / "site"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
T0 = datetime(2026, 11, 24, 14, 0, 0, tzinfo=UTC)
POLL_MS = 3000
LABELS = {
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

    def __post_init__(self) -> None:
        services = AdminServices(
            runs=FakeRuns(self),  # type: ignore[arg-type]
            records=None,  # type: ignore[arg-type]  # the page reads no records
            role_permissions={"TECH_ADMIN": ["pco.manage"]},
            connection=FakeConnection(self),  # type: ignore[arg-type]
            deliveries=FakeDeliveries(self),  # type: ignore[arg-type]
            dead_letters=FakeDeadLetters(self),  # type: ignore[arg-type]
            clock=lambda: self.now,
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


@dataclass
class FakeConnection:
    api: FakeAdminApi

    def status(self) -> ConnectionStatus:
        return ConnectionStatus.model_validate(self.api.connection)

    def test(self) -> ConnectionTest:
        return ConnectionTest.model_validate(self.api.test_answer)


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


# Counts the page's GET /api/runs/current calls as fetch() is called, which happens synchronously inside
# the poll timer: so right after clock.run_for() the count is exact (the fake API only sees a request
# later, when Playwright dispatches the route).
COUNT_POLLS = """
(() => {
  window.__runPolls = 0;
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    if (String(input).includes('/api/runs/current')) window.__runPolls += 1;
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
    expect(rows.nth(0).locator("td").nth(7)).to_have_text("Schedule")
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
            "tech_admin@church.local",
        ]
    )
    # And every API call carried the bearer token
    assert h.api.polls_with_bearer()
    assert ("GET", "/api/runs") in [(m, p) for m, p, _ in h.api.requests]
    h.shot("desktop-signed-in")


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
    expect(detail).to_contain_text("PcoUnavailable: PCO answered 503 three times")
    expect(failed).to_have_attribute("aria-expanded", "true")
    failed.click()
    expect(detail).to_be_hidden()
    # And from the keyboard: focus the row and press Enter
    failed.focus()
    page.keyboard.press("Enter")
    expect(detail).to_be_visible()
    h.shot("history-failed-open")


def test_test_connection_shows_organisation_or_exact_reason(make_harness: Any) -> None:
    h = make_harness()
    h.sign_in()
    page = h.page
    button = page.get_by_role("button", name="Test Connection")
    button.click()
    expect(page.locator("#test-result")).to_have_text("Connected to Grace Church")
    # Given PCO now rejects the credentials
    h.api.test_answer = {"ok": False, "reason": "PCO rejected the credentials (401)"}
    button.click()
    expect(page.locator("#test-result")).to_have_text("Connection failed: PCO rejected the credentials (401)")
    expect(page.locator("#test-result")).to_have_class("test-result test-result--fail")
    expect(button).to_be_enabled()


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


def test_cancel_stops_the_run_and_shows_a_grey_cancelled_badge(make_harness: Any) -> None:
    h = make_harness()
    start_full_sync(h)
    page = h.page
    h.advance(POLL_MS)
    expect(page.locator("#count-created")).to_have_text("10")
    page.get_by_role("button", name="Cancel run").click()
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
    page.get_by_role("button", name="Cancel run").click()
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
    set_hidden = """(hidden) => {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        Object.defineProperty(document, 'visibilityState', {configurable: true,
                              get: () => hidden ? 'hidden' : 'visible'});
        document.dispatchEvent(new Event('visibilitychange'));
    }"""
    before = h.polls()
    page.evaluate(set_hidden, True)
    h.advance(POLL_MS * 4)
    assert h.polls() == before
    # When the tab is shown again, it polls at once (the first page of the run: nothing moved while
    # hidden), then every 3 s
    page.evaluate(set_hidden, False)
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
