"""The Spark engine: the raw layer exported from DuckDB to Parquet, registered as Spark tables in
database `raw`, and `dbt build --target spark` (dbt-spark, session method) on it.

The session method runs Spark inside the dbt process (`SparkSession.builder.getOrCreate()`), so the
raw tables must be registered in that same session: `build_on_spark` starts the session with the
settings below, registers the Parquet files and then invokes dbt in-process (dbtRunner), whose
getOrCreate() returns this session. On a real cluster (thrift/http/Databricks), the Parquet files go
to shared storage and the tables are registered once in the metastore (docs/running_at_scale.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.engines.common import duckdb_tables
from orchestration.transform.dbt_cli import dbt_args
from orchestration.warehouse import connect, ident

SPARK_CONF = {
    # timestamps in the raw layer are naive UTC: read and compute them in UTC, never the host's zone
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",  # no progress bars on stderr: the run's log says what runs
    "spark.sql.ansi.enabled": "false",
    # decimal division keeps the scale the SQL standard gives it (DuckDB and PostgreSQL do), instead of
    # Spark's default of cutting it to 6 digits when the result type would exceed 38 digits
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
}

# Only with a standalone master (spark://...), here the one of orchestration/engines/spark_cluster.py on
# the same host: the driver listens on 127.0.0.1 only, executors run in the worker with this Python
# (same host, same virtualenv) and stay small for a 2-core shared machine. The warehouse dir and the
# Parquet paths are local paths, which the executors reach because they run on this host.
STANDALONE_CONF = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.executor.memory": "1g",
    "spark.cores.max": "2",
    "spark.pyspark.python": sys.executable,
}


def export_raw_parquet(duckdb_path: str | Path, out_dir: str | Path) -> dict[str, Path]:
    """One Parquet file per raw table (raw.<source>__<entity>, raw.cfg_*); DuckDB streams the copy."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with connect(duckdb_path, read_only=True) as con:
        for table in duckdb_tables(con, "raw"):
            path = out / f"{table}.parquet"
            con.execute(f"copy (select * from raw.{ident(table)}) to '{path}' (format parquet)")
            files[table] = path
    return files


def spark_session(warehouse_dir: str | Path, master: str | None = None, warehouse: str | None = None):
    """A Spark session (Hive catalog in `warehouse_dir`: tables under its spark-warehouse/, or `warehouse`
    when given, the Derby metastore in its derby/) configured as dbt-spark's session expects, on
    `master`: by default $SCORECARD_SPARK_MASTER (e.g. spark://127.0.0.1:7077), else local[2]."""
    from pyspark.sql import SparkSession

    master = master or os.environ.get("SCORECARD_SPARK_MASTER") or "local[2]"
    # the Python of the executors' tasks: pyspark takes it from PYSPARK_PYTHON when the context starts
    # (spark.pyspark.python alone is read by spark-submit, not here), else `python3` from the PATH, which
    # lacks this environment's packages (the ingestion's tasks import orchestration and duckdb)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warehouse_dir = Path(warehouse_dir).resolve()
    builder = (
        SparkSession.builder.master(master)
        .appName("scorecard-dbt")
        .config("spark.sql.warehouse.dir", warehouse or str(warehouse_dir / "spark-warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={warehouse_dir / 'derby'}")
        .enableHiveSupport()
    )
    conf = SPARK_CONF | (STANDALONE_CONF if master.startswith("spark://") else {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def register_raw(spark, files: Mapping[str, Path]) -> None:
    """Each table's folder of Parquet files as table raw.<table> of the session's catalog."""
    spark.sql("create database if not exists raw")
    for table, path in files.items():
        spark.sql(f"drop table if exists raw.`{table}`")
        spark.sql(f"create table raw.`{table}` using parquet location '{Path(path).resolve()}'")


def build_on_spark(duckdb_path: str | Path, work_dir: str | Path, run_vars: Mapping[str, Any], command: str = "build"):
    """Export, register and run dbt (`command`: build or run) on Spark in this process. Returns the
    Spark session (for reading the marts) and dbt's result."""
    from dbt.cli.main import dbtRunner

    work_dir = Path(work_dir)
    files = export_raw_parquet(duckdb_path, work_dir / "raw")
    # one folder per table: Spark reads a table location as a directory
    for table, path in list(files.items()):
        folder = work_dir / "raw_tables" / table
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        path.replace(target)
        files[table] = target
    spark = spark_session(work_dir)
    register_raw(spark, {t: p.parent for t, p in files.items()})
    args = dbt_args(command, target="spark", run_vars=run_vars, exclude_unit_tests=command == "build")
    result = dbtRunner().invoke(args)
    return spark, result
