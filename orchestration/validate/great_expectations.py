"""Great Expectations suites over the raw layer, run in bounded memory.

Route (see expectations/README.md for the measurements): GE 1.24's SQL datasource over
duckdb-engine fails every metric with `IndexError: list index out of range` (GE issue 11579), so
GE runs on pandas frames read from DuckDB in chunks. A suite is validated chunk by chunk and the
per-chunk GE results are combined into one result per expectation:

- the chunks are hash partitions of the primary key (`hash(key) % parts`, one sorted DuckDB query
  streamed through an Arrow reader), so every row of a key lands in the same chunk and GE's own
  uniqueness expectations are exact per chunk; their counts, like every row-level count, add up;
- row-level (map) expectations: element, missing and unexpected counts are summed, success is
  recomputed from the sums with the expectation's `mostly`; failing rows (with their business
  key) are kept up to `MAX_FAILURES_PER_EXPECTATION`;
- aggregates: row count and sum add up, min/max take the extreme, mean and the proportion of
  non-null values are weighted by the chunk's counts. Expectations that cannot be combined
  exactly (median, quantiles, stdev, distinct-value counts, uniqueness of a non-key column) are
  refused when the suite is loaded.

An aggregate over no value at all (an empty optional entity, an optional column never filled)
passes as "not measured": the row-count expectation is the one that says whether emptiness is
acceptable. Results go to `audit.check_results` (one row per expectation) and
`audit.validation_failures` (failing rows), and to GE Data Docs under
`reports_dir(warehouse)/data_docs`.

The suites live in `expectations/<source>__<entity>.json`. Their contract part (primary key,
required columns, enumerations, ranges and patterns) is generated from the pandera contract by
`sync_suite_files()` (`python -m orchestration.validate.great_expectations sync`); the
dataset-level part (volumes, distributions, freshness) is written by hand and kept as is.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.contract.spec import EntitySpec, entity_specs
from orchestration.settings import PROJECT_ROOT
from orchestration.warehouse import ensure_audit_tables, ident, reports_dir, sql_str

SUITES_DIR = PROJECT_ROOT / "expectations"
CHECK_KIND = "great_expectations"
CHUNK_ROWS = 200_000  # rows per pandas frame handed to GE (a hash partition is about this size)
MAX_FAILURES_PER_EXPECTATION = 1000  # failing rows stored per expectation and run
DUCKDB_MEMORY_LIMIT = "512MB"  # DuckDB side of a check (the partitioning sort spills to disk beyond it)
DATA_DOCS_RUNS_IN_INDEX = 30  # the Data Docs index lists the suites of the latest N runs
SEVERITIES = ("error", "warn")
GE_SEVERITY = {"error": "critical", "warn": "warning"}
PARAMETER_RE = re.compile(r"^as_of_minus_(\d+)_days$")

# expectation type -> how per-chunk results combine
MAP_TYPES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_value_lengths_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
}
KEY_TYPES = {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}
AGGREGATE_TYPES = {
    "expect_table_row_count_to_be_between": "row_count",
    "expect_column_mean_to_be_between": "mean",
    "expect_column_min_to_be_between": "min",
    "expect_column_max_to_be_between": "max",
    "expect_column_sum_to_be_between": "sum",
    "expect_column_proportion_of_non_null_values_to_be_between": "proportion_non_null",
}
SUPPORTED_TYPES = MAP_TYPES | KEY_TYPES | set(AGGREGATE_TYPES)


class SuiteError(ValueError):
    """A suite file that cannot be run as written (names the file and the expectation)."""


# --------------------------------------------------------------------------------------------
# Suite files
# --------------------------------------------------------------------------------------------


def suite_path(spec: EntitySpec, suites_dir: Path = SUITES_DIR) -> Path:
    return Path(suites_dir) / f"{spec.table}.json"


def expectation_columns(kwargs: dict) -> list[str]:
    """The columns an expectation reads, in the order of its kwargs."""
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return []


def check_name(expectation: dict) -> str:
    """Expectation type + column(s): unique within a suite, the `check_name` of the audit rows."""
    cols = expectation_columns(expectation["kwargs"])
    return expectation["type"] + (f"({', '.join(cols)})" if cols else "")


def _contract_expectation(type_: str, kwargs: dict, why: str) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": "error", "origin": "contract", "why": why}}


def contract_expectations(spec: EntitySpec) -> list[dict]:
    """The second line of defence, derived from the pandera contract (never typed by hand)."""
    out: list[dict] = []
    key = list(spec.key)
    key_why = (
        f"The primary key of {spec.entity} ({', '.join(key)}): ingestion keeps one current row per key, so a "
        "duplicate means de-duplication failed and every count built on this entity would be inflated."
    )
    if len(key) == 1:
        out.append(_contract_expectation("expect_column_values_to_be_unique", {"column": key[0]}, key_why))
    else:
        out.append(_contract_expectation("expect_compound_columns_to_be_unique", {"column_list": key}, key_why))
    for c in spec.columns:
        if c.required:
            out.append(
                _contract_expectation(
                    "expect_column_values_to_not_be_null",
                    {"column": c.name},
                    f"{c.name} is required by the contract; ingestion quarantines rows without it, "
                    "so a null here means the row-level gate was bypassed.",
                )
            )
    for c in spec.columns:
        if c.allowed:
            out.append(
                _contract_expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": c.name, "value_set": list(c.allowed)},
                    f"{c.name} is an enumeration of the contract; an unknown value would fall out of every "
                    "indicator that filters on it.",
                )
            )
        if c.ge is not None or c.gt is not None or c.le is not None:
            kw: dict[str, Any] = {"column": c.name}
            low = c.gt if c.gt is not None else c.ge
            if low is not None:
                kw["min_value"] = _number(low)
            if c.le is not None:
                kw["max_value"] = _number(c.le)
            if c.gt is not None:
                kw["strict_min"] = True
            bounds = f"{'>' if c.gt is not None else '>='} {_number(low)}" if low is not None else ""
            bounds += (" and " if bounds and c.le is not None else "") + (
                f"<= {_number(c.le)}" if c.le is not None else ""
            )
            out.append(
                _contract_expectation(
                    "expect_column_values_to_be_between",
                    kw,
                    f"The contract bounds {c.name} ({bounds}); a value outside would distort every average "
                    "and rate computed from it.",
                )
            )
        if c.pattern:
            out.append(
                _contract_expectation(
                    "expect_column_values_to_match_regex",
                    # non-capturing groups: GE searches with pandas str.contains, which warns on groups
                    {"column": c.name, "regex": re.sub(r"\((?!\?)", "(?:", c.pattern)},
                    f"{c.name} must follow the contract's format; a value that does not is assigned to no period.",
                )
            )
    return out


def _number(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)


def load_suite_file(spec: EntitySpec, suites_dir: Path = SUITES_DIR) -> dict:
    path = suite_path(spec, suites_dir)
    if not path.is_file():
        raise SuiteError(f"{path}: no Great Expectations suite for {spec.entity}")
    try:
        suite = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON: {exc}") from None
    check_suite(spec, suite, path)
    return suite


def check_suite(spec: EntitySpec, suite: dict, path: Path | str = "<suite>") -> None:
    """Refuse what the chunked route cannot evaluate exactly, and what an auditor could not read."""
    if suite.get("name") != spec.table:
        raise SuiteError(f"{path}: suite name must be {spec.table!r}, not {suite.get('name')!r}")
    derived = (suite.get("meta") or {}).get("derived_columns") or {}
    known = {c.name for c in spec.columns} | set(derived)
    for name, d in derived.items():
        if name in {c.name for c in spec.columns}:
            raise SuiteError(f"{path}: derived column {name} has the name of a contract column")
        if set(d) != {"column", "in"} or d["column"] not in {c.name for c in spec.columns} or not d["in"]:
            raise SuiteError(f"{path}: derived column {name}: expected {{'column': <contract column>, 'in': [...]}}")
    seen: set[str] = set()
    for i, e in enumerate(suite.get("expectations") or []):
        where = f"{path}: expectation {i} ({e.get('type')})"
        if e.get("type") not in SUPPORTED_TYPES:
            raise SuiteError(
                f"{where}: type not supported by the chunked route (it cannot be combined exactly across "
                f"chunks); supported: {', '.join(sorted(SUPPORTED_TYPES))}"
            )
        meta = e.get("meta") or {}
        if meta.get("severity") not in SEVERITIES:
            raise SuiteError(f"{where}: meta.severity must be one of {SEVERITIES}")
        if not str(meta.get("why") or "").strip():
            raise SuiteError(f"{where}: meta.why must say why the expectation exists")
        kwargs = e.get("kwargs") or {}
        for col in expectation_columns(kwargs):
            if col not in known:
                raise SuiteError(f"{where}: unknown column {col!r}")
        if e["type"] in KEY_TYPES and expectation_columns(kwargs) != list(spec.key):
            raise SuiteError(
                f"{where}: uniqueness is exact only on the primary key {list(spec.key)} (the chunks are hash "
                "partitions of it)"
            )
        if "row_condition" in kwargs:
            raise SuiteError(f"{where}: row_condition is not supported; use a derived column")
        for v in kwargs.values():
            if isinstance(v, dict) and "$PARAMETER" in v and not PARAMETER_RE.match(str(v["$PARAMETER"])):
                raise SuiteError(f"{where}: unknown parameter {v['$PARAMETER']!r} (use as_of_minus_<N>_days)")
        name = check_name(e)
        if name in seen:
            raise SuiteError(f"{where}: a second {name} in the suite; one per type and column")
        seen.add(name)


def sync_suite_files(suites_dir: Path = SUITES_DIR) -> list[Path]:
    """Regenerate the contract part of every suite file; keep the hand-written part as written."""
    written = []
    for spec in entity_specs():
        path = suite_path(spec, suites_dir)
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        own = [e for e in current.get("expectations", []) if (e.get("meta") or {}).get("origin") != "contract"]
        suite = {
            "name": spec.table,
            "meta": current.get("meta") or {"entity": spec.entity},
            "expectations": own + contract_expectations(spec),
        }
        check_suite(spec, suite, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def suite_parameters(suite: dict, as_of: datetime) -> dict[str, pd.Timestamp]:
    """Values of the `{"$PARAMETER": "as_of_minus_<N>_days"}` bounds: the run's as-of (UTC, as the
    raw layer stores timestamps) minus N days."""
    as_of_utc = pd.Timestamp(as_of.astimezone(UTC).replace(tzinfo=None))
    out = {}
    for e in suite["expectations"]:
        for v in e["kwargs"].values():
            if isinstance(v, dict) and "$PARAMETER" in v:
                name = v["$PARAMETER"]
                out[name] = as_of_utc - timedelta(days=int(PARAMETER_RE.match(name).group(1)))
    return out


def build_ge_suite(suite: dict):
    """The GE ExpectationSuite of a suite file: meta.why becomes the expectation's notes and
    meta.severity GE's own severity, so Data Docs show both."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for e in suite["expectations"]:
        meta = dict(e["meta"]) | {"check_name": check_name(e)}
        conf = ExpectationConfiguration(
            type=e["type"],
            kwargs=copy.deepcopy(e["kwargs"]),
            meta=meta,
            notes=f"[{meta['severity']}] {meta['why']}",
            severity=GE_SEVERITY[meta["severity"]],
        )
        expectations.append(conf.to_domain_obj())
    return gx.ExpectationSuite(name=suite["name"], expectations=expectations, meta=dict(suite.get("meta") or {}))


