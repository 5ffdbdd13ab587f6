"""The engine's page loop: domain transitions, rate limits, exactly-once commits, cancels, continue-as-new."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pco_core.engine.domain import Domain, DomainContext, DomainPage, Position
from pco_core.engine.page import PAGES_BEFORE_CONTINUE_AS_NEW, PageDeps, run_page
from pco_core.errors import LeaseLost
from pco_core.pull.families import PullFamilies
from pco_core.pull.people import PullPeople
from pco_core.runs.page import DOMAINS, PageRequest, run_sync_page
from pco_core.runstate import Cursor, PageCounts, RecordFailure, RunWait, Watermark
from tests.unit.fakes import START, FakeClock, FakePco, FakeRecords, FakeRuns, make_run, pco_person


@pytest.fixture(autouse=True)
def one_pco_page_per_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the engine's pages: one PCO request each, whatever a domain batches in production."""
    for walk in (PullPeople, PullFamilies):
        monkeypatch.setattr(walk, "requests_per_page", 1)


def deps_for(pco: FakePco, records: FakeRecords, runs: FakeRuns) -> PageDeps:
    return PageDeps(
        pco=pco.client(), records=records, runs=runs, clock=FakeClock(), lease_seconds=900, domains=DOMAINS
    )


def test_given_a_full_sync_then_pages_walk_every_domain_and_complete_the_run() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person("1", "Ada", "L"), pco_person("2", "Bob", "K")]
    pco.households = [{"id": "H1", "name": "L", "primary": "1", "people": ["1"]}]
    pco.groups = [{"id": "G1", "name": "Choir"}]
    pco.memberships = {"G1": [{"id": "m", "person": "2"}]}
    runs = FakeRuns(make_run(["people", "families", "groups", "memberships"]))
    deps = deps_for(pco, records, runs)
    results = []
    for _ in range(20):
        results.append(run_page("R1", 60, deps))
        if results[-1].done:
            break
    run = runs.run()
    assert results[-1].done
    # people x3 (PCO pages of one row: each is a whole second, read to its end before going on),
    # families, groups, memberships
    assert len(results) == 6
    assert (run.status, run.created, run.updated, run.skipped) == ("COMPLETED", 5, 0, 0)
    assert run.finished_at is not None
    assert runs.lock is None
    assert [r.cursor["domain_index"] for r in results] == [0, 0, 1, 2, 3, 4]
    # Groups and their memberships are counted apart as well as together
    assert {d: c.created for d, c in run.counts_by_domain.items()} == {
        "people": 2,
        "families": 1,
        "groups": 1,
        "memberships": 1,
    }


def test_given_a_429_then_the_page_waits_and_commits_nothing() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L")]
    pco.rate_limited = True
    runs = FakeRuns(make_run(["people"]))
    result = run_page("R1", 5, deps_for(pco, records, runs))
    assert (result.wait_seconds, result.done) == (5, False)  # Retry-After 7 capped at 5
    assert (runs.commits, runs.run().page_seq, records.people) == (0, 0, {})


def test_given_the_rate_budget_is_nearly_spent_then_the_page_asks_to_wait() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person("1", "Ada", "L"), pco_person("2", "Bob", "K")]
    pco.rate_count = 95
    runs = FakeRuns(make_run(["people"]))
    result = run_page("R1", 60, deps_for(pco, records, runs))
    assert (result.wait_seconds, runs.commits) == (20, 1)


def test_given_the_page_was_already_committed_then_a_retry_does_not_count_again() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person("1", "Ada", "L"), pco_person("2", "Bob", "K")]
    runs = FakeRuns(make_run(["people"]))
    stale = runs.get_run("R1")
    run_page("R1", 60, deps_for(pco, records, runs))
    # The retry read the run before the first attempt's commit landed.
    original_get = runs.get_run
    reads = iter([stale])
    runs.get_run = lambda run_id: next(reads, None) or original_get(run_id)  # type: ignore[method-assign]
    result = run_page("R1", 60, deps_for(pco, records, runs))
    assert (runs.run().created, runs.run().page_seq, runs.commits) == (1, 1, 1)
    assert result.cursor == runs.run().cursor.model_dump(mode="json")
    assert not result.done


@pytest.mark.parametrize("status", ["CANCELLED", "FAILED"])
def test_given_a_stopped_run_then_the_page_is_done_at_once(status: str) -> None:
    pco, records = FakePco(), FakeRecords()
    runs = FakeRuns(make_run(["people"], status=status))
    result = run_sync_page(PageRequest(run_id="R1", max_wait_seconds=0), deps_for(pco, records, runs))
    assert result.done
    assert (pco.requests, runs.commits) == ([], 0)


