from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pco_core.runs.ids import is_run_id, new_run_id


def test_run_ids_carry_the_utc_start_time_and_sort_by_it():
    early = new_run_id(datetime(2026, 11, 24, 9, 5, 7, tzinfo=UTC))
    late = new_run_id(datetime(2026, 11, 24, 12, 0, 0, tzinfo=timezone(timedelta(hours=2))))  # 10:00 UTC
    assert early.startswith("20261124T090507Z-")
    assert late.startswith("20261124T100000Z-")
    assert is_run_id(early)
    assert is_run_id(late)
    assert early < late


def test_run_ids_started_in_the_same_second_differ():
    now = datetime(2026, 11, 24, 9, 5, 7, tzinfo=UTC)
    assert len({new_run_id(now) for _ in range(50)}) == 50


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        new_run_id(datetime(2026, 11, 24, 9, 5, 7))
