"""The instance `scorecard run` executes in (orchestration/dagster_instance.py): a `$DAGSTER_HOME` without
storage settings gets the SQLite event log that keeps its engines, writing the same files Dagster's own
storage reads; a home that names its storage is used as it is."""

import sqlite3
from collections import Counter
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    BackfillPolicy,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    StaticPartitionsDefinition,
    asset,
    asset_check,
    define_asset_job,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration import dagster_instance
from orchestration.dagster_instance import MAX_OPEN_SHARDS, PooledSqliteEventLogStorage, run_instance
from orchestration.periods import RANGE_END, RANGE_START

PERIODS = StaticPartitionsDefinition(["2026-Q1", "2026-Q2", "2026-Q3"])


@asset(partitions_def=PERIODS, backfill_policy=BackfillPolicy.single_run())
def marts(context: AssetExecutionContext) -> None:
    return None


@asset_check(asset=marts)
def marts_check() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


def _job():
    job = define_asset_job("nightly", partitions_def=PERIODS)
    defs = Definitions(assets=[marts], asset_checks=[marts_check], jobs=[job])
    return defs.resolve_job_def("nightly")


def _run(instance):
    tags = {RANGE_START: "2026-Q1", RANGE_END: "2026-Q3"}
    return _job().execute_in_process(instance=instance, tags=tags)


def test_dagsters_private_members_are_still_there():
    # the overrides replace or call these; a dagster upgrade that renames them fails here
    for name in (
        "_connect",
        "_initdb",
        "conn_string_for_shard",
        "has_table",
        "_has_asset_key_col_on_connection",
        "prepare_insert_event",
        "index_transaction",
        "_store_asset_event_tags",
        "_store_asset_event",
    ):
        assert callable(getattr(SqliteEventLogStorage, name)), name
    storage = SqliteEventLogStorage.__new__(SqliteEventLogStorage)
    SqliteEventLogStorage.__init__(storage, base_dir=str(__import__("tempfile").mkdtemp()))
    assert hasattr(storage, "_db_lock") and isinstance(storage._initialized_dbs, set)


def test_a_home_without_storage_settings_writes_dagsters_own_files(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with run_instance(str(tmp_path)) as instance:
        assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
        result = _run(instance)
        assert result.success
        run_id = result.run_id
        # one engine per shard written: the run's own file and the cross-run index
        assert set(instance.event_log_storage._engines) == {run_id, "index"}
    # Dagster's own storage (what the webserver and the daemon read) finds the run and its events
    with DagsterInstance.get() as plain:
        assert type(plain.event_log_storage) is SqliteEventLogStorage
        assert plain.get_run_by_id(run_id).job_name == "nightly"
        materialized = plain.get_materialized_partitions(marts.key)
        assert materialized == {"2026-Q1", "2026-Q2", "2026-Q3"}
        stored = plain.get_records_for_run(run_id, limit=10_000).records
        # the same events, once each, as when Dagster's own storage writes the same run
        plain_run = _run(plain).run_id
        plain_records = plain.get_records_for_run(plain_run, limit=10_000).records
        plain_types = Counter(r.event_log_entry.dagster_event_type for r in plain_records)
    assert Counter(r.event_log_entry.dagster_event_type for r in stored) == plain_types
    assert plain_types[DagsterEventType.ASSET_MATERIALIZATION] == 3  # one per partition of the range
    with sqlite3.connect(tmp_path / "history" / "runs" / f"{run_id}.db") as con:
        (rows,) = con.execute("select count(*) from event_logs").fetchone()
    assert rows == len(stored) == sum(plain_types.values())


def test_engines_of_old_runs_are_closed(tmp_path):
    with run_instance(str(tmp_path)) as instance:
        run_ids = [_run(instance).run_id for _ in range(MAX_OPEN_SHARDS + 1)]
        kept = set(instance.event_log_storage._engines)
        assert len(kept) == MAX_OPEN_SHARDS
        assert run_ids[0] not in kept and run_ids[-1] in kept and "index" in kept
    assert instance.event_log_storage._engines == {}  # disposed with the instance


def test_a_home_that_names_its_storage_is_used_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {tmp_path / 'elsewhere'}\n", encoding="utf-8"
    )
    assert dagster_instance.names_storage(tmp_path)
    with run_instance(str(tmp_path)) as instance:
        assert type(instance.event_log_storage) is not PooledSqliteEventLogStorage
        assert _run(instance).success
    assert (tmp_path / "elsewhere").is_dir()


