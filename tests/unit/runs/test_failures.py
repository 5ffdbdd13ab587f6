"""A run's failed records through RunService (moto), and how a run's outcome reads for an admin."""

from __future__ import annotations

from typing import Any

import pytest

from pco_core.errors import RunNotFound
from pco_core.runstate import Cursor, PageCounts, RecordFailure, Run, RunProgress
from tests.unit.runs.support import T0


def refused(record_id: str) -> RecordFailure:
    return RecordFailure(
        kind="person",
        record_id=record_id,
        name="Ada Lovelace",
        operation="create in PCO",
        status=422,
        message="PCO refused the person gender (422): Gender is not included in the list.",
        at=T0,
    )


def test_given_a_run_that_failed_records_when_listing_its_failures_then_each_with_the_total(service, store):
    run = service.start_run("push_people", started_by="admin@church.example")
    assert store.commit_page(
        run.id,
        seen_seq=0,
        counts=PageCounts(created=3, failed=2),
        cursor=Cursor(domain_index=1),
        progress=RunProgress(domain="push_people", processed=5),
        pages_in_execution=1,
        complete_at=T0,
        failures=[refused("p1"), refused("p2")],
    )

    answer = service.list_failures(run.id)

    assert (answer.run_id, answer.total, answer.kept) == (run.id, 2, 2)
    assert [f.record_id for f in answer.failures] == ["p1", "p2"]
    assert service.get_run(run.id).outcome == "COMPLETED_WITH_FAILURES"


def test_given_an_unknown_run_when_listing_failures_then_run_not_found(service):
    with pytest.raises(RunNotFound):
        service.list_failures("20261124T140000Z-00000000")


def test_given_a_scheduled_start_while_a_run_is_active_then_it_reads_skipped_not_cancelled(service):
    active = service.start_run("people", started_by="admin@church.example")

    skipped = service.record_skipped_run("full_sync", "schedule", active.id)

    stored = service.get_run(skipped.id)
    assert (stored.status, stored.outcome, stored.error) == ("CANCELLED", "SKIPPED", None)
    assert stored.skip_reason == "another run was active"


def base_run(**changes: Any) -> Run:
    fields: dict[str, Any] = {
        "id": "R1",
        "type": "people",
        "label": "People",
        "status": "COMPLETED",
        "started_at": T0,
        "started_by": "x",
    }
    return Run.model_validate(fields | changes)


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, "COMPLETED"),
        ({"failed": 1}, "COMPLETED_WITH_FAILURES"),
        ({"status": "FAILED", "failed": 1}, "FAILED"),
        ({"status": "CANCELLED"}, "CANCELLED"),
        ({"status": "CANCELLED", "error": "skipped: run 20261129T010000Z-daa608bc was active"}, "SKIPPED"),
        ({"status": "RUNNING", "failed": 3}, "RUNNING"),
    ],
)
def test_a_runs_outcome_tells_apart_what_its_status_alone_does_not(changes, outcome):
    assert base_run(**changes).outcome == outcome
    assert base_run(**changes).model_dump(mode="json")["outcome"] == outcome