def test_given_another_run_holds_the_lock_then_lease_lost_propagates() -> None:
    pco, records = FakePco(), FakeRecords()
    runs = FakeRuns(make_run(["people"]))
    runs.lock = "other"
    with pytest.raises(LeaseLost):
        run_page("R1", 0, deps_for(pco, records, runs))
    assert pco.requests == []


def test_given_the_run_is_cancelled_between_read_and_lease_refresh_then_the_page_ends_quietly() -> None:
    # Given a page that read its run while RUNNING, then the admin cancelled it (status + lock released)
    pco, records = FakePco(), FakeRecords()
    runs = FakeRuns(make_run(["people"]))
    running = runs.get_run("R1")
    reads = iter([running])
    original_get = runs.get_run
    runs.get_run = lambda run_id: next(reads, None) or original_get(run_id)  # type: ignore[method-assign]
    runs.runs["R1"] = runs.run().model_copy(update={"status": "CANCELLED"})
    runs.lock = None
    # When the page goes on
    result = run_page("R1", 0, deps_for(pco, records, runs))
    # Then it ends the loop without asking PCO or committing anything (the execution does not fail)
    assert result.done
    assert (pco.requests, runs.commits) == ([], 0)


def test_given_1000_pages_in_this_execution_then_the_page_asks_to_continue_as_new() -> None:
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person("1", "Ada", "L"), pco_person("2", "Bob", "K")]
    runs = FakeRuns(make_run(["people"], pages_in_execution=PAGES_BEFORE_CONTINUE_AS_NEW - 1))
    result = run_page("R1", 0, deps_for(pco, records, runs))
    assert result.continue_as_new
    assert runs.run().pages_in_execution == PAGES_BEFORE_CONTINUE_AS_NEW


def test_given_the_cursor_past_the_last_domain_then_the_run_completes_without_pco_work() -> None:
    pco, records = FakePco(), FakeRecords()
    runs = FakeRuns(make_run(["people"], cursor=Cursor(domain_index=1)))
    assert run_page("R1", 0, deps_for(pco, records, runs)).done
    assert (runs.run().status, pco.requests) == ("COMPLETED", [])


# ---- watermarks: committed with the page that reached them, stored for the deployment on completion ----


class _Reaching(Domain[Position]):
    """Two pages; the second finishes and reaches the `people` watermark at the run's cap."""

    position_type = Position

    def page(self, ctx: DomainContext, position: Position) -> DomainPage:
        if position.processed == 0:
            return DomainPage(PageCounts(skipped=1), Position(processed=1), 1)
        mark = Watermark(at=ctx.watermark_cap, ids=["42"])
        return DomainPage(PageCounts(skipped=1), None, 2, reached={"people": mark})


def _reaching_deps(runs: FakeRuns) -> PageDeps:
    return PageDeps(
        pco=FakePco().client(),
        records=FakeRecords(),
        runs=runs,
        clock=FakeClock(),
        lease_seconds=900,
        domains={"people": _Reaching()},
    )


def test_given_a_run_that_completes_then_the_watermarks_it_reached_are_stored_capped_at_its_start() -> None:
    runs = FakeRuns(make_run(["people"]))
    deps = _reaching_deps(runs)
    assert not run_page("R1", 60, deps).done
    # After the first page nothing is stored yet
    assert runs.watermarks == {}
    assert run_page("R1", 60, deps).done
    assert runs.watermarks == {"people": Watermark(at=START - timedelta(seconds=1), ids=["42"])}


def test_given_a_run_cancelled_before_its_end_then_no_watermark_moves() -> None:
    runs = FakeRuns(make_run(["people"]))
    deps = _reaching_deps(runs)
    run_page("R1", 60, deps)
    runs.runs["R1"] = runs.run().model_copy(update={"status": "CANCELLED"})
    assert run_page("R1", 60, deps).done
    assert runs.watermarks == {}


