"""An error-severity dbt test blocks what is downstream of it; the audit ledger keeps every run."""

from pathlib import Path

import duckdb

from orchestration.runner import run_pipeline

from .handmade import AS_OF, build

ROOT = Path(__file__).resolve().parents[2]


def test_error_severity_failure_blocks_and_ledger_is_append_only(tmp_path, monkeypatch):
    landing = build(tmp_path / "landing")
    # R4 belongs to team T9, which does not exist: a rep cannot be graded without its team's scheme
    reps = landing / "crm" / "reps" / "reps.csv"
    reps.write_text(reps.read_text(encoding="utf-8") + "R4,Ghost Rep,T9,,2024-01-01,\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("SCORECARD_LANDING", str(landing))
    monkeypatch.setenv("SCORECARD_CONFIG", str(ROOT / "config" / "scorecard.yml"))
    monkeypatch.setenv("SCORECARD_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("SCORECARD_AS_OF", AS_OF)
    first = run_pipeline(echo=lambda _: None, log_level="ERROR")
    second = run_pipeline(echo=lambda _: None, log_level="ERROR")
    assert not first.success and not second.success
    assert "dbt build failed: 3 error-severity test(s) failed" in first.failure
    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute("select run_id, status, published from audit.runs order by started_at").fetchall()
        assert runs == [(first.run_id, "failed", False), (second.run_id, "failed", False)]
        # the blocking failures, with the business key of the offending row, kept for both runs
        blocking = con.execute(
            "select run_id, row_key, bad_value from audit.validation_failures "
            "where severity = 'error' and bad_value = 'T9' order by run_id, row_key"
        ).fetchall()
        keys = {(r[1], r[2]) for r in blocking}
        assert ("2026-Q1|rep|R4", "T9") in keys and ("2026-Q1|team|T9", "T9") in keys
        assert {r[0] for r in blocking} == {first.run_id, second.run_id}
        failed = con.execute(
            "select count(*) from audit.check_results where run_id = ? and not passed and severity = 'error'",
            [first.run_id],
        ).fetchone()
        assert failed == (3,)  # as the failure message says
        # the warning of the reps' staging model (team T9 unknown) is there too, non-blocking
        assert con.execute(
            "select count(*) from audit.validation_failures where run_id = ? and source = 'stg_crm__reps' "
            "and severity = 'warn' and row_key = 'R4'",
            [first.run_id],
        ).fetchone() == (1,)
