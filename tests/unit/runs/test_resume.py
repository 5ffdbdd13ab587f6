"""Resume: a FAILED run goes on as a new run from the cursor its last committed page left, once."""

from __future__ import annotations

from typing import Any

import pytest

from pco_core.errors import RunActive, RunAlreadyResumed, RunNotResumable
from pco_core.runs.service import RunService
from pco_core.runstate import Cursor, PageCounts, Run, RunProgress
from pco_core.store.runs import RunStore
from tests.unit.runs.support import Clock, at_once, rival_services
from tests.unit.runs.test_service import executions

CURSOR = Cursor(domain_index=3, position={"after_id": "g-0042", "processed": 42})
PROGRESS = RunProgress(domain="memberships", processed=42, total=None)


def failed_full_sync(service: RunService, store: RunStore, clock: Clock) -> Run:
    """A Full Sync that committed pages up to the memberships of group g-0042, then gave up."""
    run = service.start_run("full_sync", "admin@church.example")
    assert store.commit_page(
        run.id,
        seen_seq=0,
        counts=PageCounts(created=500),
        cursor=CURSOR,
        progress=PROGRESS,
        pages_in_execution=1,
    )
    clock.advance(60)
    service.fail_run(run.id, "PcoUnavailable: PCO answered 503: Service Unavailable")
    return service.get_run(run.id)


def test_given_a_failed_run_when_resumed_then_a_new_run_starts_at_its_committed_cursor(
    service: RunService, store: RunStore, clock: Clock, sfn: tuple[Any, str]
) -> None:
    failed = failed_full_sync(service, store, clock)
    clock.advance(5)
    # When an admin resumes it
    resumed = service.resume_run(failed.id, "other@church.example")
    # Then a new RUNNING Full Sync holds the lock, starting where the failed one's last commit left off
    assert resumed.id != failed.id
    assert (resumed.status, resumed.type, resumed.label) == ("RUNNING", "full_sync", "Full Sync")
    assert (resumed.cursor, resumed.progress, resumed.domains) == (CURSOR, PROGRESS, failed.domains)
    assert (resumed.resumed_from, resumed.started_by) == (failed.id, "other@church.example")
    assert resumed.created == 0  # its own counters
    assert store.get_run(resumed.id) == resumed
    assert store.lock_holder(clock()) == resumed.id
    assert sorted(e["name"] for e in executions(sfn)) == sorted([failed.id, resumed.id])
    # And the failed run stays FAILED, its counters and error kept, naming the run that resumed it
    after = service.get_run(failed.id)
    assert (after.status, after.created, after.error) == ("FAILED", 500, failed.error)
    assert after.resumed_by == resumed.id


def test_given_a_failed_run_resumed_once_then_a_second_resume_is_refused(
    service: RunService, store: RunStore, clock: Clock, sfn: tuple[Any, str]
) -> None:
    failed = failed_full_sync(service, store, clock)
    resumed = service.resume_run(failed.id, "a")
    service.cancel_run(resumed.id)
    store.release_lock(resumed.id)
    with pytest.raises(RunAlreadyResumed, match=f"already resumed by run {resumed.id}"):
        service.resume_run(failed.id, "b")
    assert len(executions(sfn)) == 2


@pytest.mark.parametrize("status", ["RUNNING", "COMPLETED", "CANCELLED"])
def test_only_a_failed_run_can_be_resumed(
    service: RunService, store: RunStore, clock: Clock, status: str
) -> None:
    run = service.start_run("people", "a")
    if status == "COMPLETED":
        store.commit_page(
            run.id,
            seen_seq=0,
            counts=PageCounts(),
            cursor=Cursor(domain_index=1),
            progress=RunProgress(domain="people"),
            pages_in_execution=1,
            complete_at=clock(),
        )
    elif status == "CANCELLED":
        service.cancel_run(run.id)
    with pytest.raises(RunNotResumable, match=f"is {status}; only a failed run can be resumed"):
        service.resume_run(run.id, "b")
    assert store.get_run(run.id).resumed_by is None  # type: ignore[union-attr]


def test_given_another_run_active_then_resume_is_refused_and_the_failed_run_stays_resumable(
    service: RunService, store: RunStore, clock: Clock
) -> None:
    failed = failed_full_sync(service, store, clock)
    active = service.start_run("people", "a")
    with pytest.raises(RunActive, match="already active"):
        service.resume_run(failed.id, "b")
    assert service.get_run(failed.id).resumed_by is None
    service.cancel_run(active.id)
    store.release_lock(active.id)
    assert service.resume_run(failed.id, "b").resumed_from == failed.id


def test_given_two_admins_resume_at_once_then_one_run_is_started(
    service: RunService, store: RunStore, clock: Clock, sfn: tuple[Any, str], dynamodb: Any
) -> None:
    failed = failed_full_sync(service, store, clock)
    services = rival_services(store, sfn, clock, dynamodb)
    outcomes = at_once(services, lambda svc: svc.resume_run(failed.id, "admin").id)
    winners = [o for o in outcomes if o != "conflict"]
    assert (len(outcomes), len(winners)) == (4, 1)
    assert service.get_run(failed.id).resumed_by == winners[0]
    assert sorted(e["name"] for e in executions(sfn)) == sorted([failed.id, winners[0]])
