"""Great Expectations suite files: reading `expectations/<source>__<entity>.json`, checking what the
chunked route can evaluate, and building GE's ExpectationSuite of a file.

The contract part of a suite (primary key, required columns, enumerations, ranges and patterns) is
generated from the pandera contract by `sync_suite_files()`
(`python -m orchestration.validate.ge_suites sync`); the dataset-level part (volumes,
distributions, freshness) is written by hand and kept as is. Expectations that cannot be combined
exactly across chunks (median, quantiles, stdev, distinct-value counts, uniqueness of a non-key
column) are refused when the suite is loaded (see `ge_combine` for how the others combine).
"""

from __future__ import annotations

import copy
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.contract.spec import EntitySpec, entity_specs
from orchestration.settings import PROJECT_ROOT

SUITES_DIR = PROJECT_ROOT / "expectations"
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


if __name__ == "__main__":  # python -m orchestration.validate.ge_suites sync
    if sys.argv[1:] != ["sync"]:
        sys.exit("usage: python -m orchestration.validate.ge_suites sync")
    for p in sync_suite_files():
        print(p)
