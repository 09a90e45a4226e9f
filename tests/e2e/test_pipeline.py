"""The whole Dagster job, in-process, on the hand-made landing folder of handmade.py.

Every expected figure is worked out by hand from the rows in handmade.py (see its comments)."""

import html
import re
from decimal import Decimal

import duckdb
import pytest

from tests.snapshots.snapshot import compare


@pytest.fixture(scope="module")
def run(handmade_run):
    """The shared first run of the hand-made folder (conftest.py), read through one read-only connection."""
    con = duckdb.connect(str(handmade_run.warehouse), read_only=True)
    yield handmade_run.outcome, con, handmade_run.lines
    con.close()


def values(con, period, level, subject):
    rows = con.execute(
        "select indicator, numerator, denominator, value, sample_size, is_sufficient from marts.indicator_values "
        "where period = ? and level = ? and subject_id = ?",
        [period, level, subject],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_run_succeeds_and_reports(run):
    outcome, con, lines = run
    assert outcome.success, outcome.failure
    # the only failures are warnings, none blocking: the three planted cross-source problems (D7, K7, S15)
    # and six Great Expectations freshness warnings (the folder's events end in Q1, as-of is 2026-06-30)
    failed = {kind: warned for kind, _, warned, blocking in outcome.checks_by_kind if warned or blocking}
    assert failed == {"cross_source": 3, "great_expectations": 6}
    assert all(blocking == 0 for *_, blocking in outcome.checks_by_kind)
    counts = {c[0]: c[2:] for c in outcome.counts}
    assert counts["survey/responses"] == (15, 15, 0, 0, 0)
    assert counts["crm/followups"] == (0, 0, 0, 0, 0)  # absent entity: empty input, the run goes on
    assert f"run {outcome.run_id}: SUCCEEDED, published" in lines
    assert "  crm/followups                    0         0         0         0       0       0  (empty input)" in lines
    assert con.execute("select status, published from audit.runs where run_id = ?", [outcome.run_id]).fetchone() == (
        "succeeded",
        True,
    )
    # periods: Q1 and Q2 (D5, S14) hold events; Q3 starts after as-of
    assert [r[0] for r in con.execute("select distinct period from marts.scorecard order by 1").fetchall()] == [
        "2026-Q1",
        "2026-Q2",
    ]


def test_rep_indicators_by_hand(run):
    _, con, _ = run
    r1 = values(con, "2026-Q1", "rep", "R1")
    # NPS: 7 promoters, 2 passives, 3 detractors of 12 counted responses; S12 answered 23:30 local on
    # 2026-03-31 (no offset) is in Q1; S14 (23:30 UTC = 07:30 local on 04-01) is not; S13 is rep-distributed.
    assert r1["nps"] == (Decimal(4), Decimal(12), pytest.approx(100 * 4 / 12), 12, True)
    assert r1["csat"][3:] == (12, True) and r1["csat"][2] == pytest.approx(100 * 8 / 12)
    # complaints: K1 resolved at exactly 24 h (in time), K2 at 24 h 1 min (late), K3 unresolved
    assert r1["complaint_resolution_24h"] == (Decimal(1), Decimal(3), pytest.approx(100 / 3), 3, False)
    # proposals: the pending one is left out: 3 fully_meets of 5 with a verdict
    assert r1["requirement_accuracy"] == (Decimal(3), Decimal(5), pytest.approx(60.0), 5, True)
    # targets per month add up to the quarter: 330,000 won / 300,000
    assert r1["sales_attainment"][:3] == (Decimal(330000), Decimal(300000), pytest.approx(110.0))
    assert r1["collection_rate"][2] == pytest.approx(100 * 265000 / 330000)
    assert r1["referral_rate"] == (Decimal(2), Decimal(5), pytest.approx(40.0), 5, True)
    assert r1["response_sla_rate"][:3] == (Decimal(3), Decimal(6), pytest.approx(50.0))
    assert r1["median_response_hours"][2:4] == (pytest.approx(4.0), 5)
    assert r1["followup_completion"] == (None, None, None, 0, False)
    # rep-level survey figure below the minimum sample: value and numerator hidden, sample size kept
    assert r1["key_account_nps"][0] is None and r1["key_account_nps"][2:4] == (None, 3)
    r2 = values(con, "2026-Q1", "rep", "R2")
    # an explicit 2026-Q1 target (200,000) wins over R2's 2026-01 row
    assert r2["sales_attainment"][:3] == (Decimal(100000), Decimal(200000), pytest.approx(50.0))
    # K6 has no rep_id: attributed to C9's owner R2; opened 23:30 local on the quarter's last day
    assert r2["complaint_resolution_24h"][:2] == (Decimal(2), Decimal(2))
    # complaint_rate: C7 (deal D3, complaint K5) and C9 (complaint K6 only) were served; both complained
    assert r2["complaint_rate"][:3] == (Decimal(2), Decimal(2), pytest.approx(100.0))
    # R1 served C1..C6 (deals, interactions, proposals); C1, C2, C3 complained
    assert r1["complaint_rate"][:3] == (Decimal(3), Decimal(6), pytest.approx(50.0))


def test_team_value_from_events_not_rep_average(run):
    _, con, _ = run
    t1 = values(con, "2026-Q1", "team", "T1")
    # (1 + 2) in time of (3 + 2) complaints = 60 %, not the mean of 33.3 % and 100 %
    assert t1["complaint_resolution_24h"] == (Decimal(3), Decimal(5), pytest.approx(60.0), 5, True)
    assert t1["sales_attainment"][:3] == (Decimal(430000), Decimal(500000), pytest.approx(86.0))
    # 5 complaining customers of the 8 the team served (distinct customers, not a mean of rep rates)
    assert t1["complaint_rate"][:3] == (Decimal(5), Decimal(8), pytest.approx(62.5))
    company = values(con, "2026-Q1", "company", "company")
    assert company["sales_attainment"][2] == pytest.approx(100 * 490000 / 620000)


def test_nps_interval(run):
    _, con, _ = run
    low, high = con.execute(
        "select nps_ci_low, nps_ci_high from marts.indicator_values "
        "where period = '2026-Q1' and level = 'rep' and subject_id = 'R1' and indicator = 'nps'"
    ).fetchone()
    p, d, n = 7 / 12, 3 / 12, 12
    half = 1.96 * 100 * ((p + d - (p - d) ** 2) / n) ** 0.5  # 48.08
    assert (low, high) == (pytest.approx(100 * 4 / 12 - half), pytest.approx(100 * 4 / 12 + half))


def test_grades_by_hand(run):
    _, con, _ = run
    rows = {
        r[0]: r[1:]
        for r in con.execute(
            "select subject_id, composite_score, coverage, adjustment_points, final_score, grade, bonus_coefficient, "
            "rank_in_team, rank_overall from marts.scorecard where period = '2026-Q1'"
        ).fetchall()
    }
    # R1 (mature): sales 110 x .30 + nps piecewise(33.3) = 80 x .20 + referral 40 x .15 + accuracy 60 x .20
    # = 67 over the sufficient weights 0.85 (complaint_resolution_24h has 3 < 5 complaints) = 78.8235...
    assert rows["R1"][1] == Decimal("0.85")
    # S1..S6 came from R1's own device: six open self_filled_survey flags hold R1's grade (and T1's, whose
    # figures hold the same responses): graded, ranked, but no bonus coefficient until they are decided
    assert rows["R1"][3:] == (Decimal("78.82"), "needs_improvement", None, 1, 1)
    # R2: only sales_attainment is sufficient (coverage .30 < .70); adjustments 4 + 3 clamped to 5
    assert rows["R2"][1:6] == (Decimal("0.3"), Decimal(5), None, "insufficient_data", None)
    # T1: 86 x .3 + 80 x .2 + 60 x .15 + 40 x .15 + 60 x .2 = 68.8 with full coverage
    assert rows["T1"][1:] == (Decimal(1), Decimal(0), Decimal("68.80"), "needs_improvement", None, None, 1)
    held = con.execute(
        "select subject_id, grade_status, open_flags, holding_flags, confirmed_flags, penalty_points "
        "from marts.scorecard where period = '2026-Q1' and grade_status = 'held' order by level, subject_id"
    ).fetchall()
    assert held == [("R1", "held", 6, 6, 0, 0), ("T1", "held", 6, 6, 0, 0)]
    flags = con.execute(
        "select response_id, rule_id, severity, strength, review_status, is_holding from marts.anomaly_flags "
        "order by response_id"
    ).fetchall()
    assert flags == [(f"S{i}", "self_filled_survey", "high", 5.0, "open", True) for i in range(1, 7)]
    clamped = con.execute("select count(*) from audit.adjustments where subject_id = 'R2' and was_clamped").fetchone()
    assert clamped == (2,)


def test_cross_source_failures_reach_the_ledger_with_business_keys(run):
    outcome, con, _ = run
    rows = con.execute(
        "select source, severity, row_key, column_name, bad_value, message, check_kind "
        "from audit.validation_failures where run_id = ? and check_kind = 'cross_source' order by row_key",
        [outcome.run_id],
    ).fetchall()
    assert rows == [
        (
            "stg_crm__deals",
            "warn",
            "D7",
            "customer_id",
            "C99",
            "customer_id C99 does not resolve to stg_crm__customers.customer_id",
            "cross_source",
        ),
        (
            "assert_ticket_rep_is_owner_or_interacted",
            "warn",
            "K7",
            "rep_id",
            "R2",
            "ticket rep R2 is not the owner (R3) of customer C8 and never interacted with the customer",
            "cross_source",
        ),
        (
            "assert_response_after_invitation_sent",
            "warn",
            "S15",
            "responded_at",
            "2026-02-09 04:00:00",
            "response answered before its invitation (I15) was sent at 2026-02-10 01:00:00 UTC",
            "cross_source",
        ),
    ]
    # warnings do not block: the marts were built and the run succeeded
    assert outcome.success
    kinds = {
        r[0]: r[1:]
        for r in con.execute(
            "select check_kind, count(*) filter (where passed), count(*) filter (where not passed) "
            "from audit.check_results where run_id = ? group by check_kind",
            [outcome.run_id],
        ).fetchall()
    }
    assert kinds["cross_source"][1] == 3 and kinds["dbt"][1] == 0 and kinds["pandera"] == (16, 0)
    # every expectation of the 16 suites (review/flag_decisions: 7, on its empty table), 6 warnings
    assert kinds["great_expectations"] == (169 - 6, 6)
    # the review checks: nothing to quarantine, no decision about a closed period
    assert kinds["review"] == (2, 0)


def _visible(path) -> str:
    """The text a reader sees in an HTML report, tags dropped, entities decoded, whitespace collapsed."""
    text = re.sub(r"<style>.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def test_reports_mark_held_grades_and_open_the_review_queue(handmade_run):
    reports = handmade_run.warehouse.parent / "reports"
    director = _visible(reports / "director" / "2026-Q1.html")
    assert "grades held for review 2" in director and "survey answers removed (confirmed flags) 0" in director
    # grade, no bonus coefficient; stages, grades and rules by name
    assert "T1 华东一组 Mature business 68.80 Needs improvement held held 1" in director
    assert (
        "R1 王伟 T1 Self-filled survey: a survey answer came from the rep's own device, or one device answered for "
        "several customers (self_filled_survey) 6 its survey answers are removed from NPS and satisfaction "
        "6 of 6 not decided yet; the grade is held (no bonus coefficient) until each is decided"
    ) in director
    page = reports / "auditor" / f"{handmade_run.outcome.run_id}.html"
    # the queue comes first, before the run summary
    assert re.findall(r"<h2>([^<]*)</h2>", page.read_text(encoding="utf-8"))[:2] == [
        "Review queue and decisions",
        "1. Run summary",
    ]
    auditor = _visible(page)
    assert "Review queue: 6 open flags, oldest first" in auditor and "Awaiting review 6" in auditor
    assert "6 of them hold their subject's grade" in auditor
    assert "Decision log: 0 decisions" in auditor and "No decision has been recorded" in auditor
    # one door: the run's status and a link to each report of the published run
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'<span class="status succeeded">succeeded</span> run <code>{handmade_run.outcome.run_id}</code>' in index
    links = re.findall(r'href="([^"]+)"', index)
    assert "auditor/latest.html" in links and "director/2026-Q1.html" in links
    assert all((reports / link).is_file() for link in links)


def test_published_tables_and_columns_match_the_snapshot(run):
    """Every published table (marts, audit) with its columns and types, snapshotted
    (tests/snapshots/published_tables.json): a rename or a dropped column shows up as a diff."""
    _, con, _ = run
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema in ('marts', 'audit') order by table_schema, table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault(f"{schema}.{table}", []).append(f"{column} {data_type}")
    compare("published_tables", {"tables": sorted(tables), **tables})
