"""Great Expectations suites on Spark (orchestration/validate/ge_spark.py) against the DuckDB route
(ge_runner, pandas chunks): the tiny sample ingested by both engines, every suite run on both, the
same verdict, counts, observed values, messages and failing rows per expectation (DuckDB is the
independent second engine); a hostile raw table whose failing counts and values are worked out by
hand below; the audit rows written to Spark tables equal to those ge_ledger writes to DuckDB.
Slow (a JVM, a Spark ingestion of every entity): run by `make test-engines`."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.cli import main
from orchestration.contract.spec import entity_specs, spec_for
from orchestration.engines.spark_ingest import SparkIngestRun, ingest
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.ingest.raw_table import create_empty_raw
from orchestration.scheme.file import load_scheme
from orchestration.validate.ge_ledger import record_outcome
from orchestration.validate.ge_runner import validate_entity
from orchestration.validate.ge_spark import JAVA_AS_PYTHON, record_outcome_spark, validate_entity_spark

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
TABLES = [s.table for s in entity_specs()]


@pytest.fixture(scope="module")
def spark(cluster_spark):
    """The session on the standalone cluster (conftest.py)."""
    cluster_spark.sparkContext.setLogLevel("ERROR")
    return cluster_spark


@pytest.fixture(scope="module")
def engines(tmp_path_factory, spark):
    """The tiny sample ingested by DuckDB (a connection) and by Spark (tables raw.*)."""
    root = tmp_path_factory.mktemp("ge")
    assert main(["sample", "--out", str(root / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    landing = root / "sample" / "landing"
    scheme = load_scheme(ROOT / "config" / "scorecard.yml")
    facts = (scheme.timezone, scheme.currency.base, tuple(scheme.currency.rates), dict(scheme.encodings))
    con = duckdb.connect(str(root / "w.duckdb"))
    for spec in entity_specs():
        ingest_entity(con, spec, landing, IngestRun("run-1", AS_OF, *facts))
    for db in ("raw", "audit"):
        spark.sql(f"drop database if exists {db} cascade")
    ingest(spark, str(landing), SparkIngestRun("run-1", AS_OF, *facts), str(root / "spark"))
    yield con, spark
    con.close()


@pytest.fixture(scope="module")
def outcomes(engines):
    """Every suite on both engines: {table: (Spark outcome, DuckDB outcome)}; seconds per suite printed."""
    con, spark = engines
    out, lines = {}, []
    for spec in entity_specs():
        started = time.perf_counter()
        on_spark, _ = validate_entity_spark(spark, spec, AS_OF)
        spark_s = time.perf_counter() - started
        started = time.perf_counter()
        on_duckdb, _ = validate_entity(con, spec, AS_OF)
        duckdb_s = time.perf_counter() - started
        out[spec.table] = (on_spark, on_duckdb)
        lines.append(
            f"{spec.table:<30} {on_spark.rows_validated:>6} rows  Spark {spark_s:6.2f} s  DuckDB {duckdb_s:5.2f} s"
        )
    print("\n" + "\n".join(lines))
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return a == b


def assert_same_outcome(on_spark, on_duckdb) -> None:
    assert (on_spark.suite_name, on_spark.rows_validated, on_spark.rows_current, on_spark.scope) == (
        on_duckdb.suite_name,
        on_duckdb.rows_validated,
        on_duckdb.rows_current,
        on_duckdb.scope,
    )
    assert on_spark.parameters == on_duckdb.parameters
    assert [o.check_name for o in on_spark.outcomes] == [o.check_name for o in on_duckdb.outcomes]
    for s, d in zip(on_spark.outcomes, on_duckdb.outcomes, strict=True):
        assert (s.success, s.element_count, s.unexpected_count, s.not_measured) == (
            d.success,
            d.element_count,
            d.unexpected_count,
            d.not_measured,
        ), s.check_name
        assert _same(s.observed, d.observed), (s.check_name, s.observed, d.observed)
        assert s.message == d.message, s.check_name
        assert sorted(s.failing_rows, key=str) == sorted(d.failing_rows, key=str), s.check_name
    assert (on_spark.passed, on_spark.failed_error, on_spark.failed_warn) == (
        on_duckdb.passed,
        on_duckdb.failed_error,
        on_duckdb.failed_warn,
    )


@pytest.mark.parametrize("table", TABLES)
def test_every_suite_agrees_with_duckdb(outcomes, table):
    on_spark, on_duckdb = outcomes[table]
    assert on_spark.evaluated == on_duckdb.evaluated > 0
    assert_same_outcome(on_spark, on_duckdb)


def test_the_sample_values_seen_by_both(outcomes):
    on_spark, _ = outcomes["crm__targets"]
    by_name = {o.check_name: o for o in on_spark.outcomes}
    # 16 periods (12 months, 4 quarters) of targets for the sample's reps, every one current
    assert by_name["expect_table_row_count_to_be_between"].observed == on_spark.rows_current == 88
    assert by_name["expect_column_mean_to_be_between(sales_target)"].observed == 453375.0
    assert by_name["expect_compound_columns_to_be_unique(period, rep_id)"].element_count == 88
    assert sum(s.rows_current for s, _ in outcomes.values()) > 0


# --------------------------------------------------------------------------------------------
# A hostile crm/targets table, the same rows on both engines
# --------------------------------------------------------------------------------------------

# (period, rep_id, sales_target, _is_current)
HOSTILE = [
    ("2026-Q1", "R1", Decimal("100"), True),
    ("2026-Q1", "R1", Decimal("200"), True),  # the key (2026-Q1, R1) twice
    ("2026-Q5", "R2", Decimal("0"), True),  # no quarter 5; a target must be > 0
    ("２０２６-Q1", "R3", Decimal("300"), True),  # full-width digits: `\d` in Python's re (and Java's with (?U))
    ("2026-13", "R4", None, True),  # no month 13; no target
    (None, "R5", Decimal("-5"), True),  # no period; a negative target
    ("2026-Q2\r", "R6", Decimal("50"), True),  # `$` does not match before \r in Python's re (nor Java's with (?d))
    ("bad", "R7", Decimal("-1"), False),  # superseded: not validated
]


@pytest.fixture(scope="module")
def hostile(engines):
    """The hostile rows as raw.crm__targets of a fresh DuckDB and as hostile.crm__targets in Spark;
    (Spark outcome, DuckDB outcome)."""
    _, spark = engines
    spec = spec_for("crm/targets")
    con = duckdb.connect()
    con.execute("create schema raw")
    create_empty_raw(con, spec)
    for i, (period, rep, target, current) in enumerate(HOSTILE, 1):
        con.execute(
            "insert into raw.crm__targets (period, rep_id, sales_target, _file, _row, _run_id, _is_current) "
            "values (?, ?, ?, 'hostile.csv', ?, 'run-h', ?)",
            [period, rep, target, i, current],
        )
    raw = spark.table("raw.crm__targets")
    rows = [
        {c: None for c in raw.columns}
        | {"period": p, "rep_id": r, "sales_target": t, "_file": "hostile.csv", "_row": i, "_run_id": "run-h"}
        | {"_is_current": cur}
        for i, (p, r, t, cur) in enumerate(HOSTILE, 1)
    ]
    spark.sql("drop database if exists hostile cascade")
    spark.sql("create database hostile")
    spark.createDataFrame([tuple(r[c] for c in raw.columns) for r in rows], raw.schema).write.saveAsTable(
        "hostile.crm__targets"
    )
    on_spark, ge_result = validate_entity_spark(spark, spec, AS_OF, database="hostile")
    on_duckdb, _ = validate_entity(con, spec, AS_OF)
    yield on_spark, on_duckdb, ge_result, con
    con.close()


def test_hostile_targets_agree_and_fail_as_worked_out(hostile):
    on_spark, on_duckdb, ge_result, _ = hostile
    assert_same_outcome(on_spark, on_duckdb)
    o = {x.check_name: x for x in on_spark.outcomes}
    assert on_spark.rows_validated == 7  # 8 rows, one superseded
    # the mean of the 6 targets given: (100 + 200 + 0 + 300 - 5 + 50) / 6, below 10,000 (a warning)
    mean = o["expect_column_mean_to_be_between(sales_target)"]
    assert (mean.success, mean.observed, mean.failing_rows) == (False, 107.5, [(None, "107.5")])
    # both rows of the key (2026-Q1, R1)
    unique = o["expect_compound_columns_to_be_unique(period, rep_id)"]
    assert (unique.success, unique.unexpected_count) == (False, 2)
    assert unique.failing_rows == [("2026-Q1|R1", "2026-Q1|R1")] * 2
    assert [(x.unexpected_count, x.failing_rows) for x in (o["expect_column_values_to_not_be_null(period)"],)] == [
        (1, [("|R5", None)])
    ]
    assert o["expect_column_values_to_not_be_null(rep_id)"].success
    assert o["expect_column_values_to_not_be_null(sales_target)"].failing_rows == [("2026-13|R4", None)]
    # 6 periods given (one null is missing, not unexpected); Q5, month 13 and the trailing \r fail;
    # the full-width digits pass (Python's \d is Unicode, so is Java's with (?U))
    regex = o["expect_column_values_to_match_regex(period)"]
    assert (regex.element_count, regex.unexpected_count) == (7, 3)
    assert sorted(regex.failing_rows) == [
        ("2026-13|R4", "2026-13"),
        ("2026-Q2\r|R6", "2026-Q2\r"),
        ("2026-Q5|R2", "2026-Q5"),
    ]
    assert regex.message == "expect_column_values_to_match_regex(period): 3 of 6 value(s) fail (50.00 %)"
    # > 0 (strict): 0 and -5 fail; the null target is missing
    between = o["expect_column_values_to_be_between(sales_target)"]
    assert sorted(between.failing_rows) == [("2026-Q5|R2", "0"), ("|R5", "-5")]
    assert (on_spark.passed, on_spark.failed_error, on_spark.failed_warn) == (False, 5, 1)
    # GE's own result on Spark ran the Java-flavoured pattern
    regex_result = next(r for r in ge_result.results if r.expectation_config.type.endswith("match_regex"))
    assert regex_result.expectation_config.kwargs["regex"].startswith(JAVA_AS_PYTHON)


def test_the_ledger_in_spark_equals_duckdbs(hostile, engines):
    on_spark, on_duckdb, _, con = hostile
    _, spark = engines
    at = datetime(2027, 1, 1, 1, 2, 3, tzinfo=UTC)
    record_outcome(con, on_duckdb, "run-h", at)
    record_outcome_spark(spark, on_spark, "run-h", at, fingerprint="f")
    record_outcome_spark(spark, on_spark, "run-h", at, fingerprint="f")  # a re-run replaces its own rows
    for table, cols in (
        (
            "check_results",
            "run_id, checked_at, check_kind, source, check_name, severity, passed, failing_rows, message",
        ),
        (
            "validation_failures",
            "run_id, checked_at, source, check_name, severity, row_key, column_name, bad_value, message, check_kind",
        ),
    ):
        duck = sorted(con.execute(f"select {cols} from audit.{table}").fetchall(), key=str)
        sparks = sorted((tuple(r) for r in spark.sql(f"select {cols} from audit.{table}").collect()), key=str)
        assert sparks == duck, table
        assert [f.name for f in spark.table(f"audit.{table}").schema] == [
            r[0] for r in con.execute(f"describe audit.{table}").fetchall()
        ]
    assert len(duck) == 1 + 2 + 1 + 1 + 3 + 2  # failing rows: mean, key, 2 nulls, regex, between
    runs = spark.sql("select source, scope, rows_current, rows_validated from audit.ge_suite_runs").collect()
    assert [tuple(r) for r in runs] == [("crm/targets", "all", 7, 7)]


def test_without_the_prefix_java_would_judge_two_hostile_periods_otherwise(engines):
    _, spark = engines
    row = spark.sql(
        r"select '２０２６-Q1' rlike '^\\d{4}-Q1$', concat('2026-Q2', char(13)) rlike '^2026-Q2$', "
        r"'２０２６-Q1' rlike '(?Ud)^\\d{4}-Q1$', concat('2026-Q2', char(13)) rlike '(?Ud)^2026-Q2$'"
    ).first()
    # plain Java: full-width digits are no \d, and $ matches before a final \r; Python's re: the opposite
    assert tuple(row) == (False, True, True, False)
