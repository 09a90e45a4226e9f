"""The analysis marts (SCORING.md "Analysis marts"), the score statement and small-cell protection on a
hand-made raw layer, every expected figure worked out by hand in the comments.

2026-Q1, as-of 2026-03-31 23:59:59 Asia/Shanghai. Published scheme (PUBLISHED_SCHEME): mature teams are
graded on sales_attainment 0.8 (cap 120) + nps 0.2 (value), new_business teams on sales_attainment 1.0.

  T1 mature, East:        A1, A2, A3        T2 new_business, West: B1, B2        T3 mature, East: C1

Third-party surveys (nps promoters - detractors / responses; csat 4-5 / responses with a csat):
  A1 12 answers: 9 x 10 (csat 5), 1 x 8 (csat 4), 2 x 3 (csat 2)   nps 7/12 = 58.33   csat 10/12 = 83.33
  A2  7 answers: 6 x 10, 1 x 0, no csat                            nps 5/7 = 71.43 (below k 10: hidden)
  A3 15 answers: 9 x 9 (5), 3 x 7 (4), 3 x 5 (2)                   nps 6/15 = 40      csat 12/15 = 80
  B1  3 answers: 2 x 10 (5), 1 x 8 (5)                             nps 2/3 = 66.67 (hidden), csat 3/3 (hidden)
  C1 20 answers: 10 x 10 (5), 5 x 7 (4), 5 x 2 (2)                 nps 5/20 = 25      csat 15/20 = 75
  T1 = 18/34 = 52.94; T2 = B1's = 66.67; T3 = 25; company 25/57 = 43.86.
The published scheme sets survey.anonymity_k to 10 (the default is 5), so that the small figures here
exercise every step of the complementary suppression (int_analysis_disclosure):
  nps: in T1 only A2 hides answers, so T1 - A1 - A3 would give A2 back: A1 (12 < 15 answers; both count
  in a composite) is hidden too. T2 (3 answers) is hidden itself, and as the only hidden team the company
  (always published) minus T1 and T3 would give it: T1, which holds hidden reps, is hidden too (T3 holds
  none: its figure is C1's). Hidden figures count in no composite: A1 and T1 are graded on
  sales_attainment alone.
  csat: T2 (3) is the only hidden team again, and no team holds a hidden rep with answers (A2 has no csat):
  T3 (20 < 27 answers, csat is not weighted) is hidden with its rep C1.
Deals (won, Q1) and targets (2026-Q1): A1 120 (soft, new customer CA1) / 100; A2 50 (soft) / 100;
A3 100 (serv) / 100; B1 300 (soft, new customer CB1) / 200; B2 100 (serv) / 200; C1 80 (serv) / 100.
Interactions: A1 10 answered in 1 h; A2 8 in 1 h and 2 in 6 h; A3 5 in 1 h and 5 in 6 h (SLA 4 h).
Complaints: A1 K1 K2 service, K3 billing; A3 K4 service, K5 product; B1 K6 delivery; C1 K7 service,
K8 billing (K9 is an inquiry). Improvement actions: K1 done early and confirmed; K2 open past due;
K4 open, due after as-of; K5 done late, not confirmed.
"""

from __future__ import annotations

import atexit
import functools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.scheme_tables import write_cfg_tables
from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.file import load_scheme
from orchestration.warehouse import connect, ensure_audit_tables

