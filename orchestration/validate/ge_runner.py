"""Great Expectations suites over the raw layer, run in bounded memory.

Route (see expectations/README.md for the measurements): GE 1.24's SQL datasource over
duckdb-engine fails every metric with `IndexError: list index out of range` (GE issue 11579), so
GE runs on pandas frames read from DuckDB in chunks: hash partitions of the primary key
(`hash(key) % parts`, one sorted DuckDB query streamed through an Arrow reader), so every row of a
key lands in the same chunk. The per-chunk GE results are combined into one result per expectation
(`ge_combine`).

What a nightly run validates follows what changed (`validation_scope`). The aggregates (row count,
mean, min, max, sum, share of filled values) are always over every current row: in the `changed` scope
DuckDB computes them in one SQL statement, judged against the same bounds. The row-level expectations
(not null, in set, between, regex, key uniqueness) see every current row (scope `all`) or only the
current rows of the keys this run ingested (scope `changed`), when the latest published run validated
this entity with the same suite (`audit.ge_suite_runs`: suite, contract and GE version in one sha256)
and no file of the entity was changed or deleted in this run. Rows are only added by new files then,
so every other key's current row is the one that passed the same suite when it was published.

`run_suite` is the body of the asset check: validate, write the audit rows (`ge_ledger`:
`audit.check_results`, `audit.validation_failures`), write the HTML (`data_docs`, under
`reports_dir(warehouse)/data_docs`).
"""

from __future__ import annotations

import hashlib
import json
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
from orchestration.contract.sql import DUCKDB, Dialect
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

SCOPE_ALL, SCOPE_CHANGED = "all", "changed"
CHUNK_ROWS = 200_000  # rows per pandas frame handed to GE (a hash partition is about this size)
DUCKDB_MEMORY_LIMIT = "512MB"  # DuckDB side of a check (the partitioning sort spills to disk beyond it)


# --------------------------------------------------------------------------------------------
# Reading the raw table in key-partitioned chunks
# --------------------------------------------------------------------------------------------


def select_list(spec: EntitySpec, suite: dict, dialect: Dialect = DUCKDB) -> list[str]:
    """The key and the columns the suite uses, as GE sees them, in the SQL of `dialect` (DuckDB here,
    Spark in ge_spark.py): derived 0/1 columns, money and points as doubles (GE's pandas metrics want
    floats), dates and timestamps as naive UTC timestamps (compared with as-of bounds)."""
    q, s = dialect.ident, dialect.s
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
            values = ", ".join(s(v) if isinstance(v, str) else repr(v) for v in d["in"])
            src = q(d["column"])
            out.append(
                f"cast(case when {src} is null then null when {src} in ({values}) then 1 else 0 end as double) "
                f"as {q(col)}"
            )
            continue
        kind = spec.column(col).kind
        if kind in ("money", "points"):
            out.append(f"cast({q(col)} as double) as {q(col)}")
        elif kind in ("date", "timestamp"):
            expr = dialect.naive_timestamp(q(col), kind)
            out.append(f"{expr} as {q(col)}" if expr != q(col) else q(col))
        else:
            out.append(q(col))
    return out


def _scope_filter(spec: EntitySpec, run_id: str | None) -> str:
    """The rows the row-level expectations see: every current row, or (a run id given) the current rows
    of the keys among the rows that run ingested."""
    if run_id is None:
        return "_is_current"
    table = f"raw.{ident(spec.table)}"
    same_key = " and ".join(f"n.{ident(k)} = t.{ident(k)}" for k in spec.key)
    return f"_is_current and exists (select 1 from {table} n where n._run_id = {sql_str(run_id)} and {same_key})"


