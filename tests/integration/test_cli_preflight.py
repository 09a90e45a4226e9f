"""Mistakes a newcomer makes, and OS errors: `scorecard run` says what is wrong in one line, with exit 2
(3: the warehouse is busy), before Dagster starts; a full disk ends a run with one line, the run
recorded where possible and no temporary copy left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from orchestration.warehouse import writer_lock
from orchestration.warehouse.build_copy import build_path

from ..e2e.handmade import AS_OF, build

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "scorecard.yml"

# the CLI in a fresh interpreter; the last line says whether Dagster was imported
PROBE = textwrap.dedent("""
    import sys
    from orchestration.cli import main
    code = main(sys.argv[1:])
    print("DAGSTER_IMPORTED" if "dagster" in sys.modules else "DAGSTER_NOT_IMPORTED")
    sys.exit(code)
""")


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def _run_args(landing: Path, warehouse: Path, *extra: str) -> list[str]:
    return ["run", "--landing", str(landing), "--config", str(CONFIG), "--warehouse", str(warehouse), *extra]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("preflight") / "landing")


def _stopped(result: subprocess.CompletedProcess, code: int) -> str:
    """The one line a stopped run printed (stderr), with the exit code; Dagster was never imported."""
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "DAGSTER_NOT_IMPORTED"
    return lines[0]


def test_an_as_of_that_is_not_iso_stops_before_dagster(landing, tmp_path):
    line = _stopped(_cli(*_run_args(landing, tmp_path / "w.duckdb", "--as-of", "31/12/2026")), 2)
    assert line == (
        "--as-of: '31/12/2026' is not an ISO 8601 date or time (e.g. 2026-12-31 or 2026-12-31T23:59:59+08:00)"
    )
    assert not (tmp_path / "w.duckdb").exists() and not build_path(tmp_path / "w.duckdb").parent.exists()


def test_an_unknown_engine_target_in_the_environment_stops_before_dagster(landing, tmp_path):
    result = _cli(*_run_args(landing, tmp_path / "w.duckdb"), env={"SCORECARD_TARGET": "oracle"})
    assert _stopped(result, 2) == "SCORECARD_TARGET='oracle': must be one of duckdb, postgres, spark"
    assert not (tmp_path / "w.duckdb").exists() and not build_path(tmp_path / "w.duckdb").parent.exists()


def test_a_missing_landing_folder_or_required_entity_stops_before_dagster(landing, tmp_path):
    line = _stopped(_cli(*_run_args(Path("/nonexistent"), tmp_path / "w.duckdb", "--as-of", AS_OF)), 2)
    assert line == "landing folder /nonexistent does not exist"
    partial = tmp_path / "partial"
    (partial / "crm" / "teams").mkdir(parents=True)
    (partial / "crm" / "teams" / "teams.csv").write_text("team_id,team_name,region,business_stage\n", encoding="utf-8")
    line = _stopped(_cli(*_run_args(partial, tmp_path / "w.duckdb", "--as-of", AS_OF)), 2)
    assert line == (
        f"landing folder {partial} has no file for the required entities crm/reps, crm/customers "
        f"(expected {partial}/<entity>/*.csv|.parquet|.jsonl or <entity>.csv)"
    )


def test_a_bad_period_or_scheme_file_stops_before_dagster(landing, tmp_path):
    line = _stopped(_cli(*_run_args(landing, tmp_path / "w.duckdb", "--period", "2026-Q5")), 2)
    assert line.startswith("period: ")
    bad = tmp_path / "bad.yml"
    bad.write_text("grain: fortnight\n", encoding="utf-8")
    result = _cli("run", "--landing", str(landing), "--config", str(bad), "--warehouse", str(tmp_path / "w.duckdb"))
    # a scheme file's errors: one line each, every wrong key named
    assert result.returncode == 2 and result.stdout.splitlines() == ["DAGSTER_NOT_IMPORTED"]
    assert result.stderr.splitlines() == [
        f"run stopped before writing anything: {bad}: 3 error(s) in the scheme file:",
        "  - grain: Input should be 'month', 'quarter' or 'year'",
        "  - schemes: required key is missing",
        "  - grades: required key is missing",
    ]


def test_a_busy_warehouse_stops_a_second_run_at_once(landing, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from orchestration.warehouse import writer_lock; "
            "writer_lock.acquire(sys.argv[1], 'nightly-1'); print('held', flush=True); time.sleep(600)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = writer_lock.current_holder(warehouse).started_at
        line = _stopped(_cli(*_run_args(landing, warehouse, "--as-of", AS_OF)), 3)
        assert line == (
            f"another run (run id nightly-1, pid {holder.pid}, started at {started}) holds this warehouse "
            f"{warehouse.resolve()}; wait for it to finish (scorecard run --wait SECONDS) or stop that process"
        )
    finally:
        holder.kill()
        holder.wait(timeout=30)


def _mount_tmpfs(path: Path, size: str, read_only: bool = False) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    if read_only:
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def test_a_quote_in_the_warehouse_name_stops_before_dagster(landing, tmp_path):
    # a run got as far as dbt, which failed on "unterminated quoted identifier" (the database's name in SQL)
    for name in ("w'h 表.duckdb", 'w"h.duckdb'):
        line = _stopped(_cli(*_run_args(landing, tmp_path / "仓库 one" / name, "--as-of", AS_OF)), 2)
        assert line == (
            f"--warehouse {tmp_path / '仓库 one' / name}: a quote in the file name is not supported (dbt-duckdb); "
            "rename it"
        )
        assert not (tmp_path / "仓库 one").exists()  # nothing written


def test_a_read_only_warehouse_folder_stops_before_dagster(landing, tmp_path):
    # a read-only file system (root ignores permission bits, not a read-only mount)
    folder = tmp_path / "ro"
    _mount_tmpfs(folder, "1m", read_only=True)
    try:
        line = _stopped(_cli(*_run_args(landing, folder / "w.duckdb", "--as-of", AS_OF)), 2)
        assert line == f"warehouse folder {folder} is not writable: Read-only file system"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_ends_the_run_with_one_line_and_leaves_no_copy(landing, tmp_path):
    folder = tmp_path / "small"
    _mount_tmpfs(folder, "3m")  # the build copy outgrows it during ingestion
    warehouse = folder / "w.duckdb"
    try:
        result = subprocess.run(
            [sys.executable, "-m", "orchestration.cli", *_run_args(landing, warehouse, "--as-of", AS_OF)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "SCORECARD_GE_DATA_DOCS": "0"},
            timeout=600,
        )
        out = result.stdout + result.stderr
        assert result.returncode == 1, out[-3000:]
        assert "Traceback" not in out
        summary = result.stdout.splitlines()
        first = next(i for i, x in enumerate(summary) if x.startswith("run ") and "FAILED" in x)
        assert summary[first].endswith("FAILED, nothing of it was published")
        assert summary[first + 1].startswith("  reason: ") and "No space left on device" in summary[first + 1]
        assert not build_path(warehouse).exists()  # the temporary copies are removed
        assert not build_path(warehouse).parent.exists()
        # recorded where possible: there was room for the audit-only copy once the build copy was gone
        with duckdb.connect(str(warehouse), read_only=True) as con:
            status, published, reason = con.execute(
                "select status, published, failure_reason from audit.runs"
            ).fetchone()
        assert (status, published) == ("failed", False) and "No space left on device" in reason
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_spark_target_refuses_a_duckdb_warehouse(landing, tmp_path):
    """A Spark run writes the reader file of its Parquet tables at --warehouse: on a DuckDB engine's
    warehouse that would hide its tables, so the run stops first (with or without pyspark installed)."""
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.scorecard (rep_id varchar)")
    line = _stopped(_cli(*_run_args(landing, warehouse, "--target", "spark")), 2)
    assert f"--warehouse {warehouse} holds a DuckDB warehouse" in line
    with duckdb.connect(str(warehouse), read_only=True) as con:  # untouched
        assert con.execute("select count(*) from marts.scorecard").fetchone() == (0,)
