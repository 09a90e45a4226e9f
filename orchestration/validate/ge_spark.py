"""Great Expectations suites on Spark: the same suite files (`expectations/<source>__<entity>.json`,
`build_ge_suite`, the run's `suite_parameters`) validated by GE's Spark execution engine over the
current rows (`_is_current`) of the Spark table `raw.<source>__<entity>` (written by
orchestration/engines/spark_ingest.py), with the same outcome objects (`ge_combine.SuiteOutcome`) and
the same audit rows as the DuckDB route (`ge_runner` + `ge_ledger`), written to the Spark tables
`audit.check_results`, `audit.validation_failures` and `audit.ge_suite_runs` (the columns of the
DuckDB DDL in orchestration/warehouse/__init__.py).

How it maps onto the DuckDB route:

- **Rows and columns as GE sees them**: the `select_list` of `ge_runner` in Spark SQL: only the
  columns the suite uses plus the key, derived 0/1 columns (`meta.derived_columns`), money and points
  as double, dates as midnight timestamps. Timestamps are handed over as `timestamp_ntz` (the session
  zone is UTC, so the wall clock is the UTC one the DuckDB raw layer stores), which PySpark returns as
  naive datetimes whatever the host's time zone.
- **No chunks**: Spark holds the whole current-row frame, so GE validates it as one batch (GE's
  `persist`, released afterwards) and the single result goes through the same `Tally` / `finish` as
  one chunk would (`chunks` = 1): same success rule with `mostly`, same "not measured" for an
  aggregate over no value, same messages, same failing-row cap (`MAX_FAILURES_PER_EXPECTATION`).
  Uniqueness is GE's own over the whole frame (a window per key), so no key partitioning is needed.
- **Two passes over the batch**: result format BASIC for every expectation (the counts and observed
  values), then SUMMARY with the key columns (`unexpected_index_column_names`) only for the row-level
  expectations that found unexpected rows. GE's Spark engine runs one job per metric; asking every
  expectation for its failing keys would double the jobs of a suite that passes.
- **Scope**: always `all` (every current row, row by row). The DuckDB route's nightly `changed` scope
  needs audit.file_manifest, which the Spark ingestion does not keep (it rewrites the raw tables).
- **Regular expressions**: GE's pandas engine searches with Python's `re`, its Spark engine with
  Java's `rlike`. Both search (not full match); the Spark route prefixes `(?Ud)` so that `\\d`, `\\w`,
  `\\s`, `\\b` are Unicode-aware (Python's default for text: a full-width digit is a digit on both) and
  only `\\n` ends a line for `$` (Python's rule; Java would also accept `\\r`, `\\u0085`, `\\u2028` before
  the end). The check_name, the message and the stored suite are unchanged; GE's own result carries
  the prefixed pattern.
- **Failing rows**: GE's Spark engine returns the keys of at most `partial_unexpected_count` failing
  rows (a `limit` without order: when more rows fail than the cap, which ones are stored is Spark's
  scan order, as on DuckDB it is chunk order); the counts are always exact.
- **Not done on Spark**: GE's Data Docs and the HTML run pages (`data_docs`, written beside a DuckDB
  warehouse), Dagster's asset check (the Spark pipeline has no Dagster assets yet).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from orchestration.contract.spec import EntitySpec
from orchestration.contract.sql import SPARK
from orchestration.validate.ge_combine import MAX_FAILURES_PER_EXPECTATION, SuiteOutcome, Tally, clean, finish
from orchestration.validate.ge_ledger import CHECK_KIND, audit_rows
from orchestration.validate.ge_runner import SCOPE_ALL, select_list, suite_fingerprint
from orchestration.validate.ge_suites import (
    SUITES_DIR,
    build_ge_suite,
    check_name,
    expectation_columns,
    load_suite_file,
    suite_parameters,
)

REGEX_TYPES = {"expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex"}
JAVA_AS_PYTHON = "(?Ud)"  # UNICODE_CHARACTER_CLASS + UNIX_LINES: Java regex classes and `$` as Python's re

# the Spark side of the DuckDB DDL (orchestration/warehouse/__init__.py), same columns and order
AUDIT_DDL = {
    "check_results": "run_id string, checked_at timestamp, check_kind string, source string, check_name string, "
    "severity string, passed boolean, failing_rows bigint, message string",
    "validation_failures": "run_id string, checked_at timestamp, source string, check_name string, severity string, "
    "row_key string, column_name string, bad_value string, message string, check_kind string",
    "ge_suite_runs": "run_id string, checked_at timestamp, source string, suite_sha256 string, scope string, "
    "scope_reason string, rows_current bigint, rows_validated bigint",
}
SPARK_SCOPE_REASON = "Spark: every current row (no file manifest on Spark, so no `changed` scope)"


def spark_select_list(spec: EntitySpec, suite: dict) -> list[str]:
    """ge_runner.select_list in Spark SQL: the key and the columns the suite uses, as GE sees them."""
    return select_list(spec, suite, SPARK)


def current_rows(spark, spec: EntitySpec, suite: dict, database: str = "raw"):
    """The Spark DataFrame GE validates: the current rows of <database>.<entity table>."""
    return spark.sql(
        f"select {', '.join(spark_select_list(spec, suite))} "
        f"from {SPARK.ident(database)}.{SPARK.ident(spec.table)} where _is_current"
    )


def spark_ge_suite(suite: dict):
    """build_ge_suite of the file, regex patterns made to mean on Java what they mean in Python's re."""
    ge_suite = build_ge_suite(suite)
    for exp in ge_suite.expectations:
        if exp.expectation_type in REGEX_TYPES and not exp.regex.startswith(JAVA_AS_PYTHON):
            exp.regex = JAVA_AS_PYTHON + exp.regex
    return ge_suite


