"""The refresh window of a run that read new decisions (orchestration/reviews.py widen_for_decisions)."""

import duckdb
import pytest

from orchestration.reviews import widen_for_decisions


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema raw; create schema marts")
    c.execute("create table marts.anomaly_flags (flag_id varchar, period varchar)")
    c.execute("insert into marts.anomaly_flags values ('f1', '2026-Q1'), ('f2', '2026-Q2'), ('f4', '2026-Q4')")
    c.execute("create table raw.review__flag_decisions (flag_id varchar, _run_id varchar, _is_current boolean)")
    yield c
    c.close()


def decide(con, *rows):
    con.executemany("insert into raw.review__flag_decisions values (?, ?, ?)", rows)


def test_a_decision_about_an_older_period_widens_the_nightly_window(con):
    # the nightly window is 2026-Q3..Q4; this run read a decision about f1 (2026-Q1)
    decide(con, ("f1", "run-2", True), ("f2", "run-1", True), ("nope", "run-2", True), ("f2", "run-2", False))
    assert widen_for_decisions(con, "run-2", "2026-Q3", "2026-Q4") == ("2026-Q1", "2026-Q4", ["2026-Q1"])
    # a run without new decisions, or one that rebuilds every period, keeps its window
    assert widen_for_decisions(con, "run-3", "2026-Q3", "2026-Q4") == ("2026-Q3", "2026-Q4", [])
    assert widen_for_decisions(con, "run-2", None, None) == (None, None, [])


def test_a_backfill_of_early_periods_reaches_a_later_decided_period(con):
    decide(con, ("f4", "run-2", True), ("f2", "run-2", True))
    assert widen_for_decisions(con, "run-2", "2026-Q1", "2026-Q2") == ("2026-Q1", "2026-Q4", ["2026-Q4"])
    # an open end stays open
    assert widen_for_decisions(con, "run-2", "2026-Q3", None) == ("2026-Q2", None, ["2026-Q2"])


def test_a_warehouse_without_flags_yet(con):
    con.execute("drop table marts.anomaly_flags")
    decide(con, ("f1", "run-1", True))
    assert widen_for_decisions(con, "run-1", "2026-Q3", "2026-Q4") == ("2026-Q3", "2026-Q4", [])
