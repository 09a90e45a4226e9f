"""Resources: where the landing folder, scheme file and warehouse are (paths, from the environment that
orchestration/settings.py reads), and the choices of one run (run config, settable in the launchpad)."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from orchestration.scheme.file import load_scheme
from orchestration.scheme.model import Scheme
from orchestration.settings import ENGINES, apply_env_defaults, parse_as_of, run_choices


class ScorecardSettings(ConfigurableResource):
    """The three settings of a run, plus the as-of time that tests and benchmarks pin."""

    landing: str
    config: str
    warehouse: str
    as_of: str = ""
    sources: str = ""  # a mapping file (docs/mapping.md); empty: the scheme file's `sources`, if any

    def scheme(self) -> Scheme:
        return load_scheme(self.config)

    def source_mapping(self, scheme: Scheme):
        """The mapping of vendors' exports (orchestration.mapping.model.Sources): the file `sources`
        names, else the scheme file's `sources`; None when there is none."""
        if self.sources:
            from orchestration.mapping.model import load_sources

            return load_sources(self.sources)
        return scheme.mapping()

    def as_of_time(self, scheme: Scheme) -> datetime:
        return parse_as_of(self.as_of, scheme.timezone)

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def build(self) -> str:
        """The file this run writes: a copy of the published warehouse (publish/build_copy.py)."""
        from orchestration.warehouse.build_copy import build_path

        return str(build_path(self.warehouse))


class RunOptions(ConfigurableResource):
    """Choices of one run: `resources: {run_options: {config: {...}}}` in the launchpad, or the flags of
    `scorecard run` (`--full-refresh`, `--no-data-docs`, `--target`)."""

    full_refresh: bool = False  # re-read every landing file, not only new and changed ones
    # render Great Expectations' HTML pages and the marts' dbt docs (the checks run either way)
    data_docs: bool = True
    # duckdb | postgres | spark. postgres: postgres_warehouse copies the published run to PostgreSQL. spark:
    # every asset does its work on Spark (orchestration/engines/spark_run.py, docs/running_at_scale.md)
    target: str = "duckdb"

    def engine(self) -> str:
        target = self.target.strip().lower()
        if target not in ENGINES:
            raise ValueError(f"run_options.target={self.target!r}: must be one of {', '.join(ENGINES)}")
        return target


class FaultInjection(ConfigurableResource):
    """For the recovery tests only (tests/e2e/test_recovery.py): `kill_at: <point>` kills the run's process
    (SIGKILL, no clean-up) when it reaches that point. Empty, the default, does nothing. The points:
    after_ingest, during_dbt, after_reports (the directors' reports are staged, publish has not started),
    during_publish, after_publish (the rename is done, the staged reports are not yet moved into place)."""

    kill_at: str = ""

    def reached(self, point: str) -> None:
        if self.kill_at and self.kill_at == point:
            os.kill(os.getpid(), signal.SIGKILL)


def run_choice_config(
    full_refresh: bool | None = None, data_docs: bool | None = None, target: str | None = None
) -> dict:
    """The `resources` run config of a run's choices: the arguments given, else the environment's defaults
    (settings.run_choices: what `scorecard run`, the schedule and the sensor start with)."""
    defaults = run_choices()
    options = {
        "full_refresh": defaults.full_refresh if full_refresh is None else full_refresh,
        "data_docs": defaults.data_docs if data_docs is None else data_docs,
        "target": defaults.target if target is None else target,
    }
    return {"run_options": {"config": options}, "faults": {"config": {"kill_at": defaults.kill_at}}}


def settings_from_env() -> ScorecardSettings:
    apply_env_defaults()
    return ScorecardSettings(
        landing=EnvVar("SCORECARD_LANDING"),
        config=EnvVar("SCORECARD_CONFIG"),
        warehouse=EnvVar("SCORECARD_WAREHOUSE"),
        as_of=EnvVar("SCORECARD_AS_OF"),
        sources=EnvVar("SCORECARD_SOURCES"),
    )