from ..shared import once
from .test_dbt_models import create_raw_tables, insert, local_noon_utc

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
AS_OF_UTC = "2026-03-31 15:59:59"  # 2026-03-31 23:59:59 Asia/Shanghai
BANDS = """grades:
  - {label: excellent, min: 90, bonus_coefficient: 1.2}
  - {label: good, min: 80, bonus_coefficient: 1.0}
  - {label: needs_improvement, min: null, bonus_coefficient: 0.8}
"""
PUBLISHED_SCHEME = (
    """timezone: Asia/Shanghai
grain: quarter
survey: {anonymity_k: 10}
schemes:
  mature:
    weights: {sales_attainment: 0.8, nps: 0.2}
    scoring: {sales_attainment: {method: value, cap: 120}}
  new_business:
    weights: {sales_attainment: 1.0}
    scoring: {sales_attainment: {method: value, cap: 120}}
"""
    + BANDS
)
ANALYSIS_MARTS = [
    "score_statement",
    "team_shortfalls",
    "rep_feedback",
    "complaint_pareto",
    "improvement_tracking",
    "sales_breakdown",
]


def build_raw_layer(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)
    insert(
        con,
        "crm__teams",
        [
            {"team_id": "T1", "team_name": "华东一组", "region": "East", "business_stage": "mature"},
            {"team_id": "T2", "team_name": "West", "region": "West", "business_stage": "new_business"},
            {"team_id": "T3", "team_name": "华东二组", "region": "East", "business_stage": "mature"},
        ],
    )
    reps = [("A1", "T1", "王芳"), ("A2", "T1", "Li Na"), ("A3", "T1", "陈静"), ("B1", "T2", "Bo"), ("B2", "T2", "Bai"),
            ("C1", "T3", "Cao")]
    insert(con, "crm__reps", [{"rep_id": r, "rep_name": n, "team_id": t, "hired_on": date(2024, 1, 1)}
                              for r, t, n in reps])
    customers = [("CA1", "A1", date(2026, 2, 1)), ("CA2", "A2", date(2025, 1, 1)), ("CA3", "A3", date(2025, 1, 1)),
                 ("CB1", "B1", date(2026, 1, 15)), ("CB2", "B2", date(2025, 6, 1)), ("CC1", "C1", date(2025, 6, 1))]
    insert(
        con,
        "crm__customers",
        [{"customer_id": c, "customer_name": c, "region": "any", "segment": "standard", "acquired_on": d,
          "acquisition_channel": "inbound", "owner_rep_id": o} for c, o, d in customers],
    )
    deals = [("DA1", "CA1", "A1", "soft", 120), ("DA2", "CA2", "A2", "soft", 50), ("DA3", "CA3", "A3", "serv", 100),
             ("DB1", "CB1", "B1", "soft", 300), ("DB2", "CB2", "B2", "serv", 100), ("DC1", "CC1", "C1", "serv", 80)]
    insert(
        con,
        "crm__deals",
        [{"deal_id": d, "customer_id": c, "rep_id": r, "product_line": p, "stage": "won", "amount": a,
          "closed_on": date(2026, 2, 10), "collected_amount": a} for d, c, r, p, a in deals],
    )
    targets = {"A1": 100, "A2": 100, "A3": 100, "B1": 200, "B2": 200, "C1": 100}
    insert(con, "crm__targets", [{"period": "2026-Q1", "rep_id": r, "sales_target": t} for r, t in targets.items()])

    invitations, responses = [], []
    answers = {  # rep: (customer, [(nps, csat, how many)])
        "A1": ("CA1", [(10, 5, 9), (8, 4, 1), (3, 2, 2)]),
        "A2": ("CA2", [(10, None, 6), (0, None, 1)]),
        "A3": ("CA3", [(9, 5, 9), (7, 4, 3), (5, 2, 3)]),
        "B1": ("CB1", [(10, 5, 2), (8, 5, 1)]),
        "C1": ("CC1", [(10, 5, 10), (7, 4, 5), (2, 2, 5)]),
    }
    for rep, (customer, groups) in answers.items():
        n = 0
        for score, csat, count in groups:
            for _ in range(count):
                n += 1
                rid = f"S{rep}{n:02d}"
                # one answer a day from 2026-02-02: no burst of top scores for speeder_burst to flag (a held
                # grade would carry no bonus coefficient; flags and reviews are tested in test_dbt_reviews)
                day = (date(2026, 2, 1) + timedelta(days=n)).isoformat()
                invitations.append({"invitation_id": f"I{rid}", "customer_id": customer, "rep_id": rep,
                                    "channel": "third_party", "sent_at": local_noon_utc(day) - timedelta(days=2)})
                responses.append({"response_id": rid, "invitation_id": f"I{rid}", "responded_at": local_noon_utc(day),
                                  "nps": score, "csat": csat})
    insert(con, "survey__invitations", invitations)
    insert(con, "survey__responses", responses)

    interactions = []
    for rep, customer, late in (("A1", "CA1", 0), ("A2", "CA2", 2), ("A3", "CA3", 5)):
        for i in range(10):
            contacted = local_noon_utc("2026-02-20") + timedelta(days=i)
            hours = 6 if i < late else 1
            interactions.append({"interaction_id": f"N{rep}{i}", "rep_id": rep, "customer_id": customer,
                                 "channel": "phone", "customer_contacted_at": contacted,
                                 "rep_responded_at": contacted + timedelta(hours=hours)})
    insert(con, "crm__interactions", interactions)

    tickets = [("K1", "CA1", "A1", "complaint", "service"), ("K2", "CA1", "A1", "complaint", "service"),
               ("K3", "CA1", "A1", "complaint", "billing"), ("K4", "CA3", "A3", "complaint", "service"),
               ("K5", "CA3", "A3", "complaint", "product"), ("K6", "CB1", "B1", "complaint", "delivery"),
               ("K7", "CC1", "C1", "complaint", "service"), ("K8", "CC1", "C1", "complaint", "billing"),
               ("K9", "CC1", "C1", "inquiry", "service")]
    opened = local_noon_utc("2026-03-02")
    insert(
        con,
        "tickets__tickets",
        [{"ticket_id": k, "customer_id": c, "rep_id": r, "type": t, "category": cat, "severity": "medium",
          "opened_at": opened, "resolved_at": opened + timedelta(hours=2)} for k, c, r, t, cat in tickets],
    )
    actions = [("IA1", "A1", "CA1", "K1", date(2026, 3, 10), date(2026, 3, 9), True),
               ("IA2", "A1", "CA1", "K2", date(2026, 3, 20), None, None),
               ("IA4", "A3", "CA3", "K4", date(2026, 4, 15), None, None),
               ("IA5", "A3", "CA3", "K5", date(2026, 3, 1), date(2026, 3, 5), False)]
    insert(
        con,
        "crm__improvement_actions",
        [{"action_id": a, "rep_id": r, "customer_id": c, "ticket_id": k, "issue_type": "service",
          "measure": "call back", "due_on": due, "completed_on": done, "customer_confirmed": ok}
         for a, r, c, k, due, done, ok in actions],
    )


