"""One writer per warehouse, audit rows never erased, abandoned runs recorded, reports published with the
marts: each at the smallest unit (the lock, publish.py, run_records.py on a tmp DuckDB)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.run_records import record_failed_run, record_run
from orchestration.warehouse import connect, ensure_audit_tables, writer_lock
from orchestration.warehouse.build_copy import build_path, publish, stage_reports, staged_reports_dir, start_build

ROOT = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent("""
    import sys, time
    from orchestration.warehouse import writer_lock
    writer_lock.acquire(sys.argv[1], sys.argv[2])
    print("held", flush=True)
    time.sleep(600)
""")


def _hold(warehouse: Path, run_id: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse), run_id], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_second_writer_stops_at_once_and_a_killed_holder_is_seen_stale(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    proc = _hold(warehouse, "run-A")
    try:
        holder = writer_lock.current_holder(warehouse)
        assert (holder.run_id, holder.pid) == ("run-A", proc.pid)
        with pytest.raises(writer_lock.WarehouseBusy) as busy:
            writer_lock.acquire(warehouse, "run-B")
        message = str(busy.value)
        assert message.startswith(f"another run (run id run-A, pid {proc.pid}, started at {holder.started_at}) holds")
        assert str(warehouse.resolve()) in message
    finally:
        _kill(proc)  # SIGKILL: no clean-up, its line stays in the lock file
    assert json.loads(writer_lock.lock_path(warehouse).read_text())["run_id"] == "run-A"
    assert writer_lock.current_holder(warehouse) is None  # the kernel released the flock
    lock = writer_lock.acquire(warehouse, "run-B")
    try:
        assert (lock.stale.run_id, lock.stale.pid) == ("run-A", proc.pid)
        # re-entrant for the same run in this process, and refused for another run id
        assert writer_lock.acquire(warehouse, "run-B") is lock
        with pytest.raises(writer_lock.WarehouseBusy):
            writer_lock.acquire(warehouse, "run-C")
    finally:
        writer_lock.release(warehouse, "run-B", force=True)
    assert writer_lock.lock_path(warehouse).read_text() == ""  # a clean release empties the file
    again = writer_lock.acquire(warehouse, "run-D")
    assert again.stale is None
    writer_lock.release(warehouse, "run-D")


def _published_run(warehouse: Path, run_id: str) -> None:
    """A published warehouse holding one run's audit rows (2 run_counts rows, 1 quarantined row)."""
    with connect(warehouse) as con:
        ensure_audit_tables(con)
        con.execute("create schema if not exists marts")
        con.execute("create table marts.scorecard as select 'T1' as subject_id, 57.63 as final_score")
        con.execute(
            "insert into audit.run_counts values (?, 'crm/teams', 1, 3, 2, 1, 0, 0, now()), "
            "(?, 'crm/reps', 1, 4, 4, 0, 0, 0, now())",
            [run_id, run_id],
        )
        con.execute(
            "insert into audit.quarantine values (?, 'crm/teams', 'T9', 'bad', '{}', 'f.csv', 3, now())", [run_id]
        )
        con.execute(
            "insert into audit.check_results values (?, now(), 'pandera', 'crm/teams', 'x', 'warn', false, 1, 'm')",
            [run_id],
        )
    record_run(
        str(warehouse),
        run_id,
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 0, 5, tzinfo=UTC),
        as_of=datetime(2026, 12, 1, tzinfo=UTC),
        status="succeeded",
        failure_reason=None,
        published=True,
        landing="l",
        config="c",
    )


def _audit(warehouse: Path, run_id: str) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            "runs": con.execute(
                "select status, published, failure_reason from audit.runs where run_id = ?", [run_id]
            ).fetchall(),
            "run_counts": con.execute("select count(*) from audit.run_counts where run_id = ?", [run_id]).fetchone()[0],
            "quarantine": con.execute("select count(*) from audit.quarantine where run_id = ?", [run_id]).fetchone()[0],
            "checks": con.execute("select count(*) from audit.check_results where run_id = ?", [run_id]).fetchone()[0],
        }


