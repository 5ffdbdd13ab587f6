"""The fault suite (issue 15): syncs and pushes through PCO's bad days, crashes, races and concurrent change,
each ending with our records compared with PCO's field by field (tests/chaos/compare.py).

Every scenario runs the real state machine, handlers and stores (moto) against the PCO sandbox over HTTP,
with the sandbox's fault injection (5xx share, dropped connections, 429 bursts, latency, slow pages). A
Lambda killed mid-page is an exception outside the exception tree raised inside the page (the local stack
runs handlers in this process), which Step Functions sees as that Lambda failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from pco_core.records import Email, Person, Phone
from pco_core.runs import service as run_service
from pco_core.store.executions import ExecutionStarter
from pco_core.store.records import RecordStore
from pco_core.store.runs import RunStore
from tests.chaos.compare import Direction
from tests.chaos.conftest import Row
from tests.chaos.world import World
from tests.stack import running_sandbox, running_stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class LambdaKilled(RuntimeError):
    """The page's Lambda process dying mid-page (killed, out of memory): not a PcoSyncError."""


class ProcessKilled(BaseException):
    """The admin API's process dying between two steps: nothing of it runs on (no except, no finally)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    people: int
    run: Callable[[World, pytest.MonkeyPatch], str]
    direction: Direction = "pull"
    # Target: COMPLETED at the first attempt, and 0 lost / 0 doubled / 0 mismatched.
    completes: bool = True
    fast: bool = False
    seed: int = 7
    # A gap another piece of work owns: the row is still shown; the scenario must fail until that lands.
    known_gap: str | None = None


# ------------------------------------------------------------------ pulls through PCO's bad days


def sync_under(**faults: Any) -> Callable[[World, pytest.MonkeyPatch], str]:
    def scenario(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
        world.faults(seed=15, **faults)
        return world.outcome(world.run("full_sync"))

    return scenario


def killed_before_commits(
    monkeypatch: pytest.MonkeyPatch, kills: list[str], kill_at: Callable[[dict[str, Any]], str | None]
) -> None:
    """The page dies after its writes, before its commit, once per name `kill_at` gives (None: no kill)."""
    real_commit = RunStore.commit_page

    def commit_or_die(self: RunStore, run_id: str, **kwargs: Any) -> bool:
        name = kill_at(kwargs)
        if name is not None and name not in kills:
            kills.append(name)
            raise LambdaKilled("Runtime exited with error: signal: killed (before the commit)")
        return real_commit(self, run_id, **kwargs)

    monkeypatch.setattr(RunStore, "commit_page", commit_or_die)


def page_killed_mid_page(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    # Killed three ways: after half a page of people written, after a page's writes before its commit, and
    # in the memberships phase before its commit. Each time Step Functions retries the page.
    kills: list[str] = []
    real_save = RecordStore.save_people

    def save_half_then_die(self: RecordStore, changes: Any, **kwargs: Any) -> set[str]:
        if len(changes) > 10 and "save" not in kills:
            kills.append("save")
            real_save(self, changes[: len(changes) // 2], **kwargs)
            raise LambdaKilled("Runtime exited with error: signal: killed (half a page written)")
        return real_save(self, changes, **kwargs)

    def in_families_or_memberships(commit: dict[str, Any]) -> str | None:
        domain = commit["progress"].domain
        return f"commit {domain}" if domain in ("families", "memberships") else None

    monkeypatch.setattr(RecordStore, "save_people", save_half_then_die)
    killed_before_commits(monkeypatch, kills, in_families_or_memberships)
    final = world.run("full_sync")
    assert len(kills) == 3, kills
    return f"{world.outcome(final)} ({len(kills)} pages killed)"


def killed_between_lock_and_execution(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    # The admin API dies after taking the lock and writing the run, before starting its execution.
    real_start = ExecutionStarter.start

    def die(self: ExecutionStarter, name: str, input: dict[str, Any]) -> str:
        raise ProcessKilled("the admin API's process was killed")

    monkeypatch.setattr(ExecutionStarter, "start", die)
    with pytest.raises(ProcessKilled):
        world.start("full_sync")
    monkeypatch.setattr(ExecutionStarter, "start", real_start)
    status, _ = world.start("full_sync")
    assert status == 409  # within the grace period the lock may still be a start in progress
    monkeypatch.setattr(run_service, "START_GRACE_SECONDS", 1)
    time.sleep(1.5)
    final = world.run("full_sync")
    return f"{world.outcome(final)} (orphan lock taken over)"


def concurrent_starts(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    barrier = threading.Barrier(8)
    answers: list[tuple[int, dict[str, Any]]] = []

    def start() -> None:
        barrier.wait(10)
        answers.append(world.start("full_sync"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    started = [body for status, body in answers if status == 202]
    assert len(started) == 1, answers
    assert sorted(status for status, _ in answers) == [202] + [409] * 7
    return f"{world.outcome(world.wait(started[0]['id']))} (1 of 8 starts)"


def cancel_then_start(
    run_type: str, *, after: int, rounds: int = 3
) -> Callable[[World, pytest.MonkeyPatch], str]:
    def scenario(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
        outcomes = []
        waits = 0
        for _ in range(rounds):
            status, run = world.start(run_type)
            assert status == 202, run
            world.wait_until(run["id"], lambda r: r["progress"]["processed"] >= after)
            world.cancel(run["id"])
            # A new run at once: refused while the cancelled run's page may still write, then started.
            replacement, refused = world.start_when_free(run_type)
            waits += refused
            final = world.wait(replacement["id"])
            outcomes.append(final["status"])
            assert world.get_run(run["id"])["status"] in ("CANCELLED", "COMPLETED")
        return " ".join(sorted(set(outcomes))) + f" ({rounds} cancel-then-start, {waits} starts refused)"

    return scenario


def deletions_and_merges_mid_run(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    ids = sorted(int(p["id"]) for p in world.pco("GET", "/_sandbox/dataset")["data"] if p["type"] == "Person")
    with world.webhooks():
        status, run = world.start("full_sync")
        assert status == 202, run
        # Once the first page of people is in: 20 people deleted and 10 pairs merged across the list
        # (none of them twice).
        world.wait_until(run["id"], lambda r: r["progress"]["processed"] >= 100)
        for pco_id in ids[21:221:10]:
            world.pco("DELETE", f"/_sandbox/people/{pco_id}")
        for keep, remove in zip(ids[25:225:20], ids[35:235:20], strict=True):
            merger = {"person_to_keep_id": str(keep), "person_to_remove_id": str(remove)}
            world.pco("POST", "/_sandbox/person_mergers", json=merger)
        final = world.wait(run["id"])
    return world.outcome(final)


def webhooks_during_a_run(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    dataset = world.pco("GET", "/_sandbox/dataset")["data"]
    people = [r["id"] for r in dataset if r["type"] == "Person"]
    emails = [r["id"] for r in dataset if r["type"] == "Email"]
    groups = [r["id"] for r in dataset if r["type"] == "Group"]
    with world.webhooks():
        status, run = world.start("full_sync")
        assert status == 202, run
        world.wait_until(run["id"], lambda r: r["progress"]["domain"] == "families")
        for n, pco_id in enumerate(people[:15]):
            world.pco("PATCH", f"/_sandbox/people/{pco_id}", json={"first_name": f"Renamed{n}"})
        for n, email_id in enumerate(emails[40:50]):
            world.pco("PATCH", f"/_sandbox/emails/{email_id}", json={"address": f"moved{n}@example.org"})
        world.wait_until(run["id"], lambda r: r["progress"]["domain"] == "memberships")
        for group_id, pco_id in zip(groups[:8], people[100:108], strict=False):
            world.pco("POST", f"/_sandbox/groups/{group_id}/memberships", json={"person_id": pco_id})
        final = world.wait(run["id"])
    return world.outcome(final)


# ------------------------------------------------------------------ pushes


def local_people(world: World, count: int, *, same_names: bool = False) -> None:
    """`count` new local people, never in PCO: each with an email and a phone; pairs of one name and no
    birthdate when `same_names`."""
    people = []
    for n in range(count):
        first, last = ("Pat", f"Twinprobe{n // 2}") if same_names else (f"Chaos{n}", "Pusher")
        people.append(
            (
                Person(
                    id=f"00000000-chaos-0000-0000-{n:012d}",
                    first_name=first,
                    last_name=last,
                    birthdate=None if same_names else date(1980, 1, 1 + n % 28),
                    emails=[Email(address=f"p{n}@chaos.example", location="Home", primary=True)],
                    phones=[Phone(number=f"(555) 010-{n:04d}", location="Mobile", primary=True)],
                    updated_at=NOW,
                ),
                None,
            )
        )
    world.records.save_people(people)


def push_killed_mid_way(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    local_people(world, 60)
    kills: list[str] = []
    real_save = RecordStore.save_people

    def die_after_pcos_answer(self: RecordStore, changes: Any, **kwargs: Any) -> set[str]:
        # Killed right after PCO created a person and before we saved its id (the worst moment).
        links = [new for new, old in changes if new.pco_id and old is not None and old.pco_id is None]
        if links and len(kills) < 2:
            kills.append(f"after create {links[0].pco_id}")
            raise LambdaKilled("Runtime exited with error: signal: killed (after PCO's create answer)")
        return real_save(self, changes, **kwargs)

    monkeypatch.setattr(RecordStore, "save_people", die_after_pcos_answer)
    killed_before_commits(monkeypatch, kills, lambda commit: "commit")
    final = world.run("full_push")
    assert len(kills) == 3, kills
    return f"{world.outcome(final)} ({len(kills)} pages killed)"


def cancel_then_start_push(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    # Cancelled a third of the way through 60 new people (150 ms per PCO request), started again at once.
    local_people(world, 60)
    world.faults(latency_ms=150)
    return cancel_then_start("full_push", after=20, rounds=1)(world, monkeypatch)


def same_names_pushed_under_faults(pairs: int) -> Callable[[World, pytest.MonkeyPatch], str]:
    def scenario(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
        local_people(world, 2 * pairs, same_names=True)
        world.faults(error_rate=0.25, drop_rate=0.1, seed=3)
        return world.outcome(world.run("full_push"))

    return scenario


SCENARIOS = [
    Scenario("Full Sync, 30% 5xx", 200, sync_under(error_rate=0.3)),
    Scenario("Full Sync, 30% 5xx (small church)", 60, sync_under(error_rate=0.3), fast=True),
    Scenario("Full Sync, 60% 5xx", 200, sync_under(error_rate=0.6), completes=False),
    Scenario("Full Sync, 20% dropped connections", 200, sync_under(drop_rate=0.2)),
    Scenario("Full Sync, 15% 5xx + 10% drops", 200, sync_under(error_rate=0.15, drop_rate=0.1)),
    Scenario("Full Sync, 429 bursts", 200, sync_under(burst_429=12, burst_retry_after=1)),
    Scenario(
        "Full Sync, 150 ms latency + 300 ms slow pages", 200, sync_under(latency_ms=150, slow_page_ms=300)
    ),
    Scenario("Full Sync, Lambda killed mid-page", 200, page_killed_mid_page),
    Scenario("Full Sync, Lambda killed mid-page (small church)", 60, page_killed_mid_page, fast=True),
    Scenario("Full Sync, killed between lock and execution", 100, killed_between_lock_and_execution),
    Scenario("Full Sync, 8 concurrent starts", 100, concurrent_starts),
    Scenario("Full Sync, cancel then start (x3)", 200, cancel_then_start("full_sync", after=100)),
    Scenario(
        "Full Sync, deletions and merges mid-run",
        300,
        deletions_and_merges_mid_run,
        known_gap=(
            "issue 15's 'nothing skipped within a run' (keyset walk of people, the incremental-sync work): "
            "offset paging skips people when PCO deletes or merges during the run, and a merger delivered "
            "before the run imported its people leaves the kept one's moved contacts to the next run"
        ),
    ),
    Scenario("Full Sync, webhooks during the run", 200, webhooks_during_a_run),
    Scenario("Full Push, killed mid-way", 30, push_killed_mid_way, direction="push"),
    Scenario("Full Push, cancel then start", 30, cancel_then_start_push, direction="push"),
    Scenario(
        "Full Push, 30 same-name pairs without birthdate, 25% 5xx + 10% drops",
        30,
        same_names_pushed_under_faults(pairs=30),
        direction="push",
    ),
    Scenario(
        "Full Push, 6 same-name pairs without birthdate, 25% 5xx + 10% drops",
        20,
        same_names_pushed_under_faults(pairs=6),
        direction="push",
        fast=True,
    ),
]


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    scenario: Scenario = request.param
    with running_sandbox(scenario.people, scenario.seed) as sandbox, running_stack(sandbox) as stack:
        yield World(sandbox, stack)


def _params() -> list[Any]:
    def marks(s: Scenario) -> list[Any]:
        found: list[Any] = [pytest.mark.fast] if s.fast else []
        if s.known_gap:
            found.append(pytest.mark.xfail(strict=True, reason=s.known_gap))
        return found

    return [pytest.param(s, s, id=s.name, marks=marks(s)) for s in SCENARIOS]


@pytest.mark.parametrize(("world", "scenario"), _params(), indirect=["world"])
def test_scenario(
    world: World, scenario: Scenario, monkeypatch: pytest.MonkeyPatch, report: list[Row]
) -> None:
    began = time.monotonic()
    outcome = scenario.run(world, monkeypatch)
    monkeypatch.undo()  # the kills stop before the comparison reads anything
    differences = world.compare(scenario.direction)
    report.append(Row(scenario.name, outcome, differences, time.monotonic() - began))
    assert (differences.lost, differences.doubled, differences.mismatched) == (0, 0, 0), differences.examples
    if scenario.completes:
        assert outcome.startswith("COMPLETED"), outcome
    else:
        assert "COMPLETED" in outcome, outcome


@pytest.mark.fast
@pytest.mark.parametrize("world", [Scenario("comparison check", 30, sync_under())], indirect=True)
def test_the_comparison_counts_what_is_lost_doubled_and_mismatched(world: World) -> None:
    # Given a clean Full Sync: nothing differs
    assert world.run("full_sync")["status"] == "COMPLETED"
    assert world.compare("pull").examples == []
    # When one local person is renamed, one unlinked, and a third local record links a PCO person twice
    people, _ = world.records.list_people(100, None)
    renamed, unlinked, copied = people[0], people[1], people[2]
    twin = copied.model_copy(update={"id": "00000000-twin", "pco_id": None})
    world.records.save_people(
        [
            (renamed.model_copy(update={"first_name": "Someone Else"}), renamed),
            (unlinked.model_copy(update={"pco_id": None}), unlinked),
            (twin, None),
        ]
    )
    world.records.client.put_item(  # a second link as a store bug would leave it (no lookup claim)
        TableName=world.records.table_name,
        Item={
            **world.records.client.get_item(
                TableName=world.records.table_name,
                Key={"pk": {"S": "PERSON#00000000-twin"}, "sk": {"S": "RECORD"}},
            )["Item"],
            "pco_id": {"S": str(copied.pco_id)},
        },
    )
    # Then each shows up (the unlinked person also leaves its household and groups a member short)
    differences = world.compare("pull")
    assert (differences.lost, differences.doubled) == (1, 1), differences.examples
    assert differences.mismatched >= 1
    assert any(f"person {renamed.pco_id}: ('Someone Else'" in e for e in differences.examples)
