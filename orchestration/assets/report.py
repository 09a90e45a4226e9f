"""The report stage: the auditor's HTML report of the run, after the dbt marts.

The report reads the audit layer (run counts, quarantine, check results, validation failures) and the
marts (anomaly flags, adjustments, scorecard); it does not block anything and has no blocking check,
so a run whose checks only warn still gets its report. The status, times and failure reason of the
run are written to audit.runs by the runner after the job ends: the runner renders the report once
more then (a failed run, whose later steps are skipped, gets its report that way too).
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..reports.auditor import build_auditor_report
from ..resources import ScorecardSettings
from ..warehouse import reports_dir


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="auditor_report",
    group_name="report",
    # after the dbt build: the scorecard, adjustments and flags it reads are up to date (dbt builds
    # them in one step, so depending on the two published marts is enough)
    deps=[AssetKey(["marts", "scorecard"]), AssetKey(["marts", "indicator_values"])],
    kinds={"html"},
    description="The auditor's static HTML report of the run: row counts, validation results with the "
    "failing rows, quarantine, anomaly flags with evidence, manager adjustments and clamping. Written to "
    "<warehouse dir>/reports/auditor/<run_id>.html and latest.html.",
)
def auditor_report(context: AssetExecutionContext, settings: ScorecardSettings) -> MaterializeResult:
    # reads the run's build copy (not yet published); writes beside the published warehouse
    report = build_auditor_report(
        settings.build,
        run_id=context.run_id,
        timezone=settings.scheme().timezone,
        out_dir=reports_dir(settings.warehouse) / "auditor",
    )
    context.log.info(f"auditor report: {report.path}")
    h = report.headline
    figures = {
        "rows_in": h["rows_in"],
        "quarantined": h["quarantined"],
        "checks_failed": h["checks_failed"],
        "anomaly_flags": h["flags"],
        "clamped_subjects": h["clamped_subjects"],
    }
    metadata = {"path": MetadataValue.path(str(report.path))}
    if report.latest_path:
        metadata["latest"] = MetadataValue.path(str(report.latest_path))
    # a figure is left out when its table is not in the warehouse
    metadata |= {k: v for k, v in figures.items() if v is not None}
    return MaterializeResult(metadata=metadata)


defs = Definitions(assets=[auditor_report])
