"""A whole run on Spark, stage by stage: the scheme's cfg tables, ingestion, validation, `dbt build`
(every test), publish. Each stage is a function of a Spark session; `run_on_spark` calls them in
order (tests/engines_spark/test_spark_flow.py). The Dagster assets do not call them yet:
`scorecard run --target spark` is the next step (docs/running_at_scale.md, "Not done yet").

Where things go (orchestration/engines/spark_publish.py has the layout): raw tables and the audit
ledger in databases `raw` and `audit`, dbt's models in `build_*`, the published marts as views in
`marts` and `audit`. dbt runs in the process that holds the session (dbt-spark's `session` method:
its getOrCreate() returns this session), so that one Spark driver, and one Hive metastore, serve the
whole run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchestration.closed_periods import closed_periods
from orchestration.contract.spec import entity_specs
from orchestration.engines.spark_ingest import SparkIngestRun, ingest
from orchestration.engines.spark_publish import SparkLayout, publish, restore_state
from orchestration.ingest.counts import EntityCounts
from orchestration.ingest.scheme_tables import CFG_TABLES
from orchestration.periods import widen_window
from orchestration.scheme.dbt_vars import cfg_rows, dbt_vars
from orchestration.scheme.model import Scheme
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.dbt_cli import dbt_args
from orchestration.validate.dbt_results import MAX_ROWS_PER_CHECK, DbtTestTally, dbt_result_rows
from orchestration.validate.ge_combine import SuiteOutcome
from orchestration.validate.ge_spark import AUDIT_DDL, ensure_spark_audit_tables, replace_rows, run_suite_spark
from orchestration.warehouse.writer_lock import acquire, release

log = logging.getLogger(__name__)

SCHEMA_PREFIX_ENV = "SCORECARD_DBT_SCHEMA_PREFIX"  # macros/generate_schema_name.sql
SPARK_TARGET_DIR = DBT_PROJECT_DIR / "target" / "spark"  # dbt_cli.dbt_args: target/<target>
RUNS_DDL = (
    "create table if not exists audit.runs (run_id string, started_at timestamp, finished_at timestamp, "
    "as_of timestamp, status string, failure_reason string, published boolean, landing string, config string) "
    "using parquet"
)


def spark_type(duckdb_type: str) -> str:
    return {"varchar": "string", "integer": "int"}.get(duckdb_type.lower(), duckdb_type)


def _python_type(duckdb_type: str):
    kind = duckdb_type.lower()
    if kind == "double":
        return float
    if kind == "integer":
        return int
    if kind.startswith("decimal"):
        return lambda v: Decimal(str(v))
    return str


def write_cfg_tables(spark, scheme: Scheme, closed: Iterable[str]) -> dict[str, int]:
    """raw.cfg_*: the scheme's weights, scoring points, grade bands, review policy and the closed
    periods, as the DuckDB run writes them (ingest/scheme_tables.py)."""
    rows = cfg_rows(scheme) | {"cfg_closed_periods": [(p,) for p in sorted(closed)]}
    spark.sql("create database if not exists raw")
    for table, ddl in CFG_TABLES.items():
        columns = [c.strip().split(" ", 1) for c in ddl.split(", ")]
        cols = ", ".join(f"{name} {spark_type(kind)}" for name, kind in columns)
        # Spark checks Python types against the schema: the scheme's numbers come as Decimal or int
        cast = [_python_type(kind) for _, kind in columns]
        data = [tuple(None if v is None else f(v) for f, v in zip(cast, r, strict=True)) for r in rows.get(table, [])]
        frame = spark.createDataFrame(data, cols)
        frame.write.mode("overwrite").format("parquet").saveAsTable(f"raw.{table}")
    return {t: len(rows.get(t, [])) for t in CFG_TABLES}


def state_tables(manifest_path: str | Path) -> list[tuple[str, str]]:
    """(schema, table) of the incremental models of the dbt project: the state a run starts from."""
    manifest = json.loads(Path(manifest_path).read_text())
    out = []
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental":
            out.append((node["config"].get("schema") or "default", node.get("alias") or node["name"]))
    return sorted(out)


@dataclass
class SparkRunResult:
    run_id: str
    status: str  # succeeded | failed
    counts: list[EntityCounts] = field(default_factory=list)
    suites: list[SuiteOutcome] = field(default_factory=list)
    dbt_success: bool = False
    failure: str | None = None
    snapshot: str | None = None
    restored: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    dbt_tests: DbtTestTally | None = None

    def timed(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = round(now - since, 2)
        log.info("Spark run %s: %s in %.1f s", self.run_id, stage, now - since)
        return now


def dbt_build(spark, run_vars: Mapping[str, Any], layout: SparkLayout, command: str = "build"):
    """`dbt build --target spark` in this process, in the `build_*` databases: dbt-spark's session
    method gets this session."""
    from dbt.cli.main import dbtRunner

    os.environ[SCHEMA_PREFIX_ENV] = layout.build_prefix
    # no earlier build's results may pass for this one's (dbt writes the file only when it runs nodes)
    (SPARK_TARGET_DIR / "run_results.json").unlink(missing_ok=True)
    try:
        args = dbt_args(command, target="spark", run_vars=run_vars, exclude_unit_tests=command == "build")
        return dbtRunner().invoke(args)
    finally:
        os.environ.pop(SCHEMA_PREFIX_ENV, None)


def record_dbt_results_spark(spark, run_id: str, target_dir: Path | None = None) -> DbtTestTally | None:
    """dbt's test results of the build into audit.check_results and audit.validation_failures (check
    kinds dbt and cross_source), failing rows read from the tables dbt stored them in
    (`build_dbt_test__audit`): validate/dbt_results.py, as on DuckDB."""
    target_dir = target_dir or SPARK_TARGET_DIR
    if not (target_dir / "run_results.json").exists():
        return None  # dbt stopped before running any node (its error is the run's failure)
    run_results = json.loads((target_dir / "run_results.json").read_text())
    manifest = json.loads((target_dir / "manifest.json").read_text())

    def read(schema: str, table: str) -> list[dict[str, Any]]:
        try:
            return [r.asDict() for r in spark.table(f"`{schema}`.`{table}`").limit(MAX_ROWS_PER_CHECK).collect()]
        except Exception:  # noqa: BLE001 - a test without a stored table: no rows, as on DuckDB
            return []

    tally, results, failures = dbt_result_rows(read, run_id, run_results, manifest)
    ensure_spark_audit_tables(spark)
    mine = f"run_id = '{run_id}' and check_kind in ('dbt', 'cross_source')"
    stamp = [(r[0], _utc(r[1]), *r[2:]) for r in results]
    replace_rows(spark, "audit.check_results", stamp, AUDIT_DDL["check_results"], mine)
    stamp = [(r[0], _utc(r[1]), *r[2:]) for r in failures]
    replace_rows(spark, "audit.validation_failures", stamp, AUDIT_DDL["validation_failures"], mine)
    return tally


def _utc(text: str | None) -> datetime | None:
    """dbt's generated_at (ISO text, UTC) as a naive UTC datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def run_on_spark(
    spark,
    *,
    landing: str,
    scheme: Scheme,
    config: str,
    warehouse: str,
    run_id: str,
    as_of: datetime,
    period_from: str | None = None,
    period_to: str | None = None,
    layout: SparkLayout | None = None,
    fault: Callable[[str], None] = lambda point: None,
    manifest: str | Path = DBT_PROJECT_DIR / "target" / "manifest.json",
) -> SparkRunResult:
    """One run: cfg tables, ingestion, the Great Expectations suites, dbt build with every test, publish
    when nothing blocking failed."""
    layout = layout or SparkLayout()
    # one writer per Spark warehouse: the same advisory lock as the DuckDB warehouse's, beside the
    # warehouse folder (a local path; on shared storage, the orchestrator's pool of one writer)
    folder = spark_warehouse_dir(spark)
    if folder is not None:
        acquire(folder, run_id)
    try:
        return _run(
            spark, landing, scheme, config, warehouse, run_id, as_of, period_from, period_to, layout, fault, manifest
        )
    finally:
        if folder is not None:
            release(folder, run_id, force=True)