_BATCH_DEFINITIONS: dict[str, Any] = {}


def _ge_batch_definition(name: str):
    """A whole-dataframe batch definition of GE's Spark datasource (one ephemeral context per process)."""
    if name not in _BATCH_DEFINITIONS:
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        if not _BATCH_DEFINITIONS:
            ctx = gx.get_context(mode="ephemeral")
            ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
            _BATCH_DEFINITIONS[""] = ctx.data_sources.add_spark("raw_spark", persist=True)
        source = _BATCH_DEFINITIONS[""]
        _BATCH_DEFINITIONS[name] = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("current")
    return _BATCH_DEFINITIONS[name]


def _weight_one(suite: dict) -> pd.DataFrame:
    """What Tally.add weighs a chunk's mean or proportion with (the chunk's values / rows): one batch,
    so weight 1 and the observed value as GE's Spark engine gives it."""
    return pd.DataFrame({c: [1] for e in suite["expectations"] for c in expectation_columns(e["kwargs"])})


def validate_entity_spark(
    spark,
    spec: EntitySpec,
    as_of: datetime,
    suites_dir: Path = SUITES_DIR,
    database: str = "raw",
) -> tuple[SuiteOutcome, Any]:
    """Run the entity's suite with GE's Spark engine over the current rows of <database>.<entity>.

    Returns the outcome (ge_runner.validate_entity's, scope `all`, one batch) and GE's own
    ExpectationSuiteValidationResult (pass 1's, with pass 2's results in place of those it re-ran)."""
    started = datetime.now(UTC)
    suite = load_suite_file(spec, suites_dir)
    params = suite_parameters(suite, as_of)
    ge_suite = spark_ge_suite(suite)
    by_name = {check_name(e): Tally(dict(e, meta=dict(e["meta"]))) for e in suite["expectations"]}
    key_cols = list(spec.key)
    df = current_rows(spark, spec, suite, database)
    batch = _ge_batch_definition(spec.table).get_batch(batch_parameters={"dataframe": df})
    try:
        # pass 1, BASIC: every count and observed value (no row keys: a Spark job less per expectation)
        res = batch.validate(ge_suite, expectation_parameters=params, result_format={"result_format": "BASIC"})
        again = {
            r.expectation_config.meta["check_name"]
            for r in res.results
            if by_name[r.expectation_config.meta["check_name"]].kind == "map"
            and (r.result or {}).get("unexpected_count")
        }
        if again:  # pass 2, SUMMARY with the keys, only the row-level expectations with unexpected rows
            ge_suite.expectations = [e for e in ge_suite.expectations if e.meta["check_name"] in again]
            keyed = batch.validate(
                ge_suite,
                expectation_parameters=params,
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": key_cols,
                    "partial_unexpected_count": MAX_FAILURES_PER_EXPECTATION,
                },
            )
            by_check = {r.expectation_config.meta["check_name"]: r for r in keyed.results}
            res.results = [by_check.get(r.expectation_config.meta["check_name"], r) for r in res.results]
    finally:
        df.unpersist()
    weight_one = _weight_one(suite)
    rows = None
    for r in res.results:
        tally = by_name[r.expectation_config.meta["check_name"]]
        tally.add(r, weight_one, key_cols)
        if tally.kind == "row_count" and not tally.exceptions:
            rows = int(tally.observed or 0)
    if rows is None:  # a suite without a row-count expectation
        rows = df.count()
    outcome = SuiteOutcome(
        entity=spec.entity,
        suite_name=suite["name"],
        rows_validated=rows,
        chunks=1,
        outcomes=[finish(t, key_cols, params) for t in by_name.values()],
        parameters={k: clean(v) for k, v in params.items()},
        scope=SCOPE_ALL,
        rows_current=rows,
    )
    outcome.seconds = (datetime.now(UTC) - started).total_seconds()
    return outcome, res


