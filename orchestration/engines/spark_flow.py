"""A whole run on Spark, stage by stage: the scheme's cfg tables, ingestion, validation, `dbt build`
(every test), publish. Each stage is a function of a Spark session; `run_on_spark` calls them in
order (tests/engines_spark/test_spark_flow.py, tools/bench_spark.py); the assets of the Dagster graph call
them one by one in a run whose target is spark (orchestration/engines/spark_run.py).

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
from orchestration.contract.sql import SPARK
from orchestration.engines.spark_ingest import QUARANTINE_SCHEMA, SparkIngestRun, ingest
from orchestration.engines.spark_publish import PUBLISH_LOG_DDL, SparkLayout, publish, restore_state
from orchestration.ingest.counts import EntityCounts
from orchestration.ingest.scheme_tables import CFG_TABLES
from orchestration.periods import widen_window
from orchestration.reviews import ENTITY as REVIEW_ENTITY
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


def dbt_build(spark, run_vars: Mapping[str, Any], layout: SparkLayout, command: str = "build", callbacks=()):
    """`dbt build --target spark` in this process, in the `build_*` databases: dbt-spark's session
    method gets this session. `callbacks` get each of dbt's events (dbtRunner's callbacks)."""
    from dbt.cli.main import dbtRunner

    os.environ[SCHEMA_PREFIX_ENV] = layout.build_prefix
    # no earlier build's results may pass for this one's (dbt writes the file only when it runs nodes)
    (SPARK_TARGET_DIR / "run_results.json").unlink(missing_ok=True)
    try:
        args = dbt_args(command, target="spark", run_vars=run_vars, exclude_unit_tests=command == "build")
        return dbtRunner(callbacks=list(callbacks)).invoke(args)
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


def record_review_outcomes_spark(spark, run_id: str, layout: SparkLayout) -> tuple[int, int]:
    """reviews.record_review_outcomes on Spark: after dbt, the decisions this run read that dbt rejected are
    quarantined (the entity's counts corrected: they met the contract, so ingestion counted them accepted),
    and two checks (check_kind `review`) are recorded: `decision_rules` and `decision_for_closed_period`.
    The decisions of one run are few: they are collected and written back as rows. Returns (rejected,
    for closed periods); a re-run of the same run id replaces its rows."""
    decisions = f"{layout.build_db('intermediate')}.int_flag_decisions"
    if not spark.catalog.tableExists(decisions):
        return 0, 0  # dbt stopped before the decisions were checked: nothing to say about them
    ensure_spark_audit_tables(spark)
    run = SPARK.s(run_id)
    rejected = spark.sql(
        "select flag_id, decision, reviewer, decided_at_utc, reason, source_file, source_row, rejection_reason "
        f"from {decisions} where landed_run_id = {run} and not is_accepted order by source_file, source_row"
    ).collect()
    closed = spark.sql(
        "select flag_id, period, decision, reviewer, source_file, source_row "
        f"from {decisions} where landed_run_id = {run} and is_accepted "
        "and period in (select period from raw.cfg_closed_periods) order by source_file, source_row"
    ).collect()
    now = datetime.now(UTC)
    entity = SPARK.s(REVIEW_ENTITY)
    mine = f"run_id = {run} and source = {entity} and reason like 'review: %'"
    before = spark.table("audit.quarantine").where(mine).count()

    def raw_row(r) -> str:  # DuckDB's to_json(struct_pack(...)): compact, in this order
        decided = r.decided_at_utc.strftime("%Y-%m-%dT%H:%M:%SZ") if r.decided_at_utc else None
        row = {"flag_id": r.flag_id, "decision": r.decision, "reviewer": r.reviewer, "decided_at": decided,
               "reason": r.reason}  # fmt: skip
        return json.dumps(row, ensure_ascii=False, separators=(",", ":"))

    quarantine = [(run_id, REVIEW_ENTITY, r.flag_id, f"review: {r.rejection_reason}", raw_row(r), r.source_file,
                   r.source_row, now) for r in rejected]  # fmt: skip
    _replace_where(spark, "audit.quarantine", quarantine, QUARANTINE_SCHEMA, mine)
    # the entity's counts: these rows move from accepted to quarantined, once per run
    counts = f"run_id = {run} and entity = {entity}"
    if spark.table("audit.run_counts").where(counts).limit(1).count():
        moved = len(rejected) - before
        kept = spark.table("audit.run_counts").where(f"not ({counts})")
        fixed = (
            spark.table("audit.run_counts")
            .where(counts)
            .selectExpr(
                *[
                    f"accepted - {moved} as accepted"
                    if c == "accepted"
                    else f"quarantined + {moved} as quarantined"
                    if c == "quarantined"
                    else c
                    for c in spark.table("audit.run_counts").columns
                ]  # fmt: skip
            )
        )
        kept.unionByName(fixed).localCheckpoint().write.insertInto("audit.run_counts", overwrite=True)
    review = f"run_id = {run} and check_kind = 'review'"
    results = [
        (run_id, now, "review", REVIEW_ENTITY, "decision_rules", "warn", not rejected, len(rejected),
         f"{len(rejected)} decision(s) rejected (unknown flag id or reviewer who is the flagged rep) and quarantined"
         if rejected else "every decision read names a flag of this run and a reviewer who is not the flagged rep"),
        (run_id, now, "review", REVIEW_ENTITY, "decision_for_closed_period", "warn", not closed, len(closed),
         f"{len(closed)} decision(s) about flags of closed periods kept in audit.flag_reviews; the frozen grades "
         "do not change until the period is reopened" if closed else "no decision about a flag of a closed period"),
    ]  # fmt: skip
    failures = [
        (run_id, now, REVIEW_ENTITY, "decision_rules", "warn", r.flag_id,
         "flag_id" if r.rejection_reason.startswith("unknown_flag_id") else "reviewer",
         r.flag_id if r.rejection_reason.startswith("unknown_flag_id") else r.reviewer,
         f"{r.rejection_reason} ({r.source_file} line {r.source_row})", "review")
        for r in rejected
    ] + [
        (run_id, now, REVIEW_ENTITY, "decision_for_closed_period", "warn", r.flag_id, "flag_id", r.period,
         f"{r.decision} by {r.reviewer} for closed period {r.period} ({r.source_file} line {r.source_row}): kept in "
         "audit.flag_reviews, takes effect when the period is reopened", "review")
        for r in closed
    ]  # fmt: skip
    _replace_where(spark, "audit.check_results", results, AUDIT_DDL["check_results"], review)
    _replace_where(spark, "audit.validation_failures", failures, AUDIT_DDL["validation_failures"], review)
    return len(rejected), len(closed)


def _replace_where(spark, table: str, rows: list[tuple], schema: str, where: str) -> None:
    """Append `rows` after dropping the rows of `table` matching `where` (Parquet has no DELETE: the rest
    of the table is materialised and the table overwritten, as ge_spark.replace_rows does)."""
    new = spark.createDataFrame(rows, schema)
    if spark.table(table).where(where).limit(1).count():
        kept = spark.table(table).where(f"not ({where})").localCheckpoint()
        kept.unionByName(new).write.insertInto(table, overwrite=True)
    elif rows:
        new.write.insertInto(table)


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
    run = SparkIngestRun(run_id=run_id, as_of=as_of, sources=scheme.mapping(), **scheme.ingest_fields())
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
    record_review_outcomes_spark(spark, run_id, layout)
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
    record_run_row(spark, result.run_id, started, as_of, result.status, result.failure, landing, config)


def record_abandoned_runs(spark, current_run_id: str) -> list[str]:
    """Runs that left rows in the Spark ledger (counts from ingestion, a dbt build started) but no row in
    audit.runs: their process was killed or died. Each gets a row with status `abandoned`, as on DuckDB
    (warehouse/build_copy.py record_abandoned); their audit rows stay where they are."""
    spark.sql("create database if not exists audit")
    spark.sql(RUNS_DDL)
    spark.sql(PUBLISH_LOG_DDL)
    sources = ["select run_id, logged_at as at from audit.publish_log where state = 'build_started'"]
    if spark.catalog.tableExists("audit.run_counts"):
        sources.append("select run_id, counted_at as at from audit.run_counts")
    rows = spark.sql(
        f"select run_id, min(at) as started from ({' union all '.join(sources)}) as seen "
        f"where run_id <> {SPARK.s(current_run_id)} and run_id not in (select run_id from audit.runs) "
        "group by run_id order by started"
    ).collect()
    if not rows:
        return []
    now = datetime.now(UTC)
    reason = (
        "the run's process ended without finishing (killed or died); "
        f"found by run {current_run_id} at {now:%Y-%m-%d %H:%M:%S} UTC"
    )
    frame = spark.createDataFrame(
        [(r[0], r[1], None, None, "abandoned", reason, False, None, None) for r in rows],
        "run_id string, started_at timestamp, finished_at timestamp, as_of timestamp, status string, "
        "failure_reason string, published boolean, landing string, config string",
    )
    frame.write.insertInto("audit.runs")
    log.warning("recorded %d abandoned run(s): %s", len(rows), ", ".join(r[0] for r in rows))
    return [r[0] for r in rows]


def record_run_row(
    spark, run_id: str, started: datetime, as_of: datetime, status: str, failure: str | None, landing: str, config: str
) -> None:
    """The run's row in audit.runs (published when it succeeded)."""
    spark.sql("create database if not exists audit")
    spark.sql(RUNS_DDL)
    frame = spark.createDataFrame(
        [
            (
                run_id,
                started.astimezone(UTC),
                datetime.now(UTC),
                as_of.astimezone(UTC),
                status,
                failure,
                status == "succeeded",
                landing,
                config,
            )
        ],
        "run_id string, started_at timestamp, finished_at timestamp, as_of timestamp, status string, "
        "failure_reason string, published boolean, landing string, config string",
    )
    frame.write.insertInto("audit.runs")
