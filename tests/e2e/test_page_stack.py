"""The admin page in headless Chromium against the REAL local stack: nothing faked between page and PCO.

The local stack (moto, the real handlers, the state machine's real ASL, the API stand-in with its JWT check)
serves the page and /api over HTTP on 127.0.0.1; PCO is the seeded sandbox. Time is real here (the stack's
Step Functions run on their own threads), so every wait is on page state with an explicit timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from local.stack.harness import LocalStack
from local.stack.pco_sandbox import RunningSandbox
from pco_core.store.records import RecordStore
from tests.stack import running_sandbox, running_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SANDBOX_PEOPLE = 300
SANDBOX_SEED = 7
# Slow enough that a Full Sync (a dozen PCO requests or more) is still running after the page's first
# 3 s poll has shown counters, so Cancel lands mid-run.
SLOW_PCO_LATENCY_MS = 1500
RUN_TIMEOUT_MS = 90_000
DRAIN_SECONDS = 60.0
RUN_BUTTONS = "[data-run-type]"
ADMIN_EMAIL = "tech_admin@church.local"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    # Its rate limit is generous: this suite is about the page, not PCO's limit (the sandbox tests cover it).
    with running_sandbox(SANDBOX_PEOPLE, SANDBOX_SEED) as running:
        yield running


class ServedStack:
    """The local stack with its API stand-in (page + /api + /local/token) on a real HTTP port."""

    def __init__(self, stack: LocalStack, url: str) -> None:
        self.stack = stack
        self.url = url

    def api(self, method: str, path: str, role: str = "TECH_ADMIN") -> Any:
        status, body = self.stack.api(method, path, role=role)
        assert status < 300, (method, path, status, body)
        return body

    def drain(self) -> None:
        """Wait (bounded) until every run has ended and no execution runs, so no handler outlives moto."""
        for run in self.api("GET", "/api/runs?limit=100")["runs"]:
            self.stack.wait_for_run(run["id"], timeout=DRAIN_SECONDS)


@pytest.fixture
def served(sandbox: RunningSandbox) -> Iterator[ServedStack]:
    with running_stack(sandbox) as stack:
        server = make_server("127.0.0.1", 0, stack.assembled.api_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="e2e-api-standin", daemon=True)
        thread.start()
        result = ServedStack(stack, f"http://127.0.0.1:{server.server_port}")
        try:
            yield result
        finally:
            sandbox.sandbox.faults.reset()
            try:
                result.drain()
            finally:
                server.shutdown()
                thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="America/Chicago"
    )
    errors: list[str] = []
    opened = context.new_page()
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened
    finally:
        context.close()
    assert errors == [], f"the page threw: {errors}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"stack-{name}.png"), full_page=True, animations="disabled")


def sign_in(page: Page, served: ServedStack, role: str = "TECH_ADMIN") -> None:
    page.goto(served.url + "/")
    expect(page.locator("#signin-view")).to_be_visible()
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in").click()


def start_full_sync(page: Page) -> dict[str, Any]:
    """Click Full Sync; the run the API answered with."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/runs") and r.request.method == "POST"
    ) as started:
        page.get_by_role("button", name="Full Sync").click()
    assert started.value.status == 202
    run: dict[str, Any] = started.value.json()
    assert run["status"] == "RUNNING"
    return run


def count(value: int) -> str:
    return f"{value:,}"  # the page formats counts for en-US


def expect_counters(page: Page, run: dict[str, Any]) -> None:
    for name in ("created", "updated", "skipped", "failed"):
        expect(page.locator(f"#count-{name}")).to_have_text(count(run[name]))


def history_row(page: Page, run_id: str) -> Any:
    return page.locator(f'#history-body tr[data-run-id="{run_id}"]')


def expect_history_row(page: Page, run: dict[str, Any], status_text: str, badge: str) -> None:
    row = history_row(page, run["id"])
    expect(row).to_be_visible()
    expect(row.locator('td[data-label="Type"]')).to_have_text(run["label"])
    expect(row.locator(".badge")).to_have_text(status_text)
    expect(row.locator(".badge")).to_have_class(f"badge {badge}")
    expect(row.locator('td[data-label="Created"]')).to_have_text(count(run["created"]))
    expect(row.locator('td[data-label="Updated"]')).to_have_text(count(run["updated"]))
    expect(row.locator('td[data-label="Skipped"]')).to_have_text(count(run["skipped"]))


