"""`scorecard run --target spark` (or run config `run_options: {target: spark}`): the same asset graph,
with each asset's work done on Spark. This module holds what the assets share in a Spark run.

- One Spark session per run, opened by the first asset that needs it (`spark_run`) and kept for the
  run's steps: they run one after another in one process (the in-process executor), and dbt-spark's
  `session` method picks the same session up, so one driver and one Hive metastore serve the whole run.
  The cluster is `SCORECARD_SPARK_MASTER` (spark://host:7077; unset: local[2] in the run's process).
- Where the tables are: `SCORECARD_SPARK_WAREHOUSE` (default: `spark-warehouse/` beside the
  `SCORECARD_WAREHOUSE` file), the embedded Derby metastore in `derby/` beside it. The stages and the
  layout are those of orchestration/engines/spark_flow.py and spark_publish.py.
- `SCORECARD_WAREHOUSE` is, for a Spark run, the DuckDB reader file of the published Spark warehouse
  (orchestration/engines/spark_catalog.py): written at publish, read by the run summary, the reports,
  `scorecard review` and analysts. A Spark run refuses a path that holds a DuckDB engine's warehouse.
- Locks: the writer lock of `SCORECARD_WAREHOUSE` (as on DuckDB, taken by scheme_config) and the one of
  the Spark warehouse folder (as `run_on_spark` takes it), both until the run ends.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.engines.spark_catalog import is_reader_catalog, write_reader_catalog
from orchestration.engines.spark_publish import SparkLayout, _tables, published_run
from orchestration.warehouse.writer_lock import acquire, release

log = logging.getLogger(__name__)

SPARK_WAREHOUSE_ENV = "SCORECARD_SPARK_WAREHOUSE"
MASTER_ENV = "SCORECARD_SPARK_MASTER"


class SparkTargetError(RuntimeError):
    """A Spark run that cannot start (a DuckDB warehouse at the reader file's path)."""


def spark_problem(warehouse: str | Path) -> str | None:
    """Why a Spark run cannot start here, in one line (checked before Dagster starts), or None."""
    import importlib.util
    import shutil

    if not is_reader_catalog(warehouse):
        return (
            f"--warehouse {warehouse} holds a DuckDB warehouse (tables of the duckdb target): a Spark run would "
            "replace it by the reader file of the Spark warehouse; give the Spark target a warehouse path of its own"
        )
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "--target spark needs the spark extra (pyspark, dbt-spark): .venv/bin/pip install -e '.[spark]'"
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "--target spark needs Java 17 (java on the PATH or JAVA_HOME)"
    return None


def spark_warehouse(warehouse: str | Path) -> str:
    """The Spark warehouse folder of a run whose SCORECARD_WAREHOUSE is `warehouse`."""
    return os.environ.get(SPARK_WAREHOUSE_ENV) or str(Path(warehouse).resolve().parent / "spark-warehouse")


@dataclass
class SparkRun:
    run_id: str
    spark: Any
    warehouse: str  # the DuckDB reader file (SCORECARD_WAREHOUSE)
    location: str  # spark.sql.warehouse.dir
    folder: Path | None  # the same, when it is a local folder (its writer lock)
    layout: SparkLayout = field(default_factory=SparkLayout)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    restored: str = ""

    def scratch(self, name: str) -> str:
        """A folder for one step's intermediate Parquet (removed by the step)."""
        return f"{self.location.rstrip('/')}/_scratch/{self.run_id}/{name}"


_RUNS: dict[str, SparkRun] = {}


def spark_run(run_id: str, warehouse: str | Path) -> SparkRun:
    """The run's Spark side: the session (started on first use) and the Spark warehouse's writer lock."""
    run = _RUNS.get(run_id)
    if run is not None:
        return run
    warehouse = str(Path(warehouse).resolve())
    if (problem := spark_problem(warehouse)) is not None:
        raise SparkTargetError(problem)
    from orchestration.engines.spark import spark_session
    from orchestration.engines.spark_flow import spark_warehouse_dir

    location = spark_warehouse(warehouse)
    home = Path(location).parent if "://" not in location else Path(warehouse).parent
    spark = spark_session(home, warehouse=location)
    # the JVM's own log at ERROR (Hive's metastore warns for every partition it writes): the run's log says
    # what happens; SCORECARD_SPARK_LOG_LEVEL=WARN or INFO to see Spark's
    spark.sparkContext.setLogLevel(os.environ.get("SCORECARD_SPARK_LOG_LEVEL", "ERROR"))
    folder = spark_warehouse_dir(spark)
    if folder is not None:
        try:
            acquire(folder, run_id)
        except BaseException:  # another run writes this Spark warehouse: no session of this run stays
            spark.stop()
            raise
    run = SparkRun(run_id, spark, warehouse, spark.conf.get("spark.sql.warehouse.dir"), folder)
    _RUNS[run_id] = run
    log.info(
        "Spark: master %s, warehouse %s (application %s)", spark.sparkContext.master, run.location,
        spark.sparkContext.applicationId,
    )  # fmt: skip
    return run


def end_spark_run(run_id: str) -> None:
    """Release the Spark warehouse's lock and stop the session (at the end of `scorecard run`)."""
    run = _RUNS.pop(run_id, None)
    if run is None:
        return
    try:
        remove_scratch(run)
    finally:
        if run.folder is not None:
            release(run.folder, run_id, force=True)
        run.spark.stop()


def remove_scratch(run: SparkRun) -> None:
    """The run's scratch folder (each step removes its own part; this removes the rest)."""
    from orchestration.engines.spark_ingest import delete_path

    delete_path(run.spark, f"{run.location.rstrip('/')}/_scratch/{run.run_id}")


def published_views(spark, layout: SparkLayout) -> dict[tuple[str, str], str]:
    """The reader file's views: the published run's copy of each mart and dbt audit model, the ledger
    tables in `audit`, and raw.cfg_closed_periods."""
    views: dict[tuple[str, str], str] = {}
    published = published_run(spark)
    if published:
        for name in _tables(spark, published[1]):
            schema, table = name.split("__", 1)
            if schema in layout.published:
                views[(schema, table)] = f"{published[1]}.`{name}`"
    return views | _ledger_views(spark, views)


def build_views(spark, layout: SparkLayout) -> dict[tuple[str, str], str]:
    """The same views over the run's build tables (its directors' reports are rendered before publish)."""
    views = {(schema, t): f"{layout.build_db(schema)}.`{t}`" for schema in layout.published
             for t in _tables(spark, layout.build_db(schema))}  # fmt: skip
    return views | _ledger_views(spark, views)


def _ledger_views(spark, taken: dict) -> dict[tuple[str, str], str]:
    views = {("audit", t): f"audit.`{t}`" for t in _tables(spark, "audit") if ("audit", t) not in taken}
    if spark.catalog.tableExists("raw.cfg_closed_periods"):
        views[("raw", "cfg_closed_periods")] = "raw.cfg_closed_periods"
    return views


def write_published_catalog(run: SparkRun, path: str | Path | None = None) -> Path:
    """The reader file of what is published now (at `path`, default the run's SCORECARD_WAREHOUSE)."""
    published = published_run(run.spark)
    info = {
        "spark_warehouse": run.location,
        "published_run_id": published[0] if published else "",
        "published_snapshot": published[1] if published else "",
    }
    return write_reader_catalog(run.spark, path or run.warehouse, published_views(run.spark, run.layout), info)


def write_build_catalog(run: SparkRun, path: str | Path) -> Path:
    info = {"spark_warehouse": run.location, "build_of_run_id": run.run_id}
    return write_reader_catalog(run.spark, path, build_views(run.spark, run.layout), info)


def record_failed_spark_run(
    run_id: str, warehouse: str, *, started: datetime, as_of: datetime, failure: str | None, landing: str, config: str
) -> None:
    """A failed Spark run's row in audit.runs, and the reader file refreshed (its audit views then show the
    run's counts, quarantine and checks; the marts stay those of the published run)."""
    from orchestration.engines.spark_flow import record_run_row

    run = spark_run(run_id, warehouse)
    record_run_row(run.spark, run_id, started, as_of, "failed", failure, landing, config)
    write_published_catalog(run)


def record_report_check(run: SparkRun, check_name: str, passed: bool, message: str) -> None:
    """A report's non-blocking check (check_kind `report`, severity warn) in the Spark ledger, as
    report/failures.py writes it on DuckDB: a failure also gets its row in audit.validation_failures."""
    from orchestration.validate.ge_spark import AUDIT_DDL, ensure_spark_audit_tables

    ensure_spark_audit_tables(run.spark)
    now = datetime.now(UTC)  # an aware time: pyspark stores its UTC instant
    row = [(run.run_id, now, "report", check_name, check_name, "warn", passed, 0 if passed else None, message)]
    run.spark.createDataFrame(row, AUDIT_DDL["check_results"]).write.insertInto("audit.check_results")
    if not passed:
        failure = [(run.run_id, now, check_name, check_name, "warn", None, None, None, message, "report")]
        run.spark.createDataFrame(failure, AUDIT_DDL["validation_failures"]).write.insertInto(
            "audit.validation_failures"
        )