# --------------------------------------------------------------------------------------------
# The ledger in Spark tables
# --------------------------------------------------------------------------------------------


def ensure_spark_audit_tables(spark, database: str = "audit") -> None:
    spark.sql(f"create database if not exists {SPARK.ident(database)}")
    for table, columns in AUDIT_DDL.items():
        spark.sql(f"create table if not exists {SPARK.ident(database)}.{SPARK.ident(table)} ({columns}) using parquet")


def replace_rows(spark, table: str, rows: list[tuple], schema: str, where: str) -> None:
    """Append `rows`; rows of the table matching `where` (a re-run of the same run id) are dropped first.

    Parquet tables have no DELETE: when such rows exist, the rest of the table is materialised
    (`localCheckpoint`, the audit tables are small) and the table overwritten with it plus the new rows."""
    # checked_at (index 1) naive UTC as in DuckDB; aware, so PySpark does not read it in the host's zone
    new = spark.createDataFrame([(r[0], r[1].replace(tzinfo=UTC), *r[2:]) for r in rows], schema)
    if spark.table(table).where(where).limit(1).count():
        kept = spark.table(table).where(f"not ({where})").localCheckpoint()
        kept.unionByName(new).write.insertInto(table, overwrite=True)
    elif rows:
        new.write.insertInto(table)


def record_outcome_spark(
    spark,
    outcome: SuiteOutcome,
    run_id: str,
    checked_at: datetime,
    fingerprint: str | None = None,
    database: str = "audit",
) -> None:
    """ge_ledger.record_outcome (and ge_runner.run_suite's audit.ge_suite_runs row) into Spark tables.

    Append-only across runs; a re-run of the same run id replaces its own rows of this entity."""
    ensure_spark_audit_tables(spark, database)
    results, failures = audit_rows(outcome, run_id, checked_at)
    mine = f"run_id = {SPARK.s(run_id)} and source = {SPARK.s(outcome.entity)}"
    db = SPARK.ident(database)
    replace_rows(
        spark, f"{db}.check_results", results, AUDIT_DDL["check_results"], f"{mine} and check_kind = '{CHECK_KIND}'"
    )
    replace_rows(
        spark,
        f"{db}.validation_failures",
        failures,
        AUDIT_DDL["validation_failures"],
        f"{mine} and check_kind = '{CHECK_KIND}'",
    )
    if fingerprint is not None:
        run = (
            run_id,
            checked_at.astimezone(UTC).replace(tzinfo=None),
            outcome.entity,
            fingerprint,
            outcome.scope,
            SPARK_SCOPE_REASON,
            outcome.rows_current,
            outcome.rows_validated,
        )
        replace_rows(spark, f"{db}.ge_suite_runs", [run], AUDIT_DDL["ge_suite_runs"], mine)


def run_suite_spark(
    spark,
    spec: EntitySpec,
    run_id: str,
    as_of: datetime,
    suites_dir: Path = SUITES_DIR,
    raw_database: str = "raw",
    audit_database: str = "audit",
) -> SuiteOutcome:
    """Validate and store the audit rows: ge_runner.run_suite on Spark, without the HTML."""
    checked_at = datetime.now(UTC)
    outcome, _ = validate_entity_spark(spark, spec, as_of, suites_dir, raw_database)
    fingerprint = suite_fingerprint(spec, load_suite_file(spec, suites_dir))
    record_outcome_spark(spark, outcome, run_id, checked_at, fingerprint, audit_database)
    return outcome
