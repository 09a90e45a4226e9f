"""Great Expectations suites over the raw layer: the chunked route, the audit rows, Data Docs and the
blocking asset checks, on tmp DuckDB warehouses."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dagster import AssetCheckSeverity, AssetKey, asset, materialize

from orchestration.contract.spec import entity_specs, spec_for
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.ingest.raw_table import create_empty_raw
from orchestration.resources import RunOptions, ScorecardSettings
from orchestration.settings import PROJECT_ROOT
from orchestration.validate.data_docs import data_docs_dir
from orchestration.validate.defs import great_expectations_checks
from orchestration.validate.ge_runner import run_suite, validate_entity
from orchestration.validate.ge_suites import (
    SUITES_DIR,
    SuiteError,
    check_suite,
    contract_expectations,
    load_suite_file,
)
from orchestration.warehouse import connect, ensure_audit_tables
from tools.sample.generator import generate

TZ = "Asia/Shanghai"
AS_OF_TEXT = "2026-12-31T23:59:59+08:00"
AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo(TZ))
GE = "great_expectations"


def insert(con, entity: str, rows: list[dict]) -> None:
    """Rows straight into raw.<entity>, bypassing the contract (as a broken ingestion would)."""
    spec = spec_for(entity)
    create_empty_raw(con, spec)
    for i, row in enumerate(rows):
        cols = [c.name for c in spec.columns if c.name in row]
        values = [row[c] for c in cols]
        con.execute(
            f"insert into raw.{spec.table} ({', '.join(cols)}, _file, _row, _run_id, _is_current) "
            f"values ({', '.join('?' for _ in cols)}, 'planted.csv', {i + 1}, 'planted', true)",
            values,
        )


def audit(con, sql: str, params=()) -> list[tuple]:
    return con.execute(sql, list(params)).fetchall()


# ------------------------------------------------------------------------------------------------
# The suites as files
# ------------------------------------------------------------------------------------------------


def test_every_entity_has_a_suite_in_sync_with_the_contract():
    counts = {}
    for spec in entity_specs():
        suite = load_suite_file(spec)  # loads and passes check_suite
        contract_part = [e for e in suite["expectations"] if e["meta"].get("origin") == "contract"]
        assert contract_part == contract_expectations(spec), f"{spec.table}.json: run the `sync` command"
        assert all(e["meta"]["why"].strip() for e in suite["expectations"])
        sev = [e["meta"]["severity"] for e in suite["expectations"]]
        counts[spec.table] = (len(sev), sev.count("error"), sev.count("warn"))
    assert len(counts) == 16
    # the auditors' decisions: the contract's key, required columns and enumeration, all blocking
    assert counts["review__flag_decisions"] == (7, 7, 0)
    assert counts["crm__deals"] == (17, 10, 7)
    assert counts["survey__responses"] == (14, 8, 6)
    # required entities must not be empty: an error-severity volume expectation
    for table in ("crm__teams", "crm__reps", "crm__customers"):
        suite = json.loads((SUITES_DIR / f"{table}.json").read_text())
        volume = next(e for e in suite["expectations"] if e["type"] == "expect_table_row_count_to_be_between")
        assert (volume["kwargs"]["min_value"], volume["meta"]["severity"]) == (1, "error")


def test_expectations_that_cannot_be_combined_across_chunks_are_refused():
    spec = spec_for("crm/deals")
    suite = load_suite_file(spec)
    median = {
        "type": "expect_column_median_to_be_between",
        "kwargs": {"column": "amount", "min_value": 1},
        "meta": {"severity": "warn", "why": "x"},
    }
    with pytest.raises(SuiteError, match="not supported by the chunked route"):
        check_suite(spec, suite | {"expectations": [*suite["expectations"], median]})
    unique_rep = {
        "type": "expect_column_values_to_be_unique",
        "kwargs": {"column": "rep_id"},
        "meta": {"severity": "warn", "why": "x"},
    }
    with pytest.raises(SuiteError, match="only on the primary key"):
        check_suite(spec, suite | {"expectations": [unique_rep]})


# ------------------------------------------------------------------------------------------------
# The route
# ------------------------------------------------------------------------------------------------


def test_ge_sql_datasource_over_duckdb_is_not_a_usable_route(tmp_path):
    """GE issue 11579: with duckdb-engine every metric fails with IndexError (list index out of
    range). duckdb-engine is not a dependency of the project, so here the route fails even earlier."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select range as id from range(10)")
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        import sqlalchemy

        with pytest.raises(sqlalchemy.exc.NoSuchModuleError):
            sqlalchemy.create_engine(f"duckdb:///{db}")
        return
    ctx = gx.get_context(mode="ephemeral")
    batch = (
        ctx.data_sources.add_sql("d", connection_string=f"duckdb:///{db}")
        .add_table_asset("t", table_name="t")
        .add_batch_definition_whole_table("all")
        .get_batch()
    )
    result = batch.validate(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    assert not result.success
    assert "IndexError: list index out of range" in json.dumps(result.exception_info, default=str)


DEALS_SQL = """
insert into raw.crm__deals (deal_id, customer_id, rep_id, product_line, stage, amount, currency, closed_on,
    collected_amount, updated_at, _file, _row, _run_id, _is_current)
select
    -- 7 keys appear twice (rows 1..7 reuse the key of rows 49001..49007)
    'D' || case when i <= 7 then 49000 + i else i end,
    'C' || (i % 997), 'R' || (i % 61), 'software',
    case when i % 1000 = 0 then 'signed' when i % 3 = 0 then 'won' when i % 3 = 1 then 'lost' else 'open' end,
    (1000 + i % 50000)::decimal(18, 2),
    'CNY',
    case when i % 3 <> 2 then date '2026-01-01' + (i % 365)::int end,
    case when i % 4 = 0 then (i % 1000)::decimal(18, 2) end,
    case when i % 500 = 0 then null else timestamp '2026-01-01' + to_seconds(i * 600) end,
    'big.csv', i, 'planted', true
from range(1, 50001) t(i)
"""


def test_chunked_route_gives_the_counts_of_a_single_chunk(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        ensure_audit_tables(con)
        create_empty_raw(con, spec_for("crm/deals"))
        con.execute(DEALS_SQL)
        spec = spec_for("crm/deals")
        chunked, _ = validate_entity(con, spec, AS_OF, chunk_rows=4_000)
        single, _ = validate_entity(con, spec, AS_OF, chunk_rows=1_000_000)
    assert (chunked.chunks >= 12, single.chunks) == (True, 1)
    assert chunked.rows_validated == single.rows_validated == 50_000
    for a, b in zip(chunked.outcomes, single.outcomes, strict=True):
        assert a.check_name == b.check_name
        assert (a.success, a.element_count, a.unexpected_count) == (b.success, b.element_count, b.unexpected_count)
        if isinstance(a.observed, float):
            assert a.observed == pytest.approx(b.observed, rel=1e-12)
        else:
            assert a.observed == b.observed
        assert sorted(a.failing_rows, key=str) == sorted(b.failing_rows, key=str)
    got = {o.check_name: o for o in chunked.outcomes}
    unique = got["expect_column_values_to_be_unique(deal_id)"]
    assert (unique.success, unique.unexpected_count) == (False, 14)
    assert sorted({k for k, _ in unique.failing_rows}) == [f"D4900{i}" for i in range(1, 8)]
    stage = got["expect_column_values_to_be_in_set(stage)"]
    assert (stage.success, stage.unexpected_count) == (False, 50)
    assert {v for _, v in stage.failing_rows} == {"signed"}
    won = got["expect_column_mean_to_be_between(stage_is_won)"]
    assert won.observed == pytest.approx(16_650 / 50_000)  # i % 3 = 0 and not i % 1000 = 0
    collected = got["expect_column_proportion_of_non_null_values_to_be_between(collected_amount)"]
    assert collected.observed == pytest.approx(0.25)
    assert got["expect_table_row_count_to_be_between"].observed == 50_000
    assert got["expect_column_max_to_be_between(updated_at)"].observed == "2026-12-14T05:10:00"  # row 49,999
    failed = {o.check_name for o in chunked.outcomes if not o.success}
    assert failed == {"expect_column_values_to_be_unique(deal_id)", "expect_column_values_to_be_in_set(stage)"}


# ------------------------------------------------------------------------------------------------
# Clean sample: every suite passes
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("ge_sample")
    generate(tmp / "sample", seed=3, reps=12, rows_scale=0.25)
    warehouse = tmp / "w.duckdb"
    with connect(warehouse) as con:
        for spec in entity_specs():
            ingest_entity(con, spec, tmp / "sample" / "landing", IngestRun("ingest", AS_OF, TZ, "CNY", ("USD",)))
    return warehouse


def test_clean_sample_passes_every_suite(sample_warehouse):
    with connect(sample_warehouse) as con:
        outcomes = [run_suite(con, s, "clean-run", AS_OF, sample_warehouse, data_docs=False) for s in entity_specs()]
        failing = [(o.entity, x.message) for o in outcomes for x in o.outcomes if not x.success]
        assert failing == []
        assert all(o.passed for o in outcomes)
        n = sum(o.evaluated for o in outcomes)
        assert audit(
            con,
            "select count(*), count(*) filter (where passed) from audit.check_results "
            "where run_id = 'clean-run' and check_kind = ?",
            [GE],
        ) == [(n, n)]
        assert audit(con, "select count(*) from audit.validation_failures where run_id = 'clean-run'") == [(0,)]


# ------------------------------------------------------------------------------------------------
# Planted problems
# ------------------------------------------------------------------------------------------------

STALE = "2026-08-01 10:00:00"  # 152 days before the as-of: every freshness horizon is shorter
FRESH = "2026-12-30 10:00:00"


def deal(deal_id, stage, amount, closed_on, collected=None, updated_at=STALE):
    return {
        "deal_id": deal_id,
        "customer_id": "C1",
        "rep_id": "R1",
        "product_line": "software",
        "stage": stage,
        "amount": amount,
        "currency": "CNY",
        "closed_on": closed_on,
        "collected_amount": collected,
        "updated_at": updated_at,
    }


def plant(con) -> None:
    insert(
        con,
        "crm/deals",
        [
            deal("D1", "won", 50_000, "2026-07-30", 50_000),
            deal("D2", "lost", 20_000, "2026-07-15"),
            deal("D3", "open", 30_000, None),
            deal("D3", "won", 30_000, "2026-07-20", 10_000),  # duplicate key
            deal("D4", "won", 80_000, "2026-07-01"),
            deal("D5", "signed", 10_000, "2026-07-02"),  # unknown enumeration value
        ],
    )
    insert(
        con,
        "survey/responses",
        [
            {
                "response_id": f"S{i}",
                "invitation_id": f"I{i}",
                "responded_at": FRESH,
                "nps": nps,
                "csat": 4,
                "duration_seconds": 120.0,
            }
            for i, nps in enumerate([50, 60, 8, 9], start=1)  # S1, S2 on a 0..100 scale: mean 31.75
        ],
    )
    insert(
        con,
        "crm/targets",
        [
            {"period": "2026-Q1", "rep_id": "R1", "sales_target": 100_000},
            {"period": "2026-Q1", "rep_id": "R1", "sales_target": 120_000},  # duplicate composite key
            {"period": "2026-Q2", "rep_id": "R1", "sales_target": 0},  # the contract wants > 0
        ],
    )
    insert(
        con,
        "tickets/tickets",
        [
            {
                "ticket_id": f"K{i}",
                "customer_id": "C1",
                "rep_id": "R1",
                "type": t,
                "category": "service",
                "severity": "low",
                "opened_at": STALE,
            }
            for i, t in enumerate(["complaint", "inquiry", "request"], start=1)
        ],
    )


EXPECTED_FAILED = {
    ("crm/deals", "expect_column_values_to_be_unique(deal_id)", "error", 2),
    ("crm/deals", "expect_column_values_to_be_in_set(stage)", "error", 1),
    ("crm/deals", "expect_column_max_to_be_between(updated_at)", "warn", 1),
    ("crm/deals", "expect_column_max_to_be_between(closed_on)", "warn", 1),
    ("survey/responses", "expect_column_values_to_be_between(nps)", "error", 2),
    ("survey/responses", "expect_column_mean_to_be_between(nps)", "warn", 1),
    ("crm/targets", "expect_compound_columns_to_be_unique(period, rep_id)", "error", 2),
    ("crm/targets", "expect_column_values_to_be_between(sales_target)", "error", 1),
    ("tickets/tickets", "expect_column_max_to_be_between(opened_at)", "warn", 1),
}


@pytest.fixture
def planted(tmp_path) -> ScorecardSettings:
    """Settings whose run file (the build copy the assets write and the checks read) holds the
    planted tables."""
    settings = ScorecardSettings(
        landing=str(tmp_path / "landing"),
        config=str(PROJECT_ROOT / "config" / "scorecard.yml"),
        warehouse=str(tmp_path / "warehouse" / "w.duckdb"),
        as_of=AS_OF_TEXT,
    )
    with connect(settings.build) as con:
        ensure_audit_tables(con)
        plant(con)
    return settings


def test_planted_problems_fail_exactly_the_expected_expectations(planted):
    run = "planted-run"
    with connect(planted.build) as con:
        outcomes = {
            e: run_suite(con, spec_for(e), run, AS_OF, planted.warehouse, data_docs=False)
            for e in ("crm/deals", "crm/targets", "survey/responses", "tickets/tickets")
        }
        failed = audit(
            con,
            "select source, check_name, severity, failing_rows from audit.check_results "
            "where run_id = ? and check_kind = ? and not passed",
            [run, GE],
        )
        assert set(failed) == EXPECTED_FAILED and len(failed) == len(EXPECTED_FAILED)
        rows = audit(
            con,
            "select source, check_name, severity, row_key, column_name, bad_value "
            "from audit.validation_failures where run_id = ? and check_kind = ? order by all",
            [run, GE],
        )
        assert rows == [
            (
                "crm/deals",
                "expect_column_max_to_be_between(closed_on)",
                "warn",
                None,
                "closed_on",
                "2026-07-30T00:00:00",
            ),
            (
                "crm/deals",
                "expect_column_max_to_be_between(updated_at)",
                "warn",
                None,
                "updated_at",
                "2026-08-01T10:00:00",
            ),
            ("crm/deals", "expect_column_values_to_be_in_set(stage)", "error", "D5", "stage", "signed"),
            ("crm/deals", "expect_column_values_to_be_unique(deal_id)", "error", "D3", "deal_id", "D3"),
            ("crm/deals", "expect_column_values_to_be_unique(deal_id)", "error", "D3", "deal_id", "D3"),
            (
                "crm/targets",
                "expect_column_values_to_be_between(sales_target)",
                "error",
                "2026-Q2|R1",
                "sales_target",
                "0",
            ),
            (
                "crm/targets",
                "expect_compound_columns_to_be_unique(period, rep_id)",
                "error",
                "2026-Q1|R1",
                "period,rep_id",
                "2026-Q1|R1",
            ),
            (
                "crm/targets",
                "expect_compound_columns_to_be_unique(period, rep_id)",
                "error",
                "2026-Q1|R1",
                "period,rep_id",
                "2026-Q1|R1",
            ),
            ("survey/responses", "expect_column_mean_to_be_between(nps)", "warn", None, "nps", "31.75"),
            ("survey/responses", "expect_column_values_to_be_between(nps)", "error", "S1", "nps", "50"),
            ("survey/responses", "expect_column_values_to_be_between(nps)", "error", "S2", "nps", "60"),
            (
                "tickets/tickets",
                "expect_column_max_to_be_between(opened_at)",
                "warn",
                None,
                "opened_at",
                "2026-08-01T10:00:00",
            ),
        ]
        # an error failure fails the suite; warn-only failures do not
        assert {e: (o.passed, o.failed_error, o.failed_warn) for e, o in outcomes.items()} == {
            "crm/deals": (False, 2, 2),
            "crm/targets": (False, 2, 0),
            "survey/responses": (False, 1, 1),
            "tickets/tickets": (True, 0, 1),
        }
        # append-only: a re-run of the same run id replaces its own rows, other runs stay
        run_suite(con, spec_for("crm/deals"), run, AS_OF, planted.warehouse, data_docs=False)
        run_suite(con, spec_for("crm/deals"), "next-run", AS_OF, planted.warehouse, data_docs=False)
        assert audit(
            con,
            "select run_id, count(*) from audit.validation_failures where source = 'crm/deals' "
            "group by run_id order by run_id",
        ) == [("next-run", 5), ("planted-run", 5)]
        assert audit(
            con,
            "select run_id, count(*) from audit.check_results where source = 'crm/deals' "
            "group by run_id order by run_id",
        ) == [("next-run", 17), ("planted-run", 17)]


def test_asset_checks_block_on_error_and_warn_without_blocking(planted):
    """Through Dagster: the checks are blocking, so a failing error expectation stops what is
    downstream; a warn-only failure passes with severity WARN; the Data Docs site is written."""
    checks = {spec.table: check for spec, check in zip(entity_specs(), great_expectations_checks, strict=True)}
    ran = []

    def raw(table):
        @asset(key=AssetKey(["raw", table]))
        def _raw():  # the table is already planted
            return None

        return _raw

    def downstream(table):
        @asset(key=AssetKey(["staging", table]), deps=[AssetKey(["raw", table])])
        def _stg():
            ran.append(table)

        return _stg

    tables = ["crm__deals", "tickets__tickets"]
    result = materialize(
        [*(raw(t) for t in tables), *(downstream(t) for t in tables), *(checks[t] for t in tables)],
        resources={"settings": planted, "run_options": RunOptions()},
        raise_on_error=False,
    )
    evaluations = {e.asset_key.path[1]: e for e in result.get_asset_check_evaluations()}
    deals, tickets = evaluations["crm__deals"], evaluations["tickets__tickets"]
    assert (deals.passed, deals.severity) == (False, AssetCheckSeverity.ERROR)
    assert (tickets.passed, tickets.severity) == (True, AssetCheckSeverity.WARN)
    meta = {k: v.value for k, v in deals.metadata.items()}
    assert (meta["evaluated"], meta["successful"], meta["failed"], meta["rows_validated"]) == (17, 13, 4, 6)
    assert (meta["failed_error"], meta["failed_warn"]) == (2, 2)
    assert ran == ["tickets__tickets"]  # staging of deals did not run: the check blocked it

    # the HTML site: an index naming the suites and the failing expectations, a page per run with
    # the failing values, and GE's own Data Docs page of each validation
    index = data_docs_dir(planted.warehouse) / "index.html"
    assert meta["data_docs"] == str(index) and index.is_file()
    text = index.read_text()
    assert "crm__deals" in text and "tickets__tickets" in text
    assert "expect_column_values_to_be_in_set(stage)" in text and "<script" not in text
    run_page = Path(meta["data_docs_run"]).read_text()
    assert result.run_id in meta["data_docs_run"]
    assert "D5: signed" in run_page and "D3: D3" in run_page  # the unknown stage and the duplicated key
    assert "observed 2026-08-01T10:00:00" in run_page  # stale: the latest updated_at
    ge_page = Path(meta["data_docs_ge_page"]).read_text()
    assert "crm__deals" in ge_page and "signed" in ge_page
    with duckdb.connect(planted.build, read_only=True) as con:
        assert audit(con, "select count(*) from audit.check_results where run_id = ?", [result.run_id]) == [(31,)]


# ------------------------------------------------------------------------------------------------
# What a nightly run validates: the run's keys row by row, every row in aggregate
# ------------------------------------------------------------------------------------------------


def test_changed_scope_checks_the_runs_keys_and_aggregates_every_row(tmp_path):
    spec = spec_for("crm/deals")
    with connect(tmp_path / "w.duckdb") as con:
        ensure_audit_tables(con)
        create_empty_raw(con, spec)
        con.execute(DEALS_SQL)
        # a later run ingested rows 3 (key D49003, also on row 49003), 1000 (stage 'signed') and 2001
        con.execute("update raw.crm__deals set _run_id = 'night-2' where _row in (3, 1000, 2001)")
        full, _ = validate_entity(con, spec, AS_OF, chunk_rows=4_000)
        changed, ge_result = validate_entity(con, spec, AS_OF, chunk_rows=4_000, changed_by="night-2")
    assert (full.scope, full.rows_validated, full.rows_current) == ("all", 50_000, 50_000)
    assert (changed.scope, changed.rows_validated, changed.rows_current, changed.chunks) == ("changed", 4, 50_000, 1)
    got = {o.check_name: o for o in changed.outcomes}
    unique = got["expect_column_values_to_be_unique(deal_id)"]
    assert (unique.success, unique.element_count, unique.unexpected_count) == (False, 4, 2)
    assert {k for k, _ in unique.failing_rows} == {"D49003"}
    stage = got["expect_column_values_to_be_in_set(stage)"]
    assert (stage.success, stage.unexpected_count, stage.failing_rows) == (False, 1, [("D1000", "signed")])
    # the aggregates: the same values and verdicts as GE's over every row, computed in one SQL statement
    for a in full.outcomes:
        b = got[a.check_name]
        if a.type in ("expect_column_values_to_be_unique", "expect_column_values_to_be_in_set"):
            continue
        if a.element_count is not None:  # row-level, passing in both scopes
            assert (a.success, b.success, b.element_count) == (True, True, 4), a.check_name
            continue
        assert (b.success, b.not_measured) == (a.success, a.not_measured), a.check_name
        if isinstance(a.observed, float):
            assert b.observed == pytest.approx(a.observed, rel=1e-12), a.check_name
        else:
            assert (b.observed, b.message) == (a.observed, a.message), a.check_name
    assert got["expect_table_row_count_to_be_between"].observed == 50_000
    assert got["expect_column_max_to_be_between(updated_at)"].observed == "2026-12-14T05:10:00"
    assert got["expect_column_mean_to_be_between(stage_is_won)"].observed == pytest.approx(16_650 / 50_000)
    assert got["expect_column_proportion_of_non_null_values_to_be_between(collected_amount)"].observed == 0.25
    assert ge_result.meta["batch_spec"]["rows_current"] == 50_000


def test_a_nightly_run_validates_row_by_row_only_what_it_ingested(sample_warehouse, tmp_path):
    # a copy of the module's clean sample: its landing folder and its warehouse (ingested by run "ingest")
    import shutil

    landing = tmp_path / "landing"
    shutil.copytree(sample_warehouse.parent / "sample" / "landing", landing)
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    deals, teams = spec_for("crm/deals"), spec_for("crm/teams")

    def scopes(con, run_id: str) -> dict:
        return {
            e: (scope, rows)
            for e, scope, rows in audit(
                con, "select source, scope, rows_validated from audit.ge_suite_runs where run_id = ?", [run_id]
            )
        }

    def publish(con, run_id: str, at: str) -> None:
        con.execute(
            "insert into audit.runs (run_id, finished_at, status, published) values (?, ?, 'succeeded', true)",
            [run_id, at],
        )

    def ingest(con, run_id: str) -> None:
        for spec in (deals, teams):
            ingest_entity(con, spec, landing, IngestRun(run_id, AS_OF, TZ, "CNY", ("USD",), incremental=True))

    with connect(warehouse) as con:
        current = audit(con, "select count(*) from raw.crm__deals where _is_current")[0][0]
        first = [run_suite(con, s, "ingest", AS_OF, warehouse, data_docs=False) for s in (deals, teams)]
        assert [(o.scope, o.rows_validated) for o in first] == [("all", current), ("all", 2)]
        assert scopes(con, "ingest") == {"crm/deals": ("all", current), "crm/teams": ("all", 2)}
        publish(con, "ingest", "2026-12-31 01:00:00")

        # night 2: one new deals file with two deals, one of them a new version of a published deal
        header, old_row = (landing / "crm" / "deals").glob("*.csv").__next__().read_text().splitlines()[:2]
        cols = header.split(",")
        new = old_row.split(",")
        new[cols.index("deal_id")] = "D-NEW-1"
        again = old_row.split(",")
        again[cols.index("updated_at")] = "2026-12-30T10:00:00+08:00"
        (landing / "crm" / "deals" / "2026-12-30_night.csv").write_text(
            "\n".join([header, ",".join(new), ",".join(again)]) + "\n", encoding="utf-8"
        )
        ingest(con, "night-2")
        night = [run_suite(con, s, "night-2", AS_OF, warehouse, data_docs=s is deals) for s in (deals, teams)]
        assert [(o.scope, o.rows_validated, o.rows_current) for o in night] == [
            ("changed", 2, current + 1),
            ("changed", 0, 2),
        ]
        assert all(o.passed for o in night)
        why = audit(
            con, "select scope_reason from audit.ge_suite_runs where run_id = 'night-2' and source = 'crm/teams'"
        )
        assert why == [("rows of the keys ingested by this run; the others passed in run ingest",)]
        page = (data_docs_dir(warehouse) / "runs" / "night-2.html").read_text(encoding="utf-8")
        assert (
            f"expectations met on {current + 1:,} current rows: row by row the 2 rows of the keys this run ingested"
        ) in page
        row_count = {o.check_name: o.observed for o in night[0].outcomes}["expect_table_row_count_to_be_between"]
        assert row_count == current + 1
        publish(con, "night-2", "2026-12-31 02:00:00")

        # night 3: the night file changed: every current row of deals again; teams still by its keys
        (landing / "crm" / "deals" / "2026-12-30_night.csv").write_text(
            "\n".join([header, ",".join(new)]) + "\n", encoding="utf-8"
        )
        ingest(con, "night-3")
        night3 = [run_suite(con, s, "night-3", AS_OF, warehouse, data_docs=False) for s in (deals, teams)]
        assert [(o.scope, o.rows_validated) for o in night3] == [("all", current + 1), ("changed", 0)]
        publish(con, "night-3", "2026-12-31 03:00:00")

        # a suite (or contract, or GE) that differs from the published run's: every row again
        con.execute("update audit.ge_suite_runs set suite_sha256 = 'older suite' where run_id = 'night-3'")
        assert run_suite(con, teams, "night-4", AS_OF, warehouse, data_docs=False).rows_validated == 2
        # a run that was not published does not count
        con.execute("delete from audit.runs where run_id = 'night-3'")
        con.execute("update audit.runs set published = false where run_id = 'night-2'")
        assert run_suite(con, teams, "night-5", AS_OF, warehouse, data_docs=False).scope == "changed"  # "ingest"


def test_ges_site_keeps_the_latest_runs_of_each_suite(sample_warehouse, tmp_path, monkeypatch):
    # every GE build lists every stored result: the project and the site keep the latest runs only
    import shutil

    from orchestration.validate import data_docs

    monkeypatch.setattr(data_docs, "GE_KEPT_RUNS", 2)
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(sample_warehouse, warehouse)
    teams = spec_for("crm/teams")
    with connect(warehouse) as con:
        pages = [run_suite(con, teams, f"run-{i}", AS_OF, warehouse).data_docs_page for i in range(4)]
    assert [p.is_file() for p in pages] == [False, False, True, True]
    store = warehouse.parent / "reports" / "great_expectations" / "gx" / "uncommitted" / "validations"
    assert sorted(p.relative_to(store).parts[1] for p in store.rglob("*.json")) == ["run-2", "run-3"]
    site = data_docs_dir(warehouse) / "ge" / "validations"
    assert sorted(p.relative_to(site).parts[1] for p in site.rglob("*.html")) == ["run-2", "run-3"]
    for top in (store, site):  # GE leaves the removed results' folders; they are removed too
        assert all(any(d.iterdir()) for d in top.rglob("*") if d.is_dir()), top
    index = (data_docs_dir(warehouse) / "ge" / "index.html").read_text(encoding="utf-8")
    assert "run-3" in index and "run-0" not in index
    # the auditor's own pages keep every run
    assert sorted(p.stem for p in (data_docs_dir(warehouse) / "runs").glob("*.html")) == [f"run-{i}" for i in range(4)]
