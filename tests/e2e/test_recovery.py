"""Failure recovery and idempotency: the run process killed at several points (SIGKILL, no clean-up)
never changes what is published, marts or reports, leaves no dbt process behind, and is recorded as
abandoned by the next run; the next run publishes exactly what an uninterrupted run does; running twice
on the same inputs gives identical marts (content hash of every mart table); a second writer stops at once."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from orchestration.warehouse.build_copy import build_path

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


def dbt_children(marker: str) -> list[int]:
    """dbt processes started for this warehouse (their environment names it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
        except OSError:
            continue
        if b"dbt" in cmdline and marker.encode() in environ and state != "Z":
            found.append(int(pid))
    return found


def no_dbt_child_left(marker: str) -> bool:
    """True once no dbt process of the killed run is alive (the kernel kills them with their parent:
    PR_SET_PDEATHSIG, orchestration/transform/dbt_child.py); waits up to 10 s for the signal to be delivered."""
    for _ in range(50):
        if not dbt_children(marker):
            return True
        time.sleep(0.2)
    return False


def reports_state(warehouse: Path) -> dict[str, str]:
    folder = warehouse.parent / "reports"
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.html"))
        if "data_docs" not in p.parts
    }


def published_runs(warehouse: Path) -> dict[str, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute("select run_id, status, published from audit.runs").fetchall()}


def test_killed_runs_never_publish_half_and_the_next_run_recovers(copy_of_handmade_run):
    # the first run of the hand-made folder, published (conftest.py: a copy of the shared run)
    landing, warehouse = copy_of_handmade_run.landing, copy_of_handmade_run.warehouse
    assert copy_of_handmade_run.outcome.success, copy_of_handmade_run.outcome.failure
    first = copy_of_handmade_run.outcome.run_id
    published = marts_hash(warehouse)
    assert {"indicator_values", "scorecard"} <= set(published)
    reports = reports_state(warehouse)
    assert {"director/2026-Q1.html", "auditor/latest.html", f"auditor/{first}.html"} <= set(reports)

    # (after_ingest is covered by during_dbt: ingestion is done, dbt is running)
    for point in ("during_dbt", "after_reports"):
        killed = scorecard_run(landing, warehouse, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stdout[-2000:])
        assert no_dbt_child_left(str(warehouse)), point  # children die with the run
        assert build_path(warehouse).exists()  # the killed run's half-built copy ...
        assert marts_hash(warehouse) == published, point  # ... never became visible
        assert reports_state(warehouse) == reports, point  # nor did its reports (staged, not published)
        latest = (warehouse.parent / "reports" / "auditor" / "latest.html").read_text(encoding="utf-8")
        assert first in latest and set(published_runs(warehouse)) == {first}, point

    # killed right after the rename: published, its staged reports not moved yet
    killed = scorecard_run(landing, warehouse, kill_at="after_publish")
    assert killed.returncode == -signal.SIGKILL
    runs = published_runs(warehouse)
    late = next(r for r, (status, _) in runs.items() if r != first and status == "succeeded")
    # its build carried the two killed runs before it, recorded as abandoned with their audit rows
    abandoned = [r for r, (status, pub) in runs.items() if status == "abandoned" and not pub]
    assert len(abandoned) == 2 and len(runs) == 4
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert (
            con.execute(
                "select count(distinct run_id) from audit.run_counts where list_contains(?, run_id)", [abandoned]
            ).fetchone()[0]
            == 2
        )  # each had ingested every entity before it was killed
    assert marts_hash(warehouse) == published  # same inputs, same marts
    assert (warehouse.parent / ".build" / "reports" / "auditor" / f"{late}.html").exists()

    # a second writer while a run holds the warehouse stops at once; the holder is then killed
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from orchestration.warehouse import writer_lock; "
            "writer_lock.acquire(sys.argv[1], 'held-by-test'); print('held', flush=True); time.sleep(600)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert holder.stdout.readline().strip() == "held"
    busy = scorecard_run(landing, warehouse)
    assert busy.returncode == 3
    assert busy.stderr.strip().startswith(f"another run (run id held-by-test, pid {holder.pid}, started at ")
    holder.kill()
    holder.wait(timeout=30)

    again = scorecard_run(landing, warehouse)  # the stale lock is seen and cleared
    assert again.returncode == 0, again.stdout[-2000:]
    assert marts_hash(warehouse) == published  # same inputs, same marts: run once or twice
    assert not build_path(warehouse).exists() and not (warehouse.parent / ".build").exists()
    assert (warehouse.parent / "reports" / "auditor" / f"{late}.html").exists()  # moved by the next run
    runs = published_runs(warehouse)
    assert runs["held-by-test"] == ("abandoned", False)
    assert sorted(s for s, _ in runs.values()) == ["abandoned"] * 3 + ["succeeded"] * 3
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reason = con.execute("select failure_reason from audit.runs where run_id = 'held-by-test'").fetchone()[0]
    assert reason.startswith(f"the run's process (pid {holder.pid}) ended without finishing (killed or died)")