# --------------------------------------------------------------------------------------------
# Reading the raw table in key-partitioned chunks
# --------------------------------------------------------------------------------------------


def _select_list(spec: EntitySpec, suite: dict) -> list[str]:
    derived = (suite.get("meta") or {}).get("derived_columns") or {}
    used: list[str] = list(spec.key)
    for e in suite["expectations"]:
        for col in expectation_columns(e["kwargs"]):
            if col not in used:
                used.append(col)
    out = []
    for col in used:
        if col in derived:
            d = derived[col]
            values = ", ".join(sql_str(v) if isinstance(v, str) else repr(v) for v in d["in"])
            src = ident(d["column"])
            out.append(
                f"cast(case when {src} is null then null when {src} in ({values}) then 1 else 0 end as double) "
                f"as {ident(col)}"
            )
            continue
        kind = spec.column(col).kind
        if kind in ("money", "points"):  # DECIMAL -> double: GE's pandas metrics want floats
            out.append(f"cast({ident(col)} as double) as {ident(col)}")
        elif kind == "date":  # compared with timestamp bounds (as-of minus N days)
            out.append(f"cast({ident(col)} as timestamp) as {ident(col)}")
        else:
            out.append(ident(col))
    return out


def iter_chunks(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, suite: dict, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The current rows of raw.<entity> as pandas frames of about `chunk_rows` rows, each holding
    every row of the keys it holds. An empty table yields one empty frame (GE still evaluates it)."""
    table = f"raw.{ident(spec.table)}"
    cols = ", ".join(_select_list(spec, suite))
    n = con.execute(f"select count(*) from {table} where _is_current").fetchall()[0][0]
    parts = max(1, math.ceil(n / chunk_rows))
    if parts == 1:
        yield con.sql(f"select {cols} from {table} where _is_current").to_arrow_table().to_pandas()
        return
    key = ", ".join(ident(k) for k in spec.key)
    reader = con.sql(
        f"select {cols}, hash({key}) % {parts} as _part from {table} where _is_current order by _part"
    ).to_arrow_reader(chunk_rows)
    pending: list[pa.RecordBatch] = []
    current = None
    for batch in reader:
        part = batch.column("_part").to_numpy()
        starts = [0, *(np.flatnonzero(np.diff(part)) + 1).tolist(), len(part)]
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            if a == b:
                continue
            if current is not None and part[a] != current and pending:
                yield _frame(pending)
                pending = []
            current = part[a]
            pending.append(batch.slice(a, b - a))
    if pending:
        yield _frame(pending)


def _frame(batches: list[pa.RecordBatch]) -> pd.DataFrame:
    return pa.Table.from_batches(batches).drop_columns(["_part"]).to_pandas()


# --------------------------------------------------------------------------------------------
# Combining per-chunk results
# --------------------------------------------------------------------------------------------


def _clean(v: Any) -> Any:
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
        return [_clean(x) for x in v]
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    return v


def _text(v: Any) -> str | None:
    v = _clean(v)
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
                self.samples += [_clean(x) for x in (r.get("partial_unexpected_index_list") or [])[:room]]
            for vc in r.get("partial_unexpected_counts") or []:
                self.value_counts[_text(vc["value"])] += int(vc["count"])
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
    return f"{lo}{_text(low) if low is not None else '-inf'}, {_text(high) if high is not None else '+inf'}{hi}"


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
            key = [_clean(s.get(k)) for k in key_cols]
            row_key = _text(key) if all(k in s for k in key_cols) and any(v is not None for v in key) else None
            bad = _text([s.get(c) for c in cols]) if len(cols) > 1 else _text(s.get(cols[0])) if cols else None
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
    shown = _text(round(obs, 6) if isinstance(obs, float) else obs)
    msg = f"{name}: observed {shown}, expected within {_describe_bounds(kwargs, params)}"
    return ExpectationOutcome(
        **base,
        success=success,
        observed=_clean(obs),
        element_count=None,
        unexpected_count=None,
        failing_rows=[] if success else [(None, shown)],
        message=msg,
        ge_result={"observed_value": _clean(obs)},
    )


# --------------------------------------------------------------------------------------------
# Running a suite
# --------------------------------------------------------------------------------------------


@dataclass
class SuiteOutcome:
    entity: str
    suite_name: str
    rows_validated: int
    chunks: int
    outcomes: list[ExpectationOutcome]
    parameters: dict
    seconds: float = 0.0
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


def _ge_batch_definition(name: str):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = ctx.data_sources.add_pandas("raw_chunks").add_dataframe_asset(name)
    return asset.add_batch_definition_whole_dataframe("chunk")


def validate_entity(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    as_of: datetime,
    chunk_rows: int = CHUNK_ROWS,
    suites_dir: Path = SUITES_DIR,
) -> tuple[SuiteOutcome, Any]:
    """Run the entity's suite over the current rows of raw.<entity>, chunk by chunk.

    Returns the combined outcome and the combined GE ExpectationSuiteValidationResult."""
    started = datetime.now(UTC)
    suite = load_suite_file(spec, suites_dir)
    params = suite_parameters(suite, as_of)
    ge_suite = build_ge_suite(suite)
    by_name = {check_name(e): Tally(dict(e, meta=dict(e["meta"]))) for e in suite["expectations"]}
    key_cols = list(spec.key)
    batch_definition = _ge_batch_definition(spec.table)
    result_format = {
        "result_format": "SUMMARY",
        "unexpected_index_column_names": key_cols,
        "partial_unexpected_count": MAX_FAILURES_PER_EXPECTATION,
    }
    rows = chunks = 0
    first_result = None
    # the partitioning sort spills to disk beyond the limit; the connection's own limit is restored after
    previous_limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"set memory_limit = {sql_str(DUCKDB_MEMORY_LIMIT)}")
    try:
        for df in iter_chunks(con, spec, suite, chunk_rows):
            chunks += 1
            rows += len(df)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
            res = batch.validate(ge_suite, expectation_parameters=params, result_format=result_format)
            first_result = first_result or res
            for r in res.results:
                by_name[r.expectation_config.meta["check_name"]].add(r, df, key_cols)
    finally:
        con.execute(f"set memory_limit = {sql_str(previous_limit)}")
    outcomes = [finish(t, key_cols, params) for t in by_name.values()]
    outcome = SuiteOutcome(
        entity=spec.entity,
        suite_name=suite["name"],
        rows_validated=rows,
        chunks=chunks,
        outcomes=outcomes,
        parameters={k: _clean(v) for k, v in params.items()},
    )
    outcome.seconds = (datetime.now(UTC) - started).total_seconds()
    return outcome, _combined_ge_result(first_result, outcome, spec, as_of)


def _combined_ge_result(first, outcome: SuiteOutcome, spec: EntitySpec, as_of: datetime):
    """A GE ExpectationSuiteValidationResult holding the combined results (for Data Docs)."""
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult

    configs = {r.expectation_config.meta["check_name"]: r.expectation_config for r in first.results}
    results = []
    for o in outcome.outcomes:
        conf = configs[o.check_name]
        results.append(
            ExpectationValidationResult(
                success=o.success,
                expectation_config=conf,
                result=_clean(o.ge_result),
                exception_info={"raised_exception": False, "exception_message": None, "exception_traceback": None},
            )
        )
    n, ok = outcome.evaluated, outcome.successful
    meta = {
        "great_expectations_version": first.meta.get("great_expectations_version"),
        "batch_spec": {
            "table": f"raw.{spec.table}",
            "rows": "current rows (_is_current)",
            "rows_validated": outcome.rows_validated,
            "chunks": outcome.chunks,
            "chunking": f"hash partitions of ({', '.join(spec.key)}), about {CHUNK_ROWS:,} rows each",
            "as_of": as_of.isoformat(),
            "parameters": outcome.parameters,
        },
        "batch_markers": {},
        "active_batch_definition": first.meta.get("active_batch_definition"),
        "validation_time": datetime.now(UTC).isoformat(),
    }
    return ExpectationSuiteValidationResult(
        success=outcome.passed and not outcome.failed_warn,
        results=results,
        suite_name=outcome.suite_name,
        statistics={
            "evaluated_expectations": n,
            "successful_expectations": ok,
            "unsuccessful_expectations": n - ok,
            "success_percent": 100.0 * ok / n if n else None,
        },
        meta=meta,
    )


# --------------------------------------------------------------------------------------------
# Audit rows and Data Docs
# --------------------------------------------------------------------------------------------


def record_outcome(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, run_id: str, checked_at: datetime) -> None:
    """One audit.check_results row per expectation, failing rows to audit.validation_failures.

    Append-only across runs; a re-run of the same run id replaces its own rows of this entity."""
    ensure_audit_tables(con)
    at = checked_at.astimezone(UTC).replace(tzinfo=None)
    for table in ("check_results", "validation_failures"):
        con.execute(
            f"delete from audit.{table} where run_id = ? and check_kind = ? and source = ?",
            [run_id, CHECK_KIND, outcome.entity],
        )
    results = []
    failures = []
    for o in outcome.outcomes:
        failing = o.unexpected_count if o.unexpected_count is not None else (0 if o.success else 1)
        results.append(
            (run_id, at, CHECK_KIND, outcome.entity, o.check_name, o.severity, o.success, failing, o.message)
        )
        for row_key, bad in o.failing_rows:
            failures.append(
                (
                    run_id,
                    at,
                    outcome.entity,
                    o.check_name,
                    o.severity,
                    row_key,
                    o.column_name,
                    bad,
                    o.message,
                    CHECK_KIND,
                )
            )
    con.executemany(
        "insert into audit.check_results (run_id, checked_at, check_kind, source, check_name, severity, passed, "
        "failing_rows, message) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        results,
    )
    if failures:
        con.executemany(
            "insert into audit.validation_failures (run_id, checked_at, source, check_name, severity, row_key, "
            "column_name, bad_value, message, check_kind) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            failures,
        )


def data_docs_dir(warehouse: str | Path) -> Path:
    return reports_dir(warehouse) / "data_docs"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def write_ge_data_docs(warehouse: str | Path, suite: dict, ge_result, run_id: str, checked_at: datetime) -> Path:
    """Store the combined result in a GE project beside the warehouse (`reports/great_expectations`)
    and render GE's Data Docs page for it into `reports/data_docs/ge/`. Returns the page."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site_dir = data_docs_dir(warehouse) / "ge"
    ctx = gx.get_context(mode="file", project_root_dir=str(reports_dir(warehouse) / "great_expectations"))
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        # GE's index lists the latest validations only: it reads each one it lists at every build
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": DATA_DOCS_RUNS_IN_INDEX * len(entity_specs()),
        },
    }
    sites = ctx.get_config().data_docs_sites or {}
    if "local_site" in sites:
        ctx.delete_data_docs_site("local_site")
    if sites.get("scorecard") != site:
        if "scorecard" in sites:
            ctx.delete_data_docs_site("scorecard")
        ctx.add_data_docs_site("scorecard", site)
    suite_key = ExpectationSuiteIdentifier(name=suite["name"])
    resources: list = []
    # the suite's page is rendered again only when the suite file changed
    marker = site_dir / "expectations" / f".{suite['name']}.sha"
    digest = _sha(suite)
    if not marker.is_file() or marker.read_text() != digest:
        ctx.suites.add_or_update(build_ge_suite(suite))
        resources.append(suite_key)
    run = RunIdentifier(run_name=run_id, run_time=checked_at.astimezone(UTC))
    key = ValidationResultIdentifier(expectation_suite_identifier=suite_key, run_id=run, batch_identifier=suite["name"])
    ge_result.meta["run_id"] = run
    ctx.validation_results_store.set(key, ge_result)
    ctx.build_data_docs(site_names=["scorecard"], resource_identifiers=[key, *resources])
    if resources:
        marker.write_text(digest)
    return site_dir / "validations" / Path(*key.to_tuple()).with_suffix(".html")