def test_no_home_is_an_ephemeral_instance():
    with run_instance(None) as instance:
        assert instance.is_ephemeral


def test_the_daemon_gets_the_same_event_log_from_dagster_yaml(tmp_path, monkeypatch):
    # docs/operations.md: the dagster.yaml that gives `dagster dev` and the daemon this event log
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(
        "event_log_storage:\n  module: orchestration.dagster_instance\n  class: PooledSqliteEventLogStorage\n"
        f"  config: {{base_dir: {tmp_path / 'history' / 'runs'}}}\n",
        encoding="utf-8",
    )
    with DagsterInstance.get() as instance:
        assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
        result = _run(instance)
        assert instance.get_materialized_partitions(marts.key) == {"2026-Q1", "2026-Q2", "2026-Q3"}
        assert set(instance.event_log_storage._engines) == {result.run_id, "index"}


def test_a_forked_child_opens_its_own_engines(tmp_path, monkeypatch):
    with run_instance(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        run_id = _run(instance).run_id
        parent_engine = storage._engines[run_id]
        monkeypatch.setattr(dagster_instance.os, "getpid", lambda: storage._engines_pid + 1)
        child_engine = storage._engine(run_id)
        assert child_engine is not parent_engine
        assert set(storage._engines) == {run_id}  # the parent's engines are dropped, not reused
        assert _run(instance).success  # and the child writes through engines of its own


def _shard_rows(base: Path, shard: str) -> list[tuple]:
    with sqlite3.connect(base / "history" / "runs" / f"{shard}.db") as con:
        return con.execute("select dagster_event_type, asset_key, partition from event_logs order by id").fetchall()


def _asset_keys(base: Path) -> list[tuple]:
    with sqlite3.connect(base / "history" / "runs" / "index.db") as con:
        return con.execute("select asset_key, last_materialization_timestamp is not null from asset_keys").fetchall()


def test_a_batch_of_events_is_stored_as_dagster_stores_them_one_by_one(tmp_path, monkeypatch):
    # DAGSTER_EVENT_BATCH_SIZE (set by run_instance for `scorecard run`): Dagster hands the storage the
    # planned events of the run and the materializations of an asset over the partition range at once
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    pooled_home, plain_home = tmp_path / "pooled", tmp_path / "plain"
    pooled_home.mkdir()
    plain_home.mkdir()
    with run_instance(str(pooled_home)) as instance:
        storage, batches = instance.event_log_storage, []
        store_batch = storage.store_event_batch

        def recorded(events):
            batches.append([e.dagster_event_type for e in events])
            store_batch(events)

        monkeypatch.setattr(storage, "store_event_batch", recorded)
        pooled_run = _run(instance).run_id
    planned, check_planned = (
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED,
    )
    assert batches == [[planned] * 3 + [check_planned], [DagsterEventType.ASSET_MATERIALIZATION] * 3]
    # Dagster's own SQLite storage, event by event, writes the same rows in the same order
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    monkeypatch.setenv("DAGSTER_HOME", str(plain_home))
    with DagsterInstance.get() as plain:
        assert type(plain.event_log_storage) is SqliteEventLogStorage
        plain_run = _run(plain).run_id
        assert plain.get_materialized_partitions(marts.key) == {"2026-Q1", "2026-Q2", "2026-Q3"}
    pooled_rows, plain_rows = _shard_rows(pooled_home, pooled_run), _shard_rows(plain_home, plain_run)
    assert [r for r in pooled_rows if r[1]] == [r for r in plain_rows if r[1]]  # asset rows, in order
    assert Counter(pooled_rows) == Counter(plain_rows)
    assert _shard_rows(pooled_home, "index") == _shard_rows(plain_home, "index")
    assert sorted(r[2] for r in _shard_rows(pooled_home, "index") if r[0] == "ASSET_MATERIALIZATION") == [
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]
    assert _asset_keys(pooled_home) == _asset_keys(plain_home) == [('["marts"]', 1)]