def run_dbt(warehouse: Path, tmp: Path, args: list[str], vars_: dict) -> None:
    """dbt in a subprocess: an in-process dbt-duckdb keeps its connection to the file open, and the
    read-only connections of the report and the what-if could not open it beside that one."""
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [str(dbt) if dbt.exists() else "dbt", *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir",
           str(DBT_PROJECT), "--vars", json.dumps(vars_), "--target-path", str(tmp / "target"), "--log-path",
           str(tmp / "logs")]
    env = {**os.environ, "SCORECARD_WAREHOUSE": str(warehouse)}
    proc = subprocess.run(cmd, cwd=DBT_PROJECT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"dbt {args[0]} failed:\n" + "\n".join(proc.stdout.splitlines()[-40:])


@functools.cache
def handmade_warehouse(language: str = "en") -> Path:
    """Built once per test session and language (shared by the analysis-marts, director-report and what-if
    tests, whichever xdist worker runs them: tests/shared.py): the raw layer above, the published scheme's
    cfg tables (with `report: {language: ...}`), the analysis marts with their ancestors, and a published run
    in audit.runs (as `scorecard run` records it). Each process gets its own copy of the warehouse file,
    in a folder of its own (the tests write reports beside it)."""
    built, _ = once(f"analysis-marts-{language}", lambda tmp: _build_handmade_warehouse(tmp, language))
    tmp = Path(tempfile.mkdtemp(prefix="analysis-marts-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    # the copy keeps the name: DuckDB names the database after the file, and dbt's views refer to it
    warehouse = tmp / "warehouse" / "scorecard.duckdb"
    warehouse.parent.mkdir()
    shutil.copy2(built / "warehouse" / "scorecard.duckdb", warehouse)
    return warehouse


def _build_handmade_warehouse(tmp: Path, language: str) -> None:
    # the scheme file stays in the shared folder: audit.runs.config names it (the reports read its language)
    scheme_file = tmp / "published.yml"
    scheme_file.write_text(PUBLISHED_SCHEME + f"report: {{language: {language}}}\n", encoding="utf-8")
    warehouse = tmp / "warehouse" / "scorecard.duckdb"
    warehouse.parent.mkdir()
    scheme = load_scheme(scheme_file)
    with connect(warehouse) as con:
        build_raw_layer(con)
        write_cfg_tables(con, scheme)
    # `dbt run`, not build: the marts' unit tests and data tests run in every `dbt build` (the nightly job,
    # test_dbt_models); the figures are checked here, by hand
    selection = [f"+{m}" for m in ["scorecard", "indicator_values", *ANALYSIS_MARTS]]
    run_dbt(warehouse, tmp, ["run", "--select", *selection], dbt_vars(scheme, AS_OF_UTC))
    with connect(warehouse) as con:
        ensure_audit_tables(con)
        con.execute(
            "insert into audit.runs (run_id, started_at, finished_at, as_of, status, published, config) "
            "values ('handmade', ?, ?, ?, 'succeeded', true, ?)",
            [datetime(2026, 4, 1, 0, 0), datetime(2026, 4, 1, 0, 1), datetime.fromisoformat(AS_OF_UTC),
             str(scheme_file)],
        )
        con.execute("checkpoint")  # everything in the file itself: the tests copy the file alone


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(str(handmade_warehouse()), read_only=True)
    yield c
    c.close()


def rows(con, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


# --- small-cell protection ------------------------------------------------------------------------------


def test_complementary_suppression_hides_one_more_cell(con):
    got = {
        (lvl, s, ind): (value, numerator, n, disclosure)
        for lvl, s, ind, value, numerator, n, disclosure in rows(
            con,
            "select level, subject_id, indicator, value, numerator, sample_size, disclosure "
            "from marts.indicator_values "
            "where indicator in ('nps', 'csat')",
        )
    }
    # primary: fewer than anonymity_k (10) answers, at rep and team level
    assert got[("rep", "A2", "nps")] == (None, None, 7, "small_sample")
    assert got[("rep", "B1", "nps")] == (None, None, 3, "small_sample")
    assert got[("rep", "B1", "csat")] == (None, None, 3, "small_sample")
    assert got[("team", "T2", "nps")] == (None, None, 3, "small_sample")
    assert got[("team", "T2", "csat")] == (None, None, 3, "small_sample")
    # complementary, reps: T1 - A3 would give A1 + A2, not A2 alone
    assert got[("rep", "A1", "nps")] == (None, None, 12, "complementary")
    assert got[("rep", "A3", "nps")] == (pytest.approx(40.0), Decimal(6), 15, "published")
    # complementary, teams: company - T3 gives T1 + T2, not T2 alone; T1 is not the sum of published reps
    assert got[("team", "T1", "nps")] == (None, None, 34, "complementary")
    assert got[("team", "T3", "nps")] == (pytest.approx(25.0), Decimal(5), 20, "published")
    assert got[("company", "company", "nps")] == (pytest.approx(2500 / 57), Decimal(25), 57, "published")
    # csat: T3 goes with its only rep C1 (else T3 = C1 published, and company - T1 - T3 = T2)
    assert got[("team", "T3", "csat")] == (None, None, 20, "complementary")
    assert got[("rep", "C1", "csat")] == (None, None, 20, "complementary")
    assert got[("team", "T1", "csat")] == (pytest.approx(2200 / 27), Decimal(22), 27, "published")
    assert got[("rep", "A1", "csat")] == (pytest.approx(1000 / 12), Decimal(10), 12, "published")
    # company csat: (10 + 12 + 3 + 15) / (12 + 15 + 3 + 20) = 40 / 50
    assert got[("company", "company", "csat")] == (pytest.approx(80.0), Decimal(40), 50, "published")
    # what a reader can still subtract: the published figures never isolate one hidden figure
    company = got[("company", "company", "nps")][1]
    assert company - got[("team", "T3", "nps")][1] == 20  # T1 (18) + T2 (2): two hidden teams
    assert got[("rep", "A3", "nps")][1] == 6  # T1 - A3 = A1 + A2, with T1 itself unknown
    # auditors keep the full figures
    audit = dict(rows(con, "select subject_id, value from audit.indicator_values where indicator = 'nps' "
                           "and subject_id in ('A1', 'A2', 'T1', 'T2')"))
    assert audit == {"A1": pytest.approx(700 / 12), "A2": pytest.approx(500 / 7), "T1": pytest.approx(1800 / 34),
                     "T2": pytest.approx(200 / 3)}


def test_hidden_scores_count_in_no_composite(con):
    a1 = rows(con, "select nps_score, sales_attainment_score, coverage, composite_score, final_score, grade "
                   "from marts.scorecard where subject_id = 'A1'")
    # A1's nps (complementary) is left out: 0.8 x 120 (cap) / 0.8 = 120, not 0.8 x 120 + 0.2 x 58.33 = 107.67
    assert a1 == [(None, Decimal("120"), Decimal("0.8"), Decimal("120"), Decimal("120.00"), "excellent")]
    a3 = rows(con, "select nps_score, final_score, grade from marts.scorecard where subject_id = 'A3'")
    assert a3 == [(Decimal("40"), Decimal("88.00"), "good")]  # 0.8 x 100 + 0.2 x 40
    # T1: sales 270 / 300 = 90, nps hidden: 90.00 excellent (with its nps 52.94 it would be 82.59 good)
    t1 = rows(con, "select nps_score, coverage, final_score, grade from marts.scorecard where subject_id = 'T1'")
    assert t1 == [(None, Decimal("0.8"), Decimal("90.00"), "excellent")]


# --- score statement ------------------------------------------------------------------------------------


def test_score_statement_steps_add_up_to_the_scorecard(con):
    steps = rows(
        con,
        "select step_no, step, indicator, amount, grade, disclosure, counts_in_composite, explanation "
        "from marts.score_statement where subject_id = 'A1' order by step_no",
    )
    assert [(s[0], s[1], s[2]) for s in steps] == [
        (1, "indicator", "sales_attainment"), (2, "indicator", "nps"), (3, "weighted_sum", None),
        (4, "coverage", None), (5, "composite", None), (6, "progress", None), (7, "adjustment", None),
        (8, "final_score", None), (9, "grade", None), (10, "bonus_coefficient", None),
    ]
    amounts = {s[1] if s[1] != "indicator" else s[2]: s[3] for s in steps}
    assert amounts["sales_attainment"] == Decimal("96")  # 0.8 x 120
    # the nps step is hidden (complementary), and left out of the composite
    assert amounts["nps"] is None and steps[1][5] == "complementary" and steps[1][6] is False
    assert steps[1][7] == (
        "nps: hidden so that another subject's small survey sample cannot be worked out; left out of the composite"
    )
    assert amounts["weighted_sum"] == Decimal("96")  # sales_attainment alone
    assert amounts["coverage"] == Decimal("0.8")
    assert amounts["composite"] == Decimal("120")  # 96 / 0.8
    assert (amounts["progress"], amounts["adjustment"], amounts["final_score"]) == (0, 0, Decimal("120.00"))
    assert steps[8][4] == "excellent" and amounts["grade"] == Decimal(90)
    assert amounts["bonus_coefficient"] == Decimal("1.2")
    assert steps[7][7] == "round(composite + progress + adjustment = 120.0000000000, 2), half-up = 120.00"
    # unmasked, every subject's indicator amounts add up to its weighted sum, and the whole statement to
    # the scorecard (what the dbt test analysis_score_statement_matches_scorecard checks in every build)
    mismatches = rows(
        con,
        """
        with steps as (select * from intermediate.int_analysis_score_steps),
        sums as (select period, level, subject_id, sum(amount) as total from steps
                 where step = 'indicator' and counts_in_composite group by all),
        summary as (select period, level, subject_id,
                           max(case when step = 'weighted_sum' then amount end) as weighted_sum,
                           max(case when step = 'composite' then amount end) as composite,
                           max(case when step = 'final_score' then amount end) as final_score
                    from steps group by all)
        select * from summary
        left join sums using (period, level, subject_id)
        join marts.scorecard s using (period, level, subject_id)
        where summary.weighted_sum is distinct from sums.total
           or summary.composite is distinct from s.composite_score
           or summary.final_score is distinct from s.final_score
        """,
    )
    assert mismatches == []
    assert rows(con, "select count(distinct subject_id) from marts.score_statement") == [(9,)]  # 6 reps, 3 teams


# --- rep feedback, team shortfalls ----------------------------------------------------------------------


def test_rep_feedback_sentences(con):
    got = rows(con, "select rep_id, feedback_type, position, sentence from marts.rep_feedback "
                    "where rep_id in ('A1', 'A3') order by rep_id, feedback_type, position")
    assert got == [
        # strengths: all 1st; response_sla_rate and sales_attainment lead by 20 of 100 (tie: by name), csat by 1.7
        ("A1", "strength", 1, "Response within SLA: 1st of 3 in team (100.0 %; team median 80.0 %)"),
        ("A1", "strength", 2, "Sales attainment: 1st of 3 in team (120.0 %; team median 100.0 %)"),
        ("A1", "strength", 3, "Customer satisfaction: 1st of 2 in team (83.3 %; team median 81.7 %)"),
        # improvement: gaps as a share of the scale: hours 2.5 of the team's largest 3.5; 30 of 100; 1.7 of 100
        ("A3", "improvement", 1, "Median response time: 3.5 h against a team median of 1.0 h, 2.5 h above "
                                 "(3rd of 3 in team)"),
        ("A3", "improvement", 2, "Response within SLA: 50.0 % against a team median of 80.0 %, 30.0 points below "
                                 "(3rd of 3 in team)"),
        ("A3", "improvement", 3, "Customer satisfaction: 80.0 % against a team median of 81.7 %, 1.7 points below "
         "(2nd of 2 in team)"),
    ]
    # hidden survey figures are never ranked or mentioned: A1's and A2's nps, B1's nps and csat
    assert rows(con, "select count(*) from marts.rep_feedback where (rep_id in ('A1', 'A2') and indicator = 'nps') "
                     "or (rep_id = 'B1' and indicator in ('nps', 'csat'))") == [(0,)]
    # A3's nps is the only published one in T1: nothing to compare it with
    assert rows(con, "select count(*) from marts.rep_feedback where indicator = 'nps'") == [(0,)]


def test_team_shortfalls_against_the_company(con):
    got = rows(con, "select team_id, indicator, team_value, reference_value, gap, relative_gap, team_rank, "
                    "teams_ranked, weight from marts.team_shortfalls where indicator = 'sales_attainment' order by 1")
    # company 750 / 800 = 93.75; T1 270 / 300 = 90 (2nd of 3), T3 80 / 100 = 80 (3rd); T2 100 is above
    assert [(t, i) for t, i, *_ in got] == [("T1", "sales_attainment"), ("T3", "sales_attainment")]
    t1, t3 = got
    assert t1[2:] == (pytest.approx(90), pytest.approx(93.75), pytest.approx(3.75), pytest.approx(0.04), 2, 3,
                      Decimal("0.8"))
    assert t3[2:] == (pytest.approx(80), pytest.approx(93.75), pytest.approx(13.75), pytest.approx(13.75 / 93.75), 3,
                      3, Decimal("0.8"))
    # the company's nps and csat are published; T1's nps and T2's are hidden (never compared), T3's csat too;
    # T3's nps 25 against the company's 25 / 57 = 43.86: gap 18.86, relative 1 - 25 / (2500 / 57) = 0.43;
    # T1's csat 81.48 is above the company's 80
    got = rows(con, "select team_id, indicator, team_value, reference_value, gap, relative_gap, team_rank, "
                    "teams_ranked from marts.team_shortfalls where indicator in ('nps', 'csat')")
    assert got == [("T3", "nps", pytest.approx(25.0), pytest.approx(2500 / 57), pytest.approx(18.859649),
                    pytest.approx(0.43), 1, 1)]
    # worst first within a team, numbered 1..n
    ranks = rows(con, "select team_id, list(shortfall_rank order by shortfall_rank) from marts.team_shortfalls "
                      "group by team_id order by team_id")
    assert all(r == list(range(1, len(r) + 1)) for _, r in ranks)


# --- complaints, improvement actions, sales -------------------------------------------------------------


def test_complaint_pareto_company_and_team(con):
    got = rows(con, "select level, subject_id, category, pareto_rank, complaint_count, total_complaints, share, "
                    "cumulative_share, is_vital_few from marts.complaint_pareto "
                    "order by level, subject_id, pareto_rank")
    assert got == [
        # 8 complaints (the inquiry K9 does not count): 4 / 2 / 1 / 1; delivery before product by name; the
        # categories before delivery cover 75 % < 80 %: it is vital; product (87.5 % before) is not
        ("company", "company", "service", 1, 4, 8, 50.0, 50.0, True),
        ("company", "company", "billing", 2, 2, 8, 25.0, 75.0, True),
        ("company", "company", "delivery", 3, 1, 8, 12.5, 87.5, True),
        ("company", "company", "product", 4, 1, 8, 12.5, 100.0, False),
        # T1: 3 / 1 / 1 of 5; billing reaches exactly 80 % (vital), product starts at 80 % (not)
        ("team", "T1", "service", 1, 3, 5, 60.0, 60.0, True),
        ("team", "T1", "billing", 2, 1, 5, 20.0, 80.0, True),
        ("team", "T1", "product", 3, 1, 5, 20.0, 100.0, False),
        ("team", "T2", "delivery", 1, 1, 1, 100.0, 100.0, True),
        ("team", "T3", "billing", 1, 1, 2, 50.0, 50.0, True),
        ("team", "T3", "service", 2, 1, 2, 50.0, 100.0, True),
    ]


def test_improvement_tracking_flags_and_rates(con):
    per_complaint = dict(
        (k, v) for k, *v in rows(
            con,
            "select subject_id, is_action_taken, is_overdue, is_completed, is_confirmed "
            "from marts.improvement_tracking "
            "where level = 'complaint'",
        )
    )
    assert per_complaint["K1"] == [True, False, True, True]  # done before due, confirmed
    assert per_complaint["K2"] == [True, True, False, False]  # open, due 03-20 < as-of 03-31
    assert per_complaint["K3"] == [False, False, False, False]  # no action
    assert per_complaint["K4"] == [True, False, False, False]  # open, due after as-of
    assert per_complaint["K5"] == [True, True, True, False]  # done 4 days late, not confirmed
    assert "K9" not in per_complaint  # an inquiry
    rates = rows(con, "select subject_id, complaints, with_action, overdue, completed, confirmed, action_rate, "
                      "overdue_rate, completion_rate, confirmation_rate from marts.improvement_tracking "
                      "where level in ('team', 'company') order by level, subject_id")
    assert rates == [
        ("company", 8, 4, 2, 2, 1, 50.0, 50.0, 50.0, 50.0),
        ("T1", 5, 4, 2, 2, 1, 80.0, 50.0, 50.0, 50.0),
        ("T2", 1, 0, 0, 0, 0, 0.0, None, None, None),
        ("T3", 2, 0, 0, 0, 0, 0.0, None, None, None),
    ]


def test_sales_breakdown_against_region_targets(con):
    got = rows(con, "select level, region, product_line, customer_type, won_amount, target, attainment, "
                    "target_contribution from marts.sales_breakdown "
                    "order by level, region, product_line, customer_type")
    assert got == [
        # East = T1 + T3 (targets 300 + 100), West = T2 (400)
        ("cell", "East", "serv", "existing", Decimal("180"), None, None, 45.0),  # A3 100 + C1 80
        ("cell", "East", "soft", "existing", Decimal("50"), None, None, 12.5),  # A2, CA2 acquired 2025
        ("cell", "East", "soft", "new", Decimal("120"), None, None, 30.0),  # A1, CA1 acquired 2026-02-01
        ("cell", "West", "serv", "existing", Decimal("100"), None, None, 25.0),
        ("cell", "West", "soft", "new", Decimal("300"), None, None, 75.0),  # CB1 acquired 2026-01-15
        ("company", None, None, None, Decimal("750"), Decimal("800"), 93.75, None),
        ("region", "East", None, None, Decimal("350"), Decimal("400"), 87.5, 87.5),
        ("region", "West", None, None, Decimal("400"), Decimal("400"), 100.0, 100.0),
    ]
    # the company row agrees with the company sales_attainment indicator
    company = rows(con, "select value from marts.indicator_values where level = 'company' "
                        "and indicator = 'sales_attainment'")[0][0]
    assert math.isclose(company, 93.75)


def test_score_statement_and_feedback_in_chinese():
    """report.language zh-CN: the statement's explanations and the review sentences in Chinese (catalogue
    SENTENCES), with indicator, grade and rule names; ids and figures in their own columns unchanged."""
    with duckdb.connect(str(handmade_warehouse("zh-CN")), read_only=True) as c:
        steps = rows(c, "select step_no, step, indicator, grade, explanation from marts.score_statement "
                        "where subject_id = 'A1' order by step_no")
        feedback = rows(c, "select indicator, sentence from marts.rep_feedback where rep_id = 'A1' "
                           "and feedback_type = 'strength' and position = 1")
    assert steps[0] == (1, "indicator", "sales_attainment", None,
                        "销售目标达成率 = 120.00%（样本 1）-> 按 value 计分 120.0000，× 权重 0.8000 = 96.0000")
    assert steps[1] == (2, "indicator", "nps", None,
                        "净推荐值：已隐藏，以免推算出其他对象的小样本问卷数据；不计入综合得分")
    assert steps[6][4] == "经理调整 0.00 = 0.00 分（最多 +-5.0）"
    assert steps[7][4] == "round(综合得分 + 进步分 + 调整分 = 120.0000000000, 2)，四舍五入 = 120.00"
    assert steps[8] == (9, "grade", None, "excellent", "优秀：最终得分 120.00 达到该档下限 90.00")
    assert steps[9][4] == "优秀 档的奖金系数：1.2000"
    assert feedback == [("response_sla_rate", "响应及时率：团队内第1名，共3人（100.0%；团队中位数80.0%）")]
