"""The publish stage: the last step of a run swaps the build copy in for the published warehouse.

Order inside the step: the run is recorded in its build copy (status succeeded, published), the
auditor's report of the run is rendered from that copy into the staged reports, the copy replaces the
published file in one atomic rename (the commit point), the staged reports move into place, and the
run gives up the warehouse's writer lock. A report that cannot be rendered does not block publication:
it is a failed non-blocking check (severity warn) of the run, in audit.check_results (check_kind
`report`) and in Dagster (docs/decisions.md, "Reports and publication").
"""

from datetime import UTC, datetime

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.publish.run_records import record_run
from orchestration.report.auditor import build_auditor_report
from orchestration.report.dbt_docs import DOCS_DIR, build_dbt_docs, docs_work_dir
from orchestration.report.failures import record_report_failure, report_failure_text
from orchestration.report.index import refresh_index
from orchestration.resources import FaultInjection, RunOptions, ScorecardSettings
from orchestration.warehouse import connect
from orchestration.warehouse.build_copy import publish, staged_reports_dir
from orchestration.warehouse.writer_lock import WRITER_POOL, release

AUDITOR_CHECK = "auditor_report_rendered"


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="published_warehouse",
    group_name="publish",
    pool=WRITER_POOL,
    deps=[AssetKey(["marts", "scorecard"]), AssetKey(["marts", "indicator_values"]), AssetKey(["director_report"])],
    kinds={"duckdb"},
    check_specs=[
        AssetCheckSpec(
            AUDITOR_CHECK,
            asset="published_warehouse",
            description="The auditor's report of the run was rendered (non-blocking: a failure is recorded, "
            "the marts are published).",
        )
    ],
    description="The build copy, once every blocking check passed, replaces the published warehouse "
    "file in one atomic rename (write-audit-publish); analysts never see a half-built run. The auditor's "
    "report of the run is published with it.",
)
def published_warehouse(
    context: AssetExecutionContext, settings: ScorecardSettings, faults: FaultInjection, run_options: RunOptions
):
    faults.reached("after_reports")  # the directors' reports are staged, nothing is published yet
    scheme = settings.scheme()
    stats = context.instance.get_run_stats(context.run_id)
    if run_options.engine() == "spark":
        yield from _publish_spark(context, settings, faults, scheme, stats.start_time)
        return
    record = dict(
        started_at=stats.start_time,
        as_of=settings.as_of_time(scheme),
        status="succeeded",
        failure_reason=None,
        published=True,
        landing=settings.landing,
        config=settings.config,
    )
    record_run(settings.build, context.run_id, finished_at=datetime.now(UTC), **record)
    report_error = None
    report_path = None
    try:
        report = build_auditor_report(
            settings.build,
            run_id=context.run_id,
            timezone=scheme.timezone,
            language=scheme.report.language,
            out_dir=staged_reports_dir(settings.warehouse) / "auditor",
            published_as=settings.warehouse,
        )
        report_path = report.path
    except Exception as exc:  # rendering never blocks publication: recorded, then published
        report_error = report_failure_text("auditor report", exc)
        context.log.error(report_error)
        with connect(settings.build) as con:
            record_report_failure(con, context.run_id, "auditor_report", report_error)
    if run_options.data_docs:  # the marts' docs (dbt docs), published with the marts
        docs_error = _stage_dbt_docs(context, settings)
        if docs_error:
            with connect(settings.build) as con:
                record_report_failure(con, context.run_id, "dbt_docs", docs_error)
    # the run's row again: its check counts now include the report's
    passed, failed = record_run(settings.build, context.run_id, finished_at=datetime.now(UTC), **record)
    path = publish(settings.warehouse, checkpoint=faults.reached)
    release(settings.warehouse, context.run_id, force=True)
    refresh_index(path, context.log.warning)
    context.log.info(f"published {path}; reports: {path.parent / 'reports' / 'index.html'}")
    yield MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "checks_passed": passed,
            "checks_failed": failed,
            "auditor_report": _published_report(path, report_path),
        }
    )
    yield _auditor_check(report_error)


