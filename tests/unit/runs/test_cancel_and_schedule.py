"""Cancelling a run and the scheduled Full Sync, on moto: what the history and the lock say afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from pco_core.errors import RunAlreadyEnded, RunNotFound
from pco_core.runs.schedule import ScheduledSync
from pco_core.runstate import Cursor, PageCounts, RunProgress
from pco_core.store.runs import RunStore
from tests.unit.runs.support import LEASE


def execution_names(sfn: tuple[Any, str]) -> list[str]:
    client, arn = sfn
    return [e["name"] for e in client.list_executions(stateMachineArn=arn)["executions"]]


def commit_one_page(store: RunStore, run_id: str) -> None:
    assert store.commit_page(
        run_id,
        seen_seq=0,
        counts=PageCounts(created=3, updated=2, skipped=1),
        cursor=Cursor(domain_index=0, position={"offset": 100}),
        progress=RunProgress(domain="people", processed=100, total=300),
        pages_in_execution=1,
    )


# ---------------------------------------------------------------- cancel


def test_given_a_running_run_when_cancelled_then_cancelled_with_counters_kept_and_lock_released(
    service, store, clock
):
    run = service.start_run("full_sync", "admin@church.example")
    commit_one_page(store, run.id)
    clock.advance(42)

    cancelled = service.cancel_run(run.id)

    assert cancelled.status == "CANCELLED"
    assert (cancelled.created, cancelled.updated, cancelled.skipped) == (3, 2, 1)
    assert cancelled.finished_at == clock()
    assert cancelled.duration_seconds == 42
    assert cancelled.error is None
    assert store.get_run(run.id) == cancelled
    assert store.lock_state() is None
    assert service.current_run() is None


def test_given_a_cancelled_run_then_its_late_page_cannot_commit_and_a_new_run_can_start(service, store):
    run = service.start_run("people", "a")
    service.cancel_run(run.id)

    # A page that was in flight when the cancel landed: its commit is refused, nothing is counted.
    assert not store.commit_page(
        run.id,
        seen_seq=0,
        counts=PageCounts(created=9),
        cursor=Cursor(),
        progress=RunProgress(),
        pages_in_execution=1,
    )
    assert store.get_run(run.id).created == 0
    fresh = service.start_run("people", "b")
    assert store.lock_holder(service.clock()) == fresh.id


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "CANCELLED"])
def test_given_a_run_that_already_ended_when_cancelled_then_conflict_and_nothing_changes(
    service, store, clock, status
):
    run = service.start_run("people", "a")
    store.finish_run(run.id, status, error="boom" if status == "FAILED" else None, finished_at=clock())
    store.release_lock(run.id)
    before = store.get_run(run.id)
    clock.advance(5)

    with pytest.raises(RunAlreadyEnded, match="already ended") as caught:
        service.cancel_run(run.id)

    assert (caught.value.run_id, caught.value.status) == (run.id, status)
    assert store.get_run(run.id) == before


def test_given_an_unknown_run_when_cancelled_then_not_found(service):
    with pytest.raises(RunNotFound):
        service.cancel_run("20261124T070000Z-00000000")


def test_cancelling_does_not_release_a_lock_another_run_holds(service, store, clock):
    # Given run A lost its lease and run B took over
    a = service.start_run("people", "a")
    clock.advance(LEASE)
    b = service.start_run("people", "b")
    # When cancelling A (already FAILED by B's start) Then it conflicts and B keeps the lock
    with pytest.raises(RunAlreadyEnded):
        service.cancel_run(a.id)
    assert store.lock_holder(clock()) == b.id


# ---------------------------------------------------------------- schedule


def test_given_no_active_run_when_the_schedule_fires_then_a_full_sync_starts_by_schedule(service, store, sfn):
    outcome = ScheduledSync(service).start()

    assert outcome.outcome == "started"
    run = store.get_run(outcome.run_id)
    assert (run.type, run.status, run.started_by) == ("full_sync", "RUNNING", "schedule")
    assert store.lock_holder(service.clock()) == run.id
    assert execution_names(sfn) == [run.id]


def test_given_an_active_run_when_the_schedule_fires_then_it_is_skipped_and_recorded(
    service, store, clock, sfn
):
    active = service.start_run("people", "admin@church.example")
    clock.advance(60)

    outcome = ScheduledSync(service).start()

    assert outcome.outcome == "skipped"
    assert outcome.active_run_id == active.id
    skipped = store.get_run(outcome.run_id)
    assert skipped.status == "CANCELLED"
    assert skipped.type == "full_sync"
    assert skipped.started_by == "schedule"
    # An informational entry for the page ("Skipped: another run was active"), not a failure text.
    assert (skipped.outcome, skipped.skip_reason, skipped.error) == (
        "SKIPPED",
        "another run was active",
        None,
    )
    assert skipped.started_at == skipped.finished_at == clock()
    assert skipped.duration_seconds == 0
    # The active run is untouched and keeps the lock; nothing was queued or started.
    assert store.get_run(active.id).status == "RUNNING"
    assert store.lock_holder(clock()) == active.id
    assert execution_names(sfn) == [active.id]
    assert [r.id for r in store.list_runs(5)] == [skipped.id, active.id]


def test_given_a_skipped_start_is_latest_then_the_next_schedule_still_sees_the_active_run(
    service, store, clock
):
    active = service.start_run("people", "a")
    store.begin_page(active.id, clock(), LEASE, 60)  # its execution is running pages
    store.end_page(active.id)
    clock.advance(60)
    ScheduledSync(service).start()
    clock.advance(60)

    second = ScheduledSync(service).start()

    assert second.outcome == "skipped"
    assert store.get_run(active.id).status == "RUNNING"
    assert service.current_run() == store.get_run(active.id)