def expect_all_run_buttons(page: Page, *, disabled: bool) -> None:
    buttons = page.locator(RUN_BUTTONS)
    expect(buttons).to_have_count(8)
    for index in range(8):
        if disabled:
            expect(buttons.nth(index)).to_be_disabled()
        else:
            expect(buttons.nth(index)).to_be_enabled()


def test_given_a_tech_admin_when_testing_the_connection_then_the_sandbox_organisation_is_named(
    page: Page, served: ServedStack, sandbox: RunningSandbox
) -> None:
    sign_in(page, served)

    expect(page.locator("#dashboard-view")).to_be_visible()
    expect(page.locator("#account-name")).to_have_text(f"Signed in as {ADMIN_EMAIL}")
    for key in ("app_id_set", "secret_set", "webhook_secret_set"):
        expect(page.locator(f'.check[data-key="{key}"] .check__state')).to_have_text("Configured")
    webhook_url = served.api("GET", "/api/connection")["webhook_url"]
    assert webhook_url.endswith("/webhooks/pco")
    expect(page.locator("#webhook-url")).to_have_value(webhook_url)

    page.get_by_role("button", name="Test Connection").click()

    organisation = sandbox.sandbox.store.settings.organization_name
    expect(page.locator("#test-result")).to_have_text(f"Connected to {organisation}", timeout=15_000)
    expect(page.locator("#test-result")).to_have_class("test-result test-result--ok")
    expect(page.locator("#history-empty")).to_be_visible()
    shot(page, "connection-tested")


def test_given_a_tech_admin_when_running_a_full_sync_then_it_is_watched_to_completed(
    page: Page, served: ServedStack
) -> None:
    sign_in(page, served)
    expect(page.locator("#dashboard-view")).to_be_visible()

    run = start_full_sync(page)

    # While it runs: the progress card says so and no other run can be started.
    expect(page.locator("#progress-label")).to_have_text("Full Sync")
    expect_all_run_buttons(page, disabled=True)
    expect(page.locator("#sync-lock-note")).to_be_visible()
    shot(page, "full-sync-running")

    expect(page.locator("#progress-status")).to_have_text("Completed", timeout=RUN_TIMEOUT_MS)

    final = served.api("GET", f"/api/runs/{run['id']}")
    assert final["status"] == "COMPLETED"
    assert final["created"] > 0
    expect(page.locator("#progress-status")).to_have_class("badge badge--completed")
    expect(page.locator("#progress-spinner")).to_be_hidden()
    expect(page.locator("#cancel-run")).to_be_hidden()
    expect_counters(page, final)
    expect(page.locator("#progress-percent")).to_have_text("100%")
    expect_all_run_buttons(page, disabled=False)
    expect_history_row(page, final, "Completed", "badge--completed")
    expect(history_row(page, run["id"]).locator('td[data-label="By"]')).to_have_text(ADMIN_EMAIL)
    assert served.api("GET", "/api/runs/current") == {"run": None}
    shot(page, "full-sync-completed")


