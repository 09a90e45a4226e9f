"""Write-audit-publish: analysts keep reading the previous marts while a run builds and after a failed
run; a new connection sees a run's marts only once it has published."""

import html
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from orchestration.publish import build_path
from orchestration.runner import run_pipeline

from .handmade import (
    HOSTILE_OTHER_NAME,
    HOSTILE_REP_NAME,
    HOSTILE_TEAM,
    HOSTILE_TEAM_NAME,
    make_names_hostile,
    run_env,
)

QUERY = "select final_score from marts.scorecard where period = '2026-Q1' and subject_id = 'R1'"

ANALYST = textwrap.dedent(f"""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)   # opened before the run, kept open through it
    for line in sys.stdin:
        print(con.execute({QUERY!r}).fetchone()[0], flush=True)
""")


def _score(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return str(con.execute(QUERY).fetchone()[0])


def test_analyst_reads_previous_marts_during_and_after_runs(copy_of_handmade_run, monkeypatch):
    # the first run of the hand-made folder, published (conftest.py: a copy of the shared run)
    landing, warehouse = copy_of_handmade_run.landing, copy_of_handmade_run.warehouse
    first = copy_of_handmade_run.outcome
    for k, v in run_env(landing, warehouse).items():
        monkeypatch.setenv(k, v)
    assert first.success and _score(warehouse) == "78.82"

    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        analyst.stdin.write("q\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "78.82"
        # R1 wins 30,000 more in Q1: attainment 120 % -> composite (36 + 16 + 6 + 12) / 0.85 = 82.35
        deals = landing / "crm" / "deals" / "2026-03-31.csv"
        deals.write_text(
            deals.read_text(encoding="utf-8") + "D8,C6,R1,软件,won,30000,,2026-03-30,,\n", encoding="utf-8"
        )
        make_names_hostile(landing)  # and the teams' ids and names are hostile text (handmade.py)
        second = run_pipeline(echo=lambda _: None, log_level="ERROR")
        assert second.success, second.failure
        analyst.stdin.write("q\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "78.82"  # the open connection keeps its snapshot
        assert _score(warehouse) == "82.35"  # a new connection sees the published run
        _names_published_and_rendered_literally(warehouse, second.run_id)
        # a run that fails a blocking check publishes no marts, only its audit rows
        reps = landing / "crm" / "reps" / "reps.csv"
        reps.write_text(reps.read_text(encoding="utf-8") + "R4,Ghost Rep,T9,,2024-01-01,\n", encoding="utf-8")
        lines: list[str] = []
        third = run_pipeline(echo=lines.append, log_level="ERROR")
        assert not third.success
        # the summary of a failed run leads with what happened and what is still published
        at = lines.index(f"run {third.run_id}: FAILED, nothing of it was published")
        assert lines[at + 1] == f"  reason: {third.failure}"
        assert lines[at + 2].startswith(f"  the published marts are still those of run {second.run_id} (")
        assert lines[at + 3] == (
            "  its audit rows (counts, quarantine, checks, failures) are published in the audit schema"
        )
        assert not any(x.strip().startswith("graded subjects") for x in lines)
        # an unchanged required entity is said to be unchanged, not "empty input"; no query hint for
        # marts of this run (the published ones are the second run's, and exist)
        teams = next(x for x in lines if x.startswith("  crm/teams "))
        assert teams.endswith("(files not read: unchanged since the last published run)")
        assert not any("(empty input)" in x for x in lines if x.startswith(("  crm/teams ", "  crm/reps ")))
        # the whole story (dbt's output, the failure) is in the run's log file, not on screen
        assert lines[at + 4] == f"  run log (stack traces): {third.log_file}"
        log = third.log_file.read_text(encoding="utf-8")
        assert "dbt build failed" in log and "dbt: " in log and "Stack Trace:" in log
        analyst.stdin.write("q\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "78.82"
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert _score(warehouse) == "82.35"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select run_id, status, published from audit.runs order by started_at").fetchall() == [
            (first.run_id, "succeeded", True),
            (second.run_id, "succeeded", True),
            (third.run_id, "failed", False),
        ]
        # the failed run's blocking failures are published for auditors, with the business key of the
        # offending rows: R4's team T9 does not exist, so R4 cannot be graded under a scheme
        assert "dbt build failed" in third.failure and "error-severity test(s) failed" in third.failure
        blocking = set(
            con.execute(
                "select source, row_key, bad_value from audit.validation_failures "
                "where run_id = ? and severity = 'error' and bad_value = 'T9'",
                [third.run_id],
            ).fetchall()
        )
        assert {("scorecard", "2026-Q1|rep|R4", "T9"), ("scorecard", "2026-Q1|team|T9", "T9")} <= blocking
        # the reps' staging model reports the unknown team as a (non-blocking) cross-source warning
        assert con.execute(
            "select severity, check_kind from audit.validation_failures where run_id = ? "
            "and source = 'stg_crm__reps' and row_key = 'R4'",
            [third.run_id],
        ).fetchall() == [("warn", "cross_source")]
        # the ledger is append-only: every run's failures are kept (the three planted cross-source
        # warnings of the hand-made folder, once per run)
        per_run = dict(
            con.execute(
                "select run_id, count(*) from audit.validation_failures where check_kind = 'cross_source' "
                "and row_key in ('D7', 'K7', 'S15') group by run_id"
            ).fetchall()
        )
        assert per_run == {first.run_id: 3, second.run_id: 3, third.run_id: 3}
        # and the ghost rep's rows never reached the published marts
        assert con.execute("select count(*) from marts.scorecard where subject_id = 'R4'").fetchone() == (0,)
    assert not build_path(warehouse).exists()  # nothing half-built is left behind


def _names_published_and_rendered_literally(warehouse: Path, run_id: str) -> None:
    """Data text is literal everywhere: the hostile names are published byte for byte, the run with its
    audit rows, and both reports show them as they are (no mathtext, markup or format interpretation)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status, published from audit.runs where run_id = ?", [run_id]).fetchall() == [
            ("succeeded", True)
        ]
        assert con.execute(
            "select subject_id, subject_name from marts.scorecard where period = '2026-Q1' and level = 'team' "
            "order by subject_id"
        ).fetchall() == [(HOSTILE_TEAM, HOSTILE_TEAM_NAME), ("T2", HOSTILE_OTHER_NAME)]
        assert con.execute(
            "select subject_name from marts.scorecard where period = '2026-Q1' and subject_id = 'R3'"
        ).fetchone() == (HOSTILE_REP_NAME,)
        assert con.execute("select count(*) from audit.run_counts where run_id = ?", [run_id]).fetchone() == (15,)
        assert con.execute(
            "select check_name, passed from audit.check_results where run_id = ? and check_kind = 'report'",
            [run_id],
        ).fetchall() == [("director_report", True)]
    reports = warehouse.parent / "reports"
    director = (reports / "director" / "2026-Q1.html").read_text(encoding="utf-8")
    assert html.escape(HOSTILE_TEAM_NAME) in director and HOSTILE_TEAM_NAME not in director
    assert HOSTILE_OTHER_NAME in director
    assert director.count(HOSTILE_TEAM) >= 3  # tables and the charts' SVG text
    auditor = (reports / "auditor" / f"{run_id}.html").read_text(encoding="utf-8")
    assert run_id in auditor and HOSTILE_TEAM_NAME not in auditor
