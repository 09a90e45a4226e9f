"""The code location: reads like a table of contents (ingest -> validate -> compute -> report)."""

import os
from functools import cache

from dagster import Definitions, in_process_executor

from .assets import analysis, engines, publish, validate
from .assets.config import scheme_config
from .assets.dbt import dbt_resource, scorecard_dbt_assets
from .assets.ingest import ingest_assets
from .config.scheme import SchemeError, load_scheme
from .resources import apply_env_defaults, settings_from_env
from .run_logging import LOGGERS
from .schedules import nightly_schedule, nightly_scorecard_job
from .sensors import landing_drop_sensor, record_failed_runs


@cache
def build_defs(grain: str = "quarter", first_period: str | None = None) -> Definitions:
    """The code location for a scheme's grain: the dbt models are partitioned by its periods."""
    core = Definitions(
        assets=[scheme_config, *ingest_assets, scorecard_dbt_assets(grain, first_period)],
        jobs=[nightly_scorecard_job],
        schedules=[nightly_schedule],
        sensors=[record_failed_runs, landing_drop_sensor],
        resources={"settings": settings_from_env(), "dbt": dbt_resource()},
        # DuckDB allows one writer per file: steps run one after another in the run's process.
        executor=in_process_executor,
        loggers=LOGGERS,  # one line per message on screen, everything in the run's log file
    )
    return Definitions.merge(core, validate.defs, analysis.defs, publish.defs, engines.defs)


def _scheme_partitioning() -> tuple[str, str | None]:
    """Grain and first period of the scheme file (SCORECARD_CONFIG); quarterly from 2020 when the file
    cannot be read (the run then stops at scheme_config with the file's errors)."""
    apply_env_defaults()
    try:
        scheme = load_scheme(os.environ["SCORECARD_CONFIG"])
    except (SchemeError, OSError):
        return "quarter", None
    return scheme.grain, scheme.first_period


defs = build_defs(*_scheme_partitioning())
