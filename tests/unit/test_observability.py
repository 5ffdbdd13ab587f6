"""Metrics as CloudWatch receives them: the EMF lines Powertools prints, read back and summed per name."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pco_core.engine.page import PageDeps, run_page
from pco_core.errors import RateLimited
from pco_core.observability import RUN_TYPE_DIMENSION, Metric, metrics
from pco_core.pco.client import PcoClient
from pco_core.runs.page import DOMAINS
from pco_core.webhooks.apply import DEAD_LETTER_AFTER_RECEIVES, WebhookApplier, apply_queued
from tests.unit.fakes import FakeClock, FakePco, FakeRecords, FakeRuns, make_run, pco_person

NAMESPACE = "PcoSyncTest"


class Emitted:
    """The EMF lines printed so far: metric sums by name, and each run outcome's RunType."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def lines(self) -> list[dict[str, Any]]:
        metrics.flush_metrics()
        out = self.capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]

    @staticmethod
    def totals(lines: list[dict[str, Any]]) -> Counter[str]:
        sums: Counter[str] = Counter()
        for line in lines:
            (directive,) = line["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == NAMESPACE
            for metric in directive["Metrics"]:
                assert metric["Unit"] == "Count"
                value = line[metric["Name"]]
                sums[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
        return sums

    @staticmethod
    def run_outcomes(lines: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [
            (directive["Metrics"][0]["Name"], line[RUN_TYPE_DIMENSION])
            for line in lines
            for directive in line["_aws"]["CloudWatchMetrics"]
            if [RUN_TYPE_DIMENSION, "service"] in directive["Dimensions"]
        ]


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Emitted]:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "pco-sync")
    metrics.provider.clear_metrics()
    capsys.readouterr()
    yield Emitted(capsys)
    metrics.provider.clear_metrics()


def test_given_a_pull_to_the_end_then_pages_records_and_the_completed_run_are_counted(
    emitted: Emitted,
) -> None:
    # Given four PCO people served one per PCO page (a run's page reads three), and a People run
    pco, records = FakePco(), FakeRecords()
    pco.per_page_cap = 1
    pco.people = [pco_person(str(n), name, "L") for n, name in enumerate(["Ada", "Bob", "Cy", "Di"], 1)]
    runs = FakeRuns(make_run(["people"], type="people", label="People"))
    deps = PageDeps(
        pco=pco.client(), records=records, runs=runs, clock=FakeClock(), lease_seconds=900, domains=DOMAINS
    )
    # When the run's pages run to the end (more than one)
    pages = 1
    while not run_page("R1", 60, deps).done:
        pages += 1
    assert 1 < pages < 5
    # Then every page, four records created, every PCO request and one completed People run were emitted
    lines = emitted.lines()
    totals = emitted.totals(lines)
    assert totals[Metric.PAGES] == pages
    assert totals[Metric.RECORDS_CREATED] == 4
    assert totals[Metric.PCO_REQUESTS] == len(pco.requests) >= 4
    assert totals[Metric.RECORDS_FAILED] == 0
    assert emitted.run_outcomes(lines) == [(Metric.RUNS_COMPLETED, "people")]


def test_given_pco_answers_429_then_the_request_and_the_rate_limit_are_counted(emitted: Emitted) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, json={"errors": [{"code": "429"}]}, headers={"Retry-After": "3"})

    client = PcoClient("https://pco.test", "app", "secret", transport=httpx.MockTransport(answer))
    with pytest.raises(RateLimited):
        client.get("/people/v2/people")
    totals = emitted.totals(emitted.lines())
    assert (totals[Metric.PCO_REQUESTS], totals[Metric.PCO_RATE_LIMITED]) == (1, 1)


class _FailingApplier:
    """An applier whose store is down: every delivery raises."""

    def __init__(self) -> None:
        self.clock = FakeClock()

    def apply(self, name: str, payload: str, delivery_id: str) -> None:
        raise OSError("DynamoDB is unreachable")


class _EmptyLog:
    def get(self, delivery_id: str) -> None:
        return None

    def finish(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a failed delivery is not logged as finished")


@pytest.mark.parametrize(
    ("receive_count", "dead_lettered"),
    [(DEAD_LETTER_AFTER_RECEIVES - 1, 0), (DEAD_LETTER_AFTER_RECEIVES, 1)],
)
def test_given_a_delivery_that_fails_then_only_its_last_receive_counts_it_dead_lettered(
    emitted: Emitted, receive_count: int, dead_lettered: int
) -> None:
    body = json.dumps({"delivery_id": "d-1", "name": "people.v2.events.person.created", "payload": "{}"})
    applier: Any = _FailingApplier()
    with pytest.raises(OSError, match="unreachable"):
        apply_queued(body, applier, _EmptyLog(), receive_count=receive_count)
    assert emitted.totals(emitted.lines())[Metric.WEBHOOKS_DEAD_LETTERED] == dead_lettered


def test_given_deliveries_applied_then_each_outcome_is_counted(emitted: Emitted) -> None:
    # Given a person.updated and then an older one of the same person
    records = FakeRecords()

    class Trail:
        def tombstone(self, kind: str, pco_id: str) -> None:
            return None

        def bury(self, *args: Any) -> None: ...

        def sub_record(self, type_: str, pco_id: str) -> None:
            return None

        def trace_sub_record(self, *args: Any) -> None: ...

    class Log:
        def get(self, delivery_id: str) -> None:
            return None

        def finish(self, *args: Any, **kwargs: Any) -> None: ...

    applier = WebhookApplier(records, Trail(), FakeClock())

    def delivery(delivery_id: str, first_name: str, updated_at: str) -> str:
        person = {
            "type": "Person",
            "id": "7",
            "attributes": {"first_name": first_name, "last_name": "L", "updated_at": updated_at},
        }
        payload = json.dumps({"data": person, "meta": {"event_time": updated_at}})
        name = "people.v2.events.person.updated"
        return json.dumps({"delivery_id": delivery_id, "name": name, "payload": payload})

    # When both are applied (the second is older than what the first left)
    first = apply_queued(delivery("d-1", "Ada", "2026-02-01T10:00:00Z"), applier, Log())
    second = apply_queued(delivery("d-2", "Adah", "2026-01-01T10:00:00Z"), applier, Log())
    # Then one applied and one stale delivery were counted
    assert (first.outcome, second.outcome) == ("applied", "stale")
    totals = emitted.totals(emitted.lines())
    assert (totals[Metric.WEBHOOKS_APPLIED], totals[Metric.WEBHOOKS_STALE]) == (1, 1)


def test_a_flush_with_nothing_counted_prints_nothing(emitted: Emitted) -> None:
    assert emitted.lines() == []
