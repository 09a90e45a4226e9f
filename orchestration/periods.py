"""Evaluation periods as Dagster partitions, and a run's refresh window for dbt.

The periods of the scheme's grain (month, quarter or year) are the partition keys of the
period-dependent assets (the dbt models), labelled as in the marts: `2026-03`, `2026-Q1`, `2026`.
The keys run from the scheme's `first_period` (default: the first period of 2020) to the period after
today's, so the open period and the next one can always be selected. A run's partition key or range
becomes dbt's refresh window (vars `period_from` / `period_to`, see dbt_project/macros/refresh_window.sql);
a run without a partition refreshes every period. Closed periods are never refreshed.

The one Python implementation of period labels and of the refresh window; the SQL one is the dbt macros
(dbt_project/macros/periods.sql, refresh_window.sql). tests/integration/test_periods_dbt.py checks that
both give the same labels, bounds and windows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
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


def label_grain(label: str) -> str | None:
    """The grain of a period label (`2026-03` month, `2026-Q1` quarter, `2026` year), or None."""
    return next((grain for grain in GRAINS if re.match(LABEL[grain], str(label))), None)


def label_of(day: date, grain: str) -> str:
    """The period of a local calendar date (dbt: period_label)."""
    if grain == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if grain == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def label_at(moment: datetime, timezone: str, grain: str) -> str:
    """The period of an instant: that of its local date in `timezone`. A naive datetime holds UTC (the raw
    layer's convention; dbt: period_label of the date of to_local_timestamp)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return label_of(moment.astimezone(ZoneInfo(timezone)).date(), grain)


def period_start(label: str) -> date:
    """The first day of a period of any grain (dbt: period_label_start)."""
    grain = label_grain(label)
    if grain is None:
        raise ValueError(f"{label!r} is not a period label (like 2026-03, 2026-Q1 or 2026)")
    index = _index(label, grain)
    if grain == "year":
        return date(index, 1, 1)
    months = 1 if grain == "month" else 3
    year, k = divmod(index, 12 // months)
    return date(year, k * months + 1, 1)


def period_bounds(label: str) -> tuple[date, date]:
    """The first day of a period and the first day of the next one (dbt: period_start, period_end + 1)."""
    grain = label_grain(label)
    return period_start(label), period_start(shift(label, grain, 1))


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
    open_period = label_at(moment, timezone, grain)
    return shift(open_period, grain, -1), open_period


def in_refresh_window(period: str, period_from: str | None, period_to: str | None, closed: Collection[str]) -> bool:
    """Whether a run whose window is `period_from` .. `period_to` (None: open-ended) rebuilds `period`: in the
    bounds and not closed (dbt: in_refresh_window). Labels of one grain sort as text in time order."""
    return (
        period not in closed and (not period_from or period >= period_from) and (not period_to or period <= period_to)
    )


def widen_window(
    period_from: str | None, period_to: str | None, periods: Iterable[str]
) -> tuple[str | None, str | None, list[str]]:
    """The window `period_from` .. `period_to` widened to cover `periods` (those decisions are about):
    (period_from, period_to, the periods that were outside it, in order). A window without bounds (every
    period) stays as it is."""
    if period_from is None and period_to is None:
        return None, None, []
    outside = sorted({p for p in periods if (period_from and p < period_from) or (period_to and p > period_to)})
    if not outside:
        return period_from, period_to, []
    new_from = min(period_from, outside[0]) if period_from else None
    new_to = max(period_to, outside[-1]) if period_to else None
    return new_from, new_to, outside


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
