"""Reading the published marts for the directors' report: table and column presence, the graded periods,
and the fingerprint of a period's grades (the what-if summaries are matched on it)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb

from orchestration.warehouse import connect


class Reader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            f"{s}.{t}"
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)

    def has_column(self, table: str, column: str) -> bool:
        schema, name = table.split(".")
        return bool(
            self.con.execute(
                "select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
                "and column_name = ?",
                [schema, name, column],
            ).fetchone()[0]
        )

    def rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def latest_period(warehouse: str | Path) -> str | None:
    with connect(warehouse, read_only=True) as con:
        return latest_graded_period(Reader(con))


def latest_graded_period(r: Reader) -> str | None:
    if not r.has("marts.scorecard"):
        return None
    row = r.con.execute("select max(period) from marts.scorecard").fetchone()
    return row[0] if row else None


def graded_periods(r: Reader) -> list[str]:
    """The periods of marts.scorecard in order (none while the table is missing)."""
    if not r.has("marts.scorecard"):
        return []
    return [p for (p,) in r.con.execute("select distinct period from marts.scorecard order by period").fetchall()]


def scorecard_fingerprint(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """A hash of the period's published grades: what-if results computed on other grades are not shown."""
    rows = con.execute(
        "select level, subject_id, cast(final_score as varchar), grade, cast(bonus_coefficient as varchar) "
        "from marts.scorecard where period = ? order by level, subject_id",
        [period],
    ).fetchall()
    return hashlib.sha256(json.dumps(rows, default=str).encode("utf-8")).hexdigest()[:16]
