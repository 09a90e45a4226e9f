"""Reading the audit and marts schemas for the auditor's report, bounded on tens of millions of rows:
which tables exist, a section that is "not available" instead of failing, capped samples per group, the
names of reps and teams."""

from __future__ import annotations

from typing import Any

import duckdb


class Reader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        con.execute("set enable_progress_bar = false")  # no progress bars in the run's log
        self.tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('audit', 'marts')"
            ).fetchall()
        }

    def has(self, table: str) -> bool:
        return table in self.tables

    def rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, params: list | None = None) -> dict[str, Any] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def latest_run_id(self) -> str | None:
        if self.has("audit.runs"):
            row = self.one("select run_id from audit.runs order by started_at desc nulls last limit 1")
            if row:
                return row["run_id"]
        if self.has("audit.run_counts"):
            row = self.one("select run_id from audit.run_counts order by counted_at desc nulls last limit 1")
            if row:
                return row["run_id"]
        return None


class NotAvailable(Exception):
    """A section whose tables are not (yet) in the warehouse."""


def section(reader: Reader, needs: list[str], build) -> dict[str, Any]:
    """A section's data, or why it is not available (table missing, or not readable as expected)."""
    missing = [t for t in needs if not reader.has(t)]
    if missing:
        return {"available": False, "note": f"{', '.join(missing)} not in the warehouse"}
    try:
        return {"available": True, **build()}
    except NotAvailable as exc:
        return {"available": False, "note": str(exc)}
    except duckdb.Error as exc:  # a table written by another stage with other columns
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"available": False, "note": f"could not be read: {first_line}"}


def capped_rows(
    r: Reader, table: str, run_id: str, *, groups: tuple[str, ...], order: str, n: int, columns: str
) -> dict[tuple, list[dict[str, Any]]]:
    """Up to `n` rows of the run per group of `table`, first by `order`, keyed by the group's values.

    The rows are picked by rowid with a bounded `min_by` heap per group (one scan, no sort of the
    table), then only those rows are read (a semi-join on rowid). A view has no rowid: it falls back
    to a window function, which sorts."""
    g = ", ".join(groups)
    try:
        picks = r.rows(
            f"select min_by(rowid, ({order}), ?) as ids from {table} where run_id = ? group by {g}", [n, run_id]
        )
        ids = [i for p in picks for i in p["ids"]]
        if not ids:
            return {}
        rows = r.rows(
            f"select {g}, {columns} from {table} where rowid in (select unnest(?::bigint[])) order by {g}, {order}",
            [ids],
        )
    except duckdb.BinderException:
        rows = r.rows(
            f"select {g}, {columns} from {table} where run_id = ? "
            f"qualify row_number() over (partition by {g} order by {order}) <= ? order by {g}, {order}",
            [run_id, n],
        )
    out: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(tuple(row.pop(c) for c in groups), []).append(row)
    return out


def subject_names(r: Reader, ids: list[str]) -> dict[tuple[str, str], str]:
    if not ids or not r.has("marts.scorecard"):
        return {}
    try:
        rows = r.rows(
            "select level, subject_id, max(subject_name) as subject_name from marts.scorecard "
            "where list_contains(?, subject_id) group by level, subject_id",
            [ids],
        )
    except duckdb.Error:
        return {}
    return {(x["level"], x["subject_id"]): x["subject_name"] for x in rows}
