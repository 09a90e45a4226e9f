"""From flag to decision, in dbt, on a hand-made raw layer (SCORING.md; docs/anomalies.md "Reviews").

Quarter grain, as-of 2026-06-30 12:00 Asia/Shanghai; one scheme (`mature`) that weighs sales_attainment
only, so that each composite is the rep's attainment. Teams T1 (RA, RB) and T2 (RC). Each rep answered
one survey of its own customer from its own registered device in 2026-Q1: three self_filled_survey
flags. The scheme's policy for that rule here is hold, then penalty 2.5 points (raw.cfg_anomaly_policy).

Decisions (raw.review__flag_decisions):
  RA's flag   confirmed by Auditor Li 04-02                         -> penalty 2.5
  RB's flag   confirmed by Auditor Li 04-01, dismissed by Director Zhao 04-03 -> the latest: dismissed
  RC's flag   confirmed by ' RC@Example.com' (RC's own e-mail, other case and a space) -> rejected
  'no-such-flag' confirmed                                           -> rejected, unknown flag id

By hand (won / target 100): RA 90 -> 90 - 2.5 = 87.50 good 1.0 (excellent 1.2 without the penalty);
RB 95.00 excellent 1.2; RC 88.00 good, held (its flag is open) so no bonus coefficient. Ranks overall
RB 1, RC 2, RA 3 (the penalty moves RA from 2nd to 3rd); in T1 RB 1, RA 2. T1: (90 + 95) / 200 = 92.50
excellent 1.2, final (its reps' flags are decided; penalties are the rep's alone); T2: 88.00 good, held.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import INDICATOR_IDS

from .test_dbt_models import create_raw_tables, dbt_build, insert

AS_OF = "2026-06-30 04:00:00"
SELECT = ["+scorecard", "+score_statement", "+anomaly_flags", "+audit_flag_reviews", "+audit_excluded_responses"]
REPS = {"RA": ("T1", 90), "RB": ("T1", 95), "RC": ("T2", 88)}


def flag_id(rep: str) -> str:
    """The stable id of the rep's self_filled_survey flag (macros/flag_reviews.sql: md5 of
    rule|rep|period|customer|response)."""
    return hashlib.md5(f"self_filled_survey|{rep}|2026-Q1|C{rep}|S{rep}".encode()).hexdigest()


def build_raw_layer(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)
    for indicator in INDICATOR_IDS:
        con.execute(
            "insert into raw.cfg_scheme_weights values ('mature', ?, ?, 'value', null, null, null, null, null, null)",
            [indicator, 1.0 if indicator == "sales_attainment" else 0],
        )
    con.execute(
        "insert into raw.cfg_grade_bands values (1, 'excellent', 90, 1.2), (2, 'good', 80, 1.0), "
        "(3, 'needs_improvement', null, 0.8)"
    )
    con.execute("insert into raw.cfg_anomaly_policy values ('self_filled_survey', 'hold', 'penalty', 2.5)")
    insert(
        con,
        "crm__teams",
        [{"team_id": t, "team_name": t, "region": "east", "business_stage": "mature"} for t in ("T1", "T2")],
    )
    insert(
        con,
        "crm__reps",
        [
            {
                "rep_id": r,
                "rep_name": f"name {r}",
                "team_id": t,
                "email": f"{r.lower()}@example.com",
                "hired_on": date(2024, 1, 1),
            }
            for r, (t, _) in REPS.items()
        ],
    )
    insert(
        con,
        "crm__customers",
        [
            {
                "customer_id": f"C{r}",
                "customer_name": f"C{r}",
                "region": "east",
                "segment": "standard",
                "acquired_on": date(2025, 1, 1),
                "acquisition_channel": "inbound",
                "owner_rep_id": r,
            }
            for r in REPS
        ],
    )
    insert(con, "crm__targets", [{"period": "2026-Q1", "rep_id": r, "sales_target": 100} for r in REPS])
    insert(
        con,
        "crm__deals",
        [
            {
                "deal_id": f"D{r}",
                "customer_id": f"C{r}",
                "rep_id": r,
                "product_line": "a",
                "stage": "won",
                "amount": won,
                "closed_on": date(2026, 2, 10),
                "collected_amount": won,
            }
            for r, (_, won) in REPS.items()
        ],
    )
    insert(con, "crm__rep_devices", [{"rep_id": r, "fingerprint": f"fp{r}"} for r in REPS])
    insert(
        con,
        "survey__invitations",
        [
            {
                "invitation_id": f"I{r}",
                "customer_id": f"C{r}",
                "rep_id": r,
                "channel": "third_party",
                "sent_at": datetime(2026, 2, 13, 4),
            }
            for r in REPS
        ],
    )
    insert(
        con,
        "survey__responses",
        [
            {
                "response_id": f"S{r}",
                "invitation_id": f"I{r}",
                "responded_at": datetime(2026, 2, 15, 4),
                "nps": 10,
                "csat": 5,
                "respondent_fingerprint": f"fp{r}",
                "duration_seconds": 120,
            }
            for r in REPS
        ],
    )
    decisions = [
        (flag_id("RA"), "confirmed", "Auditor Li", datetime(2026, 4, 2, 2), "answered from the rep's phone"),
        (flag_id("RB"), "confirmed", "Auditor Li", datetime(2026, 4, 1, 2), "looked like the rep's device"),
        (flag_id("RB"), "dismissed", "Director Zhao", datetime(2026, 4, 3, 2), "a shared demo tablet at the fair"),
        (flag_id("RC"), "confirmed", " RC@Example.com", datetime(2026, 4, 2, 2), "it was me"),
        ("no-such-flag", "confirmed", "Auditor Li", datetime(2026, 4, 2, 2), "typo"),
    ]
    insert(
        con,
        "review__flag_decisions",
        [dict(zip(("flag_id", "decision", "reviewer", "decided_at", "reason"), d, strict=True)) for d in decisions],
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """`dbt build` of the review models and marts with their tests (run_id run-1), then, on a copy, a second
    `dbt run` of the same inputs (run_id run-2) of the models that keep state between runs."""
    tmp = tmp_path_factory.mktemp("reviews")
    path = tmp / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        build_raw_layer(con)
    dbt_build(path, tmp / "one", {"as_of": AS_OF, "grain": "quarter", "run_id": "run-1"}, SELECT)
    again = tmp / "again" / "w.duckdb"  # the same file name: dbt's views name the catalog after it
    again.parent.mkdir()
    shutil.copy(path, again)
    # the models that depend on the run id or on their own earlier rows (the others are plain tables of
    # the same inputs)
    rerun = ["audit_flag_reviews", "audit_anomaly_flag_history", "anomaly_flags", "scorecard"]
    dbt_build(again, tmp / "two", {"as_of": AS_OF, "grain": "quarter", "run_id": "run-2"}, rerun, command="run")
    return path


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_scorecard_penalty_dismissal_and_hold(warehouse):
    got = rows(
        warehouse,
        "select subject_id, composite_score, penalty_points, final_score, grade, bonus_coefficient, grade_status, "
        "open_flags, confirmed_flags, rank_in_team, rank_overall from marts.scorecard where period = '2026-Q1' "
        "order by level, subject_id",
    )
    d = Decimal
    assert got == [
        ("RA", d(90), d("2.5"), d("87.50"), "good", d("1.0"), "final", 0, 1, 2, 3),
        ("RB", d(95), d(0), d("95.00"), "excellent", d("1.2"), "final", 0, 0, 1, 1),
        ("RC", d(88), d(0), d("88.00"), "good", None, "held", 1, 0, 1, 2),
        ("T1", d("92.5"), d(0), d("92.50"), "excellent", d("1.2"), "final", 0, 1, None, 1),
        ("T2", d(88), d(0), d("88.00"), "good", None, "held", 1, 0, None, 2),
    ]


def test_anomaly_flags_carry_the_effective_decision(warehouse):
    got = rows(
        warehouse,
        "select rep_id, review_status, reviewed_by, decided_at, review_reason, is_holding, penalty_points "
        "from marts.anomaly_flags order by rep_id",
    )
    assert got == [
        (
            "RA",
            "confirmed",
            "Auditor Li",
            datetime(2026, 4, 2, 2),
            "answered from the rep's phone",
            False,
            Decimal("2.5"),
        ),
        ("RB", "dismissed", "Director Zhao", datetime(2026, 4, 3, 2), "a shared demo tablet at the fair", False, 0),
        ("RC", "open", None, None, None, True, 0),
    ]
    # the score statement shows the penalty as its own line, and the final score explains it
    lines = rows(
        warehouse,
        "select step, amount, explanation from marts.score_statement where subject_id = 'RA' "
        "and step in ('penalty', 'final_score') order by step_no",
    )
    assert [(s, float(a)) for s, a, _ in lines] == [("penalty", -2.5), ("final_score", 87.5)]
    assert f"confirmed self_filled_survey {flag_id('RA')}" in lines[0][2]


def test_rejected_decisions_and_the_append_only_log(warehouse):
    rejected = rows(
        warehouse,
        "select flag_id, rejection_reason from intermediate.int_flag_decisions where not is_accepted order by flag_id",
    )
    assert sorted(rejected) == sorted(
        [
            ("no-such-flag", "unknown_flag_id: no anomaly flag has id 'no-such-flag' in this run"),
            (
                flag_id("RC"),
                "reviewer_is_flagged_rep: reviewer ' RC@Example.com' is the flagged rep RC (by email); "
                "a rep cannot decide on a flag about themselves",
            ),
        ]
    )
    # every accepted decision, the superseded one included, written once by the run that accepted it
    log = rows(
        warehouse, "select flag_id, decision, reviewer, first_run_id from audit.flag_reviews order by decided_at"
    )
    assert log == [
        (flag_id("RB"), "confirmed", "Auditor Li", "run-1"),
        (flag_id("RA"), "confirmed", "Auditor Li", "run-1"),
        (flag_id("RB"), "dismissed", "Director Zhao", "run-1"),
    ]
    assert rows(warehouse, "select count(*) from audit.excluded_responses") == [(0,)]  # penalty, not exclusion


def test_same_inputs_same_marts_and_log(warehouse):
    again = warehouse.parent / "again" / "w.duckdb"
    for table, drop in (
        ("marts.scorecard", ""),
        ("marts.anomaly_flags", " exclude (first_run_id, first_seen_at)"),
        ("audit.flag_reviews", " exclude (recorded_at)"),
    ):
        sql = f"select *{drop} from {table} order by all"
        assert rows(again, sql) == rows(warehouse, sql), table
