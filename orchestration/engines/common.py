"""What the engines share: the DuckDB side of a transfer and `dbt build --target <engine>`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import DBT_PROJECT_DIR, child_environment


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


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else "dbt"


def run_dbt_build(
    target: str,
    run_vars: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """`dbt build --target <target>` on the project, in a subprocess with its own target path
    (target/<target>/), so the manifest Dagster loads (target/manifest.json) is never rewritten.
    dbt unit tests are excluded as in the nightly run (they check logic, run by `make test`)."""
    target_path = f"target/{target}"
    cmd = [
        dbt_executable(),
        "build",
        "--target",
        target,
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        target_path,
        "--log-path",
        f"logs/{target}",
        "--exclude",
        "resource_type:unit_test",
        "--vars",
        json.dumps(dict(run_vars)),
        *extra_args,
    ]
    return subprocess.run(
        cmd, cwd=DBT_PROJECT_DIR, env=child_environment(**(env or {})), capture_output=True, text=True, check=False
    )
