"""Data text is rendered literally everywhere: team ids and names that look like mathtext (`T$^$`), markup
(`<b>x</b>`), format fields (`{0}`, `%s`) or hold a newline pass through the whole run, are published,
and appear as they are in the directors' and the auditor's reports. (A team `T$^$` used to make the
directors' report raise after publishing, and the failed-run path then erased the run's audit rows.)"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import pytest

from orchestration.runner import run_pipeline

from .handmade import build, run_env

TEAM = "T$^$"
TEAM_NAME = "<b>x</b>"
OTHER_NAME = "{0} %s"
REP_NAME = "Chen\nJie"


def _hostile(landing: Path) -> Path:
    build(landing)
    teams = landing / "crm" / "teams" / "teams.csv"
    teams.write_text(
        f'team_id,team_name,region,business_stage\n{TEAM},{TEAM_NAME},East,mature\nT2,"{OTHER_NAME}",South,new_business\n',
        encoding="utf-8",
    )
    reps = landing / "crm" / "reps" / "reps.csv"
    reps.write_text(
        "rep_id,rep_name,team_id,email,hired_on,left_on\n"
        f"R1,王伟,{TEAM},,2024-01-01,\nR2,李娜,{TEAM},,2024-01-01,\n"
        f'R3,"{REP_NAME}",T2,,2024-01-01,\n',
        encoding="utf-8",
    )
    return landing


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    landing = _hostile(tmp / "landing")
    warehouse = tmp / "w.duckdb"
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        for key, value in run_env(landing, warehouse).items():
            mp.setenv(key, value)
        outcome = run_pipeline(echo=lines.append, log_level="WARNING")
    return warehouse, outcome, lines


def test_hostile_names_are_published_and_rendered_literally(hostile_run):
    warehouse, outcome, lines = hostile_run
    assert outcome.success, (outcome.failure, lines[-20:])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select status, published from audit.runs where run_id = ?", [outcome.run_id]
        ).fetchall() == [("succeeded", True)]
        # the names are kept byte for byte in the marts
        assert con.execute(
            "select subject_id, subject_name from marts.scorecard where period = '2026-Q1' and level = 'team' "
            "order by subject_id"
        ).fetchall() == [("T$^$", TEAM_NAME), ("T2", OTHER_NAME)]
        assert con.execute(
            "select subject_name from marts.scorecard where period = '2026-Q1' and subject_id = 'R3'"
        ).fetchone() == (REP_NAME,)
        # the run's audit rows are all there: 15 entities counted, both reports rendered (passing checks)
        assert con.execute("select count(*) from audit.run_counts where run_id = ?", [outcome.run_id]).fetchone() == (
            15,
        )
        assert con.execute(
            "select check_name, passed from audit.check_results where run_id = ? and check_kind = 'report' "
            "order by check_name",
            [outcome.run_id],
        ).fetchall() == [("director_report", True)]
        # R1's grade is the hand-made folder's (test_pipeline.py): the team id changes nothing
        assert (
            str(
                con.execute(
                    "select final_score from marts.scorecard where period = '2026-Q1' and subject_id = 'R1'"
                ).fetchone()[0]
            )
            == "78.82"
        )

    director = (warehouse.parent / "reports" / "director" / "2026-Q1.html").read_text(encoding="utf-8")
    assert html.escape(TEAM_NAME) in director and TEAM_NAME not in director  # markup shown, not interpreted
    assert OTHER_NAME in director  # no format interpretation
    assert "T$^$" in director  # in tables and in the charts' SVG text (no mathtext)
    assert director.count("T$^$") >= 3
    auditor = (warehouse.parent / "reports" / "auditor" / f"{outcome.run_id}.html").read_text(encoding="utf-8")
    assert outcome.run_id in auditor and "<b>x</b>" not in auditor
