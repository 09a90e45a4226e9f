"""Incremental runs on Spark: the per-period models keep every period outside the refresh window and
every closed period exactly as published, and rebuild the window's periods as DuckDB does.

One module-scoped build shared by the assertions (slow: two `dbt build` on local Spark, `make
test-engines`): the tiny sample is ingested and built on DuckDB; Spark builds it from the exported raw
layer with every dbt test (`dbt build`). Then some deals of three periods are dropped and one period is
closed (raw.cfg_closed_periods), in a copy of the DuckDB warehouse and in the Spark raw tables alike,
and a second, incremental `dbt build` runs on Spark with a refresh window. The expected window rows
come from the same incremental `dbt run` on the DuckDB copy: the second engine, same inputs.
"""

import shutil
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import main
from orchestration.engines.compare import Table, compare_tables, read_duckdb, summarise
from orchestration.engines.spark import build_on_spark
from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.file import load_scheme
from orchestration.transform.dbt_cli import dbt_args, run_dbt

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
PERIODS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
# the second run: window 2026-Q2..2026-Q4 with 2026-Q3 closed, so it rewrites 2026-Q2 and 2026-Q4 only
PERIOD_FROM, PERIOD_TO, CLOSED = "2026-Q2", "2026-Q4", "2026-Q3"
WINDOW = ["2026-Q2", "2026-Q4"]
KEPT = ["2026-Q1", "2026-Q3"]
# deals dropped before the second run: every 10th deal (by deal_id) closed in these quarters, inside
# the window, in the closed period and before the window
CHANGED = {
    "2026-Q1": ("2026-01-01", "2026-04-01"),
    "2026-Q2": ("2026-04-01", "2026-07-01"),
    "2026-Q3": ("2026-07-01", "2026-10-01"),
}
# the incremental models (dbt_project.yml: marts/, audit/, the three flag tables): schema, table
INCREMENTAL = (
    [
        ("marts", t)
        for t in (
            "anomaly_flags",
            "complaint_pareto",
            "improvement_tracking",
            "indicator_values",
            "rep_feedback",
            "sales_breakdown",
            "score_statement",
            "scorecard",
            "team_shortfalls",
        )
    ]
    + [
        ("audit", t)
        for t in ("adjustments", "anomaly_flag_history", "excluded_responses", "flag_reviews", "indicator_values")
    ]
    + [("intermediate", t) for t in ("int_anomaly_flags", "int_anomaly_response_flags", "int_anomaly_flag_responses")]
)
# written with the time of the run: differ between engines and runs by nature
RUN_TIME_COLUMNS = {
    "anomaly_flags": {"first_seen_at"},
    "anomaly_flag_history": {"first_seen_at"},
    "flag_reviews": {"recorded_at"},
}


def _drop(table: Table, columns: set[str]) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c.lower() not in columns]
    return Table([table.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in table.rows])


def _periods(table: Table, periods: list[str]) -> Table:
    i = [c.lower() for c in table.columns].index("period")
    return Table(table.columns, [r for r in table.rows if r[i] in periods])


def _spark_table(spark, schema: str, table: str) -> Table:
    frame = spark.table(f"{schema}.{table}")
    return Table(frame.columns, [tuple(r) for r in frame.collect()])


def _exact(table: Table) -> list[str]:
    """Rows as text of their exact values (type and digits), in a fixed order of columns and rows."""
    order = sorted(range(len(table.columns)), key=lambda i: table.columns[i].lower())
    return sorted(repr(tuple(r[i] for i in order)) for r in table.rows)


