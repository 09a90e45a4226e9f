"""The code location: reads like a table of contents (ingest -> validate -> compute -> report)."""

from dagster import Definitions, in_process_executor

from .assets import analysis, engines, publish, report, validate
from .assets.config import scheme_config
from .assets.dbt import dbt_resource, scorecard_dbt_assets
from .assets.ingest import ingest_assets
from .resources import settings_from_env
from .schedules import nightly_schedule, nightly_scorecard_job
from .sensors import landing_drop_sensor, record_failed_runs

core = Definitions(
    assets=[scheme_config, *ingest_assets, scorecard_dbt_assets()],
    jobs=[nightly_scorecard_job],
    schedules=[nightly_schedule],
    sensors=[record_failed_runs, landing_drop_sensor],
    resources={"settings": settings_from_env(), "dbt": dbt_resource()},
    # DuckDB allows one writer per file: steps run one after another in the run's process.
    executor=in_process_executor,
)

defs = Definitions.merge(core, validate.defs, report.defs, analysis.defs, publish.defs, engines.defs)
