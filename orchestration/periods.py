"""Evaluation periods as Dagster partitions, and a run's refresh window for dbt.

The periods of the scheme's grain (month, quarter or year) are the partition keys of the
period-dependent assets (the dbt models), labelled as in the marts: `2026-03`, `2026-Q1`, `2026`.
The keys run from the scheme's `first_period` (default: the first period of 2020) to the period after
today's, so the open period and the next one can always be selected. A run's partition key or range
becomes dbt's refresh window (vars `period_from` / `period_to`, see dbt_project/macros/refresh_window.sql);
a run without a partition refreshes every period. Closed periods are never refreshed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

GRAINS = ("month", "quarter", "year")
DEFAULT_FIRST_YEAR = 2020
LABEL = {"quarter": r"^(\d{4})-Q([1-4])$", "month": r"^(\d{4})-(0[1-9]|1[0-2])$", "year": r"^(\d{4})$"}
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
EXAMPLE = {"quarter": "2026-Q1", "month": "2026-03", "year": "2026"}


def label_error(label: str, grain: str) -> str | None:
    """Why `label` is not a period label of `grain`, or None."""
    if not re.match(LABEL[grain], str(label)):
        return f"{label!r} is not a {grain} label of the scheme's grain (like {EXAMPLE[grain]})"
    return None


def label_of(day: date, grain: str) -> str:
    if grain == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def _index(label: str, grain: str) -> int:
    """Periods since year 0 (month: 12 a year, quarter: 4, year: 1)."""
    m = re.match(LABEL[grain], label)
    if m is None:
        raise ValueError(label_error(label, grain))
    year = int(m.group(1))
    if grain == "year":
        return year
    return year * (12 if grain == "month" else 4) + int(m.group(2)) - 1


def _label(index: int, grain: str) -> str:
    if grain == "year":
        return f"{index:04d}"
    per_year = 12 if grain == "month" else 4
    year, k = divmod(index, per_year)
    return f"{year:04d}-{k + 1:02d}" if grain == "month" else f"{year:04d}-Q{k + 1}"


def shift(label: str, grain: str, n: int) -> str:
    """The period n periods after `label` (before when n < 0)."""
    return _label(_index(label, grain) + n, grain)


def labels_between(first: str, last: str, grain: str) -> list[str]:
    """Every label from `first` to `last`, both included, in time order."""
    return [_label(i, grain) for i in range(_index(first, grain), _index(last, grain) + 1)]


def first_period(grain: str, configured: str | None = None) -> str:
    return configured or label_of(date(DEFAULT_FIRST_YEAR, 1, 1), grain)


def partition_keys(grain: str, configured_first: str | None = None, today: date | None = None) -> list[str]:
    today = today or date.today()
    return labels_between(first_period(grain, configured_first), shift(label_of(today, grain), grain, 1), grain)


def period_partitions(grain: str, configured_first: str | None = None):
    """The dbt models' StaticPartitionsDefinition (dagster imported here: the CLI's checks before a run
    use this module without starting Dagster)."""
    from dagster import StaticPartitionsDefinition

    return StaticPartitionsDefinition(partition_keys(grain, configured_first))


def nightly_window(moment: datetime, timezone: str, grain: str) -> tuple[str, str]:
    """The nightly refresh: the previous period (late data) and the open one, of `moment`'s local date."""
    open_period = label_of(moment.astimezone(ZoneInfo(timezone)).date(), grain)
    return shift(open_period, grain, -1), open_period


def window_vars(context: Any, keys: list[str] | None = None) -> dict[str, str | None]:
    """dbt vars of the run's refresh window: its partition range; every period (no bound) when the
    range is every partition (`scorecard run` without --period) or the run has none. An asset that is
    not partitioned itself (postgres_warehouse) reads the range from the run's tags and needs `keys`."""
    if context.has_partition_key_range:
        start, end = context.partition_key_range.start, context.partition_key_range.end
    else:
        start, end = context.run.tags.get(RANGE_START), context.run.tags.get(RANGE_END)
        if start is None or end is None:
            return {"period_from": None, "period_to": None}
    partitions_def = context.assets_def.partitions_def
    keys = partitions_def.get_partition_keys() if partitions_def is not None else keys
    if not keys:
        return {"period_from": start, "period_to": end}
    return {
        "period_from": None if start == keys[0] else start,
        "period_to": None if end == keys[-1] else end,
    }


def check_window(period_from: str | None, period_to: str | None, grain: str, keys: list[str]) -> str | None:
    """Why a requested window cannot run, or None."""
    for p in (period_from, period_to):
        if p is None:
            continue
        if (err := label_error(p, grain)) is not None:
            return err
        if p not in keys:
            return f"{p} is not a partition (periods {keys[0]} to {keys[-1]}; the scheme's first_period sets the start)"
    if period_from and period_to and _index(period_from, grain) > _index(period_to, grain):
        return f"--from {period_from} is after --to {period_to}"
    return None
