"""The publish stage: the last step of a run swaps the build copy in for the published warehouse."""

from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Definitions,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..publish import publish
from ..resources import ScorecardSettings
from ..run_records import record_run


@asset(
    backfill_policy=BackfillPolicy.single_run(),  # a partition range is one run
    name="published_warehouse",
    group_name="publish",
    deps=[AssetKey(["marts", "scorecard"]), AssetKey(["marts", "indicator_values"]), AssetKey(["auditor_report"])],
    kinds={"duckdb"},
    description="The build copy, once every blocking check passed, replaces the published warehouse "
    "file in one atomic rename (write-audit-publish); analysts never see a half-built run.",
)
def published_warehouse(context: AssetExecutionContext, settings: ScorecardSettings) -> MaterializeResult:
    scheme = settings.scheme()
    stats = context.instance.get_run_stats(context.run_id)
    passed, failed = record_run(
        settings.build,
        context.run_id,
        started_at=stats.start_time,
        finished_at=datetime.now(UTC),
        as_of=settings.as_of_time(scheme),
        status="succeeded",
        failure_reason=None,
        published=True,
        landing=settings.landing,
        config=settings.config,
    )
    path = publish(settings.warehouse)
    context.log.info(f"published {path}")
    return MaterializeResult(
        metadata={"path": MetadataValue.path(str(path)), "checks_passed": passed, "checks_failed": failed}
    )


defs = Definitions(assets=[published_warehouse])
