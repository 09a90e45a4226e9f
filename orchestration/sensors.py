"""Run-failure sensor: a failed run of the nightly job started by the schedule or the UI leaves its row
in audit.runs with the reason, and its audit rows are published (succeeded runs are recorded by the
publish step itself; `scorecard run` records its own failed runs)."""

from dagster import RunFailureSensorContext, run_failure_sensor

from .resources import ScorecardSettings
from .run_records import failure_reason, record_failed_run
from .schedules import nightly_scorecard_job


@run_failure_sensor(monitored_jobs=[nightly_scorecard_job], name="record_failed_runs")
def record_failed_runs(context: RunFailureSensorContext, settings: ScorecardSettings):
    run = context.dagster_run
    stats = context.instance.get_run_stats(run.run_id)
    reason = failure_reason(context.get_step_failure_events()) or context.failure_event.message
    record_failed_run(
        settings.warehouse,
        run.run_id,
        started_at=stats.start_time,
        finished_at=stats.end_time,
        as_of=settings.as_of_time(settings.scheme()),
        failure_reason=reason,
        landing=settings.landing,
        config=settings.config,
    )
