"""The scheme file, validated, written as the cfg_* tables dbt scores with."""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, BackfillPolicy, MaterializeResult, multi_asset

from orchestration.closed_periods import CLOSED_PERIODS_DDL, write_period_status
from orchestration.resources import RunOptions, ScorecardSettings
from orchestration.scheme.dbt_vars import cfg_rows
from orchestration.warehouse import connect, ensure_audit_tables
from orchestration.warehouse.build_copy import start_build
from orchestration.warehouse.writer_lock import WRITER_POOL, acquire

CFG_TABLES = {
    "cfg_scheme_weights": (
        "scheme_id varchar, indicator varchar, weight decimal(9,6), method varchar, target double, "
        "cap double, threshold double, per_unit double, max_score double, min_score double"
    ),
    "cfg_scoring_points": "scheme_id varchar, indicator varchar, seq integer, x double, y double",
    "cfg_grade_bands": "seq integer, label varchar, min_score decimal(9,2), bonus_coefficient decimal(9,4)",
    # review policy per anomaly rule (SCORING.md "From flag to decision"), defaults resolved
    "cfg_anomaly_policy": "rule_id varchar, on_open varchar, on_confirm varchar, penalty_points decimal(9,2)",
    # closed periods (scheme file + close/reopen commands): kept out of dbt's refresh window
    "cfg_closed_periods": CLOSED_PERIODS_DDL,
}


def write_cfg_tables(con, scheme) -> dict[str, int]:
    rows = cfg_rows(scheme)
    con.execute("create schema if not exists raw")
    for table in rows:  # cfg_closed_periods: closed_periods.write_period_status
        con.execute(f"create or replace table raw.{table} ({CFG_TABLES[table]})")
        if rows[table]:
            marks = ", ".join("?" for _ in rows[table][0])
            con.executemany(f"insert into raw.{table} values ({marks})", [list(r) for r in rows[table]])
    # no closed period unless the run writes them (closed_periods.write_period_status)
    con.execute(f"create table if not exists raw.cfg_closed_periods ({CFG_TABLES['cfg_closed_periods']})")
    return {t: len(r) for t, r in rows.items()}


@multi_asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    specs=[AssetSpec(AssetKey(["raw", t]), group_name="ingest", description=f"Scheme file as {t}") for t in CFG_TABLES],
    can_subset=False,
    pool=WRITER_POOL,
)
def scheme_config(context: AssetExecutionContext, settings: ScorecardSettings, run_options: RunOptions):
    """Validate the scheme file (the run stops here, before anything is written, when it is wrong),
    take the warehouse's writer lock (another run holding it stops this one at once), settle what an
    earlier run left behind (an abandoned run is recorded), start the run's build copy of the warehouse
    and write the scheme's weights, scoring methods and grade bands into it for dbt."""
    scheme = settings.scheme()
    lock = acquire(settings.warehouse, context.run_id)
    if lock.stale is not None:
        context.log.warning(
            f"the warehouse lock of an earlier run ({lock.stale.describe()}) was stale: that process is gone"
        )
    if run_options.engine() == "spark":
        yield from _spark_scheme_config(context, settings, scheme)
        return
    build = start_build(settings.warehouse, context.run_id, lock.stale)
    lock.stale = None
    context.log.info(f"building in {build}; {settings.warehouse} stays as it is until publish")
    with connect(build) as con:
        ensure_audit_tables(con)
        counts = write_cfg_tables(con, scheme)
        closed = write_period_status(con, list(scheme.closed_periods), settings.warehouse)
        counts["cfg_closed_periods"] = len(closed)
    if closed:
        context.log.info(f"closed periods (published grades frozen): {', '.join(closed)}")
    for table, n in counts.items():
        yield MaterializeResult(
            asset_key=AssetKey(["raw", table]), metadata={"rows": n, "scheme_file": settings.config}
        )


def _spark_scheme_config(context: AssetExecutionContext, settings: ScorecardSettings, scheme):
    """The cfg tables in the Spark warehouse (a Spark run has no DuckDB build copy)."""
    from orchestration.closed_periods import closed_periods
    from orchestration.engines.spark_flow import record_abandoned_runs
    from orchestration.engines.spark_flow import write_cfg_tables as write_spark_cfg_tables
    from orchestration.engines.spark_publish import recover
    from orchestration.engines.spark_run import spark_run, write_published_catalog

    run = spark_run(context.run_id, settings.warehouse)
    finished = recover(run.spark, run.layout)
    if finished:
        context.log.warning(f"Spark: the publish of run {finished} was interrupted during its switch: finished now")
    for abandoned in record_abandoned_runs(run.spark, context.run_id):
        context.log.warning(f"Spark: run {abandoned} ended without finishing: recorded as abandoned in audit.runs")
    # the reader file follows what Spark has published (a run killed after its switch left the old one)
    write_published_catalog(run)
    closed = closed_periods(list(scheme.closed_periods), settings.warehouse)
    counts = write_spark_cfg_tables(run.spark, scheme, closed)
    context.log.info(f"Spark: building in {run.location}; the published marts stay as they are until publish")
    if closed:
        context.log.info(f"closed periods (published grades frozen): {', '.join(closed)}")
    for table, n in counts.items():
        yield MaterializeResult(
            asset_key=AssetKey(["raw", table]), metadata={"rows": n, "scheme_file": settings.config, "engine": "spark"}
        )
