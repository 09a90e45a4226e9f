"""The code location: reads like a table of contents (ingest -> validate -> transform -> report -> publish,
and the other engines after publishing). Each stage package holds its own Dagster definitions."""

from functools import cache

from dagster import Definitions, in_process_executor

from orchestration.engines import defs as engines
from orchestration.ingest import defs as ingest
from orchestration.publish import defs as publish
from orchestration.report import defs as report
from orchestration.resources import FaultInjection, RunOptions, settings_from_env
from orchestration.run_logging import LOGGERS
from orchestration.schedules import nightly_schedule, nightly_scorecard_job
from orchestration.scheme.file import scheme_partitioning
from orchestration.sensors import landing_drop_sensor, record_failed_runs
from orchestration.settings import path_setting
from orchestration.transform import defs as transform
from orchestration.transform.dbt_cli import dbt_resource
from orchestration.validate import defs as validate


@cache
def build_defs(grain: str = "quarter", first_period: str | None = None) -> Definitions:
    """The code location for a scheme's grain: the dbt models are partitioned by its periods."""
    core = Definitions(
        jobs=[nightly_scorecard_job],
        schedules=[nightly_schedule],
        sensors=[record_failed_runs, landing_drop_sensor],
        resources={
            "settings": settings_from_env(),
            "dbt": dbt_resource(),
            "run_options": RunOptions(),  # per-run choices: run config (launchpad, scorecard run flags)
            "faults": FaultInjection(),  # the recovery tests' kill points; does nothing by default
        },
        # DuckDB allows one writer per file: steps run one after another in the run's process.
        executor=in_process_executor,
        loggers=LOGGERS,  # one line per message on screen, everything in the run's log file
    )
    return Definitions.merge(
        core,
        ingest.defs,
        validate.defs,
        transform.transform_defs(grain, first_period),
        report.defs,
        publish.defs,
        engines.defs,
    )


# The dbt assets are partitioned by the periods of the scheme file's grain: the one file the location
# reads when it loads (SCORECARD_CONFIG; quarterly from 2020 when it cannot be read, and the run then
# stops at scheme_config with the file's errors).
defs = build_defs(*scheme_partitioning(path_setting("SCORECARD_CONFIG")))
