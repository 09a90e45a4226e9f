"""`scorecard sample` then `scorecard run` end to end, as a newcomer runs them (small scale)."""

from pathlib import Path

import duckdb

from orchestration.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_sample_then_run(tmp_path, capsys, monkeypatch):
    for env in ("SCORECARD_LANDING", "SCORECARD_CONFIG", "SCORECARD_WAREHOUSE", "SCORECARD_AS_OF"):
        monkeypatch.delenv(env, raising=False)
    assert main(["sample", "--out", str(tmp_path / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "(seed 3, 12 reps)" in out
    warehouse = tmp_path / "w.duckdb"
    code = main(
        [
            "run",
            "--landing",
            str(tmp_path / "sample" / "landing"),
            "--config",
            str(ROOT / "config" / "scorecard.yml"),
            "--warehouse",
            str(warehouse),
            "--as-of",
            "2026-12-31T23:59:59+08:00",
            "--log-level",
            "WARNING",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert ": SUCCEEDED" in out and "checks: " in out and f"warehouse: {warehouse}" in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # nothing lost: every landed row is accepted, quarantined, a duplicate or superseded
        bad = con.execute(
            "select entity from audit.run_counts "
            "where rows_in <> accepted + quarantined + exact_duplicates + superseded"
        ).fetchall()
        assert bad == []
        # the sample is valid: nothing quarantined; its planted duplicate deals are counted
        assert con.execute("select sum(quarantined) from audit.run_counts").fetchone() == (0,)
        assert con.execute(
            "select exact_duplicates > 0, superseded > 0 from audit.run_counts where entity = 'crm/deals'"
        ).fetchone() == (True, True)
        # four quarters, 12 reps + teams graded each quarter
        periods = con.execute(
            "select period, count(*) filter (where level = 'rep') from marts.scorecard group by period order by period"
        ).fetchall()
        assert periods == [("2026-Q1", 12), ("2026-Q2", 12), ("2026-Q3", 12), ("2026-Q4", 12)]
        # 14 indicators x (12 reps + teams + company) per period
        teams = con.execute("select count(*) from raw.crm__teams").fetchone()[0]
        assert con.execute("select count(*) from marts.indicator_values where period = '2026-Q1'").fetchone() == (
            14 * (12 + teams + 1),
        )
        # the flags of the run's planted patterns are first seen by this run: its Dagster run id reaches dbt
        # (var run_id, orchestration/transform/defs.py)
        run_ids = con.execute("select run_id from audit.runs").fetchall()
        flags = con.execute("select count(*) from marts.anomaly_flags").fetchone()[0]
        assert flags > 0
        assert con.execute("select first_run_id, count(*) from audit.anomaly_flag_history group by all").fetchall() == [
            (run_ids[0][0], flags)
        ]
        assert len(run_ids) == 1 and f"run {run_ids[0][0]}: SUCCEEDED" in out
