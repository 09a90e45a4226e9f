"""The same dbt project on Spark (dbt-spark, session method, local pyspark): the tiny sample is
ingested and built on DuckDB, its raw layer exported to Parquet and registered in Spark, the models
run with `--target spark`, and every mart equals DuckDB's row for row. Slow (a JVM and a Spark job
per query): run by `make test-engines`. This folder is outside pyproject's testpaths, so a plain
`pytest` (`make test`) neither runs nor skips it."""

import time
from pathlib import Path

import duckdb

from orchestration.catalogue import MARTS
from orchestration.cli import main
from orchestration.engines.compare import Table, compare_tables, read_duckdb, summarise
from orchestration.engines.spark import build_on_spark
from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.file import load_scheme

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
RUN_TIME_COLUMNS = {"anomaly_flags": {"first_seen_at"}}


def _drop(table: Table, columns: set[str]) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c.lower() not in columns]
    return Table([table.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in table.rows])


def test_spark_marts_equal_duckdb(tmp_path, monkeypatch):
    for env in ("SCORECARD_LANDING", "SCORECARD_CONFIG", "SCORECARD_WAREHOUSE", "SCORECARD_AS_OF", "DAGSTER_HOME"):
        monkeypatch.delenv(env, raising=False)
    assert main(["sample", "--out", str(tmp_path / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    warehouse = tmp_path / "w.duckdb"
    config = ROOT / "config" / "scorecard.yml"
    started = time.perf_counter()
    assert main(["run", "--landing", str(tmp_path / "sample" / "landing"), "--config", str(config),
                 "--warehouse", str(warehouse), "--as-of", AS_OF, "--log-level", "WARNING"]) == 0
    duckdb_seconds = time.perf_counter() - started
    with duckdb.connect(str(warehouse), read_only=True) as con:
        run_id = con.execute("select run_id from audit.runs where published").fetchone()[0]
    run_vars = dbt_vars(load_scheme(config), "2026-12-31 15:59:59") | {"run_id": run_id}

    started = time.perf_counter()
    spark, result = build_on_spark(warehouse, tmp_path / "spark", run_vars, command="run")
    spark_seconds = time.perf_counter() - started
    print(f"\nwall time: DuckDB whole run {duckdb_seconds:.1f} s; Spark export + dbt run {spark_seconds:.1f} s")
    assert result.success, result.exception
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            results = []
            for t in MARTS:
                frame = spark.table(f"marts.{t}")
                right = Table(frame.columns, [tuple(r) for r in frame.collect()])
                drop = RUN_TIME_COLUMNS.get(t, set())
                results.append(compare_tables(t, _drop(read_duckdb(con, "marts", t), drop), _drop(right, drop)))
        assert all(r.equal for r in results), summarise(results)
    finally:
        spark.stop()
