"""Where things are and the run's as-of time, from the environment (light: no Dagster import, so the
CLI checks its arguments before it starts Dagster).

`SCORECARD_LANDING`, `SCORECARD_CONFIG`, `SCORECARD_WAREHOUSE` (and optionally `SCORECARD_AS_OF`)
configure the Dagster code location; `scorecard run` sets them from its flags. Unset, they default
to the sample landing folder, the default scheme file and `warehouse/scorecard.duckdb` in the repo.
"""

from __future__ import annotations

import os
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
}


class AsOfError(ValueError):
    """An as-of text that is not an ISO 8601 date or time."""


def apply_env_defaults() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


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
