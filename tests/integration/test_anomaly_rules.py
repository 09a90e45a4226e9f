"""The seven anomaly rules of SCORING.md on a hand-made raw layer: for every rule a case that must be
flagged and cases that must not, with the flag's strength and evidence worked out by hand (comments).

One DuckDB file, two dbt invocations:
  run A  `dbt build --select +anomaly_flags` (models and their data tests), run_id run-A, defaults;
  run B  `dbt run --select +anomaly_flags`, run_id run-B, anomalies.hidden_complaint.window_days 15:
         one more flag appears (first seen in run B); every other flag keeps its flag_id and run-A.
Quarter grain, as-of 2026-06-30 12:00 UTC: periods 2026-Q1 (90 days) and 2026-Q2 are evaluated.
Every self-report is backed by an interaction of the same rep and customer on its contact day unless
the case says otherwise (so fabricated_contact stays quiet outside its own cases), and no response has
a duration outside the speeder cases.
"""

from __future__ import annotations

import json
import math
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from .test_dbt_models import DBT_PROJECT, ENTITIES, create_raw_tables, dbt_main, insert

AS_OF = "2026-06-30 12:00:00"


def local_utc(day: str, hour: int = 12, minute: int = 0) -> datetime:
    """A wall-clock time in Asia/Shanghai as the naive UTC timestamp of the raw layer."""
    return datetime.fromisoformat(day) + timedelta(hours=hour - 8, minutes=minute)


def plus_days(day: str, n: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=n)).isoformat()


