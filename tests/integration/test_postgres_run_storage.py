"""Dagster run storage in PostgreSQL (dagster-postgres): a throwaway server in a temp dir, a
DagsterInstance pointed at it, a tiny asset job run, and the run found in PostgreSQL."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from dagster import DagsterInstance, Definitions, asset, define_asset_job, instance_for_test

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT = 54329

pytestmark = pytest.mark.skipif(not (PG_BIN / "initdb").exists(), reason="PostgreSQL 15 server binaries not installed")


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def postgres():
    tmp = Path(tempfile.mkdtemp(prefix="scorecard-pg-"))
    data = tmp / "data"
    if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user
        shutil.chown(tmp, "postgres")
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    opts = f"-k {tmp} -p {PORT} -c listen_addresses=''"
    _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start")
    try:
        _as_postgres(str(PG_BIN / "createdb"), "-h", str(tmp), "-p", str(PORT), "-U", "postgres", "dagster")
        yield {"socket_dir": str(tmp), "port": PORT}
    finally:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


@asset
def heartbeat() -> int:
    return 1


def test_runs_are_stored_in_postgres(postgres, tmp_path):
    # as docs/dagster.postgres.yaml; +psycopg2: SQLAlchemy 2.1 defaults to psycopg 3, not installed
    url = f"postgresql+psycopg2://postgres@/dagster?host={postgres['socket_dir']}&port={postgres['port']}"
    storage = {"postgres": {"postgres_url": url}}
    overrides = {"storage": storage}
    with instance_for_test(overrides=overrides, temp_dir=str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        job = Definitions(assets=[heartbeat], jobs=[define_asset_job("heartbeat_job")]).resolve_job_def("heartbeat_job")
        result = job.execute_in_process(instance=instance)
        assert result.success
        run_id = result.run_id
    # a fresh instance on the same database finds the run: it lives in PostgreSQL, not in the temp dir
    with instance_for_test(overrides=overrides) as other:
        run = other.get_run_by_id(run_id)
        assert run is not None and run.job_name == "heartbeat_job"
        assert other.get_run_stats(run_id).steps_succeeded == 1
    out = _as_postgres(
        str(PG_BIN.parent / "bin" / "psql") if (PG_BIN / "psql").exists() else "psql",
        "-h",
        postgres["socket_dir"],
        "-p",
        str(postgres["port"]),
        "-U",
        "postgres",
        "-d",
        "dagster",
        "-tA",
        "-c",
        f"select status from runs where run_id = '{run_id}'",
    )
    assert out.stdout.strip() == "SUCCESS"
    assert isinstance(other, DagsterInstance)
