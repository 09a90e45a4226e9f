"""Pending events (SCORING.md "Precise readings"): a complaint ticket, an interaction or a follow-up whose
limit has not run out at as-of and that is not yet resolved, answered or completed is in neither numerator
nor denominator (nor sample_size) and is counted in `indicator_values.pending`; once its limit has passed it
is late; one resolved / answered / completed before as-of counts normally.

Hand-made raw layer, quarter grain, Asia/Shanghai. Run A: as-of 2026-06-30 12:00 local (04:00 UTC).
Run B: the same rows at as-of 2026-07-10 12:00 local, when every limit has passed.
Limits: complaint_resolution_hours 24, sla_response_hours 4, followup_grace_days 7 (the defaults).

R1 (team T1), customer C1 -- times local, "unres." = never resolved / answered / completed:
  complaints  K1 opened 06-30 11:00 unres.                  A: pending (limit 07-01 11:00)      B: late
              K2 opened 06-28 10:00 unres.                  A: late (limit 06-29 10:00)         B: late
              K3 opened 06-30 09:00, resolved 06-30 10:00   A: in time (resolved before as-of) B: in time
              K4 opened 06-30 08:00, resolved 06-30 13:00   A: pending (resolved after as-of)  B: in time
              K5 opened 06-29 12:00 unres.                  A: pending (limit = as-of exactly)  B: late
              K6 opened 06-29 11:59 unres.                  A: late (limit passed 1 min ago)    B: late
              K9 an inquiry opened 06-30 11:00 unres.: not a complaint, counts nowhere
      A: 1 in time of 3 (K2 K3 K6) = 33.33 %, pending 3 (K1 K4 K5)  [before the fix: 2 of 6, K1 K5 late and
         K4 in time on a resolution the run could not know yet]
      B: 2 of 6 (K3 K4) = 33.33 %, pending 0
  interactions N1 contacted 06-30 10:00 unres.              A: pending (SLA ends 14:00)         B: late
              N2 contacted 06-30 07:00 unres.               A: late (SLA ended 11:00)           B: late
              N3 contacted 06-30 11:00, answered 11:30      A: in SLA                           B: in SLA
              N4 contacted 06-30 08:00 unres.               A: pending (SLA ends at as-of)      B: late
              N5 contacted 06-29 09:00, answered 15:00      A: late (6 h)                       B: late
      A: 1 of 3 (N2 N3 N5) = 33.33 %, pending 2  [before: 1 of 5 = 20 %];  B: 1 of 5 = 20 %, pending 0
      median_response_hours has no limit: N3 0.5 h and N5 6 h -> 3.25 h, pending 0, in both runs
  follow-ups  F1 planned 06-27 unres.                       A: pending (last grace day 07-04)   B: late
              F2 planned 06-20 unres.                       A: late (last day 06-27)            B: late
              F3 planned 06-23 unres.                       A: pending (last day 06-30 = as-of) B: late
              F4 planned 06-22 unres.                       A: late (last day 06-29)            B: late
              F5 planned 06-28, completed 06-29 10:00       A: in time                          B: in time
              F6 planned 06-29, completed 06-30 13:00       A: pending (completed after as-of) B: in time
      A: 1 of 3 (F2 F4 F5) = 33.33 %, pending 3  [before: 2 of 6, F1 F3 late];  B: 2 of 6 = 33.33 %, pending 0
R2 (T1), C2: complaint K7 opened 06-30 11:30 unres.  A: pending -> no value, sample 0 [before: 0 of 1 = 0 %]
R3 (T2), C3: complaint K8 opened 05-01 10:00 unres.  late in both runs -> 0 of 1
T1 = R1 + R2: complaints A 1 of 3 = 33.33 %, pending 4 [before: 2 of 7 = 28.57 %].  Company A: 1 of 4,
pending 4 [before: 2 of 8].
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from .test_dbt_models import create_raw_tables, dbt_build, insert

AS_OF_A = "2026-06-30 04:00:00"  # 2026-06-30 12:00 Asia/Shanghai
AS_OF_B = "2026-07-10 04:00:00"  # 2026-07-10 12:00 Asia/Shanghai
WITH_LIMIT = ("complaint_resolution_24h", "response_sla_rate", "followup_completion")


def local(day: str, hh: int = 12, mm: int = 0) -> datetime:
    """A wall-clock time in Asia/Shanghai as the naive UTC timestamp of the raw layer."""
    return datetime.fromisoformat(day) + timedelta(hours=hh - 8, minutes=mm)


def build_raw_layer(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)
    con.execute(
        "insert into raw.cfg_grade_bands values (1, 'excellent', 90, 1.2), (2, 'good', 80, 1.0), "
        "(3, 'needs_improvement', null, 0.8)"
    )
    insert(
        con,
        "crm__teams",
        [
            {"team_id": "T1", "team_name": "East", "region": "east", "business_stage": "mature"},
            {"team_id": "T2", "team_name": "West", "region": "west", "business_stage": "mature"},
        ],
    )
    insert(
        con,
        "crm__reps",
        [
            {"rep_id": r, "rep_name": r, "team_id": t, "hired_on": date(2024, 1, 1)}
            for r, t in (("R1", "T1"), ("R2", "T1"), ("R3", "T2"))
        ],
    )
    insert(
        con,
        "crm__customers",
        [
            {
                "customer_id": c,
                "customer_name": c,
                "region": "east",
                "segment": "standard",
                "acquired_on": date(2025, 1, 1),
                "acquisition_channel": "inbound",
                "owner_rep_id": r,
            }
            for c, r in (("C1", "R1"), ("C2", "R2"), ("C3", "R3"))
        ],
    )
    tickets = [
        ("K1", "C1", "R1", "complaint", local("2026-06-30", 11), None),
        ("K2", "C1", "R1", "complaint", local("2026-06-28", 10), None),
        ("K3", "C1", "R1", "complaint", local("2026-06-30", 9), local("2026-06-30", 10)),
        ("K4", "C1", "R1", "complaint", local("2026-06-30", 8), local("2026-06-30", 13)),
        ("K5", "C1", "R1", "complaint", local("2026-06-29", 12), None),
        ("K6", "C1", "R1", "complaint", local("2026-06-29", 11, 59), None),
        ("K9", "C1", "R1", "inquiry", local("2026-06-30", 11), None),
        ("K7", "C2", "R2", "complaint", local("2026-06-30", 11, 30), None),
        ("K8", "C3", "R3", "complaint", local("2026-05-01", 10), None),
    ]
    insert(
        con,
        "tickets__tickets",
        [
            {
                "ticket_id": k,
                "customer_id": c,
                "rep_id": r,
                "type": t,
                "category": "service",
                "severity": "low",
                "opened_at": opened,
                "resolved_at": resolved,
            }
            for k, c, r, t, opened, resolved in tickets
        ],
    )
    interactions = [
        ("N1", local("2026-06-30", 10), None),
        ("N2", local("2026-06-30", 7), None),
        ("N3", local("2026-06-30", 11), local("2026-06-30", 11, 30)),
        ("N4", local("2026-06-30", 8), None),
        ("N5", local("2026-06-29", 9), local("2026-06-29", 15)),
    ]
    insert(
        con,
        "crm__interactions",
        [
            {
                "interaction_id": n,
                "rep_id": "R1",
                "customer_id": "C1",
                "channel": "phone",
                "customer_contacted_at": contacted,
                "rep_responded_at": answered,
            }
            for n, contacted, answered in interactions
        ],
    )
    followups = [
        ("F1", date(2026, 6, 27), None),
        ("F2", date(2026, 6, 20), None),
        ("F3", date(2026, 6, 23), None),
        ("F4", date(2026, 6, 22), None),
        ("F5", date(2026, 6, 28), local("2026-06-29", 10)),
        ("F6", date(2026, 6, 29), local("2026-06-30", 13)),
    ]
    insert(
        con,
        "crm__followups",
        [
            {
                "followup_id": f,
                "rep_id": "R1",
                "customer_id": "C1",
                "planned_on": planned,
                "completed_at": done,
                "channel": "phone",
            }
            for f, planned, done in followups
        ],
    )


def run_dbt(warehouse: Path, tmp: Path, as_of: str) -> None:
    """`dbt build` of indicator_values and its audit copy with their ancestors and data tests."""
    dbt_build(warehouse, tmp, {"as_of": as_of, "grain": "quarter"}, ["+indicator_values", "+audit_indicator_values"])


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pending")
    seed = tmp / "seed.duckdb"
    with duckdb.connect(str(seed)) as con:
        build_raw_layer(con)
    built = {}
    for run, as_of in (("A", AS_OF_A), ("B", AS_OF_B)):
        warehouse = tmp / f"{run}.duckdb"
        shutil.copy(seed, warehouse)
        run_dbt(warehouse, tmp / run, as_of)
        built[run] = warehouse
    return built


def figures(warehouse: Path, level: str, subject: str, indicator: str, schema: str = "marts") -> tuple:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            f"select numerator, denominator, value, sample_size, pending, is_sufficient from {schema}.indicator_values "
            "where period = '2026-Q2' and level = ? and subject_id = ? and indicator = ?",
            [level, subject, indicator],
        ).fetchall()
    assert len(rows) == 1, rows
    numerator, denominator, value, sample_size, pending, sufficient = rows[0]
    return (
        None if numerator is None else float(numerator),
        None if denominator is None else float(denominator),
        None if value is None else round(value, 6),
        sample_size,
        pending,
        sufficient,
    )


def test_pending_complaints_are_in_neither_numerator_nor_denominator(warehouses):
    a = warehouses["A"]
    # R1: K3 in time of K2 K3 K6; K1, K4 (resolved after as-of) and K5 (limit = as-of) pending
    assert figures(a, "rep", "R1", "complaint_resolution_24h") == (1, 3, 33.333333, 3, 3, False)
    # R2: its only complaint is pending: no value, sample size 0
    assert figures(a, "rep", "R2", "complaint_resolution_24h") == (None, None, None, 0, 1, False)
    assert figures(a, "rep", "R3", "complaint_resolution_24h") == (0, 1, 0.0, 1, 0, False)
    # team and company from the events: pending add up, never enter the rate
    assert figures(a, "team", "T1", "complaint_resolution_24h") == (1, 3, 33.333333, 3, 4, False)
    assert figures(a, "team", "T2", "complaint_resolution_24h") == (0, 1, 0.0, 1, 0, False)
    assert figures(a, "company", "company", "complaint_resolution_24h") == (1, 4, 25.0, 4, 4, False)
    # a pending complaint is still a complaint for complaint_rate (no limit: pending 0)
    assert figures(a, "rep", "R2", "complaint_rate") == (1, 1, 100.0, 1, 0, False)


def test_pending_interactions_within_their_sla(warehouses):
    a = warehouses["A"]
    # N3 in SLA of N2 N3 N5; N1 (SLA ends 14:00) and N4 (SLA ends at as-of) pending
    assert figures(a, "rep", "R1", "response_sla_rate") == (1, 3, 33.333333, 3, 2, False)
    assert figures(a, "company", "company", "response_sla_rate") == (1, 3, 33.333333, 3, 2, False)
    # the median of the answered ones has no limit: (0.5 + 6) / 2
    assert figures(a, "rep", "R1", "median_response_hours") == (None, 2, 3.25, 2, 0, False)


def test_pending_followups_within_their_grace_days(warehouses):
    a = warehouses["A"]
    # F5 in time of F2 F4 F5; F1 (last grace day 07-04), F3 (last day = as-of date) and F6 (completed
    # after as-of) pending
    assert figures(a, "rep", "R1", "followup_completion") == (1, 3, 33.333333, 3, 3, False)
    assert figures(a, "team", "T1", "followup_completion") == (1, 3, 33.333333, 3, 3, False)


def test_once_the_limits_have_passed_pending_events_are_late(warehouses):
    b = warehouses["B"]
    # K4 (resolved within 24 h) is now in time; K1 K5 late
    assert figures(b, "rep", "R1", "complaint_resolution_24h") == (2, 6, 33.333333, 6, 0, True)
    assert figures(b, "rep", "R2", "complaint_resolution_24h") == (0, 1, 0.0, 1, 0, False)
    assert figures(b, "company", "company", "complaint_resolution_24h") == (2, 8, 25.0, 8, 0, True)
    assert figures(b, "rep", "R1", "response_sla_rate") == (1, 5, 20.0, 5, 0, True)
    # F6 (completed the day after planned) is now in time
    assert figures(b, "rep", "R1", "followup_completion") == (2, 6, 33.333333, 6, 0, True)


def test_pending_is_zero_without_a_limit_and_kept_for_auditors(warehouses):
    for warehouse in warehouses.values():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute(
                "select count(*) from marts.indicator_values where pending is null "
                f"or (indicator not in {WITH_LIMIT} and pending <> 0)"
            ).fetchone() == (0,)
            # the auditors' copy carries the same counts
            assert con.execute(
                "select count(*) from marts.indicator_values m join audit.indicator_values a "
                "using (period, level, subject_id, indicator) where m.pending <> a.pending"
            ).fetchone() == (0,)
            assert con.execute("select count(*) from audit.indicator_values").fetchone()[0] > 0
    assert figures(warehouses["A"], "rep", "R1", "complaint_resolution_24h", "audit")[4] == 3