class RawLayer:
    """Rows per raw table, with helpers that keep ids unique."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {table: [] for table in ENTITIES}
        self.reps: set[str] = set()
        self.n = 0

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n:04d}"

    def rep(self, rep_id: str) -> None:
        if rep_id not in self.reps:
            self.reps.add(rep_id)
            self.rows["crm__reps"].append(
                {"rep_id": rep_id, "rep_name": rep_id, "team_id": "T1", "hired_on": date(2024, 1, 1)}
            )

    def customer(self, customer_id: str, owner: str) -> None:
        self.rep(owner)
        self.rows["crm__customers"].append(
            {
                "customer_id": customer_id,
                "customer_name": customer_id,
                "region": "east",
                "segment": "standard",
                "acquired_on": date(2025, 1, 1),
                "acquisition_channel": "inbound",
                "owner_rep_id": owner,
            }
        )

    def interaction(self, rep: str, customer: str, day: str) -> None:
        self.rows["crm__interactions"].append(
            {
                "interaction_id": self.next_id("N"),
                "rep_id": rep,
                "customer_id": customer,
                "channel": "phone",
                "customer_contacted_at": local_utc(day),
                "rep_responded_at": local_utc(day, 13),
            }
        )

    def report(self, rep: str, customer: str, day: str, kind: str, claimed: int | None, supported: bool = True):
        record_id = self.next_id("FB")
        self.rows["crm__feedback_self_reported"].append(
            {
                "record_id": record_id,
                "rep_id": rep,
                "customer_id": customer,
                "contact_on": date.fromisoformat(day),
                "reported_on": date.fromisoformat(day),
                "kind": kind,
                "claimed_satisfaction": claimed,
            }
        )
        if supported:
            self.interaction(rep, customer, day)
        return record_id

    def ticket(self, ticket_id: str, customer: str, rep: str | None, day: str, type_: str = "complaint") -> None:
        self.rows["tickets__tickets"].append(
            {
                "ticket_id": ticket_id,
                "customer_id": customer,
                "rep_id": rep,
                "type": type_,
                "category": "service",
                "severity": "medium",
                "opened_at": local_utc(day),
            }
        )

    def answer(
        self,
        rep: str,
        customer: str,
        at: datetime,
        nps: int,
        csat: int | None = None,
        channel: str = "third_party",
        fingerprint: str | None = None,
        duration: float | None = None,
        response_id: str | None = None,
    ) -> str:
        invitation_id = self.next_id("INV")
        response_id = response_id or self.next_id("RSP")
        self.rows["survey__invitations"].append(
            {
                "invitation_id": invitation_id,
                "customer_id": customer,
                "rep_id": rep,
                "channel": channel,
                "sent_at": at - timedelta(days=2),
            }
        )
        self.rows["survey__responses"].append(
            {
                "response_id": response_id,
                "invitation_id": invitation_id,
                "responded_at": at,
                "nps": nps,
                "csat": csat,
                "respondent_fingerprint": fingerprint,
                "duration_seconds": duration,
            }
        )
        return response_id


def build_raw_layer(con: duckdb.DuckDBPyConnection) -> None:
    raw = RawLayer()
    raw.rows["crm__teams"].append({"team_id": "T1", "team_name": "East", "region": "east", "business_stage": "mature"})

    # ---- hidden_complaint (2026-Q1) ---------------------------------------------------------------
    for c in ("CH1", "CH2", "CH3"):
        raw.customer(c, "HC1")
    raw.rep("HC2")
    # KH1 has no rep: attributed to CH1's owner HC1; praise 14 days later (the window is inclusive) -> flag
    raw.ticket("KH1", "CH1", None, "2026-02-10")
    raw.report("HC1", "CH1", "2026-02-24", "praise", 5)
    # KH2 names HC1; praise 15 days later is outside 14 days (flagged only in run B, window 15); the
    # suggestion claiming 3 four days after it is not a positive record
    raw.ticket("KH2", "CH2", "HC1", "2026-03-01")
    raw.report("HC1", "CH2", "2026-03-16", "praise", 5)
    raw.report("HC1", "CH2", "2026-03-05", "suggestion", 3)
    # KH3 names another rep (HC2): it does not involve HC1, whose praise two days later is not flagged
    raw.ticket("KH3", "CH3", "HC2", "2026-02-10")
    raw.interaction("HC2", "CH3", "2026-02-09")
    raw.report("HC1", "CH3", "2026-02-12", "praise", 5)

    # ---- complaint_underreporting (2026-Q2: the only complaint tickets and records of Q2) ----------
    # rep: complaint tickets, complaint records. CU1 8/0, CU2 6/5, CU3 10/10, CU4 4/0.
    # CU1: peers 5 + 10 + 0 = 15 records of 6 + 10 + 4 = 20 tickets -> 0.75; expected 8 x 0.75 = 6.00;
    #      P(X <= 0 | Poisson 6) = e^-6 = 0.00248 < 0.01 and 0 <= 0.5 x 0.75 x 8 -> flag, medium.
    # CU2: peers 10 / 22 -> expected 2.73 < 5 reported: no. CU3: 5 / 18 -> 2.78 < 10: no.
    # CU4: 4 tickets < min_tickets 5: not tested.
    for rep, tickets, records in (("CU1", 8, 0), ("CU2", 6, 5), ("CU3", 10, 10), ("CU4", 4, 0)):
        for i in range(tickets):
            day = plus_days("2026-04-10", i)
            customer = f"{rep}C{i}"
            raw.customer(customer, rep)
            raw.ticket(f"K{rep}{i}", customer, rep, day)
            if i < records:
                raw.report(rep, customer, day, "complaint", 2)
    raw.ticket("KCU1inq", "CU1C0", "CU1", "2026-04-20", type_="inquiry")  # not a complaint

    # ---- inflated_self_report (2026-Q1) -----------------------------------------------------------
    # IN1: C1..C4 claim 5, C5 claims 5 and 3 (its own mean 4) -> mean claimed (4 x 5 + 4) / 5 = 4.80;
    # third-party csat 4, 4, 4, 4, 3 -> 3.80; gap 1.00 >= 1.0 with 5 customers -> flag, medium.
    # (Weighting records instead of customers would give 28 / 6 - 3.8 = 0.87: no flag.)
    for i, csat in enumerate([4, 4, 4, 4, 3], start=1):
        customer = f"IN1C{i}"
        raw.customer(customer, "IN1")
        raw.report("IN1", customer, plus_days("2026-02-01", i), "praise", 5)
        raw.answer("IN1", customer, local_utc(plus_days("2026-02-10", i)), nps=8 if csat == 4 else 7, csat=csat)
    raw.report("IN1", "IN1C5", "2026-02-20", "suggestion", 3)
    # IN2: 4 customers with a gap of 2 (claim 5, csat 3): below min_customers 5; the fifth answered a
    # rep-distributed survey only, which does not count -> no flag
    for i in range(1, 6):
        customer = f"IN2C{i}"
        raw.customer(customer, "IN2")
        raw.report("IN2", customer, plus_days("2026-02-01", i), "praise", 5)
        channel = "third_party" if i < 5 else "rep_distributed"
        raw.answer(
            "IN2", customer, local_utc(plus_days("2026-02-10", i)), nps=7, csat=3 if i < 5 else 2, channel=channel
        )

    # ---- channel_gap (2026-Q1) ---------------------------------------------------------------------
    third_party_scores = [10, 9, 10, 9, 10, 7, 8, 0, 5, 6]  # 5 promoters, 2 passives, 3 detractors: NPS 20
    # CG1: 10 rep-distributed 10s (NPS 100) vs the above; pooled p = 15/20, d = 3/20,
    #      var = 0.9 - 0.6^2 = 0.54; z = 0.8 / sqrt(0.54 x (1/10 + 1/10)) = 2.4343, p = 0.00746 -> flag.
    # CG2: only 9 rep-distributed responses (< 10) -> not tested.
    # CG3: rep-distributed NPS 40 (6 P, 2 passives, 2 D) vs 20: pooled p = 11/20, d = 5/20,
    #      var = 0.71, z = 0.2 / sqrt(0.142) = 0.53, p = 0.30 -> no flag.
    rep_distributed = {
        "CG1": [10] * 10,
        "CG2": [10] * 9,
        "CG3": [10, 10, 9, 9, 10, 9, 7, 8, 0, 6],
    }
    for rep, scores in rep_distributed.items():
        raw.customer(f"{rep}C", rep)
        for i, score in enumerate(scores):
            raw.answer(rep, f"{rep}C", local_utc(plus_days("2026-01-05", i)), score, channel="rep_distributed")
        for i, score in enumerate(third_party_scores):
            raw.answer(rep, f"{rep}C", local_utc(plus_days("2026-01-20", i)), score)

    # ---- self_filled_survey (2026-Q1) ---------------------------------------------------------------
    raw.rows["crm__rep_devices"] += [
        {"rep_id": "SF1", "fingerprint": "dev-sf1"},
        {"rep_id": "SF2", "fingerprint": "dev-sf2"},
    ]
    raw.customer("SF1C1", "SF1")
    # answered from SF1's own device -> flag high; strength 1 (one customer answered from it)
    raw.answer(
        "SF1", "SF1C1", local_utc("2026-02-01"), 10, channel="crm_auto", fingerprint="dev-sf1", response_id="RSF1"
    )
    for i in range(1, 9):
        raw.customer(f"SF2C{i}", "SF2")
    # one fingerprint for 3 different customers of SF2 -> 3 flags, medium, strength 3
    for i in range(1, 4):
        raw.answer(
            "SF2",
            f"SF2C{i}",
            local_utc(plus_days("2026-02-01", i)),
            9,
            channel="crm_auto",
            fingerprint="fp-shared",
            response_id=f"RSF2{i}",
        )
    # 2 customers from one fingerprint (< 3), and 3 customers with an empty fingerprint -> no flags
    raw.answer("SF2", "SF2C4", local_utc("2026-02-10"), 9, channel="crm_auto", fingerprint="fp-two")
    raw.answer("SF2", "SF2C5", local_utc("2026-02-11"), 9, channel="crm_auto", fingerprint="fp-two")
    for i in (6, 7, 8):
        raw.answer("SF2", f"SF2C{i}", local_utc(plus_days("2026-02-10", i)), 9, channel="crm_auto", fingerprint="")

    # ---- speeder_burst (2026-Q1) ---------------------------------------------------------------------
    # crm_auto durations: SB1 6 x 20 s + 4 x 200 s, SB2 1 x 20 s + 19 x 200 s -> median 200 s, speeders
    # below 0.3 x 200 = 60 s; every one of these answers is a 10. SB1: 6 speeders of 10 timed top scores;
    # peers (SB2) 1 of 20 -> 5.00 %; expected 10 x 0.05 = 0.50; P(X >= 6 | Poisson 0.5) = 0.0000142;
    # reps with a top score in Q1: CG1-3, SF1-2, SB1, SB2, SB4, SB5 = 9 -> 9 x 0.0000142 = 0.000127 < 0.01:
    # flag, high (< 0.001). SB2: 1 speeder < 5.
    raw.customer("SB1C", "SB1")
    raw.customer("SB2C", "SB2")
    for i in range(10):
        raw.answer(
            "SB1", "SB1C", local_utc(plus_days("2026-01-10", i)), 10, channel="crm_auto", duration=20 if i < 6 else 200
        )
    for i in range(20):
        raw.answer(
            "SB2", "SB2C", local_utc(plus_days("2026-01-10", i)), 10, channel="crm_auto", duration=20 if i == 0 else 200
        )
    # SB4: 5 top scores 21:00-21:20 local, its only top scores of Q1 (90 days = 129,600 min): expected
    # in a 60-min grid window 2 x 30 x 5 / 129600 = 0.0023; 4,320 x P(X >= 5) = 2.4e-12, x 9 reps -> flag, high.
    raw.customer("SB4C", "SB4")
    for minute in (0, 5, 10, 15, 20):
        raw.answer("SB4", "SB4C", local_utc("2026-03-10", 21, minute), 9, channel="crm_auto")
    # SB5: 5 top scores 10 minutes apart: at most 4 within 30 minutes (21:00-21:30, inclusive); the NPS 5
    # answer at 21:05 is not a top score -> no flag
    raw.customer("SB5C", "SB5")
    for minute in (0, 10, 20, 30, 40):
        raw.answer("SB5", "SB5C", local_utc("2026-03-12", 21, minute), 10, channel="crm_auto")
    raw.answer("SB5", "SB5C", local_utc("2026-03-12", 21, 5), 5, channel="crm_auto")

    # ---- fabricated_contact (2026-Q2) --------------------------------------------------------------
    raw.customer("FCX", "FC2")
    for c in ("FC1A", "FC1B", "FC1C"):
        raw.customer(c, "FC1")
    # FC2's customer, no activity of FC1 with it at all -> flag high
    raw.report("FC1", "FCX", "2026-05-10", "praise", 5, supported=False)
    # own customer, last interaction 45 days before the contact -> flag medium ("only outside the window")
    raw.interaction("FC1", "FC1A", "2026-03-01")
    raw.report("FC1", "FC1A", "2026-04-15", "praise", 5, supported=False)
    # a follow-up planned exactly 30 days before (inclusive) -> supported
    raw.rows["crm__followups"].append(
        {"followup_id": "F1", "rep_id": "FC1", "customer_id": "FC1B", "planned_on": date(2026, 5, 10)}
    )
    raw.report("FC1", "FC1B", "2026-06-09", "neutral", 4, supported=False)
    # an open deal (no date) -> supported
    raw.rows["crm__deals"].append(
        {"deal_id": "D1", "customer_id": "FC1C", "rep_id": "FC1", "product_line": "a", "stage": "open", "amount": 10}
    )
    raw.report("FC1", "FC1C", "2026-05-20", "praise", 5, supported=False)

    create_raw_tables(con)
    for table, rows in raw.rows.items():
        insert(con, table, rows)


def dbt(tmp: Path, warehouse: Path, command: str, dbt_vars: dict) -> None:
    previous = os.environ.get("SCORECARD_WAREHOUSE")
    os.environ["SCORECARD_WAREHOUSE"] = str(warehouse)
    try:
        result = dbt_main.dbtRunner().invoke(
            [
                command,
                "--select",
                "+anomaly_flags",
                "--indirect-selection",
                "cautious",  # only tests whose every parent is selected
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
                "--quiet",
            ]
        )
    finally:
        if previous is None:
            os.environ.pop("SCORECARD_WAREHOUSE", None)
        else:
            os.environ["SCORECARD_WAREHOUSE"] = previous
    assert result.success, f"dbt {command} failed: {result.exception}"


def read_flags(warehouse: Path) -> dict[tuple, dict]:
    with duckdb.connect(str(warehouse)) as con:
        cursor = con.execute("select * from marts.anomaly_flags")
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    flags = {(r["rule_id"], r["rep_id"], r["period"], r["customer_id"], r["response_id"]): r for r in rows}
    assert len(flags) == len(rows)
    return flags


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("anomalies")
    warehouse = tmp / "anomalies.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        build_raw_layer(con)
    base = {"as_of": AS_OF, "grain": "quarter"}
    dbt(tmp / "a", warehouse, "build", {**base, "run_id": "run-A"})
    first = read_flags(warehouse)
    dbt(
        tmp / "b", warehouse, "run", {**base, "run_id": "run-B", "anomalies": {"hidden_complaint": {"window_days": 15}}}
    )
    second = read_flags(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        history = con.execute("select flag_id, first_run_id from audit.anomaly_flag_history").fetchall()
    return first, second, dict(history)


def flag(flags: dict, rule: str, rep: str, period: str, customer: str | None = None, response: str | None = None):
    key = (rule, rep, period, customer, response)
    assert key in flags, f"missing flag {key}; flags: {sorted(k for k in flags if k[0] == rule)}"
    return flags[key]


def test_exactly_the_expected_flags(runs):
    first, _, _ = runs
    assert sorted(first) == sorted(
        [
            ("hidden_complaint", "HC1", "2026-Q1", "CH1", None),
            ("complaint_underreporting", "CU1", "2026-Q2", None, None),
            ("inflated_self_report", "IN1", "2026-Q1", None, None),
            ("channel_gap", "CG1", "2026-Q1", None, None),
            ("self_filled_survey", "SF1", "2026-Q1", "SF1C1", "RSF1"),
            ("self_filled_survey", "SF2", "2026-Q1", "SF2C1", "RSF21"),
            ("self_filled_survey", "SF2", "2026-Q1", "SF2C2", "RSF22"),
            ("self_filled_survey", "SF2", "2026-Q1", "SF2C3", "RSF23"),
            ("speeder_burst", "SB1", "2026-Q1", None, None),
            ("speeder_burst", "SB4", "2026-Q1", None, None),
            ("fabricated_contact", "FC1", "2026-Q2", "FCX", None),
            ("fabricated_contact", "FC1", "2026-Q2", "FC1A", None),
        ]
    )  # and so none of the negative cases (HC1 CH2/CH3, CU2-4, IN2, CG2-3, fp-two, SB2, SB5, FC1B/C)
    assert {r["team_id"] for r in first.values()} == {"T1"}
    assert {r["first_run_id"] for r in first.values()} == {"run-A"}


def test_hidden_complaint(runs):
    f = flag(runs[0], "hidden_complaint", "HC1", "2026-Q1", "CH1")
    assert (f["severity"], f["strength"]) == ("high", 1.0)
    assert f["evidence"] == (
        "rep HC1 logged praise (claimed satisfaction 5) for customer CH1 on 2026-02-24, 14 day(s) after complaint "
        "ticket KH1 opened on 2026-02-10 (no rep on the ticket: attributed to the owner); 1 positive record(s) "
        "within 14 days of 1 complaint ticket(s), 1 of them without a complaint record by the rep"
    )


def test_complaint_underreporting(runs):
    f = flag(runs[0], "complaint_underreporting", "CU1", "2026-Q2")
    assert f["severity"] == "medium"  # 0.001 <= p < 0.01
    assert f["strength"] == pytest.approx(6.0)  # expected 6.00 - reported 0
    assert f["evidence"] == (
        "rep CU1 self-reported 0 complaint(s) in 2026-Q2 against 8 complaint tickets of customers of the rep "
        "(ratio 0.00), while peers reported 0.75 per ticket (15 of 20): expected 6.00, one-sided Poisson "
        f"p={math.exp(-6):.5f} < 0.01"
    )
    assert f"p={math.exp(-6):.5f}" == "p=0.00248"


def test_inflated_self_report(runs):
    f = flag(runs[0], "inflated_self_report", "IN1", "2026-Q1")
    assert (f["severity"], f["strength"]) == ("medium", 1.0)  # exactly on the threshold: 4.8 - 3.8
    assert f["evidence"] == (
        "rep IN1 mean claimed satisfaction 4.80 vs mean third-party csat 3.80 over the 5 customers who answered "
        "both in 2026-Q1: gap 1.00 >= 1.0 point(s) (at least 5 customers)"
    )


def test_channel_gap(runs):
    f = flag(runs[0], "channel_gap", "CG1", "2026-Q1")
    z = 0.8 / math.sqrt(0.54 * 0.2)
    assert f["strength"] == pytest.approx(z)  # 2.4343
    p = 0.5 * math.erfc(z / math.sqrt(2))  # 0.0074598
    assert f"{p:.5f}" == "0.00746"
    assert f["severity"] == "medium"
    assert f["evidence"] == (
        "rep CG1 rep-distributed NPS 100.0 (n=10) vs third-party NPS 20.0 (n=10), one-sided z=2.43, p=0.00746 < 0.05"
    )


def test_self_filled_survey(runs):
    flags = runs[0]
    own = flag(flags, "self_filled_survey", "SF1", "2026-Q1", "SF1C1", "RSF1")
    assert (own["severity"], own["strength"]) == ("high", 1.0)
    assert own["evidence"] == (
        "response RSF1 (customer SF1C1, crm_auto, NPS 10) came from fingerprint dev-sf1, a registered device of rep "
        "SF1; that fingerprint answered for 1 different customer(s) of the rep (SF1C1; flagged from 3 customers or "
        "a device match)"
    )
    shared = flag(flags, "self_filled_survey", "SF2", "2026-Q1", "SF2C2", "RSF22")
    assert (shared["severity"], shared["strength"]) == ("medium", 3.0)
    assert shared["evidence"] == (
        "response RSF22 (customer SF2C2, crm_auto, NPS 9) came from fingerprint fp-shared, not a device of rep SF2; "
        "that fingerprint answered for 3 different customer(s) of the rep (SF2C1, SF2C2, SF2C3; flagged from 3 "
        "customers or a device match)"
    )


def test_speeder_burst(runs):
    flags = runs[0]
    speeders = flag(flags, "speeder_burst", "SB1", "2026-Q1")
    p = 1 - math.exp(-0.5) * sum(0.5**k / math.factorial(k) for k in range(6))  # 0.0000142
    assert (f"{p:.5f}", f"{9 * p:.5f}") == ("0.00001", "0.00013")
    assert (speeders["severity"], speeders["strength"]) == ("high", 6.0)
    assert speeders["evidence"] == (
        "rep SB1 in 2026-Q1: 6 top-score responses (NPS >= 9) faster than 0.3 x the median duration of their "
        "channel, of 10 timed top-score responses; the peer share 5.00% gives 0.50 expected, one-sided Poisson "
        "p=0.00001; x 9 reps compared in the period (Bonferroni): p=0.00013 < 0.01"
    )
    burst = flag(flags, "speeder_burst", "SB4", "2026-Q1")
    assert (burst["severity"], burst["strength"]) == ("high", 5.0)
    assert burst["evidence"] == (
        "rep SB4 in 2026-Q1: 5 top-score responses within 30 minutes (2026-03-10 21:00:00 to 2026-03-10 21:20:00 "
        "local) of 5 top scores in the period (0.0023 expected per 60-minute window), scan p<0.00001; x 9 reps "
        "compared in the period (Bonferroni): p<0.00001 < 0.01"
    )


def test_fabricated_contact(runs):
    flags = runs[0]
    other = flag(flags, "fabricated_contact", "FC1", "2026-Q2", "FCX")
    assert (other["severity"], other["strength"]) == ("high", 1.0)
    assert other["evidence"] == (
        "rep FC1 self-reported 1 contact(s) with customer FCX on 2026-05-10 with no open deal and no closed deal, "
        "interaction, proposal or follow-up with that customer within 30 days; customer owner: FC2; other activity "
        "of the rep with the customer: none at all"
    )
    own = flag(flags, "fabricated_contact", "FC1", "2026-Q2", "FC1A")
    assert (own["severity"], own["strength"]) == ("medium", 1.0)
    assert own["evidence"].endswith(
        "customer owner: FC1; other activity of the rep with the customer: only outside the window"
    )


def test_flag_ids_stable_and_first_run_kept(runs):
    first, second, history = runs
    # run B widened hidden_complaint's window to 15 days: HC1's praise 15 days after KH2 is flagged too
    new = set(second) - set(first)
    assert new == {("hidden_complaint", "HC1", "2026-Q1", "CH2", None)}
    added = second[next(iter(new))]
    assert added["first_run_id"] == "run-B"
    assert added["evidence"].startswith(
        "rep HC1 logged praise (claimed satisfaction 5) for customer CH2 on 2026-03-16, 15 day(s) after complaint "
        "ticket KH2 opened on 2026-03-01; 1 positive record(s) within 15 days"
    )
    for key, row in first.items():
        assert second[key]["flag_id"] == row["flag_id"]
        assert second[key]["first_run_id"] == "run-A"
    assert len(history) == len(second) == 13
    assert all(history[row["flag_id"]] == row["first_run_id"] for row in second.values())
    assert all(len(row["flag_id"]) == 32 for row in second.values())  # md5 hex


def test_unknown_setting_stops_dbt(tmp_path):
    # a typo would otherwise fall back to the default without a word
    result = dbt_main.dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps({"anomalies": {"channel_gap": {"confidnce": 0.9}}}),
        ]
    )
    assert not result.success
    assert "anomalies.channel_gap.confidnce: unknown setting (settings: confidence, min_responses)" in str(
        result.exception
    )


def test_evidence_in_chinese(tmp_path):
    """report.language zh-CN (dbt var report_language): the same flags with their evidence in Chinese, from
    the catalogue's sentences (orchestration/catalogue.py SENTENCES); ids, figures and dates as in English."""
    warehouse = tmp_path / "anomalies.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        build_raw_layer(con)
    dbt(
        tmp_path / "zh",
        warehouse,
        "run",
        {"as_of": AS_OF, "grain": "quarter", "run_id": "run-zh", "report_language": "zh-CN"},
    )
    flags = read_flags(warehouse)
    assert flag(flags, "hidden_complaint", "HC1", "2026-Q1", "CH1")["evidence"] == (
        "销售代表 HC1 于 2026-02-24 为客户 CH1 记录了表扬（自报满意度 5），在投诉工单 KH1（2026-02-10 提交）之后 14 天"
        "（工单未填销售代表：归属客户负责人）；14 天内有 1 条正面记录、1 张投诉工单，其中 1 张该销售代表没有记录投诉"
    )
    assert flag(flags, "complaint_underreporting", "CU1", "2026-Q2")["evidence"] == (
        "销售代表 CU1 在 2026-Q2 自报投诉 0 次，而其客户的投诉工单有 8 张（比例 0.00）；同事每张工单自报 0.75 次"
        "（20 张中 15 次）：预期 6.00 次，单侧泊松检验 p=0.00248 < 0.01"
    )
    assert flag(flags, "inflated_self_report", "IN1", "2026-Q1")["evidence"] == (
        "销售代表 IN1 自报满意度均值 4.80，而 2026-Q1 两边都有评价的 5 位客户的第三方满意度均值为 3.80："
        "差距 1.00 >= 1.0 分（至少 5 位客户）"
    )
    assert flag(flags, "channel_gap", "CG1", "2026-Q1")["evidence"] == (
        "销售代表 CG1 自发问卷的净推荐值 100.0（n=10），第三方问卷的净推荐值 20.0（n=10），"
        "单侧检验 z=2.43，p=0.00746 < 0.05"
    )
    assert flag(flags, "self_filled_survey", "SF1", "2026-Q1", "SF1C1", "RSF1")["evidence"] == (
        "问卷答复 RSF1（客户 SF1C1，crm_auto，净推荐值打分 10）来自设备指纹 dev-sf1，是销售代表登记的设备：SF1；"
        "该指纹为该销售代表的 1 位不同客户作答（SF1C1；达到 3 位客户或与设备匹配即标记）"
    )
    assert flag(flags, "fabricated_contact", "FC1", "2026-Q2", "FCX")["evidence"] == (
        "销售代表 FC1 自报与客户 FCX 接触 1 次（2026-05-10），但 30 天内与该客户既无进行中的商机，"
        "也无成交、互动、方案或回访记录；客户负责人：FC2；该销售代表与该客户的其他往来：完全没有"
    )
    assert flag(flags, "speeder_burst", "SB4", "2026-Q1")["evidence"] == (
        "销售代表 SB4 在 2026-Q1：30 分钟内有 5 份高分答复（当地时间 2026-03-10 21:00:00 至 2026-03-10 21:20:00），"
        "本期共 5 份高分答复（每 60 分钟窗口预期 0.0023 份），扫描统计检验 p<0.00001；共比较 9 位销售代表"
        "（Bonferroni 校正）：p<0.00001 < 0.01"
    )
    # ids stay ids
    assert {r["rule_id"] for r in flags.values()} >= {"hidden_complaint", "channel_gap", "fabricated_contact"}
