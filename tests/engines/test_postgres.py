"""The same dbt project on PostgreSQL: a whole run on the tiny sample with run option target=postgres
against a local throwaway server; every mart in PostgreSQL equals the published DuckDB mart row for
row (same columns and keys, numbers within 1e-9, text equal)."""

import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance

from orchestration.catalogue import MARTS
from orchestration.cli import main
from orchestration.engines.compare import compare_tables, read_dbapi, read_duckdb, summarise
from orchestration.periods import RANGE_END, RANGE_START

from .pg_server import local_postgres

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
# the wall-clock time the flag history was written by each engine's build: not a computed value
RUN_TIME_COLUMNS = {"anomaly_flags": {"first_seen_at"}}


@pytest.fixture(scope="module")
def postgres():
    with local_postgres() as target:
        yield target


def _drop(table, columns):
    keep = [i for i, c in enumerate(table.columns) if c.lower() not in columns]
    table.columns = [table.columns[i] for i in keep]
    table.rows = [tuple(r[i] for i in keep) for r in table.rows]
    return table


def test_postgres_marts_equal_duckdb(tmp_path, monkeypatch, postgres):
    assert main(["sample", "--out", str(tmp_path / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    warehouse = tmp_path / "w.duckdb"
    env = {
        "SCORECARD_LANDING": str(tmp_path / "sample" / "landing"),
        "SCORECARD_CONFIG": str(ROOT / "config" / "scorecard.yml"),
        "SCORECARD_WAREHOUSE": str(warehouse),
        "SCORECARD_AS_OF": AS_OF,
        **postgres.env(),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from orchestration.definitions import defs

    job = defs.resolve_job_def("nightly_scorecard")
    keys = job.partitions_def.get_partition_keys()  # every period, as `scorecard run` without --period
    started = time.perf_counter()
    result = job.execute_in_process(
        run_config={  # the engine is a choice of the run (run config), as `scorecard run --target postgres`
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            "resources": {"run_options": {"config": {"target": "postgres", "data_docs": False}}},
        },
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags={RANGE_START: keys[0], RANGE_END: keys[-1]},
    )
    total = time.perf_counter() - started
    assert result.success, [  # the step's own error (dbt's output on PostgreSQL), not only "step failed"
        (e.message, e.step_failure_data.error.message if e.is_step_failure else "")
        for e in result.all_events
        if e.is_failure
    ]
    pg_meta = result.asset_materializations_for_node("postgres_warehouse")[0].metadata
    pg_seconds = sum(pg_meta[k].value for k in ("seconds_raw", "seconds_dbt", "seconds_audit"))
    print(f"\nwall time: whole run {total:.1f} s, of which PostgreSQL (raw copy + dbt build + audit) "
          f"{pg_seconds:.1f} s (dbt {pg_meta['seconds_dbt'].value} s)")

    pg = postgres.connect()
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            results = [
                compare_tables(
                    t,
                    _drop(read_duckdb(con, "marts", t), RUN_TIME_COLUMNS.get(t, set())),
                    _drop(read_dbapi(pg, "marts", t), RUN_TIME_COLUMNS.get(t, set())),
                )
                for t in MARTS
            ]
            runs = con.execute("select count(*) from audit.runs").fetchone()[0]
        assert all(r.equal for r in results), summarise(results)
        assert all(r.rows_left > 0 for r in results if r.table != "anomaly_flags"), summarise(results)
        cur = pg.cursor()
        # the audit ledger came along: this run, published, with its counts and checks
        cur.execute("select status, published from audit.runs where run_id = %s", [result.run_id])
        assert cur.fetchall() == [("succeeded", True)]
        cur.execute("select count(*) from audit.runs")
        assert cur.fetchone()[0] == runs
        cur.execute("select count(*) from audit.check_results where run_id = %s", [result.run_id])
        assert cur.fetchone()[0] > 0
        # types kept on the way: DECIMAL, TIMESTAMP, DATE, BOOLEAN
        cur.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'crm__deals' "
            "and column_name in ('amount', 'closed_on', 'updated_at', '_is_current')"
        )
        assert dict(cur.fetchall()) == {
            "amount": "numeric", "closed_on": "date", "updated_at": "timestamp without time zone",
            "_is_current": "boolean",
        }
    finally:
        pg.close()
