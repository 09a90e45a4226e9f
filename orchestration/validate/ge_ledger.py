"""The audit rows of a Great Expectations suite run: one `audit.check_results` row per expectation,
the failing rows (with their business key, capped per expectation) in `audit.validation_failures`."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from orchestration.validate.ge_combine import SuiteOutcome
from orchestration.warehouse import ensure_audit_tables

CHECK_KIND = "great_expectations"


def audit_rows(outcome: SuiteOutcome, run_id: str, checked_at: datetime) -> tuple[list[tuple], list[tuple]]:
    """(check_results rows, validation_failures rows) of a suite run, in the DDL's column order, whatever
    the engine (DuckDB here, Spark in ge_spark.py)."""
    at = checked_at.astimezone(UTC).replace(tzinfo=None)
    results, failures = [], []
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
    return results, failures


def record_outcome(con: duckdb.DuckDBPyConnection, outcome: SuiteOutcome, run_id: str, checked_at: datetime) -> None:
    """One audit.check_results row per expectation, failing rows to audit.validation_failures.

    Append-only across runs; a re-run of the same run id replaces its own rows of this entity."""
    ensure_audit_tables(con)
    for table in ("check_results", "validation_failures"):
        con.execute(
            f"delete from audit.{table} where run_id = ? and check_kind = ? and source = ?",
            [run_id, CHECK_KIND, outcome.entity],
        )
    results, failures = audit_rows(outcome, run_id, checked_at)
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
