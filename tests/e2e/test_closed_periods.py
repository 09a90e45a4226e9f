"""Period partitions, backfills and closed periods, on one warehouse's timeline (tiny sample, seed 1).

W: a backfill of 2026-Q1..Q4 into an empty warehouse with the `dagster` CLI (a partition range in one
run); X: one `scorecard run` without --period on another warehouse (the session's `tiny_sample_run`,
conftest.py: the same sample, seed 1, and as-of).
Then, in W only: close 2026-Q1, a late Q1 deal lands, the nightly-style run over Q2..Q4 keeps Q1
frozen and reports the late row; reopen Q1 and rebuild Q1 alone: only Q1 changes, by the late deal.
"""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import MARTS
from orchestration.cli import main
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.model import parse_scheme
from tools.bench import mart_period_hashes

from .conftest import TINY_AS_OF

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
LATE_AMOUNT = 9_000_000


def run(landing: Path, warehouse: Path, *period_args: str) -> None:
    args = ["run", "--landing", str(landing), "--config", str(ROOT / "config" / "scorecard.yml")]
    args += ["--warehouse", str(warehouse), "--as-of", AS_OF, "--log-level", "WARNING", *period_args]
    assert main(args) == 0


def of(hashes: dict, period: str) -> dict:
    return {k: v for k, v in hashes.items() if k[1] == period}


def collection(warehouse: Path, rep: str) -> tuple[Decimal, Decimal]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select numerator, denominator from marts.indicator_values "
            "where period = '2026-Q1' and level = 'rep' and subject_id = ? and indicator = 'collection_rate'",
            [rep],
        ).fetchone()


def test_scheme_validates_period_labels():
    base = {"schemes": {}, "grades": [{"label": "A", "min": None}]}
    with pytest.raises(SchemeError) as exc:
        parse_scheme(base | {"closed_periods": ["2026-Q5", "2026-03"], "first_period": "2026-13"})
    text = str(exc.value)
    assert "closed_periods[0]" in text and "closed_periods[1]" in text and "like 2026-Q1" in text
    assert "first_period: '2026-13' is not a quarter label" in text