def test_a_failure_after_publishing_never_erases_the_runs_audit_rows(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _published_run(warehouse, "run-P")
    before = _audit(warehouse, "run-P")
    assert before == {"runs": [("succeeded", True, None)], "run_counts": 2, "quarantine": 1, "checks": 1}
    # what used to erase them: the failed-run path after publishing, with an empty build copy beside it
    with connect(build_path(warehouse)) as con:
        ensure_audit_tables(con)
    done = record_failed_run(
        str(warehouse),
        "run-P",
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        finished_at=datetime(2026, 12, 1, 0, 6, tzinfo=UTC),
        as_of=datetime(2026, 12, 1, tzinfo=UTC),
        failure_reason="postgres_warehouse: connection refused",
        landing="l",
        config="c",
    )
    assert done.already_published and done.inserted_run_ids == []
    after = _audit(warehouse, "run-P")
    assert after == {
        "runs": [("succeeded", True, "after publishing: postgres_warehouse: connection refused")],
        "run_counts": 2,
        "quarantine": 1,
        "checks": 1,
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:  # the marts are the published ones
        assert str(con.execute("select final_score from marts.scorecard").fetchone()[0]) == "57.63"


def test_a_failed_run_publishes_its_audit_rows_once(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _published_run(warehouse, "run-P")
    start_build(warehouse, "run-F")
    with connect(build_path(warehouse)) as con:
        con.execute("insert into audit.run_counts values ('run-F', 'crm/teams', 1, 5, 5, 0, 0, 0, now())")
        con.execute("drop table marts.scorecard")  # what the failed run did to its marts stays in its copy
    kwargs = dict(
        started_at=datetime(2026, 12, 2, tzinfo=UTC),
        finished_at=datetime(2026, 12, 2, 0, 1, tzinfo=UTC),
        as_of=datetime(2026, 12, 2, tzinfo=UTC),
        failure_reason="dbt build failed",
        landing="l",
        config="c",
    )
    first = record_failed_run(str(warehouse), "run-F", **kwargs)
    assert first.inserted_run_ids == ["run-F"] and not first.already_published
    assert not build_path(warehouse).exists()
    # the sensor records the same run again: nothing is duplicated or erased
    second = record_failed_run(str(warehouse), "run-F", **kwargs)
    assert second.inserted_run_ids == []
    assert _audit(warehouse, "run-F") == {
        "runs": [("failed", False, "dbt build failed")],
        "run_counts": 1,
        "quarantine": 0,
        "checks": 0,
    }
    assert _audit(warehouse, "run-P")["run_counts"] == 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from marts.scorecard").fetchone()[0] == 1


def test_a_killed_run_is_recorded_as_abandoned_with_its_audit_rows(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _published_run(warehouse, "run-P")
    proc = _hold(warehouse, "run-K")
    start_build(warehouse, "run-K")  # (in this process: the build the killed run was writing)
    with connect(build_path(warehouse)) as con:
        con.execute("insert into audit.run_counts values ('run-K', 'crm/teams', 1, 7, 6, 1, 0, 0, now())")
        con.execute(
            "insert into audit.quarantine values ('run-K', 'crm/teams', 'T$^$', 'unparsable_row', '{}', 'f', 2, now())"
        )
    _kill(proc)
    staged = stage_reports(warehouse, "run-K")  # it had staged a report, never published
    (staged / "director").mkdir()
    (staged / "director" / "2026-Q4.html").write_text("100.06 excellent", encoding="utf-8")

    lock = writer_lock.acquire(warehouse, "run-N")
    try:
        start_build(warehouse, "run-N", lock.stale)
        with connect(build_path(warehouse)) as con:
            con.execute("checkpoint")
        publish(warehouse)
    finally:
        writer_lock.release(warehouse, "run-N", force=True)
    audit = _audit(warehouse, "run-K")
    ((status, published, reason),) = audit["runs"]
    assert (status, published) == ("abandoned", False)
    assert reason.startswith(
        f"the run's process (pid {proc.pid}) ended without finishing (killed or died); found by run run-N"
    )
    assert (audit["run_counts"], audit["quarantine"]) == (1, 1)
    # its staged report was discarded, never moved where readers look
    assert not (tmp_path / "reports" / "director" / "2026-Q4.html").exists()
    assert not staged_reports_dir(warehouse).exists()


def test_staged_reports_of_a_published_run_are_moved_by_the_next_run(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    _published_run(warehouse, "run-P")  # published (the rename happened) ...
    staged = stage_reports(warehouse, "run-P")  # ... but killed before its reports were moved
    (staged / "auditor").mkdir()
    (staged / "auditor" / "latest.html").write_text("run-P", encoding="utf-8")
    start_build(warehouse, "run-N")
    assert (tmp_path / "reports" / "auditor" / "latest.html").read_text(encoding="utf-8") == "run-P"
    with duckdb.connect(str(build_path(warehouse)), read_only=True) as con:
        assert con.execute("select count(*) from audit.runs where status = 'abandoned'").fetchone()[0] == 0


def test_every_asset_that_writes_is_in_the_writer_pool():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    pools = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            pools[key.to_user_string()] = node.pools
    assert pools and all(p == {writer_lock.WRITER_POOL} for p in pools.values()), {
        k: p for k, p in pools.items() if p != {writer_lock.WRITER_POOL}
    }


def test_the_documented_instance_runs_one_writer_at_a_time(tmp_path):
    from dagster import DagsterInstance

    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "docs" / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with DagsterInstance.from_config(str(home)) as instance:
        config = instance.get_concurrency_config()
        assert config.pool_config.pool_granularity.value == "run"
        assert config.pool_config.default_pool_limit == 1
    assert os.environ.get("DAGSTER_HOME") is None  # tests run on ephemeral instances (tests/conftest.py)


def test_the_screen_gets_one_line_per_message_and_the_log_file_everything():
    import logging

    from orchestration.run_logging import FirstLineFormatter

    record = logging.makeLogRecord(
        {
            "msg": 'Execution of step "raw__crm__teams" failed.\n\nStack Trace:\n  File "x.py", line 1',
            "levelname": "ERROR",
        }
    )
    short = FirstLineFormatter(verbose=False).format(record)
    assert short.endswith(' ERROR Execution of step "raw__crm__teams" failed. (details in the run\'s log file)')
    whole = FirstLineFormatter(verbose=True).format(record)
    assert whole.endswith('failed.\n\nStack Trace:\n  File "x.py", line 1')
    long = FirstLineFormatter(verbose=False).format(logging.makeLogRecord({"msg": "x" * 1000, "levelname": "INFO"}))
    assert long.endswith(" INFO " + "x" * 397 + "...")
