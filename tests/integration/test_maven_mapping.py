"""The public Maven CRM sample (mappings/maven_crm/export, unchanged copies) mapped with a mapping file only:
teams from managers, reps from agents, customers from accounts, deals from the pipeline. The figures are
checked against a second reading of the CSV files with Python's csv module."""

import csv
import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.cli import main
from orchestration.mapping.ingest import ingest_sources
from orchestration.scheme.file import load_scheme
from orchestration.settings import PROJECT_ROOT

MAVEN = PROJECT_ROOT / "mappings" / "maven_crm"
AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))


def pipeline_rows() -> list[dict]:
    with (MAVEN / "export" / "sales_pipeline.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def maven():
    con = duckdb.connect()
    counts = ingest_sources(con, MAVEN / "sources.yml", load_scheme(PROJECT_ROOT / "config" / "scorecard.yml"), AS_OF)
    yield con, counts
    con.close()


def test_the_copies_are_the_published_files():
    source = (MAVEN / "export" / "SOURCE.md").read_text()
    listed = dict((name, sha) for sha, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", source, flags=re.M))
    assert sorted(listed) == ["accounts.csv", "products.csv", "sales_pipeline.csv", "sales_teams.csv"]
    for name, sha in listed.items():
        assert hashlib.sha256((MAVEN / "export" / name).read_bytes()).hexdigest() == sha


def test_counts_per_entity_hold_the_identity(maven):
    _, counts = maven
    got = {e: (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded) for e, c in counts.items()}
    assert got == {
        # sales_teams.csv has one row per agent (35): each is a version of its manager's team (6 managers)
        "crm/teams": (35, 6, 0, 0, 29),
        "crm/reps": (35, 35, 0, 0, 0),
        "crm/customers": (85, 85, 0, 0, 0),
        # 1,425 opportunities have no account: quarantined, not dropped
        "crm/deals": (8800, 7375, 1425, 0, 0),
    }
    for rows_in, accepted, quarantined, dups, superseded in got.values():
        assert rows_in == accepted + quarantined + dups + superseded


def test_the_deals_without_an_account_are_quarantined_with_their_original_row(maven):
    con, _ = maven
    hand = {r["opportunity_id"] for r in pipeline_rows() if not r["account"]}
    assert len(hand) == 1425
    rows = con.execute("select reason, raw_row from audit.quarantine where source = 'crm/deals'").fetchall()
    assert {reason for reason, _ in rows} == {"missing required value: customer_id"}
    assert {json.loads(raw)["_source"]["opportunity_id"] for _, raw in rows} == hand


def test_won_amount_per_agent_and_quarter_equals_a_hand_computation(maven):
    con, _ = maven
    hand: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in pipeline_rows():
        if r["deal_stage"] == "Won":
            year, month, _ = r["close_date"].split("-")
            hand[(r["sales_agent"], f"{year}-Q{(int(month) - 1) // 3 + 1}")] += Decimal(r["close_value"])
    mapped = con.execute("""
        select rep_id, cast(year(closed_on) as varchar) || '-Q' || cast(quarter(closed_on) as varchar), sum(amount)
        from raw.crm__deals where _is_current and stage = 'won' and currency = 'USD' group by 1, 2
    """).fetchall()
    assert {(rep, q): amount for rep, q, amount in mapped} == dict(hand)
    assert len(hand) == 120 and sum(hand.values()) == Decimal("10005534")
    # three cells read off the file by hand
    assert hand[("Darcel Schlecht", "2017-Q1")] == Decimal("112255")
    assert hand[("Darcel Schlecht", "2017-Q3")] == Decimal("373218")
    assert hand[("Violet Mclelland", "2017-Q2")] == Decimal("52187")


def test_dimensions_from_managers_agents_and_accounts(maven):
    con, _ = maven
    teams = con.execute("select team_id, team_name, region, business_stage from raw.crm__teams where _is_current")
    assert sorted(teams.fetchall())[0] == ("Cara Losch", "Cara Losch's team", "East", "mature")
    assert con.execute("select count(*), count(distinct team_id) from raw.crm__reps").fetchall() == [(35, 6)]
    # Acme: its earliest dated opportunity is Reed Clapper's of 2016-11-12 (two undated ones come last);
    # the export's sector typo `technolgy` is mapped openly to technology
    acme = con.execute(
        "select owner_rep_id, acquired_on, industry, segment from raw.crm__customers "
        "where customer_id = 'Acme Corporation'"
    ).fetchall()
    assert acme == [("Reed Clapper", date(2016, 11, 12), "technology", "standard")]
    # GTXPro in the pipeline is the products file's GTX Pro; an open deal is valued at its list price
    assert con.execute("select count(*) from raw.crm__deals where product_line = 'GTXPro'").fetchall() == [(0,)]
    open_gtx_pro = con.execute(
        "select distinct amount from raw.crm__deals where stage = 'open' and product_line = 'GTX Pro'"
    ).fetchall()
    assert open_gtx_pro == [(Decimal("4821.0000"),)]


def test_dry_run_reports_what_a_run_would_do(capsys):
    code = main(
        ["map", "--dry-run", "--sources", str(MAVEN / "sources.yml"), "--as-of", "2026-12-31", "--failures", "2"]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "crm/teams from teams: 1 file(s), 35 rows read, 35 would pass, 0 quarantined" in out
    assert "crm/deals from pipeline: 1 file(s), 8,800 rows read, 7,375 would pass, 1,425 quarantined" in out
    i = out.index("  first failures:")
    # lines 11 and 44 of sales_pipeline.csv are the first two opportunities without an account
    assert out[i + 1 : i + 3] == [
        "    sales_pipeline.csv line 11: missing required value: customer_id",
        "    sales_pipeline.csv line 44: missing required value: customer_id",
    ]
    assert "       1,425  missing required value: customer_id" in out
    # the industry value map covers only the typo: the other sectors are kept as written, counted
    misses = next(line for line in out if line.startswith("  value-map misses, industry"))
    assert misses.startswith("  value-map misses, industry (kept as written): 'retail' x17, 'medical' x12")
    assert out[-2] == "the mapping is complete: a run would read it as above"


def test_the_dagster_ingest_asset_reads_the_exports_through_the_settings_mapping(tmp_path):
    # the nightly job's own asset, with `scorecard run --sources` as it sets the resource: no landing folder
    from dagster import materialize

    from orchestration.contract.layout import landing_problem
    from orchestration.ingest.defs import ingest_assets
    from orchestration.resources import FaultInjection, RunOptions, ScorecardSettings

    deals = next(a for a in ingest_assets if a.key.path[-1] == "crm__deals")
    settings = ScorecardSettings(
        landing=str(tmp_path / "landing"),
        config=str(PROJECT_ROOT / "config" / "scorecard.yml"),
        warehouse=str(tmp_path / "w.duckdb"),
        as_of="2026-12-31T23:59:59+08:00",
        sources=str(MAVEN / "sources.yml"),
    )
    result = materialize(
        [deals], resources={"settings": settings, "run_options": RunOptions(), "faults": FaultInjection()}
    )
    meta = {k: v.value for k, v in result.asset_materializations_for_node(deals.op.name)[0].metadata.items()}
    assert (meta["rows_in"], meta["accepted"], meta["quarantined"], meta["files_new"]) == (8800, 7375, 1425, 1)
    with duckdb.connect(settings.build, read_only=True) as con:
        assert con.execute("select count(*), min(_file), max(_file) from raw.crm__deals").fetchall() == [
            (7375, "sales_pipeline.csv", "sales_pipeline.csv")
        ]
    # the run's preflight: an absent landing folder is fine when the mapping gives the three required entities
    required = ("crm/teams", "crm/reps", "crm/customers")
    assert landing_problem(tmp_path / "landing", required) is None
    assert (
        landing_problem(tmp_path / "landing", ("crm/teams",)) == f"landing folder {tmp_path / 'landing'} does not exist"
    )
