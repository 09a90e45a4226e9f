"""The Dagster instance of a run, and a SQLite event log that keeps its connections.

Dagster's SQLite event log (the default of a `$DAGSTER_HOME` without storage settings) creates a new
SQLAlchemy engine and connection for every event it stores, so every INSERT is compiled again (the
compiled-statement cache belongs to the engine) and every event opens the database file anew. A full
run of this pipeline records about 6,200 events (two per dbt model and partition of the run's range,
one per asset check, ...): measured on the built-in sample, 56 s of a 91 s run went into storing them,
and the dbt step waited on it because dagster-dbt turns dbt's output into events as it streams.

`PooledSqliteEventLogStorage` is the same storage, the same files and schema (the webserver and the
daemon read them as before), with one engine per database file, kept for the last few files used: the
same run took 63 s instead of 107 s (docs/benchmarks.md, "Fixed cost of a run").

`run_instance()` is the instance `scorecard run` executes in: `$DAGSTER_HOME` as configured; when its
dagster.yaml names no storage (the default SQLite one), with this event log instead of Dagster's. A
home that names its storage (PostgreSQL: docs/dagster.postgres.yaml) is used as it is. A daemon or
`dagster dev` gets the same event log from an `event_log_storage` entry in dagster.yaml
(docs/operations.md).

It also writes a batch of events in one transaction per database file. With `DAGSTER_EVENT_BATCH_SIZE`
set (`run_instance()` sets it for `scorecard run`), Dagster hands the storage the events of one asset
over a partition range at once (its materialization per partition; the planned events at the run's
start); Dagster's SQLite storage stores them one by one, a commit each. Here they are one INSERT per
event in one transaction, and the schema look-ups that Dagster repeats for every event (does the tags
table exist, does the asset-key table have its index columns) are answered once per process.

The class overrides private methods of dagster's SqliteEventLogStorage (`_connect`, `has_table`,
`_has_asset_key_col_on_connection`) and calls others (`prepare_insert_event`, `_store_asset_event_tags`,
`_store_asset_event`): dagster 1.13 offers no public switch for them.
tests/integration/test_dagster_instance.py fails if dagster renames them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, EVENT_TYPE_TO_PIPELINE_RUN_STATUS
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result

# per-run databases whose engines stay open (a run writes its own shard and the index shard)
MAX_OPEN_SHARDS = 4
SQLITE_BUSY_TIMEOUT_SECONDS = 120  # dagster's own value for its SQLite storages
STORAGE_KEYS = ("storage", "event_log_storage", "run_storage")
# events Dagster may buffer before it hands them to the storage as one batch (its own env variable)
EVENT_BATCH_SIZE_VARIABLE = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = 1000
EVENT_LOG_STORAGE = {
    "module": __name__,
    "class": "PooledSqliteEventLogStorage",
}


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SqliteEventLogStorage with one engine (and its connection pool) per shard file, for the last
    MAX_OPEN_SHARDS shards used; an engine that falls out is disposed, so a long-lived process (the
    webserver, the daemon) does not keep every run's file open."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Any] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._engines_pid = os.getpid()
        self._tables_seen: set[str] = set()  # tables and columns only ever get added (schema upgrades)
        self._asset_key_columns_seen: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        import sqlalchemy as db

        with self._engines_lock:
            if self._engines_pid != os.getpid():
                # a forked child: the parent's pooled connections are not its own (SQLAlchemy's advice:
                # drop them without closing them)
                for inherited in self._engines.values():
                    inherited.dispose(close=False)
                self._engines.clear()
                self._engines_pid = os.getpid()
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = db.create_engine(
                    self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
            self._engines[shard] = engine  # most recently used last
            while len(self._engines) > MAX_OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        # as dagster's _connect (same lock, same one-time schema set-up per shard), on a kept engine
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def has_table(self, table_name: str) -> bool:
        # dagster asks for every asset event, with a new engine each time
        if table_name in self._tables_seen:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_seen.add(table_name)
        return found

    def _has_asset_key_col_on_connection(self, conn: Any, column_name: str) -> bool:
        if column_name in self._asset_key_columns_seen:
            return True
        found = super()._has_asset_key_col_on_connection(conn, column_name)
        if found:
            self._asset_key_columns_seen.add(column_name)
        return found

    def store_event_batch(self, events: Any) -> None:
        """A batch's asset events (materializations, observations, planned materializations) in one
        transaction on the run's file and one on the index file: what store_event does for each, without
        a commit each. Anything else in the batch (asset check events, run status) is stored on its own,
        as dagster does, in the batch's order."""
        plain: list[Any] = []
        for event in events:
            if self._batchable(event) and (not plain or plain[0].run_id == event.run_id):
                plain.append(event)
                continue
            self._store_asset_events(plain)
            plain = []
            if self._batchable(event):
                plain.append(event)
            else:
                self.store_event(event)
        self._store_asset_events(plain)

    @staticmethod
    def _batchable(event: Any) -> bool:
        kind = event.dagster_event_type if event.is_dagster_event else None
        return kind in ASSET_EVENTS and kind not in ASSET_CHECK_EVENTS and kind not in EVENT_TYPE_TO_PIPELINE_RUN_STATUS

    def _store_asset_events(self, events: list[Any]) -> None:
        if not events:
            return
        statements = [self.prepare_insert_event(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:
            for event, statement in zip(events, statements, strict=True):
                with db_result(conn, statement) as result:
                    event_id = result.inserted_primary_key[0]
                self._store_asset_event_tags(conn, [event], [event_id])
                self._store_asset_event(conn, event, event_id)

    def dispose(self) -> None:
        with self._engines_lock:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()
        super().dispose()


def names_storage(home: str | Path) -> bool:
    """Whether `home`/dagster.yaml says where Dagster stores runs and events."""
    config = Path(home) / "dagster.yaml"
    if not config.exists():
        return False
    loaded = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return isinstance(loaded, dict) and any(key in loaded for key in STORAGE_KEYS)


def run_instance(home: str | None) -> DagsterInstance:
    """The instance of an in-process run: ephemeral without a home; the home's own storage when its
    dagster.yaml names one; otherwise the home's SQLite files through PooledSqliteEventLogStorage."""
    # Dagster buffers an asset's events over a partition range and stores them as one batch
    # (PooledSqliteEventLogStorage.store_event_batch; dagster-postgres has its own)
    os.environ.setdefault(EVENT_BATCH_SIZE_VARIABLE, str(EVENT_BATCH_SIZE))
    if not home:
        return DagsterInstance.ephemeral()
    if names_storage(home):
        return DagsterInstance.get()
    from dagster._core.instance.ref import InstanceRef

    overrides = {
        "event_log_storage": {**EVENT_LOG_STORAGE, "config": {"base_dir": str(Path(home) / "history" / "runs")}}
    }
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=overrides))
