"""Write, audit, publish.

A run never writes the published warehouse file that analysts read. It builds in a copy,
`<warehouse dir>/.build/<warehouse name>`: the run starts by copying the published file there,
every asset writes the copy, the blocking checks run on it, and only then the copy replaces the
published file in one atomic rename. DuckDB allows one writer per file and readers lock the file
they read, so an in-place update is impossible while analysts are connected; a rename is not
blocked by them, and a connection opened before it keeps reading the file it opened (the previous
marts) until it reconnects.

A failed run publishes nothing of its marts; its audit rows (run record, counts, quarantine, check
results, validation failures) are copied into a fresh copy of the published file, which then
replaces it the same way: auditors see the failure, analysts keep the last good marts.

The build file has the same name as the published one in another folder, so the database (catalog)
name that dbt writes into view definitions is the same in both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .faults import maybe_kill
from .warehouse import connect, ensure_audit_tables, ident

AUDIT_RUN_TABLES = ("runs", "run_counts", "quarantine", "check_results", "validation_failures")


def build_path(published: str | Path) -> Path:
    p = Path(published).resolve()
    return p.parent / ".build" / p.name


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _replace(source: Path, published: Path) -> None:
    """Atomic rename; the source must be checkpointed (no WAL) and closed."""
    os.replace(source, published)
    dir_fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def start_build(published: str | Path) -> Path:
    """A fresh build copy of the published warehouse (empty when nothing is published yet). A copy
    left by an interrupted run is discarded."""
    published = Path(published).resolve()
    build = build_path(published)
    build.parent.mkdir(parents=True, exist_ok=True)
    _remove(build)
    if published.exists():
        shutil.copyfile(published, build)
    return build


def publish(published: str | Path) -> Path:
    """Replace the published warehouse with the build copy."""
    published = Path(published).resolve()
    build = build_path(published)
    with connect(build) as con:
        con.execute("checkpoint")
    maybe_kill("during_publish")
    _replace(build, published)
    return published


def publish_audit_only(published: str | Path, run_id: str) -> Path:
    """After a failed run: publish the run's audit rows, keep the published marts as they are."""
    published = Path(published).resolve()
    build = build_path(published)
    staging = build.parent / "audit" / published.name
    staging.parent.mkdir(parents=True, exist_ok=True)
    _remove(staging)
    if published.exists():
        shutil.copyfile(published, staging)
    with connect(staging) as con:
        ensure_audit_tables(con)
        if build.exists():
            con.execute(f"attach '{build}' as build_copy (read_only)")
            for table in AUDIT_RUN_TABLES:
                exists = con.execute(
                    "select count(*) from duckdb_tables() where database_name = 'build_copy' "
                    "and schema_name = 'audit' and table_name = ?",
                    [table],
                ).fetchone()[0]
                if not exists:
                    continue
                cols = [
                    r[0]
                    for r in con.execute(
                        "select column_name from duckdb_columns() where database_name = current_database() "
                        "and schema_name = 'audit' and table_name = ? order by column_index",
                        [table],
                    ).fetchall()
                ]
                col_list = ", ".join(ident(c) for c in cols)
                con.execute(f"delete from audit.{table} where run_id = ?", [run_id])
                con.execute(
                    f"insert into audit.{table} ({col_list}) select {col_list} "
                    f"from build_copy.audit.{table} where run_id = ?",
                    [run_id],
                )
            con.execute("detach build_copy")
        con.execute("checkpoint")
    _replace(staging, published)
    _remove(build)
    return published