def _sha(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


SAMPLE_ROWS_IN_PAGE = 20
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f3f3f3}.pass{color:#1a7f37}.warn{color:#9a6700}.fail{color:#cf222e;font-weight:bold}
.why{color:#555;font-size:.85em}code{font-size:.9em}.muted{color:#777}
"""


def _h(v: Any) -> str:
    import html

    return html.escape("" if v is None else str(v))


def _status(passed: bool, warned: bool) -> str:
    if not passed:
        return '<span class="fail">FAILED (blocking)</span>'
    return '<span class="warn">passed with warnings</span>' if warned else '<span class="pass">passed</span>'


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_h(title)}</title>'
        f"<style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def write_run_pages(
    warehouse: str | Path,
    outcome: SuiteOutcome,
    run_id: str,
    checked_at: datetime,
    as_of: datetime,
    ge_page: Path | None,
) -> tuple[Path, Path]:
    """The auditor's pages: plain static HTML without scripts or network (opens from disk anywhere).

    `data_docs/runs/<run>.json` collects the suites of a run as their checks finish;
    `data_docs/runs/<run>.html` shows every suite, expectation, result, observed value and sample of
    failing values; `data_docs/index.html` lists the latest runs. Returns (index, run page)."""
    site = data_docs_dir(warehouse)
    runs = site / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    manifest_path = runs / f"{_safe(run_id)}.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"run_id": run_id, "suites": {}}
    manifest["as_of"] = as_of.isoformat()
    manifest["suites"][outcome.entity] = {
        "suite": outcome.suite_name,
        "checked_at": checked_at.astimezone(UTC).isoformat(timespec="seconds"),
        "rows_validated": outcome.rows_validated,
        "chunks": outcome.chunks,
        "seconds": round(outcome.seconds, 2),
        "passed": outcome.passed,
        "evaluated": outcome.evaluated,
        "successful": outcome.successful,
        "failed_error": outcome.failed_error,
        "failed_warn": outcome.failed_warn,
        "ge_page": ge_page.relative_to(site).as_posix() if ge_page else None,
        "expectations": [
            {
                "check_name": o.check_name,
                "severity": o.severity,
                "success": o.success,
                "not_measured": o.not_measured,
                "message": o.message,
                "why": o.why,
                "unexpected_count": o.unexpected_count,
                "failing_rows": o.failing_rows[:SAMPLE_ROWS_IN_PAGE],
            }
            for o in outcome.outcomes
        ],
    }
    manifest["started_at"] = min(s["checked_at"] for s in manifest["suites"].values())
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=str))
    run_page = runs / f"{_safe(run_id)}.html"
    run_page.write_text(_run_html(manifest, link_prefix="../"), encoding="utf-8")
    manifests = []
    latest = sorted(runs.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:DATA_DOCS_RUNS_IN_INDEX]
    for p in latest:
        try:
            manifests.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    manifests.sort(key=lambda m: m.get("started_at", ""), reverse=True)
    index = site / "index.html"
    index.write_text(_index_html(manifests[:DATA_DOCS_RUNS_IN_INDEX]), encoding="utf-8")
    return index, run_page


def _suite_rows(m: dict, link_prefix: str, run_link: str | None = None) -> str:
    rows = []
    for entity, s in sorted(m["suites"].items()):
        ge = f' <a href="{_h(link_prefix + s["ge_page"])}">GE page</a>' if s.get("ge_page") else ""
        name = f'<a href="{_h(run_link)}#{_h(s["suite"])}">{_h(s["suite"])}</a>' if run_link else _h(s["suite"])
        rows.append(
            f"<tr><td>{name}{ge}</td><td>{_h(entity)}</td><td>{_status(s['passed'], s['failed_warn'] > 0)}</td>"
            f"<td>{s['evaluated']}</td><td>{s['successful']}</td><td>{s['failed_error']}</td><td>{s['failed_warn']}</td>"
            f"<td>{s['rows_validated']:,}</td></tr>"
        )
    return (
        "<table><tr><th>suite</th><th>entity</th><th>result</th><th>evaluated</th><th>successful</th>"
        "<th>failed (error)</th><th>failed (warn)</th><th>rows validated</th></tr>" + "".join(rows) + "</table>"
    )


def _observed(e: dict) -> str:
    return e["message"].removeprefix(e["check_name"] + ": ")


def _run_html(m: dict, link_prefix: str) -> str:
    parts = [
        f'<p><a href="{link_prefix}index.html">all runs</a></p>',
        f"<h1>Great Expectations results of run <code>{_h(m['run_id'])}</code></h1>",
        f"<p>as-of {_h(m['as_of'])}; first suite checked at {_h(m['started_at'])} UTC. "
        "An error-severity failure blocks what is downstream of the entity; a warning does not. "
        "Every failing row (up to 1,000 per expectation) is in <code>audit.validation_failures</code>.</p>",
        _suite_rows(m, link_prefix),
    ]
    for entity, s in sorted(m["suites"].items()):
        ge = f' (<a href="{_h(link_prefix + s["ge_page"])}">Great Expectations page</a>)' if s.get("ge_page") else ""
        parts.append(
            f'<h2 id="{_h(s["suite"])}">{_h(s["suite"])}: {_h(entity)}{ge}</h2>'
            f"<p>{_status(s['passed'], s['failed_warn'] > 0)}: {s['successful']} of {s['evaluated']} expectations met "
            f"on {s['rows_validated']:,} current rows ({s['chunks']} chunk(s), {s['seconds']} s).</p>"
            "<table><tr><th>expectation</th><th>severity</th><th>result</th><th>observed</th>"
            "<th>sample of failing rows (row key: value)</th></tr>"
        )
        for e in s["expectations"]:
            if e["success"]:
                res = (
                    '<span class="muted">not measured</span>' if e["not_measured"] else '<span class="pass">met</span>'
                )
            else:
                res = f'<span class="{"fail" if e["severity"] == "error" else "warn"}">FAILED</span>'
            sample = "<br>".join(f"{_h(k if k is not None else '(dataset)')}: {_h(v)}" for k, v in e["failing_rows"])
            more = e["unexpected_count"] or 0
            if more > len(e["failing_rows"]):
                sample += f'<br><span class="muted">... {more:,} failing rows in all</span>'
            parts.append(
                f'<tr><td><code>{_h(e["check_name"])}</code><div class="why">{_h(e["why"])}</div></td>'
                f"<td>{_h(e['severity'])}</td><td>{res}</td><td>{_h(_observed(e))}</td><td>{sample}</td></tr>"
            )
        parts.append("</table>")
    return _page(f"GE results {m['run_id']}", "".join(parts))


def _index_html(manifests: list[dict]) -> str:
    parts = [
        "<h1>Dataset validation (Great Expectations)</h1>",
        "<p>Each nightly run validates the current rows of every raw entity against its suite in "
        "<code>expectations/</code>. Latest runs first; the suites of the latest run are listed below. "
        '<a href="ge/index.html">Great Expectations Data Docs</a> (needs network for its styling).</p>',
        "<table><tr><th>run</th><th>as-of</th><th>checked at (UTC)</th><th>suites</th><th>failed (error)</th>"
        "<th>failed (warn)</th><th>result</th></tr>",
    ]
    for m in manifests:
        suites = m["suites"].values()
        err = sum(s["failed_error"] for s in suites)
        warn = sum(s["failed_warn"] for s in suites)
        link = f"runs/{_safe(m['run_id'])}.html"
        parts.append(
            f'<tr><td><a href="{_h(link)}"><code>{_h(m["run_id"])}</code></a></td><td>{_h(m.get("as_of"))}</td>'
            f"<td>{_h(m.get('started_at'))}</td><td>{len(m['suites'])}</td><td>{err}</td><td>{warn}</td>"
            f"<td>{_status(err == 0, warn > 0)}</td></tr>"
        )
    parts.append("</table>")
    if manifests:
        latest = manifests[0]
        parts.append(f"<h2>Latest run <code>{_h(latest['run_id'])}</code></h2>")
        parts.append(_suite_rows(latest, "", run_link=f"runs/{_safe(latest['run_id'])}.html"))
        failing = [
            (entity, e) for entity, s in sorted(latest["suites"].items()) for e in s["expectations"] if not e["success"]
        ]
        if failing:
            parts.append(
                "<h2>Failing expectations of the latest run</h2><table><tr><th>entity</th>"
                "<th>expectation</th><th>severity</th><th>observed</th></tr>"
            )
            parts += [
                f"<tr><td>{_h(entity)}</td><td><code>{_h(e['check_name'])}</code></td><td>{_h(e['severity'])}</td>"
                f"<td>{_h(_observed(e))}</td></tr>"
                for entity, e in failing
            ]
            parts.append("</table>")
    return _page("Dataset validation", "".join(parts))


# --------------------------------------------------------------------------------------------
# The asset check body
# --------------------------------------------------------------------------------------------


def run_suite(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    run_id: str,
    as_of: datetime,
    warehouse: str | Path,
    chunk_rows: int = CHUNK_ROWS,
    suites_dir: Path = SUITES_DIR,
    data_docs: bool = True,
) -> SuiteOutcome:
    """Validate, store the audit rows, write the HTML: what the asset check does.

    `data_docs=False` skips the HTML (and GE's Data Docs rendering, about a second per suite)."""
    checked_at = datetime.now(UTC)
    outcome, ge_result = validate_entity(con, spec, as_of, chunk_rows, suites_dir)
    record_outcome(con, outcome, run_id, checked_at)
    if data_docs:
        outcome.data_docs_page = write_ge_data_docs(
            warehouse, load_suite_file(spec, suites_dir), ge_result, run_id, checked_at
        )
        outcome.data_docs_index, outcome.data_docs_run = write_run_pages(
            warehouse, outcome, run_id, checked_at, as_of, outcome.data_docs_page
        )
    return outcome


if __name__ == "__main__":  # python -m orchestration.validate.great_expectations sync
    if sys.argv[1:] != ["sync"]:
        sys.exit("usage: python -m orchestration.validate.great_expectations sync")
    for p in sync_suite_files():
        print(p)