def test_backfill_nightly_close_late_row_reopen(tiny_sample_run, tmp_path, monkeypatch, capsys):
    for env in ("SCORECARD_LANDING", "SCORECARD_CONFIG", "SCORECARD_WAREHOUSE", "SCORECARD_AS_OF"):
        monkeypatch.delenv(env, raising=False)
    assert main(["sample", "--out", str(tmp_path / "s"), "--seed", "1", "--scale", "tiny"]) == 0
    landing, w, x = tmp_path / "s" / "landing", tmp_path / "w" / "w.duckdb", tiny_sample_run.warehouse
    assert AS_OF == TINY_AS_OF and tiny_sample_run.code == 0, tiny_sample_run.out

    # a backfill of the four quarters equals a run without --period, mart by mart, period by period
    env = os.environ | {
        "SCORECARD_LANDING": str(landing),
        "SCORECARD_CONFIG": str(ROOT / "config" / "scorecard.yml"),
        "SCORECARD_WAREHOUSE": str(w),
        "SCORECARD_AS_OF": AS_OF,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir()
    # the daemon's configuration of docs/operations.md: the `dagster` CLI writes its events through the
    # pooled event log (Dagster's own storage opens an engine per event)
    (tmp_path / "dagster_home" / "dagster.yaml").write_text(
        "event_log_storage:\n  module: orchestration.dagster_instance\n  class: PooledSqliteEventLogStorage\n"
        f"  config: {{base_dir: {tmp_path / 'dagster_home' / 'history' / 'runs'}}}\n",
        encoding="utf-8",
    )
    dagster = Path(sys.executable).parent / "dagster"
    cli = [str(dagster), "asset", "materialize", "-m", "orchestration.definitions", "--select", "*"]
    done = subprocess.run([*cli, "--partition-range", "2026-Q1...2026-Q4"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dbt: refresh window 2026-Q1 .. 2026-Q4 (closed periods excepted)" in done.stderr  # dbt's window
    reference = mart_period_hashes(x)
    assert {p for _, p in reference} == {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"}
    assert len(of(reference, "2026-Q1")) == len(MARTS)
    assert mart_period_hashes(w) == reference

    # bad windows stop before anything runs
    assert main(["run", "--landing", str(landing), "--warehouse", str(w), "--period", "2026-Q9"]) == 2
    assert main(["run", "--landing", str(landing), "--warehouse", str(w), "--from", "2026-Q3", "--to", "2026-Q1"]) == 2

    # close Q1; a won Q1 deal of 9,000,000 CNY lands late
    assert main(["close-period", "2026-Q1", "--warehouse", str(w), "--reason", "Q1 bonuses paid"]) == 0
    assert main(["close-period", "2026-Q7", "--warehouse", str(w)]) == 2  # not a quarter
    deals = (landing / "crm/deals/2026-03-31.csv").read_text(encoding="utf-8").splitlines()
    cols = deals[0].split(",")
    won = next(line.split(",") for line in deals[1:] if line.split(",")[cols.index("stage")] == "won")
    rep = won[cols.index("rep_id")]
    won[cols.index("deal_id")] = "D-LATE-1"
    won[cols.index("amount")] = won[cols.index("collected_amount")] = str(LATE_AMOUNT)
    won[cols.index("currency")] = "CNY"
    won[cols.index("closed_on")] = "2026-02-15"
    won[cols.index("updated_at")] = "2026-12-20T10:00:00+08:00"
    (landing / "crm/deals/2026-12-20_late.csv").write_text(deals[0] + "\n" + ",".join(won) + "\n", encoding="utf-8")

    # and an auditor confirms a Q1 flag (one whose responses leave the figures, when there is one)
    with duckdb.connect(str(w), read_only=True) as con:
        flag, rule = con.execute(
            "select flag_id, rule_id from marts.anomaly_flags where period = '2026-Q1' "
            "order by rule_id in ('self_filled_survey', 'speeder_burst') desc, flag_id limit 1"
        ).fetchone()
    capsys.readouterr()
    review = ["review", flag, "--confirm", "--by", "Auditor Li", "--reason", "checked with the customer"]
    assert (
        main([*review, "--warehouse", str(w), "--landing", str(landing), "--decided-at", "2026-12-20T10:00+08:00"]) == 0
    )
    assert capsys.readouterr().out.splitlines()[2] == (
        "  - period 2026-Q1 is closed: the decision is kept in audit.flag_reviews and changes nothing until the "
        "period is reopened (scorecard reopen-period)"
    )

    # Q2..Q4 rebuilt: Q1 closed, its late deal kept and reported; Q2's progress is measured against the
    # published Q1 composite, so every period still equals the reference; the decision is kept, reported
    # and changes nothing yet
    run(landing, w, "--from", "2026-Q2", "--to", "2026-Q4")
    printed = capsys.readouterr().out
    assert "periods   2026-Q2 to 2026-Q4 (the other periods keep their published rows)" in printed
    assert "  closed periods (published rows kept): 2026-Q1" in printed
    assert mart_period_hashes(w) == reference
    with duckdb.connect(str(w), read_only=True) as con:
        assert con.execute("select count(*) from raw.crm__deals where deal_id = 'D-LATE-1'").fetchone()[0] == 1
        last_run = "(select run_id from audit.runs order by started_at desc limit 1)"
        late = con.execute(
            "select row_key, bad_value from audit.validation_failures "
            f"where check_name = 'late_row_for_closed_period' and run_id = {last_run}"
        ).fetchall()
        assert late == [("D-LATE-1", "2026-Q1")]
        assert con.execute(
            "select row_key, bad_value from audit.validation_failures "
            f"where check_name = 'decision_for_closed_period' and run_id = {last_run}"
        ).fetchall() == [(flag, "2026-Q1")]
        assert con.execute("select flag_id, decision from audit.flag_reviews").fetchall() == [(flag, "confirmed")]
        assert con.execute("select review_status from marts.anomaly_flags where flag_id = ?", [flag]).fetchone() == (
            "open",
        )
        assert con.execute(
            "select period, status, reason from audit.period_status where source = 'command'"
        ).fetchall() == [("2026-Q1", "closed", "Q1 bonuses paid")]
        assert con.execute("select period from raw.cfg_closed_periods").fetchall() == [("2026-Q1",)]
        # the run read the events of its window and of Q1 as the rules' margin (within 14 days of Q2's
        # first day), not published; every flag is kept, Q1's from the backfill
        assert con.execute(
            "select period, is_in_window from intermediate.int_periods_refreshed order by 1"
        ).fetchall() == [("2026-Q1", False), ("2026-Q2", True), ("2026-Q3", True), ("2026-Q4", True)]
        assert con.execute("select count(distinct period) from intermediate.int_anomaly_flags").fetchone() == (4,)
        # Great Expectations validated row by row only the run's new rows (the late deal, the decision);
        # every other current row passed the same suites in the published backfill
        assert con.execute(
            "select source, rows_validated from audit.ge_suite_runs "
            f"where run_id = {last_run} and (scope <> 'changed' or rows_validated > 0) order by 1"
        ).fetchall() == [("crm/deals", 1), ("review/flag_decisions", 1)]
        assert con.execute(f"select count(*) from audit.ge_suite_runs where run_id = {last_run}").fetchone() == (16,)
    numerator, denominator = collection(w, rep)

    # reopened and rebuilt alone: Q1 now holds the deal (numerator and denominator + 9,000,000 exactly);
    # Q2..Q4 are outside the window and keep their rows
    assert main(["reopen-period", "2026-Q1", "--warehouse", str(w)]) == 0
    reports = {p: w.parent / "reports" / "director" / f"{p}.html" for p in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")}
    written = {p: path.stat().st_mtime_ns for p, path in reports.items()}
    run(landing, w, "--period", "2026-Q1")
    # the directors' reports: only the rebuilt period's is written again
    assert [p for p, path in reports.items() if path.stat().st_mtime_ns != written[p]] == ["2026-Q1"]
    assert collection(w, rep) == (numerator + LATE_AMOUNT, denominator + LATE_AMOUNT)
    with duckdb.connect(str(w), read_only=True) as con:  # Q1's events and Q2's as the margin, no more
        assert con.execute("select distinct period from intermediate.int_deals_assigned order by 1").fetchall() == [
            ("2026-Q1",),
            ("2026-Q2",),
        ]
    after = mart_period_hashes(w)
    for period in ("2026-Q2", "2026-Q3", "2026-Q4"):
        assert of(after, period) == of(reference, period)
    changed = {mart for (mart, period), v in of(after, "2026-Q1").items() if reference[(mart, period)] != v}
    assert {"scorecard", "indicator_values", "sales_breakdown", "score_statement", "anomaly_flags"} <= changed
    # the decision took effect with the reopened period
    with duckdb.connect(str(w), read_only=True) as con:
        status = con.execute(
            "select review_status, reviewed_by, is_holding from marts.anomaly_flags where flag_id = ?", [flag]
        ).fetchone()
        excluded = con.execute("select count(*) from audit.excluded_responses where flag_id = ?", [flag]).fetchone()
    assert status == ("confirmed", "Auditor Li", False)
    assert excluded == ((1,) if rule in ("self_filled_survey", "speeder_burst") else (0,))
