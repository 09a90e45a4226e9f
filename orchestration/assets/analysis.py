"""The directors' report stage: one static HTML report per graded period, after the analysis marts.

The report reads the marts only (scorecard, indicator_values, score_statement and the analysis marts of
SCORING.md "Analysis marts"); it blocks nothing and has no blocking check. It reads the run's build copy
while the run has not published yet, the published file otherwise (write-audit-publish: publish.py), and
writes beside the published warehouse: <warehouse dir>/reports/director/<period>.html.
"""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..periods import partition_keys, window_vars
from ..reports.director import render_all_periods
from ..resources import ScorecardSettings
from ..warehouse import connect, reports_dir

ANALYSIS_MARTS = (
    "scorecard",
    "indicator_values",
    "score_statement",
    "team_shortfalls",
    "rep_feedback",
    "complaint_pareto",
    "improvement_tracking",
    "sales_breakdown",
)


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="director_report",
    group_name="report",
    deps=[AssetKey(["marts", name]) for name in ANALYSIS_MARTS],
    kinds={"html"},
    description="The directors' and HR's static HTML report per graded period: grade distribution, teams per "
    "indicator, NPS per team with its 95 % interval, complaint Pareto, top shortfalls, improvement actions, "
    "sales against target, each rep's strengths and improvement points, weight what-ifs. Small survey samples "
    "stay hidden. Written to <warehouse dir>/reports/director/<period>.html.",
)
def director_report(context: AssetExecutionContext, settings: ScorecardSettings) -> MaterializeResult:
    source = settings.build if Path(settings.build).exists() else settings.warehouse
    scheme = settings.scheme()
    # the periods the run rebuilt (its partition range, closed periods excepted) and any period
    # without a report yet; the other periods' marts did not change, nor do their reports
    window = window_vars(context, partition_keys(scheme.grain, scheme.first_period))
    with connect(source, read_only=True) as con:
        closed = {p for (p,) in con.execute("select period from raw.cfg_closed_periods").fetchall()}

    def in_window(period: str) -> bool:
        lo, hi = window["period_from"], window["period_to"]
        return period not in closed and (lo is None or period >= lo) and (hi is None or period <= hi)

    reports = render_all_periods(
        source,
        out_dir=reports_dir(settings.warehouse) / "director",
        as_of=settings.as_of_time(scheme),
        only=in_window,
    )
    for report in reports:
        context.log.info(f"director report {report.period}: {report.path}")
    metadata: dict = {"periods": len(reports)}
    if reports:
        latest = reports[-1]
        metadata["latest"] = MetadataValue.path(str(latest.path))
        metadata["latest_period"] = latest.period
        metadata["reps_graded"] = latest.headline["reps_graded"]
        metadata["hidden_survey_cells"] = latest.headline["hidden_cells"]
    return MaterializeResult(metadata=metadata)


defs = Definitions(assets=[director_report])
