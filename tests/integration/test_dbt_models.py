"""The dbt project on a hand-made raw layer: indicator values and grades checked against figures
worked out by hand (in the comments).

Raw tables are created with the exact types the Python ingestion writes (schema `raw`), then
`dbt build` (models, data tests and unit tests) runs once per grain on its own DuckDB file.
Scheme: the documented default (mature / new_business weights, penalty_above on complaint_rate).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import INDICATOR_IDS
from orchestration.contract.spec import entity_specs
from orchestration.ingest.scheme_tables import CFG_TABLES

dbt_main = pytest.importorskip("dbt.cli.main")

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
AS_OF = "2026-06-30 12:00:00"

# the raw layer as the contract defines it: table -> contract columns (technical columns follow)
ENTITIES = {spec.table: tuple(c.name for c in spec.columns) for spec in entity_specs()}
WEIGHTS = {
    "mature": {
        "sales_attainment": 0.30,
        "nps": 0.20,
        "complaint_resolution_24h": 0.15,
        "referral_rate": 0.15,
        "requirement_accuracy": 0.20,
    },
    "new_business": {"sales_attainment": 0.40, "nps": 0.25, "complaint_rate": 0.15, "requirement_accuracy": 0.20},
}


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """All 16 entity tables and the 5 cfg tables of schema raw, empty, typed as ingestion writes them."""
    con.execute("create schema if not exists raw")
    for spec in entity_specs():
        defs = ", ".join(f"{name} {sql_type}" for name, sql_type in spec.raw_columns)
        con.execute(f"create table raw.{spec.table} ({defs})")
    for table, ddl in CFG_TABLES.items():  # no row: no closed period, every rule takes its default policy
        con.execute(f"create table raw.{table} ({ddl})")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], current: bool = True) -> None:
    """Rows given as dicts (missing columns NULL), stamped with the technical columns."""
    columns = ENTITIES[table]
    for i, row in enumerate(rows):
        unknown = set(row) - set(columns)
        assert not unknown, f"{table}: unknown columns {unknown}"
        values = [row.get(c) for c in columns] + [f"{table}.csv", i + 1, "run-1", current, None]
        marks = ", ".join("?" for _ in values)
        con.execute(f"insert into raw.{table} values ({marks})", values)


def ts(text: str) -> datetime:
    """A UTC timestamp as the raw layer stores it (naive)."""
    return datetime.fromisoformat(text)


def local_noon_utc(day: str) -> datetime:
    """Noon in Asia/Shanghai of a calendar day, as naive UTC (04:00 UTC)."""
    return datetime.fromisoformat(day) + timedelta(hours=4)


def build_raw_layer(con: duckdb.DuckDBPyConnection) -> None:
    create_raw_tables(con)
    for scheme, weights in WEIGHTS.items():
        for indicator in INDICATOR_IDS:
            method, threshold, per_unit, max_score, min_score = "value", None, None, None, None
            if scheme == "new_business" and indicator == "complaint_rate":
                method, threshold, per_unit, max_score, min_score = "penalty_above", 5, 10, 100, 0
            con.execute(
                "insert into raw.cfg_scheme_weights values (?, ?, ?, ?, null, null, ?, ?, ?, ?)",
                [scheme, indicator, weights.get(indicator, 0), method, threshold, per_unit, max_score, min_score],
            )
    con.execute(
        "insert into raw.cfg_grade_bands values (1, 'excellent', 90, 1.2), (2, 'good', 80, 1.0), "
        "(3, 'needs_improvement', null, 0.8)"
    )

    insert(
        con,
        "crm__teams",
        [
            {"team_id": "T1", "team_name": "East", "region": "east", "business_stage": "mature"},
            {"team_id": "T2", "team_name": "West", "region": "west", "business_stage": "new_business"},
        ],
    )
    reps = [
        {"rep_id": "R1", "rep_name": "张伟", "team_id": "T1", "hired_on": date(2024, 1, 1)},
        {"rep_id": "R2", "rep_name": "Li", "team_id": "T1", "hired_on": date(2024, 1, 1)},
        {"rep_id": "R3", "rep_name": "Wang", "team_id": "T2", "hired_on": date(2024, 1, 1)},
        {"rep_id": "R4", "rep_name": "Zhao", "team_id": "T2", "hired_on": date(2024, 1, 1)},
        # left before 2026: not graded in 2026 periods
        {
            "rep_id": "R5",
            "rep_name": "Gone",
            "team_id": "T1",
            "hired_on": date(2023, 1, 1),
            "left_on": date(2025, 12, 31),
        },
    ]
    insert(con, "crm__reps", reps)
    # a superseded version of R1 in another team: must be ignored (staging keeps _is_current only)
    insert(
        con,
        "crm__reps",
        [{"rep_id": "R1", "rep_name": "old", "team_id": "T2", "hired_on": date(2024, 1, 1)}],
        current=False,
    )

    customers, deals, proposals, interactions, tickets = [], [], [], [], []
    invitations, responses, targets, adjustments = [], [], [], []

    def customer(cid, owner, acquired=date(2025, 6, 1), channel="inbound", segment="standard"):
        customers.append(
            {
                "customer_id": cid,
                "customer_name": cid,
                "region": "east",
                "segment": segment,
                "acquired_on": acquired,
                "acquisition_channel": channel,
                "owner_rep_id": owner,
            }
        )

    def survey(rid, rep, cid, day, score, channel="third_party"):
        invitations.append(
            {
                "invitation_id": f"I{rid}",
                "customer_id": cid,
                "rep_id": rep,
                "channel": channel,
                "sent_at": local_noon_utc(day) - timedelta(days=2),
            }
        )
        responses.append(
            {
                "response_id": rid,
                "invitation_id": f"I{rid}",
                "responded_at": local_noon_utc(day),
                "nps": score,
                "csat": 5 if score >= 9 else 3,
            }
        )

    def proposal(pid, rep, cid, day, verdict):
        proposals.append(
            {
                "proposal_id": pid,
                "customer_id": cid,
                "rep_id": rep,
                "submitted_at": local_noon_utc(day),
                "customer_verdict": verdict,
            }
        )

    # ---- R1 (T1, mature) -------------------------------------------------------------------
    for i in range(1, 3):  # acquired in Q1 2026: 1 of 2 through referral (2 < 5: insufficient)
        customer(f"C1N{i}", "R1", date(2026, 2, 1), "referral" if i == 1 else "outbound")
    customer("C1", "R1", segment="key_account")
    # sales Q1: 117 CNY + 30 USD x 7.1 = 330 won over monthly targets 3 x 100 = 300 -> 110 %
    deals += [
        {
            "deal_id": "D1",
            "customer_id": "C1",
            "rep_id": "R1",
            "product_line": "a",
            "stage": "won",
            "amount": 117,
            "closed_on": date(2026, 2, 10),
            "collected_amount": 117,
        },
        {
            "deal_id": "D2",
            "customer_id": "C1",
            "rep_id": "R1",
            "product_line": "a",
            "stage": "won",
            "amount": 30,
            "currency": "USD",
            "closed_on": date(2026, 3, 5),
            "collected_amount": 0,
        },
        {
            "deal_id": "D3",
            "customer_id": "C1",
            "rep_id": "R1",
            "product_line": "a",
            "stage": "lost",
            "amount": 500,
            "closed_on": date(2026, 3, 6),
        },
        # Q2: 130 won over an explicit 2026-Q2 target of 100 -> 130 %
        {
            "deal_id": "D4",
            "customer_id": "C1",
            "rep_id": "R1",
            "product_line": "a",
            "stage": "won",
            "amount": 130,
            "closed_on": date(2026, 5, 6),
            "collected_amount": 130,
        },
        # after as-of: 2026-Q4 is not evaluated
        {
            "deal_id": "D5",
            "customer_id": "C1",
            "rep_id": "R1",
            "product_line": "a",
            "stage": "won",
            "amount": 1,
            "closed_on": date(2026, 10, 5),
            "collected_amount": 1,
        },
    ]
    targets += [{"period": f"2026-0{m}", "rep_id": "R1", "sales_target": 100} for m in (1, 2, 3)]
    targets += [
        {"period": "2026-Q2", "rep_id": "R1", "sales_target": 100},
        {"period": "2026", "rep_id": "R1", "sales_target": 9999},
    ]  # year target: year grain only
    # NPS, each quarter: 6 promoters, 2 passives, 3 detractors of 11 third-party responses -> 27.27;
    # plus 3 rep-distributed 10s that do not count
    for quarter, day in (("q1", "2026-02-15"), ("q2", "2026-05-15")):
        for i, score in enumerate([9, 10, 9, 10, 9, 10, 7, 8, 0, 5, 6]):
            survey(f"S1{quarter}{i}", "R1", "C1", day, score)
        for i in range(3):
            survey(f"S1{quarter}rd{i}", "R1", "C1", day, 10, channel="rep_distributed")
        # requirement accuracy: 5 fully_meets of 5 with a verdict (the pending one is left out) -> 100
        for i in range(5):
            proposal(f"P1{quarter}{i}", "R1", "C1", day, "fully_meets")
        proposal(f"P1{quarter}pending", "R1", "C1", day, "pending")
    # complaints Q1: resolved at exactly 24 h (in time), at 24 h 1 min (late), unresolved (late) -> 1/3
    opened = ts("2026-01-10 02:00:00")
    tickets += [
        {
            "ticket_id": "K1",
            "customer_id": "C1",
            "rep_id": "R1",
            "type": "complaint",
            "category": "service",
            "severity": "low",
            "opened_at": opened,
            "resolved_at": opened + timedelta(hours=24),
        },
        {
            "ticket_id": "K2",
            "customer_id": "C1",
            "rep_id": "R1",
            "type": "complaint",
            "category": "service",
            "severity": "low",
            "opened_at": opened,
            "resolved_at": opened + timedelta(hours=24, minutes=1),
        },
        {
            "ticket_id": "K3",
            "customer_id": "C1",
            "rep_id": "R1",
            "type": "complaint",
            "category": "billing",
            "severity": "low",
            "opened_at": opened,
        },
    ]

    # ---- R2 (T1): insufficient data ---------------------------------------------------------
    customer("C2", "R2")
    deals.append(
        {
            "deal_id": "D6",
            "customer_id": "C2",
            "rep_id": "R2",
            "product_line": "b",
            "stage": "won",
            "amount": 100,
            "closed_on": date(2026, 1, 20),
            "collected_amount": 100,
        }
    )
    # explicit quarter target 200 wins over the monthly 50
    targets += [
        {"period": "2026-Q1", "rep_id": "R2", "sales_target": 200},
        {"period": "2026-01", "rep_id": "R2", "sales_target": 50},
    ]
    for i in range(4):  # 4 promoters: below nps min_sample 10 -> masked at rep level
        survey(f"S2{i}", "R2", "C2", "2026-02-20", 10)
    # two complaints in time: one without rep_id (attributed to the owner R2), one with R2
    tickets += [
        {
            "ticket_id": "K4",
            "customer_id": "C2",
            "type": "complaint",
            "category": "product",
            "severity": "high",
            "opened_at": opened,
            "resolved_at": opened + timedelta(hours=2),
        },
        {
            "ticket_id": "K5",
            "customer_id": "C2",
            "rep_id": "R2",
            "type": "complaint",
            "category": "product",
            "severity": "high",
            "opened_at": opened,
            "resolved_at": opened + timedelta(hours=1),
        },
    ]
    # contacted at UTC 2026-03-31 15:30 = 23:30 local on the last day of Q1: counts in 2026-Q1
    interactions.append(
        {
            "interaction_id": "N1",
            "rep_id": "R2",
            "customer_id": "C2",
            "channel": "im",
            "customer_contacted_at": ts("2026-03-31 15:30:00"),
            "rep_responded_at": ts("2026-03-31 16:00:00"),
        }
    )

    # ---- R3, R4 (T2, new_business): identical figures -> tied ---------------------------------
    for rep in ("R3", "R4"):
        targets.append({"period": "2026-Q1", "rep_id": rep, "sales_target": 100})
        for i in range(10):
            customer(f"C{rep}{i}", rep)
        deals.append(
            {
                "deal_id": f"D{rep}",
                "customer_id": f"C{rep}0",
                "rep_id": rep,
                "product_line": "c",
                "stage": "won",
                "amount": 100,
                "closed_on": date(2026, 2, 1),
                "collected_amount": 50,
            }
        )
        for i in range(5):  # 4 of 5 fully_meets -> 80
            proposal(f"P{rep}{i}", rep, f"C{rep}{i}", "2026-02-02", "fully_meets" if i < 4 else "does_not_meet")
        for i in range(5, 10):
            interactions.append(
                {
                    "interaction_id": f"N{rep}{i}",
                    "rep_id": rep,
                    "customer_id": f"C{rep}{i}",
                    "channel": "phone",
                    "customer_contacted_at": local_noon_utc("2026-02-03"),
                    "rep_responded_at": local_noon_utc("2026-02-03") + timedelta(hours=5),
                }
            )
        # 1 complaining customer of 10 served -> complaint_rate 10 %
        tickets.append(
            {
                "ticket_id": f"K{rep}",
                "customer_id": f"C{rep}1",
                "rep_id": rep,
                "type": "complaint",
                "category": "delivery",
                "severity": "medium",
                "opened_at": local_noon_utc("2026-02-04"),
            }
        )

    # team T1 adjustments in Q1: +3 (labelled with a month) and +4 -> 7, clamped to 5
    adjustments += [
        {
            "adjustment_id": "A1",
            "period": "2026-02",
            "level": "team",
            "subject_id": "T1",
            "points": 3,
            "reason": "key account rescue",
            "approved_by": "director",
        },
        {
            "adjustment_id": "A2",
            "period": "2026-Q1",
            "level": "team",
            "subject_id": "T1",
            "points": 4,
            "reason": "new market",
            "approved_by": "director",
        },
    ]

    insert(con, "crm__customers", customers)
    insert(con, "crm__deals", deals)
    insert(con, "crm__targets", targets)
    insert(con, "crm__proposals", proposals)
    insert(con, "crm__interactions", interactions)
    insert(con, "tickets__tickets", tickets)
    insert(con, "survey__invitations", invitations)
    insert(con, "survey__responses", responses)
    insert(con, "crm__adjustments", adjustments)


def run_dbt_build(tmp: Path, warehouse: Path, dbt_vars: dict) -> None:
    os.environ["SCORECARD_WAREHOUSE"] = str(warehouse)
    result = dbt_main.dbtRunner().invoke(
        [
            "build",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--vars",
            json.dumps(dbt_vars),
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
        ]
    )
    assert result.success, f"dbt build failed: {result.exception}"


def dbt_build(warehouse: Path, tmp: Path, dbt_vars: dict, select: list[str], command: str = "build") -> None:
    """`dbt build` (or `run`) of `select` with their ancestors' tests but not those of other models that
    also reference them, without unit tests, in a subprocess (no connection to the file stays open)."""
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [str(dbt) if dbt.exists() else "dbt", command, "--select", *select]
    if command == "build":
        cmd += ["--exclude-resource-type", "unit_test", "--indirect-selection", "cautious"]
    cmd += ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--vars", json.dumps(dbt_vars)]
    cmd += ["--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    env = {**os.environ, "SCORECARD_WAREHOUSE": str(warehouse)}
    proc = subprocess.run(cmd, cwd=DBT_PROJECT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"dbt {command} failed:\n" + "\n".join(proc.stdout.splitlines()[-40:])


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory, request):
    """One DuckDB file per grain, each built by one `dbt build`."""
    tmp = tmp_path_factory.mktemp("dbt")
    seed = tmp / "seed.duckdb"  # not raw.duckdb: the catalog name would clash with schema raw
    with duckdb.connect(str(seed)) as con:
        build_raw_layer(con)
    previous = os.environ.get("SCORECARD_WAREHOUSE")
    built = {}
    try:
        for grain in ("quarter", "month"):
            warehouse = tmp / f"{grain}.duckdb"
            shutil.copy(seed, warehouse)
            run_dbt_build(tmp / grain, warehouse, {"as_of": AS_OF, "grain": grain})
            built[grain] = warehouse
    finally:
        if previous is None:
            os.environ.pop("SCORECARD_WAREHOUSE", None)
        else:
            os.environ["SCORECARD_WAREHOUSE"] = previous
    return built


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(sql, params or []).fetchall()


def indicator(warehouse, period, level, subject, name, schema="marts", table="indicator_values"):
    rows = query(
        warehouse,
        f"select numerator, denominator, value, sample_size, is_sufficient, nps_ci_low, nps_ci_high "
        f"from {schema}.{table} where period = ? and level = ? and subject_id = ? and indicator = ?",
        [period, level, subject, name],
    )
    assert len(rows) == 1, rows
    return dict(
        zip(
            ["numerator", "denominator", "value", "sample_size", "is_sufficient", "ci_low", "ci_high"],
            rows[0],
            strict=True,
        )
    )


def scorecard_row(warehouse, period, level, subject):
    with duckdb.connect(str(warehouse)) as con:
        cursor = con.execute(
            "select * from marts.scorecard where period = ? and level = ? and subject_id = ?", [period, level, subject]
        )
        rows = cursor.fetchall()
        names = [d[0] for d in cursor.description]
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def test_evaluated_periods_stop_at_as_of(warehouses):
    periods = query(warehouses["quarter"], "select distinct period from marts.indicator_values order by 1")
    assert [p for (p,) in periods] == ["2026-Q1", "2026-Q2"]  # the 2026-10 deal is after as-of
    # one row per period x subject x indicator: Q1 and Q2 each have 4 reps + 2 teams + company
    assert query(warehouses["quarter"], "select count(*) from marts.indicator_values") == [(2 * 7 * 14,)]
    # R5 left before 2026
    assert query(warehouses["quarter"], "select count(*) from marts.scorecard where subject_id = 'R5'") == [(0,)]


def test_nps_value_and_interval(warehouses):
    # R1's figure is published nowhere: with R2's 4 answers hidden, T1's total minus R1 would reveal
    # them (complementary suppression, docs/analysis.md); the auditors' copy keeps it
    published = indicator(warehouses["quarter"], "2026-Q1", "rep", "R1", "nps")
    assert published["value"] is None and published["numerator"] is None and published["sample_size"] == 11
    row = indicator(warehouses["quarter"], "2026-Q1", "rep", "R1", "nps", "audit", "indicator_values")
    # 6 promoters - 3 detractors of 11 third-party responses (the 3 rep-distributed 10s do not count)
    assert row["numerator"] == 3 and row["denominator"] == 11 and row["sample_size"] == 11
    assert row["value"] == pytest.approx(300 / 11)  # 27.2727...
    p, d, n = 6 / 11, 3 / 11, 11
    half = 1.96 * 100 * math.sqrt((p + d - (p - d) ** 2) / n)  # 50.97
    assert row["ci_low"] == pytest.approx(300 / 11 - half)  # -23.69
    assert row["ci_high"] == pytest.approx(300 / 11 + half)  # 78.24
    assert row["is_sufficient"] is True


def test_rep_nps_masked_below_min_sample_but_kept_in_audit(warehouses):
    masked = indicator(warehouses["quarter"], "2026-Q1", "rep", "R2", "nps")
    assert masked["value"] is None and masked["numerator"] is None and masked["ci_low"] is None
    assert masked["sample_size"] == 4 and masked["is_sufficient"] is False
    audit = indicator(warehouses["quarter"], "2026-Q1", "rep", "R2", "nps", "audit", "indicator_values")
    assert audit["value"] == 100 and audit["numerator"] == 4
    # the team figure is not masked: R1's 6 P / 3 D of 11 plus R2's 4 P -> (10 - 3) / 15
    team = indicator(warehouses["quarter"], "2026-Q1", "team", "T1", "nps")
    assert team["value"] == pytest.approx(700 / 15) and team["sample_size"] == 15


def test_complaint_resolution_boundaries_and_team_from_events(warehouses):
    rep = indicator(warehouses["quarter"], "2026-Q1", "rep", "R1", "complaint_resolution_24h")
    # K1 at exactly 24 h is in time, K2 at 24 h 1 min and unresolved K3 are late -> 1/3
    assert (rep["numerator"], rep["denominator"]) == (1, 3)
    assert rep["value"] == pytest.approx(100 / 3)
    r2 = indicator(warehouses["quarter"], "2026-Q1", "rep", "R2", "complaint_resolution_24h")
    assert (r2["numerator"], r2["denominator"]) == (2, 2)  # K4 has no rep_id: goes to owner R2
    team = indicator(warehouses["quarter"], "2026-Q1", "team", "T1", "complaint_resolution_24h")
    # team from its events: (1 + 2) / (3 + 2) = 60 %, not the average of rep rates (33.3 + 100) / 2 = 66.7
    assert team["value"] == pytest.approx(60.0) and team["is_sufficient"] is True


def test_requirement_accuracy_leaves_pending_out(warehouses):
    row = indicator(warehouses["quarter"], "2026-Q1", "rep", "R1", "requirement_accuracy")
    assert (row["numerator"], row["denominator"], row["sample_size"]) == (5, 5, 5)
    assert row["value"] == 100


def test_local_time_decides_the_period(warehouses):
    # contacted 2026-03-31 15:30 UTC = 23:30 Asia/Shanghai: Q1, not Q2
    q1 = indicator(warehouses["quarter"], "2026-Q1", "rep", "R2", "response_sla_rate")
    q2 = indicator(warehouses["quarter"], "2026-Q2", "rep", "R2", "response_sla_rate")
    assert q1["sample_size"] == 1 and q1["value"] == 100
    assert q2["sample_size"] == 0 and q2["value"] is None
    median = indicator(warehouses["quarter"], "2026-Q1", "rep", "R2", "median_response_hours")
    assert median["value"] == pytest.approx(0.5) and median["numerator"] is None and median["denominator"] == 1


def test_targets_by_grain(warehouses):
    q = warehouses["quarter"]
    # R1: monthly 100 + 100 + 100 make the quarter; won 117 + 30 USD x 7.1 = 330 -> 110 %
    r1 = indicator(q, "2026-Q1", "rep", "R1", "sales_attainment")
    assert (float(r1["numerator"]), float(r1["denominator"])) == (330.0, 300.0)
    assert r1["value"] == pytest.approx(110.0)
    # R2: the explicit 2026-Q1 target 200 wins over the monthly 50
    r2 = indicator(q, "2026-Q1", "rep", "R2", "sales_attainment")
    assert float(r2["denominator"]) == 200.0 and r2["value"] == pytest.approx(50.0)
    # team T1: (330 + 100) / (300 + 200)
    team = indicator(q, "2026-Q1", "team", "T1", "sales_attainment")
    assert team["value"] == pytest.approx(86.0)
    # month grain: monthly targets only (R2's January target is 50, its quarter target is not used)
    m = warehouses["month"]
    r2_jan = indicator(m, "2026-01", "rep", "R2", "sales_attainment")
    assert float(r2_jan["denominator"]) == 50.0 and r2_jan["value"] == pytest.approx(200.0)
    r1_mar = indicator(m, "2026-03", "rep", "R1", "sales_attainment")
    assert r1_mar["value"] == pytest.approx(213.0)  # 30 USD x 7.1 over 100
    # 23:30 local on 31 March stays in March
    assert indicator(m, "2026-03", "rep", "R2", "response_sla_rate")["sample_size"] == 1


def test_rep_grade_by_hand(warehouses):
    row = scorecard_row(warehouses["quarter"], "2026-Q1", "rep", "R1")
    # mature: sufficient weighted indicators sales 110 (0.3), nps 27.2727272727 (0.2), requirement 100 (0.2);
    # complaint_resolution (3 tickets) and referral (2 customers) are below 5. R1's nps is hidden to protect
    # R2's 4 answers (complementary, test_nps_value_and_interval), and a hidden figure counts in no composite
    # (else the composite would give it back): coverage 0.3 + 0.2 = 0.5 < 0.7 -> insufficient_data
    # composite = (33 + 20) / 0.5 = 106, published but not graded
    assert float(row["coverage"]) == pytest.approx(0.5)
    assert float(row["sales_attainment_score"]) == 110 and row["nps_score"] is None
    assert str(row["composite_score"]) == "106.0000000000"
    assert row["final_score"] is None and row["grade"] == "insufficient_data" and row["bonus_coefficient"] is None
    assert row["team_id"] == "T1" and row["scheme_id"] == "mature" and row["subject_name"] == "张伟"
    # Q2 (R2 has no answers, nothing hidden): (0.3 x 130 + 0.2 x 27.2727272727 + 0.2 x 100) / 0.7 =
    # 92.0779220779; below Q1's 106 -> no progress point -> 92.08, excellent
    q2 = scorecard_row(warehouses["quarter"], "2026-Q2", "rep", "R1")
    assert str(q2["composite_score"]) == "92.0779220779"
    assert float(q2["nps_score"]) == pytest.approx(300 / 11)
    assert float(q2["progress_points"]) == 0
    assert str(q2["final_score"]) == "92.08" and q2["grade"] == "excellent"
    assert float(q2["bonus_coefficient"]) == 1.2


def test_team_grade_by_hand_with_clamped_adjustment(warehouses):
    row = scorecard_row(warehouses["quarter"], "2026-Q1", "team", "T1")
    # sales 86 (0.3), nps 46.6666666667 (0.2), complaint_resolution 60 (0.15), requirement 100 (0.2);
    # referral (2 customers) insufficient -> coverage 0.85
    # composite = (25.8 + 9.33333333334 + 9 + 20) / 0.85 = 75.4509803922
    # adjustments 3 (month 2026-02, counts in Q1) + 4 = 7, clamped to 5 -> 80.45, good
    assert float(row["coverage"]) == pytest.approx(0.85)
    assert str(row["composite_score"]) == "75.4509803922"
    assert float(row["adjustment_points"]) == 5
    assert str(row["final_score"]) == "80.45" and row["grade"] == "good"
    assert row["rank_in_team"] is None and row["team_id"] == "T1"
    audit = query(
        warehouses["quarter"],
        "select period, subject_raw_points, subject_clamped_points, was_clamped "
        "from audit.adjustments where adjustment_id = 'A1'",
    )
    assert [(p, float(r), float(c), w) for p, r, c, w in audit] == [("2026-Q1", 7.0, 5.0, True)]
    # Q2: only R1's events: composite 92.0779220779, rose 16.63 -> 3 progress points -> 95.08
    q2 = scorecard_row(warehouses["quarter"], "2026-Q2", "team", "T1")
    assert float(q2["progress_points"]) == 3 and str(q2["final_score"]) == "95.08"


def test_insufficient_data_and_ranks_with_a_tie(warehouses):
    r2 = scorecard_row(warehouses["quarter"], "2026-Q1", "rep", "R2")
    # only sales_attainment (0.3) is sufficient: coverage 0.3 < 0.7
    assert r2["grade"] == "insufficient_data"
    assert r2["final_score"] is None and r2["bonus_coefficient"] is None
    assert r2["rank_in_team"] is None and r2["rank_overall"] is None
    # new_business: sales 100 (0.4), complaint_rate 10 % -> 100 - 10 x (10 - 5) = 50 (0.15),
    # requirement 80 (0.2); nps has no responses -> coverage 0.75, composite 63.5 / 0.75 = 84.67
    ranks = query(
        warehouses["quarter"],
        "select subject_id, final_score, rank_in_team, rank_overall from marts.scorecard "
        "where period = '2026-Q1' and level = 'rep' and final_score is not null order by subject_id",
    )
    # (R1 has no grade in Q1: test_rep_grade_by_hand)
    assert [(s, str(f), t, o) for s, f, t, o in ranks] == [
        ("R3", "84.67", 1, 1),
        ("R4", "84.67", 1, 1),
    ]
    complaint = indicator(warehouses["quarter"], "2026-Q1", "rep", "R3", "complaint_rate")
    assert (complaint["numerator"], complaint["denominator"]) == (1, 10)
    teams = query(
        warehouses["quarter"],
        "select subject_id, rank_overall from marts.scorecard "
        "where period = '2026-Q1' and level = 'team' order by subject_id",
    )
    assert teams == [("T1", 2), ("T2", 1)]
