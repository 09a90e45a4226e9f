"""Copy the results of dbt tests into the append-only audit layer.

dbt keeps the failing rows of each test (`store_failures`) in schema `dbt_test__audit`, overwritten
at every run. After each `dbt build` this module appends one row per test to `audit.check_results`
and up to `MAX_ROWS_PER_CHECK` failing rows per test to `audit.validation_failures`, with the run id
and the business key of each failing row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

MAX_ROWS_PER_CHECK = 1000
KEY_TESTS = ("unique", "unique_combination")
REFERENCE_TESTS = ("relationships", "relationships_keyed")


@dataclass
class DbtTestTally:
    passed: int = 0
    warned: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    # models, seeds and snapshots that errored: "<name>: <first line of dbt's message>"
    node_errors: list[str] = field(default_factory=list)


def _model_keys(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Primary key columns of each model: the columns of its unique test."""
    keys: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or meta.get("name") not in KEY_TESTS:
            continue
        attached = node.get("attached_node")
        kwargs = meta.get("kwargs") or {}
        cols = kwargs.get("columns") or ([kwargs["column_name"]] if kwargs.get("column_name") else [])
        if attached and cols and attached not in keys:
            keys[attached] = [c.strip() for c in (cols.split(",") if isinstance(cols, str) else cols)]
    return keys


def _kind(node: Mapping[str, Any]) -> str:
    name = (node.get("test_metadata") or {}).get("name")
    if "cross_source" in (node.get("tags") or []) or name in REFERENCE_TESTS:
        return "cross_source"
    return "dbt"


def _source(node: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    attached = node.get("attached_node")
    if attached and attached in manifest["nodes"]:
        return manifest["nodes"][attached]["name"]
    return node["name"]


# the failing rows dbt stored for a test (schema, table), at most MAX_ROWS_PER_CHECK, as dicts; [] when
# the table cannot be read
FailureReader = Callable[[str, str], list[dict[str, Any]]]


def duckdb_failure_reader(con: duckdb.DuckDBPyConnection) -> FailureReader:
    def read(schema: str, table: str) -> list[dict[str, Any]]:
        # schema.table only: the database name in the manifest is the one seen at parse time
        try:
            cur = con.execute(f'select * from "{schema}"."{table}" limit {MAX_ROWS_PER_CHECK}')
        except duckdb.Error:
            return []
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    return read


def _failure_rows(
    read: FailureReader, node, manifest, keys, run_id: str, checked_at, severity: str, kind: str
) -> list[tuple]:
    if not node.get("relation_name"):  # store_failures off for this test
        return []
    rows = read(node["schema"], node.get("alias") or node["name"])
    meta = node.get("test_metadata") or {}
    test_name = meta.get("name") or node["name"]
    column = node.get("column_name") or (meta.get("kwargs") or {}).get("column_name")
    pk = keys.get(node.get("attached_node") or "", [])
    source = _source(node, manifest)
    out = []
    for r in rows:
        if "row_key" in r:  # singular tests select row_key, column_name, bad_value, message
            out.append(
                (
                    run_id,
                    checked_at,
                    source,
                    node["name"],
                    severity,
                    _s(r["row_key"]),
                    _s(r.get("column_name")),
                    _s(r.get("bad_value")),
                    _s(r.get("message")),
                    kind,
                )
            )
            continue
        bad = next((r[c] for c in (column, "unique_field", "value_field", "from_field") if c and c in r), None)
        if pk and all(c in r for c in pk):
            row_key = "|".join(_s(r[c]) or "" for c in pk)
        elif test_name in KEY_TESTS:
            row_key = _s(bad)
        else:
            row_key = None
        n = r.get("n_records")
        message = f"{test_name} failed on {source}.{column or ''}" + (f" ({n} rows)" if n is not None else "")
        out.append((run_id, checked_at, source, node["name"], severity, row_key, column, _s(bad), message, kind))
    return out


def _s(v) -> str | None:
    return None if v is None else str(v)


def dbt_result_rows(
    read: FailureReader, run_id: str, run_results: Mapping[str, Any], manifest: Mapping[str, Any]
) -> tuple[DbtTestTally, list[tuple], list[tuple]]:
    """(the tally, audit.check_results rows, audit.validation_failures rows) of a dbt build, whatever
    the engine: `read` gives the failing rows dbt stored."""
    tally = DbtTestTally()
    keys = _model_keys(manifest)
    checked_at = run_results.get("metadata", {}).get("generated_at")
    results, failures = [], []
    for res in run_results.get("results", []):
        uid = res["unique_id"]
        if not uid.startswith("test.") and res.get("status") == "error":
            name = (manifest["nodes"].get(uid) or {}).get("name") or uid
            message = " ".join(x.strip() for x in str(res.get("message") or "error").splitlines() if x.strip())
            tally.node_errors.append(f"{name}: {message[:300]}")
            continue
        if not uid.startswith("test.") or uid not in manifest["nodes"]:
            continue
        node = manifest["nodes"][uid]
        status = res["status"]
        severity = str((node.get("config") or {}).get("severity", "error")).lower()
        kind = _kind(node)
        field = {"pass": "passed", "warn": "warned", "fail": "failed", "error": "errored"}.get(status, "skipped")
        setattr(tally, field, getattr(tally, field) + 1)
        results.append(
            (
                run_id,
                checked_at,
                kind,
                _source(node, manifest),
                node["name"],
                severity,
                status == "pass",
                res.get("failures"),
                res.get("message"),
            )
        )
        if status in ("fail", "warn"):
            failures += _failure_rows(read, node, manifest, keys, run_id, checked_at, severity, kind)
    return tally, results, failures


def record_dbt_results(
    con: duckdb.DuckDBPyConnection, run_id: str, run_results: Mapping[str, Any], manifest: Mapping[str, Any]
) -> DbtTestTally:
    """Append this run's dbt test results; a re-run of the same run id replaces its own rows."""
    con.execute("delete from audit.check_results where run_id = ? and check_kind in ('dbt', 'cross_source')", [run_id])
    con.execute(
        "delete from audit.validation_failures where run_id = ? and check_kind in ('dbt', 'cross_source')", [run_id]
    )
    tally, results, failures = dbt_result_rows(duckdb_failure_reader(con), run_id, run_results, manifest)
    if results:
        con.executemany("insert into audit.check_results values (?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
    if failures:
        con.executemany("insert into audit.validation_failures values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", failures)
    return tally
