"""Who may take the run lock, and when: a cancelled run's page in flight keeps it, an orphan gives it up.

The race that matters: cancel a push while one of its pages is writing to PCO, then start a new push at
once. Two runs writing the same new people create them twice in PCO; the lock must not change hands until
the page in flight has stopped writing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from pco_core.engine.page import PageDeps, run_page
from pco_core.errors import RunActive, RunStopping
from pco_core.records import Email, Person
from pco_core.runs.page import DOMAINS
from pco_core.runs.service import NEVER_STARTED, START_GRACE_SECONDS
from tests.unit.fakes import START, FakeRecords
from tests.unit.push.sandbox_pco import Pco
from tests.unit.runs.support import LEASE

PAGE_SECONDS = 60


def test_given_a_page_in_flight_when_cancelled_then_the_lock_stays_until_that_page_ends(
    service, store, clock
):
    run = service.start_run("full_push", "a")
    store.begin_page(run.id, clock(), LEASE, PAGE_SECONDS)

    cancelled = service.cancel_run(run.id)

    assert cancelled.status == "CANCELLED"
    assert store.lock_state().run_id == run.id
    with pytest.raises(RunStopping, match="finishing the page it was on") as caught:
        service.start_run("full_push", "b")
    assert caught.value.status == "CANCELLED"
    assert [r.id for r in store.list_runs(10)] == [run.id]

    # When the page has seen the cancel and ended, the next start takes the lock.
    store.end_page(run.id)
    fresh = service.start_run("full_push", "b")
    assert store.lock_holder(clock()) == fresh.id


def test_given_a_cancelled_page_that_crashed_then_the_lock_frees_once_its_lambda_must_be_dead(
    service, store, clock
):
    run = service.start_run("full_push", "a")
    store.begin_page(run.id, clock(), LEASE, PAGE_SECONDS)
    service.cancel_run(run.id)  # the page never ends: its Lambda was killed

    clock.advance(PAGE_SECONDS - 1)
    with pytest.raises(RunStopping):
        service.start_run("full_push", "b")
    clock.advance(1)
    fresh = service.start_run("full_push", "b")
    assert store.lock_holder(clock()) == fresh.id


def test_given_no_page_in_flight_when_cancelled_then_the_lock_is_released_at_once(service, store, clock):
    run = service.start_run("people", "a")
    store.begin_page(run.id, clock(), LEASE, PAGE_SECONDS)
    store.end_page(run.id)  # the execution is in a Wait between pages

    service.cancel_run(run.id)

    assert store.lock_state() is None


def test_given_a_start_that_died_after_taking_the_lock_then_a_start_after_the_grace_takes_it_over(
    service, store, clock
):
    assert store.acquire_lock("20261124T135959Z-dead", clock(), LEASE)  # no run item, no execution

    clock.advance(START_GRACE_SECONDS - 1)
    with pytest.raises(RunActive, match="already active"):
        service.start_run("people", "a")
    clock.advance(1)
    run = service.start_run("people", "a")

    assert store.lock_holder(clock()) == run.id


def test_given_a_run_whose_execution_never_began_then_it_fails_and_the_next_start_goes_ahead(
    service, store, clock
):
    stuck = service.start_run("people", "a")  # as if StartExecution were lost: no page ever begins

    clock.advance(START_GRACE_SECONDS)
    run = service.start_run("people", "b")

    failed = store.get_run(stuck.id)
    assert (failed.status, failed.error) == ("FAILED", NEVER_STARTED)
    assert store.lock_holder(clock()) == run.id


def test_given_a_run_with_pages_then_a_start_after_the_grace_is_still_a_conflict(service, store, clock):
    active = service.start_run("people", "a")
    store.begin_page(active.id, clock(), LEASE, PAGE_SECONDS)
    store.end_page(active.id)

    clock.advance(START_GRACE_SECONDS * 3)
    with pytest.raises(RunActive, match="already active"):
        service.start_run("people", "b")
    assert store.get_run(active.id).status == "RUNNING"


# ---------------------------------------------------------------- the push race, end to end


def new_person(n: int) -> Person:
    return Person(
        id=f"p{n:03d}",
        first_name=f"Race{n}",
        last_name="Probe",
        emails=[Email(address=f"race{n}@example.org", primary=True)],
        updated_at=START,
    )


def drive(run_id: str, deps: PageDeps, limit: int = 50) -> None:
    for _ in range(limit):
        if run_page(run_id, 0, deps, page_seconds=PAGE_SECONDS).done:
            return
    raise AssertionError("the run never finished")


def test_given_a_push_cancelled_mid_page_when_a_new_push_starts_at_once_then_no_one_is_created_twice(
    service, store, clock
):
    pco = Pco(people=0)
    records = FakeRecords()
    records.add(*(new_person(n) for n in range(10)))
    deps = PageDeps(
        pco=pco.client(), records=records, runs=store, clock=clock, lease_seconds=LEASE, domains=DOMAINS
    )
    first = service.start_run("push_people", "a")
    refused: list[str] = []

    def cancel_and_restart_on_the_third_create(request: httpx.Request) -> None:
        creates = [r for r in pco.requests if r.method == "POST" and r.url.path == "/people/v2/people"]
        if len(creates) == 3 and not refused:
            service.cancel_run(first.id)
            try:
                service.start_run("push_people", "b")
            except (RunActive, RunStopping) as exc:
                refused.append(exc.message)

    pco.on_request = cancel_and_restart_on_the_third_create
    drive(first.id, deps)
    pco.on_request = None

    assert refused, "a new push started while the cancelled page could still write to PCO"
    assert store.get_run(first.id).status == "CANCELLED"
    assert store.lock_state() is None  # the cancelled page released the lock once it stopped

    second = service.start_run("push_people", "b")
    drive(second.id, deps)

    in_pco: Counter[str] = Counter(
        f"{p['attributes']['first_name']} {p['attributes']['last_name']}"
        for p in pco.get("/people/v2/people", per_page="100")["data"]
    )
    assert in_pco == Counter(f"Race{n} Probe" for n in range(10))
    linked = {p.pco_id for p in records.people.values()}
    assert None not in linked
    assert len(linked) == 10
    emails: Any = Counter(
        e["attributes"]["address"]
        for e in pco.get("/people/v2/emails", per_page="100")["data"]
        if e["attributes"]["address"].startswith("race")
    )
    assert set(emails.values()) == {1}
    assert len(emails) == 10
