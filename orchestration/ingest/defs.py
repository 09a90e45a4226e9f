"""Ingestion assets: one per entity of the landing folder (CONTRACT.md)."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    asset,
)

from orchestration.closed_periods import closed_periods, report_late_rows
from orchestration.contract.spec import EntitySpec, entity_specs
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.ingest.scheme_tables import CFG_TABLES, scheme_config
from orchestration.resources import FaultInjection, RunOptions, ScorecardSettings
from orchestration.warehouse import connect
from orchestration.warehouse.writer_lock import WRITER_POOL


def _run_fields(context: AssetExecutionContext, settings: ScorecardSettings, scheme) -> dict:
    """What ingestion needs to know of the run and the scheme, on either engine."""
    return {
        "run_id": context.run_id,
        "as_of": settings.as_of_time(scheme),
    } | scheme.ingest_fields()


def _ingest_asset(spec: EntitySpec) -> AssetsDefinition:
    @asset(
        backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
        key=AssetKey(["raw", spec.table]),
        group_name="ingest",
        deps=[AssetKey(["raw", t]) for t in CFG_TABLES],  # the scheme validates before any ingestion
        description=f"Raw layer of {spec.entity}: every file typed and checked against the contract; "
        "broken rows to audit.quarantine with their reason; superseded versions kept with _is_current=false.",
        kinds={"duckdb", "pandera"},
        pool=WRITER_POOL,
    )
    def _asset(
        context: AssetExecutionContext, settings: ScorecardSettings, run_options: RunOptions, faults: FaultInjection
    ) -> MaterializeResult:
        scheme = settings.scheme()
        if run_options.engine() == "spark":
            return _spark_ingest(context, settings, spec, scheme, faults)
        with connect(settings.build) as con:
            run = IngestRun(
                **_run_fields(context, settings, scheme),
                incremental=not run_options.full_refresh,
                sources=settings.source_mapping(scheme),
            )
            counts = ingest_entity(con, spec, settings.landing_path, run)
            closed = closed_periods(list(scheme.closed_periods), settings.warehouse)
            late = report_late_rows(con, spec, context.run_id, closed, scheme.grain)
        if late:
            context.log.warning(
                f"{spec.entity}: {late} late row(s) for closed period(s) {', '.join(closed)}: kept in raw, "
                "reported in audit.validation_failures (late_row_for_closed_period); the frozen grades stay"
            )
        empty = counts.current_rows == 0 and counts.rows_in == 0
        mode = "full refresh" if counts.full_refresh else "incremental"
        context.log.info(
            f"{spec.entity} ({mode}): {counts.rows_in} rows in {counts.files} file(s) read "
            f"({counts.files_new} new, {counts.files_changed} changed, {counts.files_unchanged} unchanged "
            f"not read): {counts.accepted} accepted, {counts.quarantined} quarantined, "
            f"{counts.exact_duplicates} exact duplicates, {counts.superseded} superseded"
            + (" (empty input)" if empty else "")
        )
        if counts.rounded_rows:
            context.log.warning(
                f"{spec.entity}: {counts.rounded_rows} accepted row(s) had money or points with more than 4 decimals: "
                "rounded half-up to 4 (audit.check_results *_rounded_to_4_decimals, audit.validation_failures)"
            )
        if counts.swallowing_rows:
            context.log.warning(
                f"{spec.entity}: {counts.swallowing_rows} row(s) hold a quoted field with lines shaped like records "
                "(an unbalanced quote?): line ranges in audit.validation_failures (quoted_field_swallows_records)"
            )
        for path in counts.files_deleted:
            context.log.warning(f"{spec.entity}: file {path} was deleted from the landing folder; its rows are removed")
        if spec.entity == entity_specs()[-1].entity:
            faults.reached("after_ingest")  # the last entity is in the build copy
        return MaterializeResult(
            metadata={k: v for k, v in counts.as_dict().items() if k not in ("entity", "files_deleted")}
            | {"files_deleted": ", ".join(counts.files_deleted) or "none", "empty_input": empty, "late_rows": late}
        )

    return _asset


def _spark_ingest(
    context: AssetExecutionContext, settings: ScorecardSettings, spec: EntitySpec, scheme, faults: FaultInjection
) -> MaterializeResult:
    """The entity on Spark (orchestration/engines/spark_ingest.py): every file read again (no file manifest
    on Spark), typed and checked by the contract's Spark SQL, into the Spark warehouse's raw and audit."""
    from orchestration.engines.spark_ingest import SparkIngestRun, delete_path, ingest_entity
    from orchestration.engines.spark_run import spark_run

    run = spark_run(context.run_id, settings.warehouse)
    for db in ("raw", "audit"):
        run.spark.sql(f"create database if not exists {db}")
    ingest_run = SparkIngestRun(**_run_fields(context, settings, scheme), sources=settings.source_mapping(scheme))
    scratch = run.scratch(spec.table)
    try:
        counts = ingest_entity(run.spark, spec, settings.landing, ingest_run, scratch)
    finally:  # the landing and typed rows are in raw and audit now: their intermediate Parquet goes
        delete_path(run.spark, scratch)
    context.log.info(
        f"{spec.entity} (Spark, every file): {counts.rows_in} rows in {counts.files} file(s): {counts.accepted} "
        f"accepted, {counts.quarantined} quarantined, {counts.exact_duplicates} exact duplicates, "
        f"{counts.superseded} superseded" + (" (empty input)" if counts.rows_in == 0 else "")
    )
    if spec.entity == entity_specs()[-1].entity:
        faults.reached("after_ingest")
    return MaterializeResult(
        metadata={
            "engine": "spark",
            "files": counts.files,
            "rows_in": counts.rows_in,
            "accepted": counts.accepted,
            "quarantined": counts.quarantined,
            "exact_duplicates": counts.exact_duplicates,
            "superseded": counts.superseded,
            "empty_input": counts.rows_in == 0,
        }
    )


ingest_assets = [_ingest_asset(s) for s in entity_specs()]

defs = Definitions(assets=[scheme_config, *ingest_assets])