def _stage_dbt_docs(context: AssetExecutionContext, settings: ScorecardSettings) -> str | None:
    """`dbt docs generate --static` on the run's build copy (read-only; nothing else has it open now) into
    the staged reports (reports/dbt_docs/index.html once published); the error text when it fails: the
    docs are a non-blocking report, like the auditor's (about 15 s here, skipped with run_options.data_docs
    false)."""
    try:
        page = build_dbt_docs(
            settings.build, staged_reports_dir(settings.warehouse) / DOCS_DIR, docs_work_dir(settings.warehouse)
        )
    except Exception as exc:  # noqa: BLE001 - never blocks publication: recorded, then published
        error = report_failure_text("dbt docs", exc)
        context.log.error(error)
        return error
    context.log.info(f"the marts' docs staged: {page}, published with the marts")
    return None


def _publish_spark(context: AssetExecutionContext, settings: ScorecardSettings, faults: FaultInjection, scheme, start):
    """Publish on Spark (orchestration/engines/spark_publish.py): the run's state tables copied to
    `scorecard_run_<run id>` and the marts/audit views switched to them; the run recorded; the auditor's
    report rendered from a reader file of what is now published, which then replaces the one at
    SCORECARD_WAREHOUSE (engines/spark_catalog.py); the staged reports moved into place."""
    from orchestration.engines.spark_flow import record_run_row, state_tables
    from orchestration.engines.spark_publish import publish as publish_spark
    from orchestration.engines.spark_run import (
        record_report_check,
        remove_scratch,
        spark_run,
        write_published_catalog,
    )
    from orchestration.transform.dbt_cli import dbt_project
    from orchestration.warehouse.build_copy import _move_staged_reports, discard_build

    run = spark_run(context.run_id, settings.warehouse)
    state = state_tables(dbt_project().manifest_path)
    snapshot = publish_spark(
        run.spark,
        context.run_id,
        state,
        run.layout,
        fault=lambda point: faults.reached("during_publish" if point == "during_switch" else point),
    )
    started = datetime.fromtimestamp(start, UTC) if start else run.started
    as_of = settings.as_of_time(scheme)
    record_run_row(run.spark, context.run_id, started, as_of, "succeeded", None, settings.landing, settings.config)
    faults.reached("after_publish")  # the views are switched; the reader file and the reports are not yet
    report_error, report_path = None, None
    staged = write_published_catalog(run, settings.build)  # what is published now, for the auditor's report
    try:
        report_path = build_auditor_report(
            staged,
            run_id=context.run_id,
            timezone=scheme.timezone,
            language=scheme.report.language,
            out_dir=staged_reports_dir(settings.warehouse) / "auditor",
            published_as=settings.warehouse,
        ).path
    except Exception as exc:  # rendering never blocks publication: recorded, then published
        report_error = report_failure_text("auditor report", exc)
        context.log.error(report_error)
    record_report_check(run, "auditor_report", report_error is None, report_error or "auditor report rendered")
    published = write_published_catalog(run)  # with the report's check row in its audit views
    _move_staged_reports(published)
    refresh_index(published, context.log.warning)
    discard_build(settings.warehouse)
    remove_scratch(run)
    release(settings.warehouse, context.run_id, force=True)
    context.log.info(f"published Spark run {snapshot}; DuckDB reader file {published}")
    yield MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(published)),
            "engine": "spark",
            "spark_warehouse": run.location,
            "snapshot": snapshot,
            "auditor_report": _published_report(published, report_path),
        }
    )
    yield _auditor_check(report_error)


def _published_report(published, staged) -> str:
    """Where the auditor's report is once published (beside the warehouse), or why there is none."""
    return str(published.parent / "reports" / "auditor" / staged.name) if staged else "not rendered"


def _auditor_check(report_error: str | None) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=AUDITOR_CHECK,
        passed=report_error is None,
        severity=AssetCheckSeverity.WARN,
        metadata={"error": report_error or "none"},
    )


defs = Definitions(assets=[published_warehouse])
