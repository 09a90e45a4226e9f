"""The contract's SQL in its two dialects (orchestration/contract/sql.py), without an engine: the Spark
SQL parses as Spark SQL, uses none of DuckDB's own functions, and carries every message, enumeration,
bound and regular expression of the DuckDB SQL, so that one contract definition makes both. Running
it on Spark and comparing with DuckDB row for row is tests/engines_spark/test_spark_ingest.py
(`make test-engines`)."""

import re

import pytest
import sqlglot
from sqlglot import exp

from orchestration.contract.spec import entity_specs, spec_for
from orchestration.contract.sql import SPARK, typed_select

SETTINGS = dict(
    base_currency="CNY",
    allowed_currencies=["CNY", "USD"],
    as_of_utc="2026-12-31 15:59:59.000000",
    as_of_local_date="2026-12-31",
)
DUCKDB_ONLY = ("struct_pack", "list_filter", "regexp_full_match", "regexp_matches", "json_merge_patch", "isinf")


def _literals(tree) -> set[str]:
    return {lit.this for lit in tree.find_all(exp.Literal) if lit.is_string}


@pytest.mark.parametrize("spec", entity_specs(), ids=lambda s: s.table)
def test_the_spark_sql_carries_every_literal_of_the_duckdb_sql(spec):
    duck_sql = typed_select(spec, "landing", **SETTINGS)
    spark_sql = typed_select(spec, "landing", dialect=SPARK, **SETTINGS)
    duck = _literals(sqlglot.parse_one(duck_sql, read="duckdb"))
    spark = _literals(sqlglot.parse_one(spark_sql, read="spark"))
    # regular expressions are anchored for Java's rlike (\z: not before a final line break)
    spark_regexes = {m.group(1) for s in spark if (m := re.fullmatch(r"\^\(\?:(.*)\)\\z", s, re.S))}
    spark_prefixes = {s[1:] for s in spark if s.startswith("^")}
    missing = {
        lit
        for lit in duck - spark
        if lit not in spark_regexes
        and lit.lstrip("^") not in spark_prefixes
        # the as-of instant is written as an ISO UTC literal, the session zone does the rest
        and lit not in ("UTC", SETTINGS["as_of_utc"])
        # sqlglot reads named_struct's keys as names, not literals: the row's JSON keys
        and SPARK.s(lit) + ", `" + lit + "`" not in spark_sql
    }
    assert missing == set()
    if SETTINGS["as_of_utc"] in duck:  # an entity with a timestamp that may not lie in the future
        assert SETTINGS["as_of_utc"].replace(" ", "T") + "Z" in spark
    lowered = spark_sql.lower()
    assert [f for f in DUCKDB_ONLY if f + "(" in lowered] == []
    assert "::" not in spark_sql


def test_spark_literals_escape_backslashes_and_quotes():
    assert SPARK.s("it's") == "'it\\'s'"
    assert SPARK.s(r"^\d{4}$") == "'^\\\\d{4}$'"
    # the period label's pattern reaches Spark with its backslash intact
    sql = typed_select(spec_for("crm/targets"), "landing", dialect=SPARK, **SETTINGS)
    pattern = r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?"
    assert f"rlike '^(?:{pattern})\\\\z'".replace("\\d", "\\\\d") in sql
    assert _literals(sqlglot.parse_one(sql, read="spark")) >= {f"^(?:{pattern})\\z"}


def test_identifiers_are_quoted_per_dialect():
    spec = spec_for("crm/teams")
    assert '"team_id"' in typed_select(spec, "landing", **SETTINGS)
    spark_sql = typed_select(spec, "landing", dialect=SPARK, **SETTINGS)
    assert "`team_id`" in spark_sql and '"team_id"' not in spark_sql
    assert SPARK.ident("a`b") == "`a``b`"