def test_given_the_completing_page_died_before_storing_the_watermarks_then_its_retry_stores_them() -> None:
    runs = FakeRuns(make_run(["people"]))
    deps = _reaching_deps(runs)
    run_page("R1", 60, deps)
    saved = runs.save_watermarks

    def dies(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the page died after its completing commit")

    runs.save_watermarks = dies  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        run_page("R1", 60, deps)
    assert runs.run().status == "COMPLETED"
    assert runs.watermarks == {}
    runs.save_watermarks = saved  # type: ignore[method-assign]
    # When the state machine retries the page
    assert run_page("R1", 60, deps).done
    assert runs.watermarks["people"].ids == ["42"]


class _RefusingDomain(Domain[Position]):
    """Each page fails one record and reports it; two pages."""

    position_type = Position

    def page(self, ctx: DomainContext, position: Position) -> DomainPage:
        n = position.processed
        ctx.report(
            RecordFailure(
                kind="person", record_id=f"p{n}", operation="create in PCO", message="no", at=ctx.clock()
            )
        )
        following = Position(processed=n + 1) if n == 0 else None
        return DomainPage(counts=PageCounts(failed=1), next_position=following, processed=n + 1)


def test_given_pages_that_fail_records_then_each_failure_is_committed_after_the_ones_before() -> None:
    runs = FakeRuns(make_run(["people"]))
    deps = PageDeps(
        pco=FakePco().client(),
        records=FakeRecords(),
        runs=runs,
        clock=FakeClock(),
        lease_seconds=900,
        domains={"people": _RefusingDomain()},
    )

    assert not run_page("R1", 60, deps).done
    assert run_page("R1", 60, deps).done

    run = runs.run()
    assert (run.status, run.failed, run.outcome) == ("COMPLETED", 2, "COMPLETED_WITH_FAILURES")
    assert {n: f.record_id for n, f in runs.failures["R1"].items()} == {0: "p0", 1: "p1"}


def test_given_a_429_then_the_run_says_it_waits_for_pcos_rate_limit_until_when_and_the_next_page_clears_it():
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L")]
    pco.rate_limited = True
    runs = FakeRuns(make_run(["people"]))
    deps = deps_for(pco, records, runs)

    run_page("R1", 5, deps)

    waiting = runs.run().waiting
    assert waiting is not None
    assert (waiting.reason, waiting.until) == ("rate_limit", deps.clock() + timedelta(seconds=5))
    pco.rate_limited = False
    results = [run_page("R1", 5, deps) for _ in range(5)]
    assert results[-1].done
    assert (runs.run().status, runs.run().waiting) == ("COMPLETED", None)


def test_given_the_rate_budget_is_nearly_spent_then_the_committed_page_says_the_run_waits():
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person("1", "Ada", "L"), pco_person("2", "Bob", "K")]
    pco.rate_count = 95
    runs = FakeRuns(make_run(["people"]))
    deps = deps_for(pco, records, runs)

    result = run_page("R1", 60, deps)

    waiting = runs.run().waiting
    assert waiting is not None
    assert waiting.until == deps.clock() + timedelta(seconds=result.wait_seconds)


class _Pauses:
    def __init__(self, clock: FakeClock) -> None:
        self.clock, self.taken = clock, []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)
        self.clock.advance(seconds)


def paused_deps(pco: FakePco, records: FakeRecords, runs: FakeRuns) -> tuple[PageDeps, _Pauses]:
    """A page's deps whose pauses between retried reads move the fake clock instead of sleeping."""
    clock = FakeClock()
    pauses = _Pauses(clock)
    deps = PageDeps(
        pco=pco.client(),
        records=records,
        runs=runs,
        clock=clock,
        lease_seconds=900,
        domains=DOMAINS,
        sleep=pauses,
    )
    return deps, pauses


def test_given_pco_fails_a_read_twice_then_the_page_retries_in_place_and_commits_once() -> None:
    # Given PCO answering 503 to the first two requests
    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L")]
    failures = iter([True, True])
    pco.unavailable = lambda request: next(failures, False)
    runs = FakeRuns(make_run(["people"]))
    noted: list[RunWait] = []
    note_wait = runs.note_wait

    def noting(run_id: str, waiting: RunWait | None) -> None:
        if waiting is not None:
            noted.append(waiting)
        note_wait(run_id, waiting)

    runs.note_wait = noting  # type: ignore[method-assign]
    deps, pauses = paused_deps(pco, records, runs)
    # When one page runs
    result = run_page("R1", 60, deps, page_seconds=120)
    # Then it paused twice (injected: nothing slept), read a third time and committed the person once
    assert result.done
    assert pauses.taken == [0.5, 1.0]
    assert len(pco.requests) == 3
    assert (runs.commits, runs.run().created, runs.run().status) == (1, 1, "COMPLETED")
    # ... and while it paused the run said so, attempt by attempt
    assert [(w.reason, w.attempt, w.attempts) for w in noted] == [
        ("pco_unavailable", 2, 4),
        ("pco_unavailable", 3, 4),
    ]


def test_given_a_page_without_time_to_spare_then_a_failed_read_fails_the_page_for_the_state_machine() -> None:
    from pco_core.engine.page import WRITE_RESERVE_SECONDS
    from pco_core.errors import PcoUnavailable

    pco, records = FakePco(), FakeRecords()
    pco.people = [pco_person("1", "Ada", "L")]
    pco.unavailable = lambda request: True
    runs = FakeRuns(make_run(["people"]))
    deps, _ = paused_deps(pco, records, runs)
    with pytest.raises(PcoUnavailable):
        run_page("R1", 60, deps, page_seconds=WRITE_RESERVE_SECONDS)
    # nothing committed, and the page let go of its in-flight mark
    assert (runs.commits, len(pco.requests), runs.page_in_flight) == (0, 1, False)
