"""RunService on moto: one run at a time, dead runs cleared, failures leave nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pco_core.errors import ConfigError, InvalidLimit, InvalidRunType, RunActive, RunAlreadyEnded, RunNotFound
from pco_core.runs.service import RunService
from pco_core.runstate import (
    PULL_DOMAINS,
    PUSH_DOMAINS,
    Cursor,
    PageCounts,
    RunProgress,
)
from pco_core.store.executions import ExecutionStarter
from tests.unit.runs.support import LEASE, T0, at_once, rival_services


class BrokenStarter(ExecutionStarter):
    def __init__(self) -> None:
        super().__init__("arn:aws:states:us-east-1:123456789012:stateMachine:x")

    def start(self, name: str, input: dict[str, Any]) -> str:
        raise RuntimeError("StartExecution failed")


def executions(sfn: tuple[Any, str]) -> list[dict[str, Any]]:
    client, arn = sfn
    found = client.list_executions(stateMachineArn=arn)["executions"]
    return [
        {
            "name": e["name"],
            "input": json.loads(client.describe_execution(executionArn=e["executionArn"])["input"]),
        }
        for e in found
    ]


def test_start_run_creates_the_run_takes_the_lock_and_starts_an_execution_named_after_it(service, store, sfn):
    run = service.start_run("full_sync", "admin@church.example")

    assert run.status == "RUNNING"
    assert run.label == "Full Sync"
    assert run.domains == PULL_DOMAINS["full_sync"]
    assert run.started_at == T0
    assert run.id.startswith("20261124T140000Z-")
    assert store.get_run(run.id) == run
    assert store.lock_holder(T0) == run.id
    assert executions(sfn) == [{"name": run.id, "input": {"run_id": run.id, "max_wait_seconds": 7}}]
    assert service.current_run() == run


@pytest.mark.parametrize("run_type", ["bogus", "", "PEOPLE"])
def test_an_unknown_run_type_is_refused_listing_the_valid_ones(service, store, run_type):
    with pytest.raises(InvalidRunType, match="full_sync") as caught:
        service.start_run(run_type, "admin")
    assert caught.value.run_type == run_type
    assert "people" in caught.value.problems[0].problem
    assert store.list_runs(10) == []


@pytest.mark.parametrize(
    ("run_type", "label", "domains"),
    [
        ("push_people", "Push People", ["push_people"]),
        ("push_families", "Push Families", ["push_families"]),
        ("push_memberships", "Push Group Memberships", ["push_memberships"]),
        ("full_push", "Full Push", ["push_people", "push_families", "push_memberships"]),
    ],
)
def test_push_runs_start_with_their_domains_in_order(service, store, sfn, run_type, label, domains):
    run = service.start_run(run_type, "admin")

    assert (run.label, run.domains) == (label, domains)
    assert run.domains == PUSH_DOMAINS[run_type]
    assert run.progress.domain == domains[0]
    assert store.lock_holder(T0) == run.id
    assert [e["name"] for e in executions(sfn)] == [run.id]


def test_given_an_active_run_then_a_second_start_is_a_conflict_naming_it(service, store, clock, sfn):
    first = service.start_run("people", "a")
    store.begin_page(first.id, clock(), LEASE, 60)  # its execution is running pages
    store.end_page(first.id)
    clock.advance(LEASE - 1)
    with pytest.raises(RunActive, match="a run is already active") as caught:
        service.start_run("groups", "b")
    assert caught.value.run_id == first.id
    assert [r.id for r in store.list_runs(10)] == [first.id]
    assert len(executions(sfn)) == 1


def test_given_concurrent_starts_then_exactly_one_wins(store, sfn, clock, dynamodb):
    services = rival_services(store, sfn, clock, dynamodb)
    outcomes = at_once(services, lambda svc: svc.start_run("people", "admin").id)

    winners = [o for o in outcomes if o != "conflict"]
    assert len(outcomes) == 4
    assert len(winners) == 1
    assert store.lock_holder(clock()) == winners[0]
    assert [e["name"] for e in executions(sfn)] == winners
    assert [r.status for r in store.list_runs(10)].count("RUNNING") == 1


def test_given_a_run_whose_lease_expired_then_a_new_start_fails_it_and_proceeds(service, store, clock):
    dead = service.start_run("people", "a")
    clock.advance(LEASE)
    assert service.current_run() is None  # a run past its lease is not shown as active

    fresh = service.start_run("families", "b")

    assert store.get_run(dead.id).status == "FAILED"
    assert store.get_run(dead.id).error == "lease expired"
    assert store.get_run(dead.id).finished_at == clock()
    assert store.lock_holder(clock()) == fresh.id
    assert service.current_run() == fresh


def test_given_a_refreshed_lease_then_the_run_stays_active(service, store, clock):
    run = service.start_run("people", "a")
    clock.advance(LEASE - 10)
    store.begin_page(run.id, clock(), LEASE, 60)
    store.end_page(run.id)
    clock.advance(LEASE - 10)
    with pytest.raises(RunActive):
        service.start_run("people", "b")
    assert store.get_run(run.id).status == "RUNNING"


def test_given_a_completed_run_that_kept_its_lock_then_a_new_start_frees_it(service, store, clock):
    run = service.start_run("people", "a")
    store.finish_run(run.id, "COMPLETED", error=None, finished_at=clock())  # lock release never happened
    assert service.current_run() is None

    fresh = service.start_run("people", "b")
    assert store.get_run(run.id).status == "COMPLETED"
    assert store.lock_holder(clock()) == fresh.id


def test_given_a_running_run_without_the_lock_then_a_new_start_fails_it(service, store, clock):
    orphan = service.start_run("people", "a")
    store.release_lock(orphan.id)

    service.start_run("people", "b")
    assert store.get_run(orphan.id).status == "FAILED"


def test_given_the_execution_cannot_start_then_the_run_is_failed_and_the_lock_released(store, clock):
    service = RunService(store, BrokenStarter(), clock, LEASE)
    with pytest.raises(RuntimeError, match="StartExecution failed"):
        service.start_run("people", "admin")

    (run,) = store.list_runs(10)
    assert run.status == "FAILED"
    assert run.error == "could not start the run: RuntimeError"
    assert store.lock_state() is None
    assert service.current_run() is None


def test_without_a_state_machine_runs_cannot_start(store, clock):
    with pytest.raises(ConfigError):
        RunService(store, None, clock, LEASE).start_run("people", "admin")
    assert store.list_runs(10) == []


def test_a_completed_page_commit_ends_the_current_run(service, store, clock):
    run = service.start_run("people", "a")
    clock.advance(42)
    assert store.commit_page(
        run.id,
        seen_seq=0,
        counts=PageCounts(created=3),
        cursor=Cursor(domain_index=1),
        progress=RunProgress(domain="people", processed=3, total=3),
        pages_in_execution=1,
        complete_at=clock(),
    )
    assert service.current_run() is None
    done = service.get_run(run.id)
    assert (done.status, done.created, done.duration_seconds) == ("COMPLETED", 3, 42)
    assert service.start_run("people", "b").status == "RUNNING"


def test_get_and_list_runs(service, clock):
    ids = []
    for _ in range(3):
        run = service.start_run("people", "a")
        service.fail_run(run.id, "stopped")
        ids.append(run.id)
        clock.advance(60)
    assert [r.id for r in service.list_runs(2)] == ids[::-1][:2]
    assert service.get_run(ids[0]).error == "stopped"
    with pytest.raises(RunNotFound):
        service.get_run("20990101T000000Z-deadbeef")
    for limit in (0, 101):
        with pytest.raises(InvalidLimit, match="limit"):
            service.list_runs(limit)


def test_fail_run_fails_and_releases_and_is_idempotent(service, store, clock):
    run = service.start_run("people", "a")
    clock.advance(5)
    service.fail_run(run.id, "PcoAuthError: PCO rejected the credentials")
    clock.advance(5)
    service.fail_run(run.id, "a second, later error")

    failed = store.get_run(run.id)
    assert failed.status == "FAILED"
    assert failed.error == "PcoAuthError: PCO rejected the credentials"
    assert failed.duration_seconds == 5
    assert store.lock_state() is None
    with pytest.raises(RunNotFound):
        service.fail_run("20990101T000000Z-deadbeef", "x")


def test_fail_run_never_releases_another_runs_lock(service, store, clock):
    old = service.start_run("people", "a")
    clock.advance(LEASE)
    new = service.start_run("people", "b")
    service.fail_run(old.id, "late failure of the dead run")
    assert store.lock_holder(clock()) == new.id


def test_continue_run_resets_the_page_count_and_starts_a_named_execution_once(service, store, sfn):
    run = service.start_run("full_sync", "a")
    for seq in range(3):
        store.commit_page(
            run.id,
            seen_seq=seq,
            counts=PageCounts(updated=1),
            cursor=Cursor(),
            progress=RunProgress(domain="people"),
            pages_in_execution=seq + 1,
        )

    arn = service.continue_run(run.id, 0)
    assert service.continue_run(run.id, 0) == arn  # a retried step does not start a second execution

    assert store.get_run(run.id).pages_in_execution == 0
    assert sorted(executions(sfn), key=lambda e: e["name"]) == [
        {"name": run.id, "input": {"run_id": run.id, "max_wait_seconds": 7}},
        {"name": f"{run.id}-3", "input": {"run_id": run.id, "max_wait_seconds": 0}},
    ]
    with pytest.raises(RunNotFound):
        service.continue_run("20990101T000000Z-deadbeef", 0)


def test_a_run_that_is_over_cannot_be_continued(service, sfn):
    run = service.start_run("people", "a")
    service.fail_run(run.id, "x")
    with pytest.raises(RunAlreadyEnded, match="FAILED"):
        service.continue_run(run.id, 0)
    assert len(executions(sfn)) == 1
