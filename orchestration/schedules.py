"""The nightly job and its schedule (02:00 Asia/Shanghai)."""

from dagster import AssetSelection, ScheduleDefinition, define_asset_job, in_process_executor

nightly_scorecard_job = define_asset_job(
    "nightly_scorecard",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest the landing folder, validate, build the dbt models and publish the marts.",
)

nightly_schedule = ScheduleDefinition(
    name="nightly_scorecard_0200_shanghai",
    job=nightly_scorecard_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
)
