"""A run's progress as one number: steps, weights from the expected requests, never backwards."""

from __future__ import annotations

from pco_core.engine.overall import whole_run
from pco_core.engine.page import PageDeps, run_page
from pco_core.runs.page import DOMAINS
from pco_core.runstate import Cursor, Run, RunProgress
from tests.unit.fakes import FakeClock, FakePco, FakeRecords, FakeRuns, make_run, pco_person

FULL_SYNC = ["people", "families", "groups", "memberships"]


def at(run: Run, index: int, **progress: object) -> RunProgress:
    return whole_run(run, Cursor(domain_index=index), RunProgress.model_validate(progress), done=False)


def test_given_pcos_totals_then_each_step_weighs_its_expected_requests():
    # 1,000 people = 10 requests, 200 households = 2, 30 groups = 1 and their memberships = 30
    run = make_run(FULL_SYNC)
    totals = {"people": 1000, "families": 200, "groups": 30, "memberships": 30}
    first = whole_run(
        run, Cursor(), RunProgress(domain="people", processed=500, total=1000), done=False, totals=totals
    )
    assert (first.step, first.steps, first.percent) == (1, 4, 11)  # 5 of 43 requests

    run = run.model_copy(update={"progress": first})
    families = at(run, 1, domain="families")
    assert (families.step, families.percent) == (2, 23)  # 10 of 43
    # Memberships have a total before they start: the groups to read
    run = run.model_copy(update={"progress": families})
    memberships = at(run, 3, domain="memberships", processed=15)
    assert (memberships.step, memberships.total, memberships.percent) == (4, 30, 65)  # 13 + 15 of 43


def test_given_a_step_bigger_than_expected_then_the_percentage_holds_rather_than_going_back():
    run = make_run(["people", "families"]).model_copy(
        update={"progress": RunProgress(domain="people", percent=50, step_totals={"people": 100})}
    )
    # Families turn out ten times bigger than people: by weight the run is now only ~9% done
    later = at(run, 1, domain="families", processed=0, total=1000)
    assert later.percent == 50
    assert (later.step, later.step_totals) == (2, {"people": 100, "families": 1000})


def test_a_run_under_way_never_shows_100_and_a_finished_one_always_does():
    run = make_run(["people"])
    nearly = whole_run(run, Cursor(), RunProgress(domain="people", processed=100, total=100), done=False)
    assert nearly.percent == 99
    done = whole_run(run, Cursor(domain_index=1), RunProgress(domain="people", processed=100), done=True)
    assert (done.percent, done.step, done.steps) == (100, 1, 1)


def test_given_a_full_sync_then_its_percentages_only_grow_and_end_at_100():
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person(str(n), f"P{n}", "L") for n in range(4)]
    pco.households = [{"id": "H1", "name": "L", "primary": "1", "people": ["1"]}]
    pco.groups = [{"id": "G1", "name": "Choir"}, {"id": "G2", "name": "Band"}]
    pco.memberships = {"G1": [{"id": "m", "person": "2"}], "G2": []}
    runs = FakeRuns(make_run(FULL_SYNC))
    deps = PageDeps(
        pco=pco.client(), records=records, runs=runs, clock=FakeClock(), lease_seconds=900, domains=DOMAINS
    )
    seen: list[tuple[int | None, int | None]] = []
    for _ in range(30):
        result = run_page("R1", 60, deps)
        progress = runs.run().progress
        seen.append((progress.step, progress.percent))
        if result.done:
            break
    percents = [p for _, p in seen]
    assert percents == sorted(percents)
    assert seen[-1] == (4, 100)
    assert [s for s, _ in seen] == sorted(s for s, _ in seen)
    assert runs.run().progress.step_totals == {"people": 4, "families": 1, "groups": 2, "memberships": 2}
