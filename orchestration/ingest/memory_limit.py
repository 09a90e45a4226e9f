"""DuckDB's memory limit while an entity is ingested (its default is 80 % of the machine): the
temporary landing/typed tables and the key-rule window spill to <warehouse>.tmp beyond it. At 10 M
input rows the step's resident set fell from 2.9-3.2 GB to 1.7 GB, no slower (docs/benchmarks.md)."""

from __future__ import annotations

import functools
import logging

import duckdb

from orchestration.settings import ingest_memory_limit
from orchestration.warehouse import sql_str

# the logger of ingestion as before the split into modules: its lines (`scorecard` shows the logger's
# name) read as they did
log = logging.getLogger("orchestration.ingest.entity")


def _under_ingest_memory_limit(fn):
    """Run `fn(con, ...)` with DuckDB's memory limit at SCORECARD_INGEST_MEMORY_LIMIT (default 1500MB), then back
    to what it was.
    When `fn` fails, its error is the one raised: a failure to restore the limit (DuckDB refuses a
    `set` while a result is pending) is only logged, never raised in its place."""

    def restore(con: duckdb.DuckDBPyConnection, previous: str) -> None:
        # DuckDB shows the limit rounded down ("2.7 GiB"): setting that text back would lower it a
        # little on every call, so DuckDB's default is put back with `reset`
        con.execute("reset memory_limit")
        if con.execute("select current_setting('memory_limit')").fetchall()[0][0] != previous:
            con.execute(f"set memory_limit = {sql_str(previous)}")

    @functools.wraps(fn)
    def wrapper(con: duckdb.DuckDBPyConnection, *args, **kwargs):
        previous = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
        if limit := ingest_memory_limit():
            con.execute(f"set memory_limit = {sql_str(limit)}")
        try:
            result = fn(con, *args, **kwargs)
        except BaseException:
            try:
                restore(con, previous)
            except duckdb.Error as reset_error:
                log.warning("memory_limit not restored after a failed ingestion: %s", reset_error)
            raise
        restore(con, previous)
        return result

    return wrapper