def test_given_a_slow_pco_when_cancelling_mid_run_then_cancelled_grey_with_counters_kept(
    page: Page, served: ServedStack, sandbox: RunningSandbox
) -> None:
    sandbox.sandbox.faults.configure(latency_ms=SLOW_PCO_LATENCY_MS)
    sign_in(page, served)
    expect(page.locator("#dashboard-view")).to_be_visible()
    run = start_full_sync(page)
    # Wait for a poll that shows work done, so there are counters to keep.
    expect(page.locator("#count-created")).not_to_have_text("0", timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#progress-status")).to_have_text("Running")

    # Meanwhile the nightly schedule fires: it is skipped and recorded, not queued.
    skipped = served.stack.invoke("ScheduledSyncFunction", {})
    assert skipped["outcome"] == "skipped"
    assert skipped["active_run_id"] == run["id"]
    shot(page, "cancel-before")

    with page.expect_response(lambda r: r.url.endswith(f"/api/runs/{run['id']}/cancel")) as answered:
        page.get_by_role("button", name="Cancel run").click()
        page.get_by_role("dialog").get_by_role("button", name="Cancel the run").click()
    assert answered.value.status == 202
    cancelled = answered.value.json()
    assert cancelled["status"] == "CANCELLED"

    expect(page.locator("#progress-status")).to_have_text("Cancelled")
    expect(page.locator("#progress-status")).to_have_class("badge badge--cancelled")
    expect(page.locator("#cancel-run")).to_be_hidden()
    expect_all_run_buttons(page, disabled=False)
    expect_counters(page, cancelled)
    assert cancelled["created"] > 0
    expect_history_row(page, cancelled, "Cancelled", "badge--cancelled")
    shot(page, "cancelled")

    # The lock is free at once, and the page in flight when Cancel landed changed nothing.
    assert served.api("GET", "/api/runs/current") == {"run": None}
    sandbox.sandbox.faults.reset()
    served.drain()
    after = served.api("GET", f"/api/runs/{run['id']}")
    assert after["status"] == "CANCELLED"
    assert {k: after[k] for k in ("created", "updated", "skipped", "failed")} == {
        k: cancelled[k] for k in ("created", "updated", "skipped", "failed")
    }

    # The history: most recent first, the scheduled start recorded as skipped.
    page.get_by_role("button", name="Refresh").click()
    rows = page.locator("#history-body tr[data-run-id]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-run-id", skipped["run_id"])
    skipped_run = served.api("GET", f"/api/runs/{skipped['run_id']}")
    assert (skipped_run["outcome"], skipped_run["error"]) == ("SKIPPED", None)
    # Informational and grey, saying why in words: not a red or raw "cancelled".
    expect_history_row(page, skipped_run, "Skipped", "badge--cancelled")
    expect(rows.nth(0).locator(".history__note")).to_have_text("another run was active")
    expect(rows.nth(0).locator('td[data-label="By"]')).to_have_text("Schedule")
    expect(rows.nth(1)).to_have_attribute("data-run-id", run["id"])
    shot(page, "history-after-cancel")


def test_given_a_volunteer_when_signing_in_then_the_page_says_they_lack_pco_manage(
    page: Page, served: ServedStack
) -> None:
    sign_in(page, served, role="VOLUNTEER")

    expect(page.locator("#forbidden-view")).to_be_visible()
    expect(page.locator("#forbidden-message")).to_contain_text("pco.manage")
    expect(page.locator("#dashboard-view")).to_be_hidden()
    status, body = served.stack.api("GET", "/api/connection", role="VOLUNTEER")
    assert status == 403
    assert "pco.manage" in body["message"]
    shot(page, "volunteer-forbidden")


def test_given_pco_refuses_a_persons_email_when_pushing_then_after_a_reload_the_page_says_which_and_why(
    page: Page, served: ServedStack
) -> None:
    # Given a new local person whose email PCO will refuse (stored as an older version accepted it)
    status, created = served.stack.api(
        "POST",
        "/api/people",
        json={"first_name": "Ada", "last_name": "Refused", "emails": [{"address": "ada@example.org"}]},
        role="TECH_ADMIN",
    )
    assert status == 201, created
    store = RecordStore(served.stack.env("RECORDS_TABLE"), client=served.stack.dynamodb)
    person = store.get_people([created["id"]])[created["id"]]
    bad = person.model_copy(
        update={"emails": [person.emails[0].model_copy(update={"address": "ada@nowhere"})]}
    )
    store.save_people([(bad, person)])
    sign_in(page, served)
    expect(page.locator("#dashboard-view")).to_be_visible()

    # When the admin pushes people
    page.get_by_role("button", name="Push People").click()

    # Then the run completes with failures, in its own colour, with its failed records one click away
    status_badge = page.locator("#progress-status")
    expect(status_badge).to_have_text("Completed with failures", timeout=RUN_TIMEOUT_MS)
    expect(status_badge).to_have_class("badge badge--warning")
    expect(page.locator("#count-failed")).to_have_text("1")
    expect(page.locator("#announcer")).to_contain_text("Push People completed with failures:")
    expect(page.get_by_role("button", name="View failed records")).to_be_visible()
    [run] = served.api("GET", "/api/runs")["runs"]
    pco_id = store.get_people([created["id"]])[created["id"]].pco_id
    assert pco_id is not None  # the person was created in PCO, without the email

    # And after a reload, Sync History still says which record failed and why
    page.reload()
    expect(page.locator("#dashboard-view")).to_be_visible()
    row = history_row(page, run["id"])
    expect(row.locator(".badge")).to_have_text("Completed with failures")
    failed_cell = row.locator('td[data-label="Failed"]')
    expect(failed_cell).to_have_text("1")
    failed_cell.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#failures-dialog-summary")).to_have_text("1 record failed.")
    item = dialog.locator(".failure")
    expect(item).to_have_count(1)
    expect(item.locator(".failure__title")).to_have_text("Ada Refused (person)")
    expect(item.locator(".failure__what")).to_contain_text("create in PCO")
    expect(item.locator(".failure__why")).to_have_text(
        f"Created in PCO (id {pco_id}), but not completely: "
        "PCO refused the email address (422): Address is invalid."
    )
    shot(page, "run-with-failures")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(failed_cell.get_by_role("button")).to_be_focused()
