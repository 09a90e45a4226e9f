"""The Spark warehouse as DuckDB reads it: a small DuckDB file whose views read the Parquet files of the
Spark tables (Spark's `<db>.db/<table>/` layout, partitions as `period=<label>/` folders).

`scorecard run --target spark` writes one at the path of `SCORECARD_WAREHOUSE` when it publishes, so
that the run's summary, the reports, `scorecard review` and an analyst's `duckdb.connect(...)` read the
published Spark marts with DuckDB, with no Spark session (and the Parquet is proved readable by a
second engine). The file holds no data: views `marts.*` and `audit.*` (dbt's audit models) over the
published run's copy (`scorecard_run_<run id>`), views `audit.*` over the ledger tables that runs append
to, and `raw.cfg_closed_periods`. Table `main.spark_catalog` says where the warehouse is and which run
is published. It is written to a temporary name and renamed over the old one (a reader with the old
file open keeps reading the old run's copy, which stays until two later runs published).

A table whose folder holds no Parquet file yet (an empty table on Spark) is a typed view with no rows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.warehouse import connect, ident

_TYPES = {
    "string": "varchar",
    "int": "integer",
    "integer": "integer",
    "bigint": "bigint",
    "smallint": "smallint",
    "tinyint": "tinyint",
    "double": "double",
    "float": "real",
    "boolean": "boolean",
    "date": "date",
    # Spark's timestamps are written as INT96 in the session's zone, UTC here: DuckDB reads the naive UTC
    # value the DuckDB engine stores
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
    "binary": "blob",
}
MARKER = "spark_catalog"


def duckdb_type(spark_type: str) -> str:
    """The DuckDB type of a Spark simple type name (decimal(p,s) kept; anything nested as varchar)."""
    t = spark_type.strip().lower()
    if re.fullmatch(r"decimal\(\d+,\s*\d+\)", t):
        return t
    return _TYPES.get(t, "varchar")


@dataclass(frozen=True)
class ParquetTable:
    """One Spark table as files: its folder, columns (name, DuckDB type) and partition columns."""

    location: str
    columns: tuple[tuple[str, str], ...]
    partitions: tuple[str, ...] = ()

    def select(self) -> str:
        cols = ", ".join(f"cast({ident(c)} as {t}) as {ident(c)}" for c, t in self.columns)
        folder = Path(self.location)
        if not any(folder.rglob("*.parquet")):
            return "select " + ", ".join(f"cast(null as {t}) as {ident(c)}" for c, t in self.columns) + " where false"
        glob = str(folder / "**" / "*.parquet").replace("'", "''")
        if self.partitions:
            types = ", ".join(f"'{p}': 'VARCHAR'" for p in self.partitions)
            return f"select {cols} from read_parquet('{glob}', hive_partitioning = true, hive_types = {{{types}}})"
        return f"select {cols} from read_parquet('{glob}', hive_partitioning = false)"


def _local(location: str) -> str:
    if location.startswith("file://"):
        return location[len("file://") :]
    if location.startswith("file:"):
        return location[len("file:") :]
    if "://" in location:
        raise ValueError(
            f"{location}: the DuckDB reader file serves a local Spark warehouse only (object storage: read the "
            "Parquet with DuckDB's httpfs, docs/running_at_scale.md)"
        )
    return location


def parquet_table(spark, qualified: str) -> ParquetTable:
    """Where a Spark table's files are and how they are typed (`describe table extended`)."""
    rows = spark.sql(f"describe table extended {qualified}").collect()
    location, partitions, in_partitions = None, [], False
    for r in rows:
        name = (r.col_name or "").strip()
        if name == "# Partition Information":
            in_partitions = True
            continue
        if in_partitions:
            if not name or name.startswith("# Detailed"):
                in_partitions = False
            elif not name.startswith("#"):
                partitions.append(name)
        if name == "Location":
            location = r.data_type
    if location is None:
        raise ValueError(f"{qualified}: Spark gives no location (a view?)")
    columns = tuple((f.name, duckdb_type(f.dataType.simpleString())) for f in spark.table(qualified).schema.fields)
    return ParquetTable(_local(location), columns, tuple(partitions))


def write_reader_catalog(
    spark, path: str | Path, views: dict[tuple[str, str], str], info: dict[str, str] | None = None
) -> Path:
    """A DuckDB file at `path` with a view `schema.table` over the Parquet of each Spark table
    `views[(schema, table)]` (a qualified Spark table name), written beside and renamed into place."""
    return write_catalog(path, {key: parquet_table(spark, source) for key, source in views.items()}, info)


def write_catalog(path: str | Path, tables: dict[tuple[str, str], ParquetTable], info: dict[str, str] | None = None):
    """The reader file of `tables` ((schema, table) -> its Parquet folder), renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with connect(tmp) as con:
            for schema in sorted({s for s, _ in tables}):
                con.execute(f"create schema if not exists {ident(schema)}")
            for (schema, table), parquet in sorted(tables.items()):
                con.execute(f"create view {ident(schema)}.{ident(table)} as {parquet.select()}")
            con.execute(f"create table main.{MARKER} (key varchar, value varchar)")
            rows = {"written_at": datetime.now(UTC).isoformat(timespec="seconds")} | (info or {})
            con.executemany(f"insert into main.{MARKER} values (?, ?)", sorted(rows.items()))
            con.execute("checkpoint")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def is_reader_catalog(path: str | Path) -> bool:
    """True when `path` is a reader file of a Spark warehouse (or does not exist yet); False for a DuckDB
    warehouse, which a Spark run must not replace."""
    path = Path(path)
    if not path.exists():
        return True
    with connect(path, read_only=True) as con:
        marker = con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'main' and table_name = ?",
            [MARKER],
        ).fetchone()[0]
        tables = con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() and schema_name <> 'main'"
        ).fetchone()[0]
    return bool(marker) or not tables
