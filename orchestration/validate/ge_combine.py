"""Combining the per-chunk GE results of a suite into one result per expectation.

A suite is validated chunk by chunk (`ge_runner`); the chunks are hash partitions of the primary
key, so every row of a key lands in the same chunk and GE's own uniqueness expectations are exact
per chunk. Per expectation:

- row-level (map) expectations: element, missing and unexpected counts are summed, success is
  recomputed from the sums with the expectation's `mostly`; failing rows (with their business
  key) are kept up to `MAX_FAILURES_PER_EXPECTATION`;
- aggregates: row count and sum add up, min/max take the extreme, mean and the proportion of
  non-null values are weighted by the chunk's counts.

An aggregate over no value at all (an empty optional entity, an optional column never filled)
passes as "not measured": the row-count expectation is the one that says whether emptiness is
acceptable.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orchestration.validate.ge_suites import AGGREGATE_TYPES, KEY_TYPES, MAP_TYPES, check_name, expectation_columns

MAX_FAILURES_PER_EXPECTATION = 1000  # failing rows stored per expectation and run


def clean(v: Any) -> Any:
    """Plain JSON-able Python values; NaN/NaT become None."""
    if v is None:
        return None
    if isinstance(v, float | np.floating) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, tuple | list):
        return [clean(x) for x in v]
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    return v


def as_text(v: Any) -> str | None:
    v = clean(v)
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, list):
        return "|".join("" if x is None else str(x) for x in v)
    return str(v)


@dataclass
class Tally:
    """One expectation, accumulated over the chunks."""

    expectation: dict
    chunks: int = 0
    element_count: int = 0
    unexpected_count: int = 0
    missing_count: int = 0
    has_missing: bool = False
    samples: list[dict] = field(default_factory=list)  # partial_unexpected_index_list entries
    value_counts: Counter = field(default_factory=Counter)
    observed: Any = None
    weight: float = 0.0  # mean: non-null values; proportion: rows
    weighted_sum: float = 0.0
    exceptions: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        t = self.expectation["type"]
        return "map" if t in MAP_TYPES or t in KEY_TYPES else AGGREGATE_TYPES[t]

    def add(self, result, df: pd.DataFrame, key_cols: list[str]) -> None:
        self.chunks += 1
        info = result.exception_info or {}
        raised = [v for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
        if info.get("raised_exception") or raised:
            msg = info.get("exception_message") or "; ".join(str(v.get("exception_message")) for v in raised)
            self.exceptions.append(str(msg))
            return
        r = result.result or {}
        if self.kind == "map":
            self.element_count += int(r.get("element_count") or 0)
            self.unexpected_count += int(r.get("unexpected_count") or 0)
            if "missing_count" in r:
                self.has_missing = True
                self.missing_count += int(r.get("missing_count") or 0)
            room = MAX_FAILURES_PER_EXPECTATION - len(self.samples)
            if room > 0:
                self.samples += [clean(x) for x in (r.get("partial_unexpected_index_list") or [])[:room]]
            for vc in r.get("partial_unexpected_counts") or []:
                self.value_counts[as_text(vc["value"])] += int(vc["count"])
            return
        obs = r.get("observed_value")
        obs = None if obs is None or obs is pd.NaT or (isinstance(obs, float) and math.isnan(obs)) else obs
        col = (expectation_columns(self.expectation["kwargs"]) or [None])[0]
        if self.kind in ("row_count", "sum"):
            self.observed = (self.observed or 0) + (obs or 0)
        elif self.kind == "min":
            self.observed = (
                obs if self.observed is None else (self.observed if obs is None else min(self.observed, obs))
            )
        elif self.kind == "max":
            self.observed = (
                obs if self.observed is None else (self.observed if obs is None else max(self.observed, obs))
            )
        elif self.kind == "mean":
            n = int(df[col].count())
            if obs is not None and n:
                self.weight += n
                self.weighted_sum += float(obs) * n
        elif self.kind == "proportion_non_null":
            n = len(df)
            if obs is not None and n:
                self.weight += n
                self.weighted_sum += float(obs) * n

    def set_aggregate(self, observed: Any, values: int, rows: int) -> None:
        """The aggregate over every current row at once, computed in SQL (ge_runner's "changed" scope):
        `observed` the SQL aggregate, `values` the non-null values of its column, `rows` the rows."""
        self.chunks += 1
        if isinstance(observed, datetime):
            observed = pd.Timestamp(observed)
        if self.kind in ("row_count", "sum", "min", "max"):
            self.observed = observed if self.kind in ("min", "max") else (observed or 0)
        elif self.kind == "mean" and observed is not None and values:
            self.weight, self.weighted_sum = values, float(observed) * values
        elif self.kind == "proportion_non_null" and rows:
            self.weight, self.weighted_sum = rows, float(values)

    def final_observed(self) -> Any:
        if self.kind in ("mean", "proportion_non_null"):
            return self.weighted_sum / self.weight if self.weight else None
        if self.kind == "sum" and self.observed is None:
            return 0
        return self.observed


@dataclass
class ExpectationOutcome:
    check_name: str
    type: str
    kwargs: dict
    severity: str
    why: str
    success: bool
    observed: Any  # aggregates: the combined value; map: the unexpected count
    element_count: int | None
    unexpected_count: int | None
    failing_rows: list[tuple[str | None, str | None]]  # (row_key, bad_value), capped
    column_name: str | None
    message: str
    ge_result: dict  # the combined result dict, GE's shape (for Data Docs)
    not_measured: bool = False


def _bound(v: Any, params: dict) -> Any:
    if isinstance(v, dict) and "$PARAMETER" in v:
        return params[v["$PARAMETER"]]
    return v


def _within(obs: Any, kwargs: dict, params: dict) -> bool:
    low, high = _bound(kwargs.get("min_value"), params), _bound(kwargs.get("max_value"), params)
    if isinstance(obs, str):
        obs = pd.Timestamp(obs)
    if low is not None and (obs < low or (kwargs.get("strict_min") and obs == low)):
        return False
    return not (high is not None and (obs > high or (kwargs.get("strict_max") and obs == high)))


def _describe_bounds(kwargs: dict, params: dict) -> str:
    low, high = _bound(kwargs.get("min_value"), params), _bound(kwargs.get("max_value"), params)
    lo = "(" if kwargs.get("strict_min") else "["
    hi = ")" if kwargs.get("strict_max") else "]"
    return f"{lo}{as_text(low) if low is not None else '-inf'}, {as_text(high) if high is not None else '+inf'}{hi}"


def finish(tally: Tally, key_cols: list[str], params: dict) -> ExpectationOutcome:
    e = tally.expectation
    kwargs, meta = e["kwargs"], e["meta"]
    name = check_name(e)
    cols = expectation_columns(kwargs)
    column_name = ",".join(cols) if cols else None
    base = dict(
        check_name=name,
        type=e["type"],
        kwargs=kwargs,
        severity=meta["severity"],
        why=meta["why"],
        column_name=column_name,
    )
    if tally.exceptions:
        msg = f"{name} raised an error in GE: {tally.exceptions[0]}"
        return ExpectationOutcome(
            **base,
            success=False,
            observed=None,
            element_count=None,
            unexpected_count=None,
            failing_rows=[],
            message=msg,
            ge_result={},
        )
    if tally.kind == "map":
        nonmissing = tally.element_count - tally.missing_count
        mostly = float(kwargs.get("mostly", 1.0))
        if nonmissing == 0:
            success = True
        else:
            success = (nonmissing - tally.unexpected_count) / nonmissing >= mostly
        pct = 100.0 * tally.unexpected_count / nonmissing if nonmissing else None
        ge_result = {
            "element_count": tally.element_count,
            "unexpected_count": tally.unexpected_count,
            "unexpected_percent": pct,
            "partial_unexpected_list": [s.get(cols[0]) if cols else None for s in tally.samples[:20]],
            "partial_unexpected_counts": [{"value": v, "count": c} for v, c in tally.value_counts.most_common(20)],
            "partial_unexpected_index_list": tally.samples[:20],
            "unexpected_index_column_names": key_cols,
        }
        if tally.has_missing:
            ge_result |= {
                "missing_count": tally.missing_count,
                "missing_percent": 100.0 * tally.missing_count / tally.element_count if tally.element_count else None,
                "unexpected_percent_total": (
                    100.0 * tally.unexpected_count / tally.element_count if tally.element_count else None
                ),
                "unexpected_percent_nonmissing": pct,
            }
        failing = []
        for s in tally.samples if not success else []:
            key = [clean(s.get(k)) for k in key_cols]
            row_key = as_text(key) if all(k in s for k in key_cols) and any(v is not None for v in key) else None
            bad = as_text([s.get(c) for c in cols]) if len(cols) > 1 else as_text(s.get(cols[0])) if cols else None
            failing.append((row_key, bad))
        stored = len(failing)
        msg = (
            f"{name}: {tally.unexpected_count:,} of {nonmissing:,} value(s) fail"
            + (f" ({pct:.2f} %)" if pct is not None else "")
            + (f", allowed share {1 - mostly:.2%}" if mostly < 1 else "")
            + (
                f"; only the first {stored:,} failing rows are stored"
                if stored < tally.unexpected_count and not success
                else ""
            )
        )
        return ExpectationOutcome(
            **base,
            success=success,
            observed=tally.unexpected_count,
            element_count=tally.element_count,
            unexpected_count=tally.unexpected_count,
            failing_rows=failing,
            message=msg,
            ge_result=ge_result,
        )
    obs = tally.final_observed()
    if obs is None:
        return ExpectationOutcome(
            **base,
            success=True,
            observed=None,
            element_count=None,
            unexpected_count=None,
            failing_rows=[],
            message=f"{name}: no value to measure (empty or all null); not measured",
            ge_result={"observed_value": None},
            not_measured=True,
        )
    success = _within(obs, kwargs, params)
    shown = as_text(round(obs, 6) if isinstance(obs, float) else obs)
    msg = f"{name}: observed {shown}, expected within {_describe_bounds(kwargs, params)}"
    return ExpectationOutcome(
        **base,
        success=success,
        observed=clean(obs),
        element_count=None,
        unexpected_count=None,
        failing_rows=[] if success else [(None, shown)],
        message=msg,
        ge_result={"observed_value": clean(obs)},
    )


@dataclass
class SuiteOutcome:
    entity: str
    suite_name: str
    rows_validated: int
    chunks: int
    outcomes: list[ExpectationOutcome]
    parameters: dict
    seconds: float = 0.0
    scope: str = "all"  # the rows the row-level expectations saw: "all" current rows or the run's "changed" keys
    rows_current: int | None = None  # current rows of the entity (the aggregates' rows)
    data_docs_index: Path | None = None  # reports/data_docs/index.html
    data_docs_run: Path | None = None  # reports/data_docs/runs/<run>.html
    data_docs_page: Path | None = None  # GE's Data Docs page of this validation

    @property
    def evaluated(self) -> int:
        return len(self.outcomes)

    @property
    def successful(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def failed_error(self) -> int:
        return sum(o.severity == "error" for o in self.failed)

    @property
    def failed_warn(self) -> int:
        return sum(o.severity == "warn" for o in self.failed)

    @property
    def passed(self) -> bool:
        """An error-severity failure fails the suite; warn-only failures do not."""
        return self.failed_error == 0
