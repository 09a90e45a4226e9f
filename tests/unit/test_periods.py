"""Period labels, bounds and the refresh window (orchestration/periods.py); the dbt macros are checked
against these by tests/integration/test_periods_dbt.py."""

from datetime import UTC, date, datetime, timedelta, timezone

import duckdb
import pytest

from orchestration.closed_periods import closed_period_sql
from orchestration.periods import (
    in_refresh_window,
    label_at,
    label_grain,
    label_of,
    nightly_window,
    period_bounds,
    period_start,
    widen_window,
)


def test_labels_of_each_grain():
    assert [label_of(date(2024, 2, 29), g) for g in ("month", "quarter", "year")] == ["2024-02", "2024-Q1", "2024"]
    assert [label_grain(x) for x in ("2026-03", "2026-Q1", "2026", "2026-Q5", "26")] == [
        "month",
        "quarter",
        "year",
        None,
        None,
    ]


def test_an_instant_belongs_to_the_period_of_its_local_date():
    local_new_year = datetime(2025, 12, 31, 16, 0)  # naive: UTC; 2026-01-01 00:00 in Shanghai
    assert label_at(local_new_year, "Asia/Shanghai", "quarter") == "2026-Q1"
    assert label_at(local_new_year - timedelta(microseconds=1), "Asia/Shanghai", "year") == "2025"
    assert label_at(local_new_year.replace(tzinfo=UTC), "UTC", "month") == "2025-12"
    assert label_at(datetime(2026, 4, 1, 1, tzinfo=timezone(timedelta(hours=2))), "UTC", "quarter") == "2026-Q1"
    assert nightly_window(local_new_year, "Asia/Shanghai", "quarter") == ("2025-Q4", "2026-Q1")


@pytest.mark.parametrize(
    ("label", "bounds"),
    [
        ("2024-02", (date(2024, 2, 1), date(2024, 3, 1))),
        ("2026-12", (date(2026, 12, 1), date(2027, 1, 1))),
        ("2026-Q1", (date(2026, 1, 1), date(2026, 4, 1))),
        ("2026-Q4", (date(2026, 10, 1), date(2027, 1, 1))),
        ("2026", (date(2026, 1, 1), date(2027, 1, 1))),
    ],
)
def test_bounds_of_a_period(label, bounds):
    assert period_bounds(label) == bounds
    assert period_start(label) == bounds[0]


def test_a_label_of_no_grain_has_no_bounds():
    with pytest.raises(ValueError, match="not a period label"):
        period_start("2026-Q5")


def test_the_refresh_window_keeps_closed_periods_out():
    assert in_refresh_window("2026-Q1", None, None, [])
    assert not in_refresh_window("2026-Q1", None, None, ["2026-Q1"])
    assert in_refresh_window("2026-10", "2026-09", "2026-10", [])  # text order is time order
    assert not in_refresh_window("2026-11", "2026-09", "2026-10", [])
    assert not in_refresh_window("2026-Q1", "2026-Q2", None, [])


def test_widening_the_window_for_decided_periods():
    assert widen_window("2026-Q3", "2026-Q4", ["2026-Q1", "2026-Q3", "2026-Q1"]) == ("2026-Q1", "2026-Q4", ["2026-Q1"])
    assert widen_window("2026-Q3", None, ["2026-Q4", "2026-Q2"]) == ("2026-Q2", None, ["2026-Q2"])
    assert widen_window(None, None, ["2026-Q1"]) == (None, None, [])
    assert widen_window("2026-Q1", "2026-Q2", []) == ("2026-Q1", "2026-Q2", [])


def test_late_rows_are_placed_in_closed_periods_by_their_bounds():
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 6, 30)]
    closed = ["2026-Q1", "2026-Q2", "2026-05"]  # a label of another grain is never matched
    with duckdb.connect() as con:
        con.execute("create table t as select unnest(?::date[]) as day", [days])
        got = con.execute(f"select day, {closed_period_sql('day', closed, 'quarter')} from t order by day").fetchall()
    assert [p for _, p in got] == [None, "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2"]
    assert closed_period_sql("day", [], "quarter") == "cast(null as varchar)"
