"""The nightly job and its schedule (02:00 Asia/Shanghai).

The nightly run refreshes the open period and the previous one (late data) only: its run request
carries that partition range (orchestration/periods.py); every other period keeps its published rows.
"""

from datetime import UTC, datetime

from dagster import (
    AssetSelection,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    in_process_executor,
    schedule,
)

from orchestration.periods import RANGE_END, RANGE_START, nightly_window
from orchestration.resources import ScorecardSettings, run_choice_config

nightly_scorecard_job = define_asset_job(
    "nightly_scorecard",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest the landing folder, validate, build the dbt models and publish the marts.",
)


def nightly_run_request(settings: ScorecardSettings, moment: datetime, **kwargs) -> RunRequest:
    """A run of the nightly job over the previous and the open period of `moment` (local date), with the
    run choices of the daemon's environment as run config (settings.run_choices)."""
    scheme = settings.scheme()
    start, end = nightly_window(moment, scheme.timezone, scheme.grain)
    tags = {RANGE_START: start, RANGE_END: end, **kwargs.pop("tags", {})}
    return RunRequest(tags=tags, run_config={"resources": run_choice_config()}, **kwargs)


@schedule(
    name="nightly_scorecard_0200_shanghai",
    job=nightly_scorecard_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    description="Every night: the open period and the previous one (late data); closed periods never.",
)
def nightly_schedule(context: ScheduleEvaluationContext, settings: ScorecardSettings):
    moment = context.scheduled_execution_time or datetime.now(UTC)
    return nightly_run_request(settings, moment, tags={"scorecard/trigger": "schedule"})
