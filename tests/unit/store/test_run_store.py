"""RunStore on moto: run items, the lease lock with an injected clock, and exactly-once page commits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pco_core.errors import LeaseLost, RunNotFound
from pco_core.runstate import MAX_KEPT_FAILURES, Cursor, PageCounts, RecordFailure, Run, RunProgress, RunWait
from pco_core.store.runs import RunStore
from tests.unit.store.clients import AtomicRequestsClient

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
LEASE = 900


def make_run(run_id: str = "20261124T140000Z-0000aaaa", **changes: Any) -> Run:
    values: dict[str, Any] = {
        "id": run_id,
        "type": "full_sync",
        "label": "Full Sync",
        "status": "RUNNING",
        "started_at": T0,
        "started_by": "admin@church.example",
        "domains": ["people", "families", "groups", "memberships"],
        "progress": RunProgress(domain="people"),
    }
    values.update(changes)
    return Run(**values)


@pytest.fixture
def store(dynamodb: Any, state_table: str) -> RunStore:
    return RunStore(state_table, client=dynamodb)


def commit(store: RunStore, run_id: str, seen: int, created: int = 1, **kwargs: Any) -> bool:
    return store.commit_page(
        run_id,
        seen_seq=seen,
        counts=PageCounts(created=created, updated=2, skipped=3, failed=0),
        cursor=Cursor(domain_index=0, position={"offset": (seen + 1) * 100, "since": "2026-01-01T00:00:00Z"}),
        progress=RunProgress(domain="people", processed=(seen + 1) * 100, total=1000),
        pages_in_execution=seen + 1,
        **kwargs,
    )


def test_a_run_round_trips_with_its_internal_state(store, dynamodb):
    run = make_run(cursor=Cursor(domain_index=1, position={"offset": 200, "ratio": 0.5}), page_seq=4)
    store.put_run(run)
    assert store.get_run(run.id) == run
    assert store.get_run(run.id).cursor.position == {"offset": 200, "ratio": 0.5}
    assert store.get_run("nope") is None
    raw = dynamodb.get_item(TableName=store.table_name, Key={"pk": {"S": "RUN"}, "sk": {"S": run.id}})["Item"]
    assert raw["created"] == {"N": "0"}
    assert raw["page_seq"] == {"N": "4"}


def test_list_runs_is_most_recent_first(store):
    ids = ["20261124T120000Z-00000001", "20261124T140000Z-00000003", "20261124T130000Z-00000002"]
    for run_id in ids:
        store.put_run(make_run(run_id))
    store.acquire_lock(ids[0], T0, LEASE)  # the lock item shares the table but is not a run
    assert [r.id for r in store.list_runs(10)] == sorted(ids, reverse=True)
    assert [r.id for r in store.list_runs(2)] == sorted(ids, reverse=True)[:2]


def test_commit_page_counts_once_per_page_seq(store):
    run = make_run()
    store.put_run(run)

    assert commit(store, run.id, seen=0) is True
    assert commit(store, run.id, seen=0) is False  # a retried page after its commit landed
    after = store.get_run(run.id)
    assert (after.created, after.updated, after.skipped, after.failed) == (1, 2, 3, 0)
    assert after.page_seq == 1
    assert after.cursor.position["offset"] == 100
    assert after.progress.processed == 100
    assert after.pages_in_execution == 1

    assert commit(store, run.id, seen=1, created=5) is True
    after = store.get_run(run.id)
    assert (after.created, after.updated, after.page_seq) == (6, 4, 2)


def test_commit_page_on_a_run_no_longer_running_changes_nothing(store):
    run = make_run()
    store.put_run(run)
    assert store.finish_run(run.id, "CANCELLED", error=None, finished_at=T0 + timedelta(seconds=5)) is True
    assert commit(store, run.id, seen=0) is False
    assert store.get_run(run.id).created == 0
    assert commit(store, "missing-run", seen=0) is False


def test_the_last_commit_completes_the_run_with_its_duration_and_releases_the_lock(store):
    run = make_run()
    store.put_run(run)
    store.acquire_lock(run.id, T0, LEASE)
    done_at = T0 + timedelta(minutes=2, seconds=3, milliseconds=500)

    assert commit(store, run.id, seen=0, complete_at=done_at) is True

    after = store.get_run(run.id)
    assert after.status == "COMPLETED"
    assert after.finished_at == done_at
    assert after.duration_seconds == pytest.approx(123.5)
    assert store.lock_state() is None
    assert commit(store, run.id, seen=1) is False


def test_finish_run_only_ends_a_running_run(store):
    run = make_run()
    store.put_run(run)
    assert store.finish_run(
        run.id, "FAILED", error="PcoAuthError: 401", finished_at=T0 + timedelta(seconds=9)
    )
    assert not store.finish_run(run.id, "COMPLETED", error=None, finished_at=T0 + timedelta(seconds=20))
    after = store.get_run(run.id)
    assert (after.status, after.error, after.duration_seconds) == ("FAILED", "PcoAuthError: 401", 9)
    assert not store.finish_run("missing", "FAILED", error="x", finished_at=T0)


def test_reset_execution_pages(store):
    run = make_run(pages_in_execution=1000)
    store.put_run(run)
    store.reset_execution_pages(run.id)
    assert store.get_run(run.id).pages_in_execution == 0
    with pytest.raises(RunNotFound):
        store.reset_execution_pages("missing")


def test_lock_is_taken_once_until_its_lease_expires(store):
    assert store.acquire_lock("run-a", T0, LEASE) is True
    assert store.acquire_lock("run-b", T0 + timedelta(seconds=LEASE - 1), LEASE) is False
    assert store.lock_holder(T0 + timedelta(seconds=LEASE - 1)) == "run-a"
    assert store.acquire_lock("run-a", T0 + timedelta(seconds=10), LEASE) is True  # re-taking is idempotent

    expired = T0 + timedelta(seconds=10 + LEASE)
    assert store.lock_holder(expired) is None
    assert store.acquire_lock("run-b", expired, LEASE) is True  # an expired lease can be taken over
    assert store.lock_holder(expired) == "run-b"


def test_refresh_extends_only_the_holders_lease(store):
    store.acquire_lock("run-a", T0, LEASE)
    store.begin_page("run-a", T0 + timedelta(seconds=800), LEASE, 60)
    later = T0 + timedelta(seconds=1000)
    assert store.lock_holder(later) == "run-a"
    assert store.acquire_lock("run-b", later, LEASE) is False

    with pytest.raises(LeaseLost):
        store.begin_page("run-b", later, LEASE, 60)


def test_given_a_stolen_lock_then_the_old_holder_loses_its_lease_and_cannot_release_it(store):
    store.acquire_lock("run-a", T0, LEASE)
    stolen_at = T0 + timedelta(seconds=LEASE)
    assert store.acquire_lock("run-b", stolen_at, LEASE) is True

    with pytest.raises(LeaseLost):
        store.begin_page("run-a", stolen_at, LEASE, 60)
    assert store.release_lock("run-a") is False
    assert store.lock_holder(stolen_at) == "run-b"
    assert store.release_lock("run-b") is True
    assert store.lock_holder(stolen_at) is None
    with pytest.raises(LeaseLost):  # a released lock cannot be refreshed either
        store.begin_page("run-b", stolen_at, LEASE, 60)


def test_given_a_page_retried_concurrently_then_exactly_one_commit_counts(store, dynamodb):
    run = make_run()
    store.put_run(run)
    racers = [RunStore(store.table_name, client=AtomicRequestsClient(dynamodb)) for _ in range(4)]
    barrier = threading.Barrier(len(racers))
    outcomes: list[bool] = []

    def race(racer: RunStore) -> None:
        barrier.wait(timeout=10)
        outcomes.append(commit(racer, run.id, seen=0, created=10))

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == [False, False, False, True]
    after = store.get_run(run.id)
    assert (after.created, after.page_seq) == (10, 1)


def failure(n: int) -> RecordFailure:
    return RecordFailure(
        kind="person",
        record_id=f"p{n}",
        pco_id=None,
        name=f"Person {n}",
        operation="create in PCO",
        status=422,
        message=f"PCO refused the email address (422): Address is invalid #{n}.",
        at=T0,
    )


def test_given_a_page_with_failures_when_committed_then_they_are_kept_in_order_and_not_listed_as_runs(store):
    run = make_run()
    store.put_run(run)

    assert commit(store, run.id, 0, failures=[failure(0), failure(1)], failures_before=0)

    assert store.list_failures(run.id) == [failure(0), failure(1)]
    assert [r.id for r in store.list_runs(10)] == [run.id]  # failures live beside the runs, not among them


def test_given_a_page_committed_already_when_its_retry_commits_then_its_failures_are_not_kept_twice(store):
    run = make_run()
    store.put_run(run)
    assert commit(store, run.id, 0, failures=[failure(0)], failures_before=0)

    # The retry of the same page (same seen_seq) is refused as a whole: counts and failures.
    assert not commit(store, run.id, 0, failures=[failure(7)], failures_before=0)

    assert store.list_failures(run.id) == [failure(0)]


def test_given_a_run_near_its_limit_when_more_fail_then_only_the_first_ones_are_kept(store):
    run = make_run()
    store.put_run(run)
    before = MAX_KEPT_FAILURES - 2

    assert commit(store, run.id, 0, failures=[failure(n) for n in range(5)], failures_before=before)

    kept = store.list_failures(run.id)
    assert [f.record_id for f in kept] == ["p0", "p1"]


def test_given_no_failures_when_listing_then_none(store):
    run = make_run()
    store.put_run(run)
    assert commit(store, run.id, 0)
    assert store.list_failures(run.id) == []


def test_given_pages_of_two_steps_then_their_counts_are_also_kept_per_step(store):
    run = make_run()
    store.put_run(run)

    assert commit(store, run.id, 0, created=2, domain="groups")
    assert commit(store, run.id, 1, created=5, domain="memberships")
    assert commit(store, run.id, 2, created=1, domain="memberships")

    stored = store.get_run(run.id)
    assert stored.created == 8
    assert stored.counts_by_domain == {
        "groups": PageCounts(created=2, updated=2, skipped=3),
        "memberships": PageCounts(created=6, updated=4, skipped=6),
    }
    assert store.list_runs(1)[0].counts_by_domain == stored.counts_by_domain


def test_a_wait_is_kept_with_the_run_until_the_next_page_commits_and_never_on_a_run_that_is_over(store):
    run = make_run()
    store.put_run(run)
    wait = RunWait(reason="rate_limit", until=T0 + timedelta(seconds=20))

    assert commit(store, run.id, 0, waiting=wait)
    assert store.get_run(run.id).waiting == wait
    assert commit(store, run.id, 1)
    assert store.get_run(run.id).waiting is None

    store.note_wait(run.id, wait)
    assert store.get_run(run.id).waiting == wait
    store.note_wait(run.id, None)
    assert store.get_run(run.id).waiting is None
    assert store.finish_run(run.id, "CANCELLED", error=None, finished_at=T0)
    store.note_wait(run.id, wait)  # the run is over: nothing to wait for
    assert store.get_run(run.id).waiting is None
