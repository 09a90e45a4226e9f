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
from orchestration.report.failures import record_report_failure, report_failure_text
from orchestration.resources import FaultInjection, ScorecardSettings
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
def published_warehouse(context: AssetExecutionContext, settings: ScorecardSettings, faults: FaultInjection):
    faults.reached("after_reports")  # the directors' reports are staged, nothing is published yet
    scheme = settings.scheme()
    stats = context.instance.get_run_stats(context.run_id)
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
            out_dir=staged_reports_dir(settings.warehouse) / "auditor",
            published_as=settings.warehouse,
        )
        report_path = report.path
    except Exception as exc:  # rendering never blocks publication: recorded, then published
        report_error = report_failure_text("auditor report", exc)
        context.log.error(report_error)
        with connect(settings.build) as con:
            record_report_failure(con, context.run_id, "auditor_report", report_error)
    # the run's row again: its check counts now include the report's
    passed, failed = record_run(settings.build, context.run_id, finished_at=datetime.now(UTC), **record)
    path = publish(settings.warehouse, checkpoint=faults.reached)
    release(settings.warehouse, context.run_id, force=True)
    context.log.info(f"published {path}")
    yield MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            "checks_passed": passed,
            "checks_failed": failed,
            "auditor_report": str(path.parent / "reports" / "auditor" / report_path.name)
            if report_path
            else "not rendered",
        }
    )
    yield AssetCheckResult(
        check_name=AUDITOR_CHECK,
        passed=report_error is None,
        severity=AssetCheckSeverity.WARN,
        metadata={"error": report_error or "none"},
    )


defs = Definitions(assets=[published_warehouse])
