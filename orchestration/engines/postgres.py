"""The PostgreSQL warehouse: raw and audit tables copied from DuckDB, dbt built with `--target postgres`.

Settings (the same env vars profiles.yml reads for the `postgres` target):
SCORECARD_PG_HOST (a host name, or a directory holding the server's unix socket), SCORECARD_PG_PORT,
SCORECARD_PG_USER, SCORECARD_PG_PASSWORD, SCORECARD_PG_DATABASE.

A transfer streams Arrow record batches out of DuckDB (bounded memory: `batch_rows` rows at a time),
writes each batch as CSV into a buffer and loads it with COPY. Every value is cast to text by DuckDB
first (exact decimals, shortest round-trip doubles, ISO timestamps and dates) and parsed back by
PostgreSQL into a column of the mapped type, so DECIMAL, TIMESTAMP, DATE and BOOLEAN keep their types
and values. A schema's tables are replaced in one transaction: readers see the old set or the new one.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv

from orchestration.engines.common import duckdb_columns, duckdb_tables
from orchestration.settings import PG_ENV, postgres_settings  # PG_ENV: what profiles.yml's postgres reads
from orchestration.transform.dbt_cli import dbt_args, run_dbt
from orchestration.warehouse import connect, ident
from orchestration.warehouse.build_copy import AUDIT_RUN_TABLES

BATCH_ROWS = 100_000

_SIMPLE_TYPES = {
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "VARCHAR": "text",
    "JSON": "text",
}


def pg_type(duckdb_type: str) -> str:
    """The PostgreSQL column type of a DuckDB type (anything unknown, e.g. nested types, as text)."""
    t = duckdb_type.upper().strip()
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", t)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    return _SIMPLE_TYPES.get(t, "text")


@dataclass(frozen=True)
class PostgresTarget:
    """Where the PostgreSQL warehouse is; `host` may be a unix-socket directory."""

    host: str = "localhost"
    port: int = 5432
    user: str = "scorecard"
    password: str = ""
    database: str = "scorecard"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresTarget:
        env = postgres_settings() if env is None else env
        return cls(
            host=env.get("SCORECARD_PG_HOST", "localhost"),
            port=int(env.get("SCORECARD_PG_PORT", "5432")),
            user=env.get("SCORECARD_PG_USER", "scorecard"),
            password=env.get("SCORECARD_PG_PASSWORD", ""),
            database=env.get("SCORECARD_PG_DATABASE", "scorecard"),
        )

    def env(self) -> dict[str, str]:
        """The environment profiles.yml's `postgres` target reads."""
        return dict(zip(PG_ENV, (self.host, str(self.port), self.user, self.password, self.database), strict=True))

    def connect(self, database: str | None = None):
        import psycopg2

        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=database or self.database,
        )


def copy_tables(
    duckdb_path: str | Path,
    target: PostgresTarget,
    schema: str,
    tables: Iterable[str] | None = None,
    dest_schema: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, int]:
    """Replace `dest_schema.<table>` in PostgreSQL by DuckDB's `schema.<table>` for each table (all
    base tables of the schema when `tables` is None), in one transaction. Returns rows per table."""
    dest_schema = dest_schema or schema
    counts: dict[str, int] = {}
    write_options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid", batch_size=batch_rows)
    with connect(duckdb_path, read_only=True) as dcon:
        names = list(tables) if tables is not None else duckdb_tables(dcon, schema)
        present = set(duckdb_tables(dcon, schema))
        pg = target.connect()
        try:
            with pg, pg.cursor() as cur:
                cur.execute(f"create schema if not exists {ident(dest_schema)}")
                for table in names:
                    if table not in present:
                        continue
                    columns = duckdb_columns(dcon, schema, table)
                    qualified = f"{ident(dest_schema)}.{ident(table)}"
                    # cascade: dbt's staging views on the raw layer are rebuilt by the next dbt build
                    cur.execute(f"drop table if exists {qualified} cascade")
                    cur.execute(
                        f"create table {qualified} (" + ", ".join(f"{ident(c)} {pg_type(t)}" for c, t in columns) + ")"
                    )
                    col_list = ", ".join(ident(c) for c, _ in columns)
                    select = ", ".join(f"cast({ident(c)} as varchar) as {ident(c)}" for c, _ in columns)
                    reader = dcon.sql(f"select {select} from {ident(schema)}.{ident(table)}").to_arrow_reader(
                        batch_rows
                    )
                    n = 0
                    for batch in reader:
                        if batch.num_rows == 0:
                            continue
                        buf = io.BytesIO()
                        pa_csv.write_csv(batch, buf, write_options)
                        buf.seek(0)
                        cur.copy_expert(f"copy {qualified} ({col_list}) from stdin with (format csv)", buf)
                        n += batch.num_rows
                    counts[table] = n
        finally:
            pg.close()
    return counts


def load_raw(duckdb_path: str | Path, target: PostgresTarget) -> dict[str, int]:
    """The raw layer (raw.<source>__<entity> and raw.cfg_*) into PostgreSQL schema `raw`."""
    return copy_tables(duckdb_path, target, "raw")


def load_audit(duckdb_path: str | Path, target: PostgresTarget) -> dict[str, int]:
    """The Python-owned audit tables (runs, run_counts, quarantine, check_results,
    validation_failures: the whole ledger, not one run) into PostgreSQL schema `audit`, beside the
    audit models dbt builds there."""
    return copy_tables(duckdb_path, target, "audit", tables=AUDIT_RUN_TABLES)


def build_dbt(target: PostgresTarget, run_vars: Mapping[str, Any]):
    """`dbt build --target postgres` with the run's --vars (target/postgres/, so the manifest Dagster loads
    is never rewritten; no dbt unit tests, as in the nightly run); raises with dbt's output when it fails."""
    result = run_dbt(dbt_args("build", target="postgres", run_vars=run_vars, exclude_unit_tests=True), env=target.env())
    if result.returncode != 0:
        raise RuntimeError(f"dbt build --target postgres failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def publish_to_postgres(duckdb_path: str | Path, target: PostgresTarget, run_vars: Mapping[str, Any]) -> dict:
    """The whole PostgreSQL side of a run: raw layer, dbt build, audit ledger. Returns row counts."""
    raw = load_raw(duckdb_path, target)
    build_dbt(target, run_vars)
    audit = load_audit(duckdb_path, target)
    return {"raw": raw, "audit": audit}
