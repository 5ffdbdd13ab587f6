"""The fault suite's fixtures and its table.

`make chaos` runs every scenario (`--chaos`); `make test` runs the few marked `fast` (small churches).
Each scenario adds one row (scenario, run outcome, lost, doubled, mismatched); the table is printed at
the end of the session and written to bench/out/chaos.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.chaos.compare import Differences

REPORT = Path(__file__).resolve().parents[2] / "bench" / "out" / "chaos.md"
# Step Functions' retry intervals (2 s doubling, 5 s doubling for crashes) are waited, shortened: the path a
# run takes is what these scenarios check; tests/unit/test_statemachine.py checks the intervals.
RETRY_PAUSE_CAP_SECONDS = 0.2


@dataclass(frozen=True)
class Row:
    scenario: str
    outcome: str
    differences: Differences
    seconds: float


ROWS: list[Row] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--chaos", action="store_true", help="run every fault scenario, not only the fast ones")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--chaos"):
        return
    skip = pytest.mark.skip(reason="a full fault scenario: `make chaos` runs it")
    for item in items:
        if "chaos" in item.keywords and "fast" not in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def short_state_machine_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(
        retrier_decl, "time", SimpleNamespace(sleep=lambda s: time.sleep(min(s, RETRY_PAUSE_CAP_SECONDS)))
    )


@pytest.fixture
def report() -> list[Row]:
    return ROWS


def table(rows: list[Row]) -> str:
    lines = [
        "| scenario | run outcome | lost | doubled | mismatched | wall |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        d = row.differences
        counts = f"{d.lost} | {d.doubled} | {d.mismatched}"
        lines.append(f"| {row.scenario} | {row.outcome} | {counts} | {row.seconds:.0f} s |")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not ROWS:
        return
    text = table(ROWS)
    terminalreporter.write_sep("=", "fault scenarios: local records against PCO, field by field")
    terminalreporter.write_line(text)
    for row in ROWS:
        for example in row.differences.examples:
            terminalreporter.write_line(f"  {row.scenario}: {example}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text + "\n")
