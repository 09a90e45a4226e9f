"""What the engines share: the DuckDB side of a transfer (dbt is started by orchestration/transform/dbt_cli.py)."""

from __future__ import annotations

import duckdb


def duckdb_tables(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    """Base tables of one schema of the open DuckDB database, by name."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ? "
        "order by table_name",
        [schema],
    ).fetchall()
    return [r[0] for r in rows]


def duckdb_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    """(column name, DuckDB type) of a table, in column order."""
    return con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ? order by column_index",
        [schema, table],
    ).fetchall()
