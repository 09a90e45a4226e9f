"""The PostgreSQL warehouse as the last step of a run (does its work only when the run's
`run_options.target` is postgres; `scorecard run --target postgres`).

Ingestion, validation and the DuckDB build stay the quality gate (write-audit-publish on the DuckDB
file); once the run is published, `postgres_warehouse` copies the raw layer into PostgreSQL schema
`raw`, runs `dbt build --target postgres` there with the same --vars (same as-of, same run id) and
copies the audit ledger, so the PostgreSQL marts equal the published DuckDB marts row for row.
The asset is in the graph of every code location (the graph is the same in every shell); in a run whose
target is duckdb it materialises nothing and says so.
"""

import time

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, Definitions, Failure, MaterializeResult, asset

from orchestration.engines.postgres import PostgresTarget, build_dbt, load_audit, load_raw
from orchestration.periods import partition_keys, window_vars
from orchestration.resources import RunOptions, ScorecardSettings
from orchestration.reviews import widen_for_decisions
from orchestration.transform.defs import dbt_run_vars
from orchestration.warehouse import connect
from orchestration.warehouse.writer_lock import WRITER_POOL


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="postgres_warehouse",
    group_name="publish",
    deps=[AssetKey(["published_warehouse"])],
    kinds={"postgres", "dbt"},
    output_required=False,  # nothing to materialise in a run whose target is duckdb
    pool=WRITER_POOL,
    description="The published run's raw layer, marts (dbt build --target postgres) and audit ledger in "
    "PostgreSQL (SCORECARD_PG_* settings).",
)
def postgres_warehouse(context: AssetExecutionContext, settings: ScorecardSettings, run_options: RunOptions):
    if run_options.engine() != "postgres":
        context.log.info(f"target {run_options.engine()}: no PostgreSQL copy in this run")
        return
    target = PostgresTarget.from_env()
    scheme = settings.scheme()  # the DuckDB build's refresh window (the run's partition range)
    window = window_vars(context, partition_keys(scheme.grain, scheme.first_period))
    with connect(settings.warehouse, read_only=True) as con:  # the same widening as the DuckDB build's
        period_from, period_to, _ = widen_for_decisions(con, context.run_id, window["period_from"], window["period_to"])
    run_vars = dbt_run_vars(settings) | {"run_id": context.run_id, "period_from": period_from, "period_to": period_to}
    started = time.perf_counter()
    raw = load_raw(settings.warehouse, target)
    loaded = time.perf_counter()
    try:
        build_dbt(target, run_vars)
    except RuntimeError as exc:
        raise Failure(description=f"PostgreSQL: {exc}") from exc
    built = time.perf_counter()
    audit = load_audit(settings.warehouse, target)
    done = time.perf_counter()
    context.log.info(
        f"PostgreSQL {target.host}:{target.port}/{target.database}: raw {sum(raw.values()):,} rows in "
        f"{loaded - started:.1f} s, dbt build {built - loaded:.1f} s, audit {sum(audit.values()):,} rows"
    )
    yield MaterializeResult(
        metadata={
            "raw_rows": sum(raw.values()),
            "audit_rows": sum(audit.values()),
            "seconds_raw": round(loaded - started, 2),
            "seconds_dbt": round(built - loaded, 2),
            "seconds_audit": round(done - built, 2),
        }
    )


defs = Definitions(assets=[postgres_warehouse])
