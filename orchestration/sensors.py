"""Run-status sensors: every run of the nightly job started by the schedule or the UI leaves a row in
audit.runs, including failed runs and their reason (`scorecard run` records its own runs)."""

from dagster import (
    DagsterRunStatus,
    RunFailureSensorContext,
    RunStatusSensorContext,
    run_failure_sensor,
    run_status_sensor,
)

from .resources import ScorecardSettings
from .run_records import failure_reason, record_run
from .schedules import nightly_scorecard_job


def _record(context: RunStatusSensorContext, settings: ScorecardSettings, status: str, reason: str | None) -> None:
    run = context.dagster_run
    stats = context.instance.get_run_stats(run.run_id)
    scheme = settings.scheme()
    record_run(
        settings.warehouse,
        run.run_id,
        started_at=stats.start_time,
        finished_at=stats.end_time,
        as_of=settings.as_of_time(scheme),
        status=status,
        failure_reason=reason,
        published=status == "succeeded",
        landing=settings.landing,
        config=settings.config,
    )


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[nightly_scorecard_job], name="record_succeeded_runs"
)
def record_succeeded_runs(context: RunStatusSensorContext, settings: ScorecardSettings):
    _record(context, settings, "succeeded", None)


@run_failure_sensor(monitored_jobs=[nightly_scorecard_job], name="record_failed_runs")
def record_failed_runs(context: RunFailureSensorContext, settings: ScorecardSettings):
    reason = failure_reason(context.get_step_failure_events()) or context.failure_event.message
    _record(context, settings, "failed", reason)
