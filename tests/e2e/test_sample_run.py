"""`scorecard sample` then `scorecard run` end to end, as a newcomer runs them (small scale)."""

import duckdb


def test_sample_then_run(tiny_sample_run):
    # `scorecard sample --scale tiny --seed 1` then `scorecard run` (conftest.py: made once per session)
    assert "(seed 1, 12 reps)" in tiny_sample_run.sample_out
    out, warehouse = tiny_sample_run.out, tiny_sample_run.warehouse
    assert tiny_sample_run.code == 0, out
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