def iter_chunks(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    suite: dict,
    chunk_rows: int = CHUNK_ROWS,
    changed_by: str | None = None,
) -> Iterator[pd.DataFrame]:
    """The current rows of raw.<entity> (`changed_by` a run id: of the keys that run ingested) as pandas
    frames of about `chunk_rows` rows, each holding every row of the keys it holds. No row at all
    yields one empty frame (GE still evaluates it)."""
    table = f"raw.{ident(spec.table)} t"
    where = _scope_filter(spec, changed_by)
    cols = ", ".join(select_list(spec, suite))
    n = con.execute(f"select count(*) from {table} where {where}").fetchall()[0][0]
    parts = max(1, math.ceil(n / chunk_rows))
    if parts == 1:
        yield con.sql(f"select {cols} from {table} where {where}").to_arrow_table().to_pandas()
        return
    key = ", ".join(ident(k) for k in spec.key)
    reader = con.sql(
        f"select {cols}, hash({key}) % {parts} as _part from {table} where {where} order by _part"
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


def sql_aggregates(con: duckdb.DuckDBPyConnection, spec: EntitySpec, suite: dict, tallies: list[Tally]) -> int:
    """Every aggregate expectation of `tallies` over every current row, in one SQL statement (the
    columns as `select_list` presents them to GE). Returns the current rows."""
    parts = ["count(*)"]
    for t in tallies:
        col = (expectation_columns(t.expectation["kwargs"]) or [None])[0]
        c = ident(col) if col else "null"
        agg = {"row_count": "count(*)", "mean": f"avg({c})", "min": f"min({c})", "max": f"max({c})", "sum": f"sum({c})"}
        parts += [agg.get(t.kind, "null"), f"count({c})" if col else "count(*)"]
    row = con.execute(
        f"select {', '.join(parts)} from (select {', '.join(select_list(spec, suite))} "
        f"from raw.{ident(spec.table)} where _is_current)"
    ).fetchall()[0]
    rows = row[0]
    for i, t in enumerate(tallies):
        t.set_aggregate(row[1 + 2 * i], values=row[2 + 2 * i], rows=rows)
    return rows


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
    changed_by: str | None = None,
) -> tuple[SuiteOutcome, Any]:
    """Run the entity's suite over the current rows of raw.<entity>, chunk by chunk. `changed_by` (a run
    id): the row-level expectations over the current rows of the keys that run ingested only, the
    aggregates over every current row in SQL (scope `changed`, module doc).

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
    from_sql = {name for name, t in by_name.items() if t.kind != "map"} if changed_by else set()
    # the partitioning sort spills to disk beyond the limit; the connection's own limit is restored after
    previous_limit = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"set memory_limit = {sql_str(DUCKDB_MEMORY_LIMIT)}")
    try:
        for df in iter_chunks(con, spec, suite, chunk_rows, changed_by=changed_by):
            chunks += 1
            rows += len(df)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
            res = batch.validate(ge_suite, expectation_parameters=params, result_format=result_format)
            first_result = first_result or res
            for r in res.results:
                name = r.expectation_config.meta["check_name"]
                if name not in from_sql:
                    by_name[name].add(r, df, key_cols)
        # scope `all`: the chunks held every current row already, aggregates included
        rows_current = sql_aggregates(con, spec, suite, [by_name[n] for n in from_sql]) if from_sql else rows
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
        scope=SCOPE_CHANGED if changed_by else SCOPE_ALL,
        rows_current=rows_current,
    )
    outcome.seconds = (datetime.now(UTC) - started).total_seconds()
    return outcome, _combined_ge_result(first_result, outcome, spec, as_of)


def suite_fingerprint(spec: EntitySpec, suite: dict) -> str:
    """What a row's row-level verdict depends on: the suite file, the contract's columns (how the rows
    are presented to GE) and GE's version."""
    import great_expectations as gx

    basis = {"suite": suite, "columns": [(c.name, c.kind) for c in spec.columns], "ge": gx.__version__}
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()


def validation_scope(
    con: duckdb.DuckDBPyConnection, spec: EntitySpec, run_id: str, fingerprint: str
) -> tuple[str, str]:
    """(scope, why): `changed` when the latest published run validated this entity with the same suite
    fingerprint and no file of the entity was changed or deleted in this run; `all` otherwise."""
    try:
        last = con.execute(
            "select run_id from audit.runs where published and run_id <> ? order by finished_at desc limit 1",
            [run_id],
        ).fetchall()
        if not last:
            return SCOPE_ALL, "no published run yet"
        same = con.execute(
            "select count(*) from audit.ge_suite_runs where run_id = ? and source = ? and suite_sha256 = ?",
            [last[0][0], spec.entity, fingerprint],
        ).fetchall()[0][0]
        if not same:
            return SCOPE_ALL, f"the suite, contract or GE version differs from published run {last[0][0]}"
        touched = con.execute(
            "select count(*) filter (where status = 'changed'), count(*) filter (where status = 'deleted') "
            "from audit.file_manifest where entity = ? and checked_run_id = ?",
            [spec.entity, run_id],
        ).fetchall()[0]
    except duckdb.CatalogException:  # a warehouse without the audit tables (a first run, a test)
        return SCOPE_ALL, "no published validation"
    if touched[0] or touched[1]:
        return SCOPE_ALL, f"{touched[0]} changed and {touched[1]} deleted file(s) in this run"
    return SCOPE_CHANGED, f"rows of the keys ingested by this run; the others passed in run {last[0][0]}"


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
            "rows": (
                "current rows (_is_current)"
                if outcome.scope == SCOPE_ALL
                else "row-level: current rows of the keys this run ingested; aggregates: every current row (SQL)"
            ),
            "rows_current": outcome.rows_current,
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
    suite = load_suite_file(spec, suites_dir)
    fingerprint = suite_fingerprint(spec, suite)
    scope, why = validation_scope(con, spec, run_id, fingerprint)
    changed_by = run_id if scope == SCOPE_CHANGED else None
    outcome, ge_result = validate_entity(con, spec, as_of, chunk_rows, suites_dir, changed_by=changed_by)
    record_outcome(con, outcome, run_id, checked_at)
    con.execute("delete from audit.ge_suite_runs where run_id = ? and source = ?", [run_id, spec.entity])
    con.execute(
        "insert into audit.ge_suite_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            checked_at.astimezone(UTC).replace(tzinfo=None),
            spec.entity,
            fingerprint,
            outcome.scope,
            why,
            outcome.rows_current,
            outcome.rows_validated,
        ],
    )
    if data_docs:
        outcome.data_docs_page = write_ge_data_docs(warehouse, suite, ge_result, run_id, checked_at)
        outcome.data_docs_index, outcome.data_docs_run = write_run_pages(
            warehouse, outcome, run_id, checked_at, as_of, outcome.data_docs_page
        )
    return outcome
