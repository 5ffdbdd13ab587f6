"""The incremental sync's stored state on moto: the deployment's watermarks (forward only), what a page
commits of them on the run item, the audit's listed ids, and the local linked ids the audit compares."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pco_core.records import Family, Person
from pco_core.runstate import RecordTotals, Watermark
from pco_core.store.audit import AuditStore
from pco_core.store.records import RecordStore
from pco_core.store.runs import RunStore
from tests.unit.store.test_run_store import commit, make_run

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture
def runs(dynamodb: Any, state_table: str) -> RunStore:
    return RunStore(state_table, client=dynamodb)


def test_given_no_watermarks_then_none_are_read_and_saved_ones_read_back(runs: RunStore) -> None:
    assert runs.get_watermarks() == {}
    marks = {"people": Watermark(at=T0, ids=["7", "9"]), "emails": Watermark(at=T0 - timedelta(hours=1))}
    runs.save_watermarks(marks, run_id="R1")
    assert runs.get_watermarks() == marks


def test_a_watermark_never_moves_back(runs: RunStore) -> None:
    runs.save_watermarks({"people": Watermark(at=T0, ids=["1"])}, run_id="R2")
    # When an older one is saved (a late retry of an earlier run's last page, say)
    runs.save_watermarks({"people": Watermark(at=T0 - timedelta(seconds=1), ids=["2"])}, run_id="R1")
    # Then the later one stays; a later one still moves it on
    assert runs.get_watermarks()["people"] == Watermark(at=T0, ids=["1"])
    runs.save_watermarks({"people": Watermark(at=T0 + timedelta(hours=1))}, run_id="R3")
    assert runs.get_watermarks()["people"].at == T0 + timedelta(hours=1)


def test_a_page_commits_the_watermarks_reached_and_the_totals_on_the_run_item(runs: RunStore) -> None:
    run = make_run(watermarks={"people": Watermark(at=T0 - timedelta(days=1))})
    runs.put_run(run)
    reached = {"people": Watermark(at=T0 - timedelta(seconds=1), ids=["5"])}
    totals = {"people": RecordTotals(pco=10, local=9)}
    assert commit(runs, run.id, 0, reached=reached, totals=totals)
    stored = runs.get_run(run.id)
    assert stored is not None
    assert (stored.reached, stored.totals, stored.watermarks) == (reached, totals, run.watermarks)
    # And a commit refused as a repeat changes none of it
    assert not commit(runs, run.id, 0, reached={}, totals={})
    assert runs.get_run(run.id).reached == reached  # type: ignore[union-attr]
    # And the API answer shows the totals, never the watermarks
    served = stored.model_dump(mode="json")
    assert served["totals"] == {"people": {"pco": 10, "local": 9}}
    assert "watermarks" not in served
    assert "reached" not in served


def test_the_audit_reads_back_every_id_it_listed_per_run_and_kind(dynamodb: Any, state_table: str) -> None:
    audit = AuditStore(state_table, client=dynamodb)
    audit.put_audit_ids("R1", "person", 0, ["1", "2"], now=T0)
    audit.put_audit_ids("R1", "person", 1, ["3"], now=T0)
    audit.put_audit_ids("R1", "person", 1, ["3"], now=T0)  # a retried page writes the same chunk again
    audit.put_audit_ids("R1", "family", 0, ["h1"], now=T0)
    audit.put_audit_ids("R2", "person", 0, ["4"], now=T0)
    assert audit.audit_ids("R1", "person") == {"1", "2", "3"}
    assert audit.audit_ids("R1", "family") == {"h1"}
    assert audit.audit_ids("R3", "person") == set()


def test_linked_pco_ids_go_through_every_local_record_a_chunk_at_a_time(
    dynamodb: Any, records_table: str
) -> None:
    store = RecordStore(records_table, client=dynamodb)
    people = [
        Person(
            id=f"p-{n:03d}",
            pco_id=None if n % 5 == 0 else str(100 + n),
            first_name="A",
            last_name="B",
            updated_at=T0,
        )
        for n in range(23)
    ]
    store.save_people([(p, None) for p in people])
    store.save_families([(Family(id="f-1", pco_id="h1", name="B", updated_at=T0), None)])
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        ids, cursor = store.linked_pco_ids("person", cursor, 10)
        seen.extend(ids)
        if cursor is None:
            break
    assert sorted(seen) == sorted(p.pco_id for p in people if p.pco_id)
    assert store.linked_pco_ids("family", None, 10) == (["h1"], None)
