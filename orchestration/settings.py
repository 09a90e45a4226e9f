"""The only reader of the environment (light: no Dagster import, so the CLI checks its arguments before it
starts Dagster).

Paths: `SCORECARD_LANDING`, `SCORECARD_CONFIG`, `SCORECARD_WAREHOUSE` (and the as-of time,
`SCORECARD_AS_OF`) configure the Dagster code location; unset, they default to the sample landing folder,
the default scheme file and `warehouse/scorecard.duckdb` in the repo. The code location reads nothing
else at import.

Choices of one run (full refresh, Data Docs, engine target, fault injection) are Dagster run config of the
`run_options` and `faults` resources (orchestration/resources.py), settable in the launchpad; for
`scorecard run` the environment below gives their defaults (`run_choices`), flags override them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULTS = {
    "SCORECARD_LANDING": str(PROJECT_ROOT / "data" / "sample" / "landing"),
    "SCORECARD_CONFIG": str(PROJECT_ROOT / "config" / "scorecard.yml"),
    "SCORECARD_WAREHOUSE": str(PROJECT_ROOT / "warehouse" / "scorecard.duckdb"),
    "SCORECARD_AS_OF": "",
    # a mapping file (docs/mapping.md); empty: the scheme file's `sources`, if any
    "SCORECARD_SOURCES": "",
}
TARGET_ENV = "SCORECARD_TARGET"  # duckdb (default) | postgres
ENGINES = ("duckdb", "postgres", "spark")
PG_ENV = (
    "SCORECARD_PG_HOST",
    "SCORECARD_PG_PORT",
    "SCORECARD_PG_USER",
    "SCORECARD_PG_PASSWORD",
    "SCORECARD_PG_DATABASE",
)
PG_DEFAULTS = ("localhost", "5432", "scorecard", "", "scorecard")


class AsOfError(ValueError):
    """An as-of text that is not an ISO 8601 date or time."""


def apply_env_defaults() -> None:
    """The path settings, defaulted in this process's environment: dbt's profiles.yml and the Dagster
    resources (EnvVar) read them there."""
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


def path_setting(name: str) -> str:
    """One of DEFAULTS' settings, from the environment or its default."""
    return os.environ.get(name) or DEFAULTS[name]


def set_paths(**values: str | None) -> None:
    """`scorecard run --landing ... --config ... --warehouse ... --as-of ...`: the paths of the code location
    this process loads (and the dbt it starts) come from the environment."""
    for name, value in values.items():
        if value:
            env = f"SCORECARD_{name.upper()}"
            os.environ[env] = value if name == "as_of" else str(Path(value).resolve())
    apply_env_defaults()


@dataclass(frozen=True)
class RunChoices:
    """Defaults of a run's choices for `scorecard run` (its flags override them); Dagster run config."""

    full_refresh: bool  # SCORECARD_FULL_REFRESH=1: re-read every landing file
    target: str  # SCORECARD_TARGET, default duckdb
    data_docs: bool  # SCORECARD_GE_DATA_DOCS=0: no Great Expectations HTML (about 1 s per suite)
    kill_at: str  # SCORECARD_KILL_AT: a fault point (recovery tests only; orchestration/resources.py)


def run_choices() -> RunChoices:
    target = (os.environ.get(TARGET_ENV) or "duckdb").strip().lower()
    if target not in ENGINES:
        raise ValueError(f"{TARGET_ENV}={target!r}: must be one of {', '.join(ENGINES)}")
    return RunChoices(
        full_refresh=os.environ.get("SCORECARD_FULL_REFRESH", "").strip().lower() in ("1", "true", "yes"),
        target=target,
        data_docs=os.environ.get("SCORECARD_GE_DATA_DOCS", "1") != "0",
        kill_at=os.environ.get("SCORECARD_KILL_AT", ""),
    )


def ingest_memory_limit() -> str:
    """DuckDB's memory limit while a landing file is read (SCORECARD_INGEST_MEMORY_LIMIT, default 1500MB)."""
    return os.environ.get("SCORECARD_INGEST_MEMORY_LIMIT", "1500MB")


def postgres_settings() -> dict[str, str]:
    """SCORECARD_PG_* (host, port, user, password, database) with their defaults."""
    return {name: os.environ.get(name, default) for name, default in zip(PG_ENV, PG_DEFAULTS, strict=True)}


def dagster_home() -> str | None:
    return os.environ.get("DAGSTER_HOME") or None


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment plus `extra`, for a child process (dbt)."""
    return {**os.environ, **extra}


def parse_as_of(text: str | None, timezone: str) -> datetime:
    """An ISO timestamp or date (local time of `timezone` without an offset); empty means now."""
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise AsOfError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2026-12-31 or 2026-12-31T23:59:59+08:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value
