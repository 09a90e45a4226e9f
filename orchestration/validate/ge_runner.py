"""Great Expectations suites over the raw layer, run in bounded memory.

Route (see expectations/README.md for the measurements): GE 1.24's SQL datasource over
duckdb-engine fails every metric with `IndexError: list index out of range` (GE issue 11579), so
GE runs on pandas frames read from DuckDB in chunks: hash partitions of the primary key
(`hash(key) % parts`, one sorted DuckDB query streamed through an Arrow reader), so every row of a
key lands in the same chunk. The per-chunk GE results are combined into one result per expectation
(`ge_combine`).

`run_suite` is the body of the asset check: validate, write the audit rows (`ge_ledger`:
`audit.check_results`, `audit.validation_failures`), write the HTML (`data_docs`, under
`reports_dir(warehouse)/data_docs`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.contract.spec import EntitySpec
from orchestration.validate.data_docs import write_ge_data_docs, write_run_pages
from orchestration.validate.ge_combine import (
    MAX_FAILURES_PER_EXPECTATION,
    SuiteOutcome,
    Tally,
    clean,
    finish,
)
from orchestration.validate.ge_ledger import record_outcome
from orchestration.validate.ge_suites import (
    SUITES_DIR,
    build_ge_suite,
    check_name,
    expectation_columns,
    load_suite_file,
    suite_parameters,
)
from orchestration.warehouse import ident, sql_str

CHUNK_ROWS = 200_000  # rows per pandas frame handed to GE (a hash partition is about this size)
DUCKDB_MEMORY_LIMIT = "512MB"  # DuckDB side of a check (the partitioning sort spills to disk beyond it)


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
# Running a suite
# --------------------------------------------------------------------------------------------


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
        parameters={k: clean(v) for k, v in params.items()},
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
                result=clean(o.ge_result),
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