def widen_for_decisions_spark(
    spark, run_id: str, period_from: str | None, period_to: str | None
) -> tuple[str | None, str | None, list[str]]:
    """reviews.widen_for_decisions on Spark: a decision this run read about a flag of a period outside
    the refresh window widens the window to that period, so that the decision reaches its grades."""
    if period_from is None and period_to is None:
        return None, None, []
    if not (
        spark.catalog.tableExists("raw.review__flag_decisions") and spark.catalog.tableExists("marts.anomaly_flags")
    ):
        return period_from, period_to, []
    rows = spark.sql(
        "select distinct f.period from raw.review__flag_decisions as d "
        "inner join marts.anomaly_flags as f on f.flag_id = d.flag_id "
        f"where d._run_id = '{run_id}' and d._is_current"
    ).collect()
    return widen_window(period_from, period_to, [r[0] for r in rows])


def spark_warehouse_dir(spark) -> Path | None:
    """The session's warehouse folder when it is a local path, else None."""
    value = spark.conf.get("spark.sql.warehouse.dir")
    if value.startswith("file:"):
        value = value[len("file:") :]
    return Path(value) if value.startswith("/") else None


def _run(spark, landing, scheme, config, warehouse, run_id, as_of, period_from, period_to, layout, fault, manifest):
    started = datetime.now(UTC)
    result = SparkRunResult(run_id, "failed")
    clock = time.perf_counter()
    closed = closed_periods(list(scheme.closed_periods), warehouse)
    write_cfg_tables(spark, scheme, closed)
    clock = result.timed("scheme", clock)
    run = SparkIngestRun(
        run_id=run_id,
        as_of=as_of,
        timezone=scheme.timezone,
        base_currency=scheme.currency.base,
        currencies=tuple(scheme.currency.rates),
        encodings=dict(scheme.encodings),
    )
    result.counts = ingest(spark, landing, run, spark.conf.get("spark.sql.warehouse.dir"))
    clock = result.timed("ingestion", clock)
    fault("after_ingest")
    # the Great Expectations suites on Spark data frames; an error-severity failure blocks publication
    result.suites = [run_suite_spark(spark, spec, run_id, as_of) for spec in entity_specs()]
    clock = result.timed("great_expectations", clock)
    blocking = [f"{o.entity} ({o.failed_error})" for o in result.suites if not o.passed]
    if blocking:
        result.failure = "Great Expectations: error-severity expectations failed: " + ", ".join(blocking)
        _record_run(spark, result, started, as_of, landing, config)
        return result
    state = state_tables(manifest)
    result.restored = restore_state(spark, state, run_id, layout)
    clock = result.timed("restore", clock)
    period_from, period_to, decided = widen_for_decisions_spark(spark, run_id, period_from, period_to)
    if decided:
        log.info("review decisions about flags of %s: the refresh window is widened to %s .. %s",
                 ", ".join(decided), period_from or "the first period", period_to or "the last period")  # fmt: skip
    as_of_utc = as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    run_vars = dbt_vars(scheme, as_of_utc) | {"run_id": run_id, "period_from": period_from, "period_to": period_to}
    dbt = dbt_build(spark, run_vars, layout)
    result.dbt_success = bool(dbt.success)
    result.dbt_tests = record_dbt_results_spark(spark, run_id)
    clock = result.timed("dbt_build", clock)
    fault("after_dbt")
    if not dbt.success:
        result.failure = f"dbt build failed: {dbt.exception or 'a model or an error-severity test failed'}"
    else:
        result.snapshot = publish(spark, run_id, state, layout, fault)
        clock = result.timed("publish", clock)
        result.status = "succeeded"
    _record_run(spark, result, started, as_of, landing, config)
    return result


def _record_run(spark, result: SparkRunResult, started: datetime, as_of: datetime, landing: str, config: str) -> None:
    spark.sql("create database if not exists audit")
    spark.sql(RUNS_DDL)
    frame = spark.createDataFrame(
        [
            (
                result.run_id,
                started,
                datetime.now(UTC),
                as_of.astimezone(UTC),
                result.status,
                result.failure,
                result.status == "succeeded",
                landing,
                config,
            )
        ],
        "run_id string, started_at timestamp, finished_at timestamp, as_of timestamp, status string, "
        "failure_reason string, published boolean, landing string, config string",
    )
    frame.write.insertInto("audit.runs")
