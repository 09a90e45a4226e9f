"""Write-audit-publish: analysts keep reading the previous marts while a run builds and after a failed
run; a new connection sees a run's marts only once it has published."""

import html
import re
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.cli import main
from orchestration.runner import run_pipeline
from orchestration.warehouse.build_copy import build_path

from .handmade import (
    HOSTILE_OTHER_NAME,
    HOSTILE_REP_NAME,
    HOSTILE_TEAM,
    HOSTILE_TEAM_NAME,
    make_names_hostile,
    run_env,
)

QUERY = (
    "select round(value, 2) from marts.indicator_values "
    "where period = '2026-Q1' and level = 'rep' and subject_id = 'R1' and indicator = 'sales_attainment'"
)

ANALYST = textwrap.dedent(f"""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)   # opened before the run, kept open through it
    for line in sys.stdin:
        print(con.execute({QUERY!r}).fetchone()[0], flush=True)
""")


def _score(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return str(con.execute(QUERY).fetchone()[0])


def test_analyst_reads_previous_marts_during_and_after_runs(copy_of_handmade_run, monkeypatch, capsys):
    # the first run of the hand-made folder, published (conftest.py: a copy of the shared run)
    landing, warehouse = copy_of_handmade_run.landing, copy_of_handmade_run.warehouse
    first = copy_of_handmade_run.outcome
    for k, v in run_env(landing, warehouse).items():
        monkeypatch.setenv(k, v)
    assert first.success and _score(warehouse) == "110.0"

    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        analyst.stdin.write("q\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "110.0"
        # R1 wins 30,000 more in Q1: attainment 330,000 + 30,000 / 300,000 = 120 %
        deals = landing / "crm" / "deals" / "2026-03-31.csv"
        deals.write_text(
            deals.read_text(encoding="utf-8") + "D8,C6,R1,软件,won,30000,,2026-03-30,,\n", encoding="utf-8"
        )
        make_names_hostile(landing)  # and the teams' ids and names are hostile text (handmade.py)
        _review_the_six_flags(landing, warehouse, capsys)  # and an auditor confirms R1's six self-filled surveys
        lines: list[str] = []
        second = run_pipeline(echo=lines.append, log_level="ERROR")
        assert second.success, second.failure
        analyst.stdin.write("q\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "110.0"  # the open connection keeps its snapshot
        assert _score(warehouse) == "120.0"  # a new connection sees the published run
        _names_published_and_rendered_literally(warehouse, second.run_id)
        _decisions_reach_the_figures(warehouse, second.run_id, lines)
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
        assert analyst.stdout.readline().strip() == "110.0"
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=30)
    assert _score(warehouse) == "120.0"
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
        assert con.execute("select count(*) from audit.run_counts where run_id = ?", [run_id]).fetchone() == (16,)
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


def _flag_ids(warehouse: Path) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.execute("select response_id, flag_id from marts.anomaly_flags").fetchall())


def _review_the_six_flags(landing: Path, warehouse: Path, capsys) -> None:
    """With `scorecard review` against the first run's marts: S1..S5 confirmed; S6 dismissed at 09:00 and
    confirmed at 10:00 (the later wins). By hand, in a file: three decisions the run must quarantine."""
    ids = _flag_ids(warehouse)
    assert sorted(ids) == [f"S{i}" for i in range(1, 7)]
    common = ["--by", "Auditor Li", "--warehouse", str(warehouse), "--landing", str(landing)]
    # the queue, oldest first (all six first seen in the first run: by flag id), each with its evidence
    capsys.readouterr()
    assert main(["review", "--list", "--open", "--warehouse", str(warehouse)]) == 0
    queue = capsys.readouterr().out.splitlines()
    assert queue[:2] == [
        "6 open flag(s), oldest first (6 open, 6 holding a grade)",
        "  age  flag_id                           status     rule                      rep               period    "
        "strength",
    ]
    by_id = sorted(ids.items(), key=lambda kv: kv[1])
    assert [line.split()[1] for line in queue[2:-1:2]] == [flag for _, flag in by_id]
    assert queue[2].split()[2:] == ["open*", "self_filled_survey", "R1", "王伟", "2026-Q1", "5.00"]
    assert queue[3].startswith(f"       response {by_id[0][0]} (customer C")
    assert queue[-1].startswith("* holds its subject's grade until decided")
    printed = []
    for response, decision, at in [(f"S{i}", "--confirm", "10:00") for i in range(1, 6)] + [
        ("S6", "--dismiss", "09:00"),
        ("S6", "--confirm", "10:00"),
    ]:
        argv = ["review", ids[response], decision, "--reason", f"{response}: answered from R1's phone, 王伟 agrees"]
        argv += ["--decided-at", f"2026-07-01T{at}:00+08:00", *common]
        assert main(argv) == 0
        printed.append(capsys.readouterr().out.splitlines())
    folder = landing / "review" / "flag_decisions"
    written = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.csv")}
    assert len(written) == 7 and all(
        t.startswith("flag_id,decision,reviewer,decided_at,reason\n") for t in written.values()
    )
    # one row per file, the reason (with a comma) quoted as CSV wants, the time in UTC
    s1 = next(t for name, t in written.items() if name == f"20260701T020000Z-{ids['S1'][:12]}.csv")
    assert (
        s1.splitlines()[1]
        == f'{ids["S1"]},confirmed,Auditor Li,2026-07-01T02:00:00Z,"S1: answered from R1\'s phone, 王伟 agrees"'
    )
    # what the next run will change: the first confirmation excludes S1 and the grades stay held; the last
    # decision (the other five have landed) releases R1's grade and the team's
    first, last = printed[0], printed[-1]
    assert first[0].startswith(f"confirmed flag {ids['S1']} (self_filled_survey, rep R1, 2026-Q1) by Auditor Li: ")
    assert first[1:] == [
        "at the next run:",
        "  - 1 response(s) (S1) leave nps, csat and key_account_nps of rep R1 王伟, team T1 and the company for "
        "2026-Q1 (audit.excluded_responses)",
        "  - R1 王伟's 2026-Q1 grade stays held: 5 other holding flag(s) still undecided",
        "  - team T1's 2026-Q1 grade stays held: 5 other holding flag(s) still undecided",
    ]
    assert last[3:] == [
        "  - R1 王伟's 2026-Q1 grade is released (grade_status final, bonus coefficient of its grade)",
        "  - team T1's 2026-Q1 grade is released (grade_status final, bonus coefficient of its grade)",
    ]
    # one-line refusals, nothing written
    assert main(["review", "nope", "--confirm", "--reason", "x", *common]) == 2
    assert main(["review", ids["S1"], "--confirm", "--reason", "  ", *common]) == 2
    assert main(["review", ids["S1"], "--dismiss", "--reason", "mine", *common[2:], "--by", "王伟"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"review: unknown flag id 'nope': no flag with this id in {warehouse} (scorecard review --list)",
        "review: --reason is required: say why (it is kept with the decision in audit.flag_reviews)",
        "review: reviewer '王伟' is the flagged rep R1 (by name): a rep cannot decide on a flag about themselves",
    ]
    assert len(list(folder.glob("*.csv"))) == 7
    (landing / "review" / "flag_decisions" / "by-hand.csv").write_text(
        "flag_id,decision,reviewer,decided_at,reason\n"
        "no-such-flag,confirmed,Auditor Li,2026-07-01T11:00:00+08:00,typo\n"
        f"{ids['S1']},dismissed,王伟,2026-07-01T11:00:00+08:00,not me\n"  # the flagged rep, by name
        f"{ids['S2']},dismissed,Auditor Wu,2026-07-01T11:00:00+08:00,\n",  # no reason
        encoding="utf-8",
    )


def _decisions_reach_the_figures(warehouse: Path, run_id: str, lines: list[str]) -> None:
    """After the second run: S1..S6 are out of R1's, the team's and the company's survey figures; R1's grade
    is recomputed (no longer held), and the three bad decisions are quarantined with their reasons."""
    team = HOSTILE_TEAM  # T1 under its hostile id since this run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(
            "select entity, files, rows_in, accepted, quarantined from audit.run_counts "
            "where run_id = ? and entity = 'review/flag_decisions'",
            [run_id],
        ).fetchall() == [("review/flag_decisions", 8, 10, 7, 3)]
        reasons = sorted(
            r[0].split(":")[0] + ":" + r[0].split(":")[1]
            for r in con.execute(
                "select reason from audit.quarantine where run_id = ? and source = 'review/flag_decisions'", [run_id]
            ).fetchall()
        )
        assert reasons == [
            "missing required value: reason",
            "review: reviewer_is_flagged_rep",
            "review: unknown_flag_id",
        ], reasons
        flags = con.execute(
            "select response_id, review_status, reviewed_by, decided_at, excluded_responses from marts.anomaly_flags "
            "order by response_id"
        ).fetchall()
        assert [f[1:3] for f in flags] == [("confirmed", "Auditor Li")] * 6
        assert {str(f[3]) for f in flags} == {"2026-07-01 02:00:00"} and all(f[4] == 1 for f in flags)
        assert con.execute("select count(*), count(distinct decision_id) from audit.flag_reviews").fetchone() == (7, 7)
        assert con.execute(
            "select string_agg(response_id, ',' order by response_id) from audit.excluded_responses "
            "where period = '2026-Q1'"
        ).fetchone() == ("S1,S2,S3,S4,S5,S6",)
        # NPS without S1..S6: S7 promoter, S8 S9 passives, S10 S11 S12 detractors: (1 - 3) / 6 = -33.33 for
        # R1, for its team (R2 has no survey) and for the company; 6 < 10 responses: insufficient.
        # csat: S7 5 and S12 4 of 6 = 33.33 %; key_account_nps: only S11 (C1, score 5) is left: -100.
        unmasked = {
            (level, indicator): (n, d, round(v, 2), size, ok)
            for level, indicator, n, d, v, size, ok in con.execute(
                "select level, indicator, numerator, denominator, value, sample_size, is_sufficient "
                "from audit.indicator_values where period = '2026-Q1' and subject_id in ('R1', ?, 'company') "
                "and indicator in ('nps', 'csat', 'key_account_nps')",
                [team],
            ).fetchall()
        }
        for level in ("rep", "team", "company"):
            assert unmasked[(level, "nps")] == (-2, 6, -33.33, 6, False), level
            assert unmasked[(level, "csat")] == (2, 6, 33.33, 6, True), level
        assert unmasked[("rep", "key_account_nps")] == (-1, 1, -100.0, 1, False)
        grades = {
            r[0]: r[1:]
            for r in con.execute(
                "select subject_id, final_score, grade, bonus_coefficient, grade_status, open_flags, "
                "confirmed_flags, excluded_responses, rank_overall from marts.scorecard where period = '2026-Q1'"
            ).fetchall()
        }
        # R1: sales 120 x .3 + referral 40 x .15 + accuracy 60 x .2 = 54 over 0.65 < 0.70: not graded any more
        # (with the six responses: (36 + 16 + 6 + 12) / 0.85 = 82.35, good)
        assert grades["R1"] == (None, "insufficient_data", None, "final", 0, 6, 6, None)
        # the team: 92 x .3 + 60 x .15 + 60 x .2 + 40 x .15 = 54.6 over 0.80 = 68.25 (70.60 with them); released
        assert grades[team] == (Decimal("68.25"), "needs_improvement", Decimal("0.8"), "final", 0, 6, 6, 1)
        # the score statement: one line per confirmed flag, for R1 and for its team
        ids = dict(con.execute("select flag_id, response_id from marts.anomaly_flags").fetchall())
        for subject in ("R1", team):
            steps = con.execute(
                "select explanation from marts.score_statement where period = '2026-Q1' and subject_id = ? "
                "and step = 'excluded_responses' order by step_no",
                [subject],
            ).fetchall()
            assert steps == [
                (
                    f"confirmed self_filled_survey {flag}: 1 survey response(s) of rep R1 excluded from nps, csat and "
                    "key_account_nps",
                )
                for flag in sorted(ids)
            ], subject
    # the reports: the directors' one says what was removed; the auditors' one leads with the (empty) queue
    # and logs the seven decisions (S6's dismissal superseded) and the three rejected ones
    reports = warehouse.parent / "reports"
    director = html.unescape(
        re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", (reports / "director" / "2026-Q1.html").read_text(encoding="utf-8"))
        )
    )
    assert "0 flag(s) not decided yet, 6 confirmed, 0 dismissed; 6 survey answer(s) removed" in director
    assert "6 confirmed: 6 survey answer(s) removed from the figures (reviewed by Auditor Li)" in director
    assert "grades held for review 0" in director
    auditor = html.unescape(
        re.sub(
            r"\s+", " ", re.sub(r"<[^>]+>", " ", (reports / "auditor" / f"{run_id}.html").read_text(encoding="utf-8"))
        )
    )
    assert "Review queue: 0 open flags" in auditor and "Decision log: 7 decisions" in auditor
    log = auditor[auditor.index("Decision log: 7 decisions") : auditor.index("Decisions rejected by this run: 3")]
    assert log.count(" superseded ") == 1 and log.count(" yes ") == 6
    assert "  anomaly flags: 6 (0 open, 6 confirmed, 0 dismissed; queue: scorecard review --list --open)" in lines
    assert "  survey responses excluded by confirmed flags: 6 (audit.excluded_responses)" in lines
    assert not any(line.startswith("  grades held") for line in lines)