def _change_inputs(con) -> int:
    """Drop every 10th deal of each CHANGED quarter and close CLOSED; returns the deals dropped."""
    before = con.execute("select count(*) from raw.crm__deals").fetchone()[0]
    for start, end in CHANGED.values():
        con.execute(
            """delete from raw.crm__deals where deal_id in (
                   select deal_id from (
                       select deal_id, row_number() over (order by deal_id) as n
                       from (select distinct deal_id from raw.crm__deals
                             where closed_on >= ?::date and closed_on < ?::date)
                   ) where n % 10 = 0)""",
            [start, end],
        )
    con.execute("delete from raw.cfg_closed_periods")
    con.execute("insert into raw.cfg_closed_periods values (?)", [CLOSED])
    return before - con.execute("select count(*) from raw.crm__deals").fetchone()[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark_incremental")
    with pytest.MonkeyPatch.context() as mp:
        for env in (
            "SCORECARD_LANDING",
            "SCORECARD_CONFIG",
            "SCORECARD_WAREHOUSE",
            "SCORECARD_AS_OF",
            "SCORECARD_DBT_DATABASE",
            "DAGSTER_HOME",
            "SCORECARD_RUN_RUN_ID",
            "SCORECARD_RUN_AS_OF",
            "SCORECARD_RUN_PERIOD_FROM",
            "SCORECARD_RUN_PERIOD_TO",
        ):
            mp.delenv(env, raising=False)
        assert main(["sample", "--out", str(tmp / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
        warehouse = tmp / "w.duckdb"
        config = ROOT / "config" / "scorecard.yml"
        assert (
            main(
                [
                    "run",
                    "--landing",
                    str(tmp / "sample" / "landing"),
                    "--config",
                    str(config),
                    "--warehouse",
                    str(warehouse),
                    "--as-of",
                    AS_OF,
                    "--log-level",
                    "WARNING",
                ]
            )
            == 0
        )
        with duckdb.connect(str(warehouse), read_only=True) as con:
            run_id = con.execute("select run_id from audit.runs where published").fetchone()[0]
        first_vars = dbt_vars(load_scheme(config), "2026-12-31 15:59:59") | {"run_id": run_id}
        second_vars = first_vars | {"run_id": "second", "period_from": PERIOD_FROM, "period_to": PERIOD_TO}

        # expected: the incremental run on a copy of the DuckDB warehouse with the changed inputs
        expected = tmp / "expected.duckdb"
        shutil.copyfile(warehouse, expected)
        with duckdb.connect(str(expected)) as con:
            dropped = _change_inputs(con)
        # in a subprocess: an in-process dbt-duckdb keeps its connection to the file open
        duckdb_second = run_dbt(
            dbt_args("run", run_vars=second_vars, target_path=tmp / "target_duckdb", log_path=tmp / "logs_duckdb"),
            database=expected,
        )
        assert duckdb_second.returncode == 0, duckdb_second.stdout[-3000:]

        # Spark: first build with every test, then the same changes in its raw tables, then the second build
        started = time.perf_counter()
        spark, first = build_on_spark(warehouse, tmp / "spark", first_vars, command="build")
        first_seconds = time.perf_counter() - started
        try:
            first_tables = {t: _spark_table(spark, s, t) for s, t in INCREMENTAL} if first.success else {}
            raw_tables = tmp / "spark" / "raw_tables"
            with duckdb.connect(str(expected), read_only=True) as con:
                for table in ("crm__deals", "cfg_closed_periods"):
                    path = raw_tables / table / f"{table}.parquet"
                    con.execute(f"copy (select * from raw.{table}) to '{path}' (format parquet)")
                    spark.sql(f"refresh table raw.`{table}`")
            from dbt.cli.main import dbtRunner

            started = time.perf_counter()
            second = dbtRunner().invoke(
                dbt_args("build", target="spark", run_vars=second_vars, exclude_unit_tests=True)
            )
            second_seconds = time.perf_counter() - started
            second_tables = {t: _spark_table(spark, s, t) for s, t in INCREMENTAL} if second.success else {}
            spark_raw_deals = spark.table("raw.crm__deals").count()
        finally:
            spark.stop()
        with duckdb.connect(str(expected), read_only=True) as con:
            expected_tables = {t: read_duckdb(con, s, t) for s, t in INCREMENTAL}
            duckdb_raw_deals = con.execute("select count(*) from raw.crm__deals").fetchone()[0]
    print(
        f"\nSpark: first dbt build {first_seconds:.1f} s, second (incremental) dbt build {second_seconds:.1f} s;"
        f" {dropped} deals dropped"
    )
    return {
        "first": first,
        "second": second,
        "first_tables": first_tables,
        "second_tables": second_tables,
        "expected_tables": expected_tables,
        "dropped": dropped,
        "raw_deals": (spark_raw_deals, duckdb_raw_deals),
    }


def _statuses(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in result.result.results:
        out.setdefault(str(r.status), []).append(r.node.unique_id)
    return out


def test_first_build_runs_every_test(runs):
    statuses = _statuses(runs["first"])
    assert runs["first"].success, {k: v for k, v in statuses.items() if k not in ("success", "pass")}
    tests = [r for r in runs["first"].result.results if r.node.resource_type == "test"]
    assert len(tests) > 250 and all(str(r.status) == "pass" for r in tests)


def test_second_incremental_build_succeeds(runs):
    statuses = _statuses(runs["second"])
    assert runs["second"].success, {k: v for k, v in statuses.items() if k not in ("success", "pass")}
    assert runs["dropped"] > 0 and runs["raw_deals"][0] == runs["raw_deals"][1]


def test_periods_outside_the_window_and_closed_periods_are_kept_exactly(runs):
    first, second = runs["first_tables"], runs["second_tables"]
    for _, table in INCREMENTAL:
        kept_first, kept_second = _periods(first[table], KEPT), _periods(second[table], KEPT)
        assert _exact(kept_second) == _exact(kept_first), table
    assert _periods(first["scorecard"], KEPT).rows, "the kept periods have rows"


def test_window_periods_equal_duckdb_on_the_same_inputs(runs):
    results = []
    for _, table in INCREMENTAL:
        drop = RUN_TIME_COLUMNS.get(table, set())
        left = _drop(_periods(runs["expected_tables"][table], WINDOW), drop)
        right = _drop(_periods(runs["second_tables"][table], WINDOW), drop)
        results.append(compare_tables(table, left, right))
    assert all(r.equal for r in results), summarise(results)


def test_the_change_reaches_the_window(runs):
    """The dropped deals change the window's marts (so the comparison above is not of unchanged rows)."""
    first, second = runs["first_tables"], runs["second_tables"]
    changed = [t for _, t in INCREMENTAL if _exact(_periods(first[t], WINDOW)) != _exact(_periods(second[t], WINDOW))]
    assert "sales_breakdown" in changed, changed
