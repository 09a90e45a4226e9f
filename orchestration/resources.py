"""Resources: where the landing folder, scheme file and warehouse are, all from the environment
(orchestration/settings.py reads it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from .config.scheme import Scheme, load_scheme
from .settings import DBT_PROJECT_DIR, DEFAULTS, PROJECT_ROOT, apply_env_defaults, parse_as_of

__all__ = ["DBT_PROJECT_DIR", "DEFAULTS", "PROJECT_ROOT", "ScorecardSettings", "parse_as_of", "settings_from_env"]


class ScorecardSettings(ConfigurableResource):
    """The three settings of a run, plus the as-of time that tests and benchmarks pin."""

    landing: str
    config: str
    warehouse: str
    as_of: str = ""

    def scheme(self) -> Scheme:
        return load_scheme(self.config)

    def as_of_time(self, scheme: Scheme) -> datetime:
        return parse_as_of(self.as_of, scheme.timezone)

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def build(self) -> str:
        """The file this run writes: a copy of the published warehouse (publish.py)."""
        from .publish import build_path

        return str(build_path(self.warehouse))


def settings_from_env() -> ScorecardSettings:
    apply_env_defaults()
    return ScorecardSettings(
        landing=EnvVar("SCORECARD_LANDING"),
        config=EnvVar("SCORECARD_CONFIG"),
        warehouse=EnvVar("SCORECARD_WAREHOUSE"),
        as_of=EnvVar("SCORECARD_AS_OF"),
    )
