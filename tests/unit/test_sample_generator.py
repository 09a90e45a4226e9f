"""Tests of the synthetic landing-folder generator (tools/sample/generator.py).

Everything is checked by reading the written files back (pandas / duckdb), never through the
generator's own bookkeeping: headers against the contract's column lists (copied here from
CONTRACT.md on purpose), row rules, references, formats, and small independent detectors that must
find every planted (rep, period, rule) of ground_truth.csv and (almost) nothing else.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.catalogue import RULE_IDS
from orchestration.cli import main
from tools.sample import generator
from tools.sample.generator import generate, years_of_history

AS_OF_END = pd.Timestamp("2027-01-01", tz="Asia/Shanghai")  # nothing at or after this instant

# CONTRACT.md, "Entities": required columns first, order as in the table
CONTRACT_COLUMNS = {
    "crm/teams": "team_id, team_name, region, business_stage, updated_at",
    "crm/reps": "rep_id, rep_name, team_id, email, hired_on, left_on, updated_at",
    "crm/customers": "customer_id, customer_name, region, segment, industry, acquired_on, "
    "acquisition_channel, referred_by_customer_id, owner_rep_id, updated_at",
    "crm/deals": "deal_id, customer_id, rep_id, product_line, stage, amount, currency, closed_on, "
    "collected_amount, updated_at",
    "crm/targets": "period, rep_id, sales_target, updated_at",
    "crm/proposals": "proposal_id, customer_id, rep_id, deal_id, submitted_at, customer_verdict, verdict_at, "
    "updated_at",
    "crm/followups": "followup_id, rep_id, customer_id, planned_on, completed_at, channel",
    "crm/interactions": "interaction_id, rep_id, customer_id, channel, customer_contacted_at, rep_responded_at",
    "crm/feedback_self_reported": "record_id, rep_id, customer_id, contact_on, reported_on, kind, "
    "claimed_satisfaction, complaint_resolved, note",
    "crm/adjustments": "adjustment_id, period, level, subject_id, points, reason, approved_by",
    "crm/improvement_actions": "action_id, rep_id, customer_id, ticket_id, issue_type, measure, due_on, "
    "completed_on, customer_confirmed, confirmed_via",
    "crm/rep_devices": "rep_id, fingerprint",
    "survey/invitations": "invitation_id, customer_id, rep_id, deal_id, channel, sent_at",
    "survey/responses": "response_id, invitation_id, responded_at, nps, csat, comment, "
    "respondent_fingerprint, duration_seconds",
    "tickets/tickets": "ticket_id, customer_id, rep_id, type, category, severity, opened_at, "
    "first_response_at, resolved_at, description",
}
CONTRACT_COLUMNS = {k: [c.strip() for c in v.split(",")] for k, v in CONTRACT_COLUMNS.items()}

ENUMS = {
    ("crm/teams", "business_stage"): {"new_business", "mature"},
    ("crm/customers", "segment"): {"key_account", "vip", "standard"},
    ("crm/customers", "acquisition_channel"): {
        "referral",
        "marketing",
        "outbound",
        "inbound",
        "partner",
        "other",
    },
    ("crm/deals", "stage"): {"open", "won", "lost"},
    ("crm/proposals", "customer_verdict"): {"fully_meets", "partially_meets", "does_not_meet", "pending"},
    ("crm/interactions", "channel"): {"email", "phone", "im", "visit"},
    ("crm/feedback_self_reported", "kind"): {"praise", "suggestion", "complaint", "neutral"},
    ("crm/adjustments", "level"): {"rep", "team"},
    ("crm/improvement_actions", "issue_type"): {"communication", "service", "solution", "other"},
    ("survey/invitations", "channel"): {"third_party", "rep_distributed", "crm_auto"},
    ("tickets/tickets", "type"): {"complaint", "inquiry", "request"},
    ("tickets/tickets", "category"): {
        "communication",
        "service",
        "solution",
        "product",
        "billing",
        "delivery",
        "other",
    },
    ("tickets/tickets", "severity"): {"low", "medium", "high", "critical"},
}
REQUIRED = {  # columns without "?" in the contract
    "crm/teams": ["team_id", "team_name", "region", "business_stage"],
    "crm/reps": ["rep_id", "rep_name", "team_id", "hired_on"],
    "crm/customers": [
        "customer_id",
        "customer_name",
        "region",
        "segment",
        "acquired_on",
        "acquisition_channel",
        "owner_rep_id",
    ],
    "crm/deals": ["deal_id", "customer_id", "rep_id", "product_line", "stage", "amount"],
    "crm/targets": ["period", "rep_id", "sales_target"],
    "crm/proposals": ["proposal_id", "customer_id", "rep_id", "submitted_at", "customer_verdict"],
    "crm/followups": ["followup_id", "rep_id", "customer_id", "planned_on"],
    "crm/interactions": ["interaction_id", "rep_id", "customer_id", "channel", "customer_contacted_at"],
    "crm/feedback_self_reported": ["record_id", "rep_id", "customer_id", "contact_on", "reported_on", "kind"],
    "crm/adjustments": ["adjustment_id", "period", "level", "subject_id", "points", "reason", "approved_by"],
    "crm/improvement_actions": ["action_id", "rep_id", "customer_id", "issue_type", "measure", "due_on"],
    "crm/rep_devices": ["rep_id", "fingerprint"],
    "survey/invitations": ["invitation_id", "customer_id", "rep_id", "channel", "sent_at"],
    "survey/responses": ["response_id", "invitation_id", "responded_at", "nps"],
    "tickets/tickets": ["ticket_id", "customer_id", "type", "category", "severity", "opened_at"],
}
RULES = set(RULE_IDS)
OFFSET_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
PLAIN_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ---------------------------------------------------------------------------------------------
# reading the landing folder back
def read_file(p: Path) -> pd.DataFrame:
    if p.suffix == ".csv":
        return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if p.suffix == ".jsonl":
        df = pd.read_json(p, lines=True, dtype=False)
    else:
        df = pd.read_parquet(p)
    return df.astype(object).where(df.notna(), "").astype(str)


def read_entity(landing: Path, entity: str) -> pd.DataFrame:
    files = sorted(p for p in (landing / entity).iterdir() if p.suffix in (".csv", ".jsonl", ".parquet"))
    return pd.concat([read_file(p) for p in files], ignore_index=True)


def parse_ts(s: pd.Series) -> pd.Series:
    """ISO 8601 with +08:00 taken as given, without offset read as Asia/Shanghai; '' -> NaT."""
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    off = s.str.contains(r"[+-]\d{2}:\d{2}$", regex=True)
    plain = (s != "") & ~off
    if off.any():
        out[off] = pd.to_datetime(s[off], format="ISO8601", utc=True)
    if plain.any():
        out[plain] = (
            pd.to_datetime(s[plain], format="%Y-%m-%d %H:%M:%S").dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC")
        )
    return out


def local_day(s: pd.Series) -> pd.Series:
    return parse_ts(s).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()


def quarter_label(ts: pd.Series) -> pd.Series:
    return ts.dt.year.astype(str) + "-Q" + ts.dt.quarter.astype(str)


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


class Landing:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.landing = out / "landing"
        self.e = {k: read_entity(self.landing, k) for k in CONTRACT_COLUMNS}
        self.gt = pd.read_csv(out / "ground_truth.csv", dtype=str)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Landing, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample_default")
    counts = generate(out)  # the default call: seed 7, 60 reps, 4 quarters of 2026
    return Landing(out), counts


# ---------------------------------------------------------------------------------------------
# determinism and parameters
def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, reps=12)
    generate(b, seed=11, reps=12)
    generate(c, seed=12, reps=12)
    assert tree_hash(a) == tree_hash(b)
    assert tree_hash(a) != tree_hash(c)


def test_the_honest_spread_moves_only_its_own_entities(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the spread of sales attainment, of proposal verdicts and the mature teams' channel mix are read from
    # draws made whatever their values: another spread changes those three entities and nothing else, so
    # the planted patterns (and the flags of a run) stay the same, byte for byte
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, seed=2, reps=12, rows_scale=0.25)
    monkeypatch.setattr(generator, "ATTAINMENT_MEAN", 1.1)
    monkeypatch.setattr(generator, "ATTAINMENT_SD", 0.3)
    monkeypatch.setattr(generator, "FULLY_MEETS_MEAN", 0.5)
    monkeypatch.setattr(generator, "MATURE_CHANNEL_MIX", (0.8, 0.05, 0.05, 0.05, 0.03, 0.02))
    generate(b, seed=2, reps=12, rows_scale=0.25)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    changed = {str(f.parent) for f in files if (a / f).read_bytes() != (b / f).read_bytes()}
    assert changed == {"landing/crm/targets", "landing/crm/customers", "landing/crm/proposals"}


def test_reps_12_gives_12_reps_and_all_rules(tmp_path: Path) -> None:
    counts = generate(tmp_path, seed=3, reps=12)
    lnd = Landing(tmp_path)
    assert len(lnd.e["crm/reps"]) == 12 == counts["crm/reps"]
    assert len(lnd.e["crm/teams"]) == 2
    assert set(lnd.gt["rule_id"]) == RULES
    assert set(lnd.gt["rep_id"]) <= set(lnd.e["crm/reps"]["rep_id"])
    assert lnd.gt["rep_id"].nunique() <= 0.4 * 12


def test_rows_scale_and_quarters(tmp_path: Path) -> None:
    small = generate(tmp_path / "s", seed=5, reps=8, quarters=2)
    big = generate(tmp_path / "b", seed=5, reps=8, quarters=2, rows_scale=3.0)
    assert big["crm/interactions"] > 2.5 * small["crm/interactions"]
    assert big["crm/deals"] > 2.5 * small["crm/deals"]
    lnd = Landing(tmp_path / "s")
    assert set(lnd.gt["period"]) <= {"2026-Q1", "2026-Q2"}
    opened = parse_ts(lnd.e["tickets/tickets"]["opened_at"])
    assert opened.max() < pd.Timestamp("2026-07-01", tz="Asia/Shanghai")
    assert sorted(p.name for p in (lnd.landing / "crm/deals").iterdir()) == [
        "2026-03-31.csv",
        "2026-06-30.csv",
    ]


# ---------------------------------------------------------------------------------------------
# layout, headers, counts
def test_layout_headers_and_counts(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, counts = default_run
    for entity, cols in CONTRACT_COLUMNS.items():
        folder = lnd.landing / entity
        assert folder.is_dir(), entity
        for p in folder.iterdir():
            if p.suffix == ".csv":
                header = pd.read_csv(p, nrows=0, encoding="utf-8-sig").columns.tolist()
            elif p.suffix == ".parquet":
                header = pd.read_parquet(p).columns.tolist()
            else:
                header = pd.read_json(p, lines=True, nrows=1, dtype=False).columns.tolist()
            assert header == cols, p
        assert len(lnd.e[entity]) > 0, entity
        assert counts[entity] == len(lnd.e[entity]), entity
    total = sum(counts.values())
    assert 60_000 <= total <= 150_000
    suffixes = {p.suffix for p in lnd.landing.rglob("*") if p.is_file()}
    assert suffixes == {".csv", ".jsonl", ".parquet"}
    assert len(list((lnd.landing / "crm/deals").glob("*.csv"))) >= 4
    assert len(list((lnd.landing / "tickets/tickets").glob("*.csv"))) >= 4
    assert not (lnd.landing / "ground_truth.csv").exists()


def test_duckdb_reads_every_entity(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, counts = default_run
    con = duckdb.connect()
    for entity in CONTRACT_COLUMNS:
        folder = lnd.landing / entity
        n = 0
        if list(folder.glob("*.csv")):
            n += con.execute(
                f"select count(*) from read_csv('{folder}/*.csv', all_varchar=true, header=true)"
            ).fetchone()[0]
        if list(folder.glob("*.parquet")):
            n += con.execute(f"select count(*) from read_parquet('{folder}/*.parquet')").fetchone()[0]
        if list(folder.glob("*.jsonl")):
            n += con.execute(
                f"select count(*) from read_json('{folder}/*.jsonl', format='newline_delimited')"
            ).fetchone()[0]
        assert n == counts[entity], entity


# ---------------------------------------------------------------------------------------------
# row rules of CONTRACT.md: nothing in the sample may be quarantined
def test_row_rules(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    e = lnd.e
    for (entity, col), allowed in ENUMS.items():
        assert set(e[entity][col]) <= allowed, (entity, col, set(e[entity][col]) - allowed)
    for entity, cols in REQUIRED.items():
        for col in cols:
            assert (e[entity][col].str.strip() != "").all(), (entity, col)
    for entity, df in e.items():
        for col in df.columns:
            vals = df[col][df[col] != ""]
            if col.endswith("_at"):
                ok = vals.str.match(OFFSET_RE) | vals.str.match(PLAIN_RE)
                assert ok.all(), (entity, col, vals[~ok].head().tolist())
                assert (parse_ts(vals) < AS_OF_END).all(), (entity, col)
            if col.endswith("_on"):
                assert vals.str.match(DATE_RE).all(), (entity, col)
                assert (pd.to_datetime(vals) <= pd.Timestamp("2026-12-31")).all(), (entity, col)

    r = e["survey/responses"]
    nps = pd.to_numeric(r["nps"])
    assert nps.between(0, 10).all() and (nps == nps.round()).all()
    csat = pd.to_numeric(r["csat"].replace("", np.nan))
    assert csat.dropna().between(1, 5).all()
    dur = pd.to_numeric(r["duration_seconds"].replace("", np.nan)).dropna()
    assert ((dur >= 60) & (dur <= 600)).mean() > 0.8

    d = e["crm/deals"]
    amount = pd.to_numeric(d["amount"])
    assert amount.between(10_000, 2_000_000).all()
    coll = pd.to_numeric(d["collected_amount"].replace("", np.nan))
    assert ((coll.isna()) | ((coll >= 0) & (coll <= amount))).all()
    closed = d["stage"].isin(["won", "lost"])
    assert (d.loc[closed, "closed_on"] != "").all()
    assert (d.loc[~closed, "closed_on"] == "").all()
    assert set(d["currency"]) == {"", "CNY", "USD"}
    assert 0.02 < (d["currency"] == "USD").mean() < 0.1

    t = e["tickets/tickets"]
    opened = parse_ts(t["opened_at"])
    for col in ("first_response_at", "resolved_at"):
        x = parse_ts(t[col])
        assert (x.isna() | (x >= opened)).all(), col
    i = e["crm/interactions"]
    resp = parse_ts(i["rep_responded_at"])
    assert (resp.isna() | (resp >= parse_ts(i["customer_contacted_at"]))).all()
    p = e["crm/proposals"]
    pending = p["customer_verdict"] == "pending"
    assert (p.loc[pending, "verdict_at"] == "").all() and (p.loc[~pending, "verdict_at"] != "").all()
    fb = e["crm/feedback_self_reported"]
    cl = pd.to_numeric(fb["claimed_satisfaction"].replace("", np.nan)).dropna()
    assert cl.between(1, 5).all()
    assert set(fb["complaint_resolved"]) <= {"", "true", "false"}
    assert set(e["crm/improvement_actions"]["customer_confirmed"]) == {"", "true", "false"}
    tg = e["crm/targets"]
    assert tg["period"].str.match(r"^\d{4}-(\d{2}|Q[1-4])$").all()
    assert (pd.to_numeric(tg["sales_target"]) > 0).all()
    assert tg["period"].str.contains("Q").any() and tg["period"].str.match(r"^\d{4}-\d{2}$").any()
    pts = pd.to_numeric(e["crm/adjustments"]["points"])
    assert pts.between(-8, 8).all()


def test_references_resolve(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    e = lnd.e
    reps = set(e["crm/reps"]["rep_id"])
    teams = set(e["crm/teams"]["team_id"])
    custs = set(e["crm/customers"]["customer_id"])
    deals = set(e["crm/deals"]["deal_id"])
    invs = set(e["survey/invitations"]["invitation_id"])
    tickets = set(e["tickets/tickets"]["ticket_id"])
    assert set(e["crm/reps"]["team_id"]) <= teams
    assert set(e["crm/customers"]["owner_rep_id"]) <= reps
    ref = e["crm/customers"]["referred_by_customer_id"]
    assert set(ref[ref != ""]) <= custs
    for entity, df in e.items():
        for col, keys in (
            ("rep_id", reps),
            ("customer_id", custs),
            ("deal_id", deals),
            ("invitation_id", invs),
            ("ticket_id", tickets),
        ):
            if (
                col in df.columns
                and not (entity == "crm/deals" and col == "deal_id")
                and not (col == "invitation_id" and entity == "survey/invitations")
                and not (col == "ticket_id" and entity == "tickets/tickets")
            ):
                vals = set(df[col]) - {""}
                assert vals <= keys, (entity, col, sorted(vals - keys)[:5])
    adj = e["crm/adjustments"]
    assert set(adj.loc[adj["level"] == "rep", "subject_id"]) <= reps
    assert set(adj.loc[adj["level"] == "team", "subject_id"]) <= teams
    # primary keys unique (deals aside: they are re-sent on purpose)
    for entity, key in (
        ("crm/customers", "customer_id"),
        ("survey/responses", "response_id"),
        ("survey/invitations", "invitation_id"),
        ("tickets/tickets", "ticket_id"),
        ("crm/interactions", "interaction_id"),
        ("crm/feedback_self_reported", "record_id"),
    ):
        assert e[entity][key].is_unique, entity
    # a response is answered after its invitation was sent
    r = e["survey/responses"].merge(e["survey/invitations"], on="invitation_id", how="left")
    assert (parse_ts(r["responded_at"]) > parse_ts(r["sent_at"])).all()
    assert e["survey/responses"]["invitation_id"].is_unique
    # a ticket's rep is the customer's owner (or empty)
    t = e["tickets/tickets"].merge(e["crm/customers"][["customer_id", "owner_rep_id"]], on="customer_id")
    assert ((t["rep_id"] == "") | (t["rep_id"] == t["owner_rep_id"])).all()
    assert (t["rep_id"] == "").any()


# ---------------------------------------------------------------------------------------------
# realism and formats
def test_realism_mix(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    e = lnd.e
    assert e["crm/teams"]["business_stage"].value_counts().to_dict() == {"new_business": 3, "mature": 3}
    c = e["crm/customers"]
    assert set(c["segment"]) == ENUMS[("crm/customers", "segment")]
    assert set(c["acquisition_channel"]) == ENUMS[("crm/customers", "acquisition_channel")]
    referral = c["acquisition_channel"] == "referral"
    assert 0.1 < referral.mean() < 0.2
    assert (c.loc[referral, "referred_by_customer_id"] != "").all()
    assert (c.loc[~referral, "referred_by_customer_id"] == "").all()
    assert set(e["survey/invitations"]["channel"]) == ENUMS[("survey/invitations", "channel")]
    rate = len(e["survey/responses"]) / len(e["survey/invitations"])
    assert 0.4 <= rate <= 0.6
    t = e["tickets/tickets"]
    for col in ("type", "category", "severity"):
        assert set(t[col]) == ENUMS[("tickets/tickets", col)]
    assert 0.25 < (t["type"] == "complaint").mean() < 0.4
    comp = t[t["type"] == "complaint"]
    hours = (parse_ts(comp["resolved_at"]) - parse_ts(comp["opened_at"])).dt.total_seconds() / 3600
    assert 0.6 < (hours <= 24).mean() < 0.95 and hours.isna().any() and (hours > 24).any()
    assert (e["crm/proposals"]["customer_verdict"] == "pending").any()
    fu = e["crm/followups"]
    assert (fu["completed_at"] == "").any()
    late = (local_day(fu["completed_at"]) - pd.to_datetime(fu["planned_on"])).dt.days > 7
    assert late.any()
    i = e["crm/interactions"]
    h = (parse_ts(i["rep_responded_at"]) - parse_ts(i["customer_contacted_at"])).dt.total_seconds() / 3600
    assert 0.7 < (h <= 4).mean() < 0.97 and h.isna().any()
    assert set(e["crm/feedback_self_reported"]["kind"]) == ENUMS[("crm/feedback_self_reported", "kind")]
    assert e["crm/rep_devices"].groupby("rep_id").size().between(1, 2).all()
    assert set(e["crm/rep_devices"]["rep_id"]) == set(e["crm/reps"]["rep_id"])
    ia = e["crm/improvement_actions"]
    assert (ia["completed_on"] == "").any() and (ia["completed_on"] != "").any()
    # sales attainment spread: won amount (CNY, USD at 7.1) per rep-quarter against targets
    d = e["crm/deals"].drop_duplicates()
    d = d.assign(upd=parse_ts(d["updated_at"])).sort_values("upd").drop_duplicates("deal_id", keep="last")
    won = d[d["stage"] == "won"].copy()
    won["cny"] = pd.to_numeric(won["amount"]) * np.where(won["currency"] == "USD", 7.1, 1.0)
    won["period"] = quarter_label(pd.to_datetime(won["closed_on"]))
    actual = won.groupby(["rep_id", "period"])["cny"].sum()
    tg = e["crm/targets"].copy()
    tg["quarter"] = np.where(
        tg["period"].str.contains("Q"),
        tg["period"],
        quarter_label(pd.to_datetime(tg["period"] + "-01", errors="coerce")),
    )
    target = tg.groupby(["rep_id", "quarter"])["sales_target"].apply(lambda s: pd.to_numeric(s).sum())
    att = (actual / target.rename_axis(["rep_id", "period"])).dropna() * 100
    assert att.min() >= 45 and att.max() <= 155 and att.std() > 15
    # bell-shaped around ATTAINMENT_MEAN 97 %: the typical rep a little short of target
    assert 90 < att.median() < 100
    # proposals: about three in four of those with a verdict fully meet the requirements (FULLY_MEETS_MEAN)
    verdict = e["crm/proposals"]["customer_verdict"]
    assert 0.7 < (verdict[verdict != "pending"] == "fully_meets").mean() < 0.82
    # customers won in 2026: mature teams mostly by referral (MATURE_CHANNEL_MIX 45 %), new-business teams
    # like the company-wide mix (15 %)
    c = e["crm/customers"].merge(e["crm/reps"][["rep_id", "team_id"]], left_on="owner_rep_id", right_on="rep_id")
    c = c.merge(e["crm/teams"][["team_id", "business_stage"]], on="team_id")
    won_2026 = c[pd.to_datetime(c["acquired_on"]) >= "2026-01-01"]
    share = won_2026.groupby("business_stage")["acquisition_channel"].apply(lambda s: (s == "referral").mean())
    assert 0.3 < share["mature"] < 0.6 and 0.08 < share["new_business"] < 0.22


def test_chinese_text_round_trips(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    cjk = re.compile(r"[\u4e00-\u9fff]")
    e = lnd.e
    for entity, col in (
        ("crm/reps", "rep_name"),
        ("crm/customers", "customer_name"),
        ("crm/teams", "team_name"),
        ("crm/teams", "region"),
        ("survey/responses", "comment"),
        ("crm/feedback_self_reported", "note"),
        ("tickets/tickets", "description"),
        ("crm/adjustments", "reason"),
    ):
        assert e[entity][col].str.contains(cjk).any(), (entity, col)
        assert e[entity][col].str.match(r"^[A-Za-z]").any(), (entity, col)  # and English ones
    teams_csv = lnd.landing / "crm/teams/teams.csv"
    raw = teams_csv.read_bytes().decode("utf-8")
    names = e["crm/teams"]["team_name"].tolist()
    assert all(n in raw for n in names)
    via_duckdb = duckdb.sql(f"select team_name from read_csv('{teams_csv}', all_varchar=true)").fetchall()
    assert [x[0] for x in via_duckdb] == names
    assert "华东一组" in names
    # the Parquet and JSONL parts keep Chinese too
    pq = pd.read_parquet(next((lnd.landing / "survey/responses").glob("*.parquet")))
    assert pq["comment"].dropna().str.contains(cjk).any()
    # a quoted comment with a newline survives CSV
    assert e["survey/responses"]["comment"].str.contains("\n").any()


def test_timestamp_formats_mixed(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    for entity in ("crm/deals", "tickets/tickets", "survey/responses", "crm/interactions"):
        df = lnd.e[entity]
        col = [c for c in df.columns if c.endswith("_at")][0]
        assert df[col].str.match(OFFSET_RE).any(), entity
        assert df[col].str.match(PLAIN_RE).any(), entity


def test_deal_duplicates_and_superseded_versions(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    files = sorted((lnd.landing / "crm/deals").glob("*.csv"))
    parts = [read_file(p).assign(_file=p.name) for p in files]
    d = pd.concat(parts, ignore_index=True)
    cols = CONTRACT_COLUMNS["crm/deals"]
    exact = d[d.duplicated(cols, keep=False)]
    assert len(exact) >= 2 and exact["_file"].nunique() >= 2
    versions = d.drop_duplicates(cols)
    multi = versions[versions.duplicated("deal_id", keep=False)].copy()
    assert multi["deal_id"].nunique() >= 1
    multi["upd"] = parse_ts(multi["updated_at"])
    for _, g in multi.groupby("deal_id"):
        g = g.sort_values("upd")
        assert g["upd"].is_unique
        assert g["_file"].iloc[-1] > g["_file"].iloc[0]  # the later version comes in a later drop
        first, last = g.iloc[0], g.iloc[-1]
        assert (first["stage"], first["amount"]) != (last["stage"], last["amount"])


# ---------------------------------------------------------------------------------------------
# planted patterns: independent, simple detectors must find all of them and few others
def _attributed_complaints(e: dict[str, pd.DataFrame]) -> pd.DataFrame:
    t = e["tickets/tickets"]
    t = t[t["type"] == "complaint"].merge(e["crm/customers"][["customer_id", "owner_rep_id"]], on="customer_id")
    t = t.assign(rep=np.where(t["rep_id"] == "", t["owner_rep_id"], t["rep_id"]), tday=local_day(t["opened_at"]))
    return t.assign(period=quarter_label(t["tday"]))


def _responses(e: dict[str, pd.DataFrame]) -> pd.DataFrame:
    r = e["survey/responses"].merge(e["survey/invitations"], on="invitation_id")
    r["ts"] = parse_ts(r["responded_at"])
    r["period"] = quarter_label(r["ts"].dt.tz_convert("Asia/Shanghai"))
    r["nps"] = pd.to_numeric(r["nps"])
    r["csat"] = pd.to_numeric(r["csat"].replace("", np.nan))
    r["dur"] = pd.to_numeric(r["duration_seconds"].replace("", np.nan))
    return r


def _feedback(e: dict[str, pd.DataFrame]) -> pd.DataFrame:
    fb = e["crm/feedback_self_reported"].copy()
    fb["day"] = pd.to_datetime(fb["contact_on"])
    fb["period"] = quarter_label(fb["day"])
    fb["claimed"] = pd.to_numeric(fb["claimed_satisfaction"].replace("", np.nan))
    return fb


def detect(e: dict[str, pd.DataFrame]) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    fb = _feedback(e)
    tk = _attributed_complaints(e)
    r = _responses(e)

    m = fb.merge(tk[["rep", "customer_id", "tday"]], left_on=["rep_id", "customer_id"], right_on=["rep", "customer_id"])
    m = m[((m["day"] - m["tday"]).dt.days.abs() <= 14) & (m["kind"].isin(["praise", "neutral"]) | (m["claimed"] >= 4))]
    found["hidden_complaint"] = set(zip(m["rep_id"], m["period"], strict=True))

    tickets = tk.groupby(["rep", "period"]).size()
    selfc = fb[fb["kind"] == "complaint"].groupby(["rep_id", "period"]).size()
    selfc.index.names = ["rep", "period"]
    ratio = selfc.reindex(tickets.index, fill_value=0) / tickets
    peer = ratio[tickets >= 3].median()
    flag = (tickets >= 6) & (ratio < 0.3 * peer)
    found["complaint_underreporting"] = set(flag[flag].index)

    tp = r[r["channel"] == "third_party"]
    csat = tp.groupby(["rep_id", "period", "customer_id"])["csat"].mean().rename("csat")
    claim = fb.groupby(["rep_id", "period", "customer_id"])["claimed"].mean().rename("claim")
    j = pd.concat([csat, claim], axis=1, join="inner").dropna()
    g = j.groupby(level=[0, 1]).agg(n=("csat", "size"), csat=("csat", "mean"), claim=("claim", "mean"))
    flag = (g["n"] >= 5) & (g["claim"] - g["csat"] >= 1.0)
    found["inflated_self_report"] = set(flag[flag].index)

    r["score"] = np.where(r["nps"] >= 9, 1.0, np.where(r["nps"] <= 6, -1.0, 0.0))
    gap = set()
    for (rep, period), g in r.groupby(["rep_id", "period"]):
        a = g.loc[g["channel"] == "rep_distributed", "score"]
        b = g.loc[g["channel"] == "third_party", "score"]
        if len(a) >= 10 and len(b) >= 10:
            se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
            if se > 0 and (a.mean() - b.mean()) / se > 1.645:  # one-sided, 95%
                gap.add((rep, period))
    found["channel_gap"] = gap

    dev = e["crm/rep_devices"]
    own = r.merge(dev, left_on=["rep_id", "respondent_fingerprint"], right_on=["rep_id", "fingerprint"])
    sf = set(zip(own["rep_id"], own["period"], strict=True))
    fpr = (
        r[r["respondent_fingerprint"] != ""]
        .groupby(["rep_id", "period", "respondent_fingerprint"])["customer_id"]
        .nunique()
    )
    sf |= {(a, b) for a, b, _ in fpr[fpr >= 3].index}
    found["self_filled_survey"] = sf

    fast = r[(r["nps"] == 10) & (r["csat"] == 5) & (r["dur"] < 20)].sort_values("ts")
    sp = set()
    for rep, g in fast.groupby("rep_id"):
        ts = g["ts"].dt.tz_convert(None).to_numpy()
        k = np.searchsorted(ts, ts + np.timedelta64(30, "m"), side="right") - np.arange(len(ts))
        for i in np.flatnonzero(k >= 8):
            sp.add((rep, g["period"].iloc[i]))
    found["speeder_burst"] = sp

    touches = pd.concat(
        [
            e["crm/interactions"].assign(day=local_day(e["crm/interactions"]["customer_contacted_at"])),
            e["crm/proposals"].assign(day=local_day(e["crm/proposals"]["submitted_at"])),
            e["crm/followups"].assign(day=pd.to_datetime(e["crm/followups"]["planned_on"])),
            e["crm/deals"].assign(day=pd.to_datetime(e["crm/deals"]["closed_on"].replace("", "2026-06-30"))),
        ]
    )[["rep_id", "customer_id", "day"]]
    m = fb.reset_index().merge(touches, on=["rep_id", "customer_id"], how="left", suffixes=("", "_t"))
    m["near"] = (m["day"] - m["day_t"]).dt.days.abs() <= 30
    ok = m.groupby("index")["near"].any()
    bad = fb.loc[ok[~ok].index]
    cnt = bad.groupby(["rep_id", "period"]).size()
    found["fabricated_contact"] = set(cnt[cnt >= 1].index)
    return found


def test_planted_patterns_are_detectable(default_run: tuple[Landing, dict[str, int]]) -> None:
    lnd, _ = default_run
    gt = lnd.gt
    assert list(gt.columns) == ["rep_id", "period", "rule_id"]
    assert set(gt["rule_id"]) == RULES
    assert set(gt["rep_id"]) <= set(lnd.e["crm/reps"]["rep_id"])
    assert gt["period"].str.match(r"^2026-Q[1-4]$").all()
    assert not gt.duplicated().any()
    per_rule = gt.groupby("rule_id")["rep_id"].nunique()
    assert per_rule.between(2, 4).all(), per_rule
    assert gt["rep_id"].nunique() <= 0.4 * len(lnd.e["crm/reps"])
    found = detect(lnd.e)
    for rule in sorted(RULES):
        truth = set(zip(gt.loc[gt["rule_id"] == rule, "rep_id"], gt.loc[gt["rule_id"] == rule, "period"], strict=True))
        missed = truth - found[rule]
        extra = found[rule] - truth
        assert not missed, (rule, sorted(missed))
        assert len(extra) <= (2 if rule == "channel_gap" else 0), (rule, sorted(extra))


def test_years_of_history_end_in_2026(tmp_path: Path) -> None:
    """`scorecard sample --years N` / `scorecard bench --years N`: N whole calendar years ending in 2026."""
    assert years_of_history(1) == (4, "2026-01-01")
    assert years_of_history(3) == (12, "2024-01-01")
    with pytest.raises(ValueError, match="years must be at least 1"):
        years_of_history(0)
    assert main(["sample", "--out", str(tmp_path / "s"), "--seed", "5", "--scale", "tiny", "--years", "2"]) == 0
    lnd = Landing(tmp_path / "s")
    # one dated deals drop per quarter: the 8 quarter ends of 2025 and 2026
    assert sorted(p.name for p in (lnd.landing / "crm/deals").iterdir()) == [
        f"{y}-{md}.csv" for y in (2025, 2026) for md in ("03-31", "06-30", "09-30", "12-31")
    ]
    opened = parse_ts(lnd.e["tickets/tickets"]["opened_at"])
    assert pd.Timestamp("2025-01-01", tz="Asia/Shanghai") <= opened.min()
    assert opened.max() < pd.Timestamp("2027-01-01", tz="Asia/Shanghai")
    assert {p[:4] for p in lnd.gt["period"]} <= {"2025", "2026"}
    assert main(["sample", "--out", str(tmp_path / "z"), "--years", "0"]) == 2
