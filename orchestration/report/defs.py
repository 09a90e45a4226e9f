"""The directors' report stage: one static HTML report per graded period, after the analysis marts.

The report reads the marts only (scorecard, indicator_values, score_statement and the analysis marts of
SCORING.md "Analysis marts"); it has no blocking check. It reads the run's build copy and writes into the
run's staged reports, which are published with the marts (warehouse/build_copy.py): a reader never opens a report of
marts that were not published. A period whose report cannot be rendered is a failed non-blocking check
(audit.check_results, check_kind `report`); the other periods and the marts go on.
"""

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

from orchestration.catalogue import MARTS
from orchestration.periods import partition_keys, window_vars
from orchestration.report.director import render_all_periods
from orchestration.report.failures import record_report_failure, record_report_success, report_failure_text
from orchestration.resources import RunOptions, ScorecardSettings
from orchestration.warehouse import connect, reports_dir
from orchestration.warehouse.build_copy import stage_reports
from orchestration.warehouse.writer_lock import WRITER_POOL

REPORT_CHECK = "director_reports_rendered"


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="director_report",
    group_name="report",
    pool=WRITER_POOL,
    deps=[AssetKey(["marts", name]) for name in MARTS],  # every published mart
    kinds={"html"},
    check_specs=[
        AssetCheckSpec(
            REPORT_CHECK,
            asset="director_report",
            description="Every period's report was rendered (non-blocking: a failure is recorded, the marts "
            "are published).",
        )
    ],
    description="The directors' and HR's static HTML report per graded period: grade distribution, teams per "
    "indicator, NPS per team with its 95 % interval, complaint Pareto, top shortfalls, improvement actions, "
    "sales against target, each rep's strengths and improvement points, weight what-ifs. Small survey samples "
    "stay hidden. Rendered from the run's build copy into its staged reports and published with the marts: "
    "<warehouse dir>/reports/director/<period>.html.",
)
def director_report(context: AssetExecutionContext, settings: ScorecardSettings, run_options: RunOptions):
    scheme = settings.scheme()
    spark = None
    if run_options.engine() == "spark":  # the run's build tables, read by DuckDB through a reader file
        from orchestration.engines.spark_run import spark_run, write_build_catalog

        spark = spark_run(context.run_id, settings.warehouse)
        write_build_catalog(spark, settings.build)
    # the periods the run rebuilt (its partition range, closed periods excepted) and any period
    # without a report yet; the other periods' marts did not change, nor do their reports
    window = window_vars(context, partition_keys(scheme.grain, scheme.first_period))
    with connect(settings.build, read_only=True) as con:
        closed = {p for (p,) in con.execute("select period from raw.cfg_closed_periods").fetchall()}

    def in_window(period: str) -> bool:
        lo, hi = window["period_from"], window["period_to"]
        return period not in closed and (lo is None or period >= lo) and (hi is None or period <= hi)

    errors: list[str] = []

    def failed(period: str, exc: Exception) -> None:
        errors.append(report_failure_text(f"director report {period}", exc))
        context.log.error(errors[-1])

    staged = stage_reports(settings.warehouse, context.run_id)
    reports = render_all_periods(
        settings.build,
        out_dir=staged / "director",
        as_of=settings.as_of_time(scheme),
        only=in_window,
        published_as=settings.warehouse,
        on_error=failed,
        language=scheme.report.language,  # report.language of the run's scheme file
        grade_names=scheme.grade_names(),
    )
    rendered = f"{len(reports)} period report(s) rendered"
    if spark is not None:
        from orchestration.engines.spark_run import record_report_check

        for message in errors:
            record_report_check(spark, "director_report", False, message)
        if not errors:
            record_report_check(spark, "director_report", True, rendered)
    else:
        with connect(settings.build) as con:
            for message in errors:
                record_report_failure(con, context.run_id, "director_report", message)
            if not errors:
                record_report_success(con, context.run_id, "director_report", rendered)
    for report in reports:
        context.log.info(f"director report {report.period}: staged {report.path}, published with the marts")
    metadata: dict = {"periods": len(reports), "failed_periods": len(errors)}
    if reports:
        latest = reports[-1]
        metadata["latest"] = MetadataValue.path(str(reports_dir(settings.warehouse) / "director" / latest.path.name))
        metadata["latest_period"] = latest.period
        metadata["reps_graded"] = latest.headline["reps_graded"]
        metadata["hidden_survey_cells"] = latest.headline["hidden_cells"]
    yield MaterializeResult(metadata=metadata)
    yield AssetCheckResult(
        check_name=REPORT_CHECK,
        passed=not errors,
        severity=AssetCheckSeverity.WARN,
        metadata={"failed": len(errors), "errors": "\n".join(errors) or "none"},
    )


defs = Definitions(assets=[director_report])
