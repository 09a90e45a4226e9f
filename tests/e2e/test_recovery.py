"""Failure recovery and idempotency: the run process killed at several points (SIGKILL, no clean-up)
never changes what is published, and the next run publishes exactly what an uninterrupted run does;
running twice on the same inputs gives identical marts (content hash of every mart table)."""

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.publish import build_path

from .handmade import AS_OF

ROOT = Path(__file__).resolve().parents[2]


def marts_hash(warehouse: Path) -> dict[str, str]:
    """sha256 of the sorted rows of every table in schema marts."""
    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        for t in tables:
            rows = sorted(con.execute(f'select * from marts."{t}"').fetchall(), key=repr)
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def scorecard_run(landing: Path, warehouse: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SCORECARD_KILL_AT=kill_at or "")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "run",
            "--landing",
            str(landing),
            "--config",
            str(ROOT / "config" / "scorecard.yml"),
            "--warehouse",
            str(warehouse),
            "--as-of",
            AS_OF,
            "--log-level",
            "ERROR",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def kill_orphans(marker: str) -> None:
    """A SIGKILLed run leaves its dbt subprocess running on the discarded build copy: stop it."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if b"dbt" in cmdline and marker.encode() in environ:
            os.kill(int(pid), signal.SIGKILL)


def test_killed_runs_never_publish_half_and_the_next_run_recovers(copy_of_handmade_run):
    # the first run of the hand-made folder, published (conftest.py: a copy of the shared run)
    landing, warehouse = copy_of_handmade_run.landing, copy_of_handmade_run.warehouse
    assert copy_of_handmade_run.outcome.success, copy_of_handmade_run.outcome.failure
    published = marts_hash(warehouse)
    assert {"indicator_values", "scorecard"} <= set(published)

    for point in ("after_ingest", "during_dbt", "during_publish"):
        killed = scorecard_run(landing, warehouse, kill_at=point)
        kill_orphans(str(warehouse))
        assert killed.returncode == -signal.SIGKILL, (point, killed.stdout[-2000:])
        assert build_path(warehouse).exists()  # the killed run's half-built copy ...
        assert marts_hash(warehouse) == published, point  # ... never became visible

    again = scorecard_run(landing, warehouse)
    assert again.returncode == 0, again.stdout[-2000:]
    assert marts_hash(warehouse) == published  # same inputs, same marts: run once or twice
    assert not build_path(warehouse).exists()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert [r[0] for r in con.execute("select status from audit.runs order by started_at").fetchall()] == [
            "succeeded",
            "succeeded",
        ]  # killed runs could not record themselves; their builds were discarded
