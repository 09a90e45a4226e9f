"""The embedded DuckDB warehouse: connections and the audit tables the Python side owns. Its write
protocol, which every stage follows, lives beside it: `build_copy.py` (write-audit-publish: the run's
build copy, started by ingestion, staged reports, the atomic swap) and `writer_lock.py` (one writer per
warehouse file, the Dagster pool of every writing step)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

AUDIT_DDL = """
create schema if not exists raw;
create schema if not exists audit;
create table if not exists audit.runs (
    run_id varchar, started_at timestamp, finished_at timestamp, as_of timestamp,
    status varchar, failure_reason varchar, checks_passed integer, checks_failed integer,
    published boolean, landing varchar, config varchar
);
create table if not exists audit.run_counts (
    run_id varchar, entity varchar, files integer, rows_in bigint, accepted bigint,
    quarantined bigint, exact_duplicates bigint, superseded bigint, counted_at timestamp
);
create table if not exists audit.validation_failures (
    run_id varchar, checked_at timestamp, source varchar, check_name varchar, severity varchar,
    row_key varchar, column_name varchar, bad_value varchar, message varchar,
    check_kind varchar  -- pandera | great_expectations | dbt | cross_source
);
create table if not exists audit.check_results (
    run_id varchar, checked_at timestamp, check_kind varchar, source varchar, check_name varchar,
    severity varchar, passed boolean, failing_rows bigint, message varchar
);
-- one row per Great Expectations suite run: which rows its row-level expectations saw
-- (scope `all`: every current row; `changed`: the current rows of the keys the run ingested, the other
-- keys' rows having passed the same suite in the published run before), orchestration/validate/ge_runner.py
create table if not exists audit.ge_suite_runs (
    run_id varchar, checked_at timestamp, source varchar, suite_sha256 varchar, scope varchar,
    scope_reason varchar, rows_current bigint, rows_validated bigint
);
create table if not exists audit.quarantine (
    run_id varchar, source varchar, row_key varchar, reason varchar, raw_row varchar,
    -- row_number: the CSV line where the record starts (header = 1), the Parquet row or JSONL object ordinal
    file varchar, row_number bigint, quarantined_at timestamp
);
"""


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Open, waiting a little for a lock still held by a finishing process (a dbt subprocess that
    was just stopped releases the file a moment after it exits)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


@contextmanager
def connect(path: str | Path, read_only: bool = False, timezone: str | None = None, wait_seconds: float = 10.0):
    """A DuckDB connection that is always closed: DuckDB allows one writer per file."""
    p = Path(path)
    if not read_only:
        p.parent.mkdir(parents=True, exist_ok=True)
    con = _open(p, read_only, wait_seconds)
    try:
        if timezone:
            con.execute(f"set TimeZone = '{timezone}'")
        yield con
    finally:
        con.close()


def ensure_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


def reports_dir(warehouse: str | Path) -> Path:
    """Reports of a warehouse live beside it: <warehouse dir>/reports/."""
    return Path(warehouse).resolve().parent / "reports"


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
