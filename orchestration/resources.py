"""Resources: where the landing folder, scheme file and warehouse are, all from the environment.

`SCORECARD_LANDING`, `SCORECARD_CONFIG`, `SCORECARD_WAREHOUSE` (and optionally `SCORECARD_AS_OF`)
configure the Dagster code location; `scorecard run` sets them from its flags. Unset, they default
to the sample landing folder, the default scheme file and `warehouse/scorecard.duckdb` in the repo.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import ConfigurableResource, EnvVar

from .config.scheme import Scheme, load_scheme

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULTS = {
    "SCORECARD_LANDING": str(PROJECT_ROOT / "data" / "sample" / "landing"),
    "SCORECARD_CONFIG": str(PROJECT_ROOT / "config" / "scorecard.yml"),
    "SCORECARD_WAREHOUSE": str(PROJECT_ROOT / "warehouse" / "scorecard.duckdb"),
    "SCORECARD_AS_OF": "",
}


def apply_env_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def parse_as_of(text: str | None, timezone: str) -> datetime:
    """An ISO timestamp or date (local time of `timezone` without an offset); empty means now."""
    if not text:
        return datetime.now(UTC)
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


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
