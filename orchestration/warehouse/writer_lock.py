"""One writer per warehouse: an advisory lock file beside the published warehouse.

`<warehouse dir>/<warehouse name>.lock` is locked with `flock` by the process of the run that builds and
publishes the warehouse (the CLI's process, or the Dagster run worker that the schedule, the sensor or a
backfill launched). The kernel releases a `flock` when its process dies, also on SIGKILL, so a lock can
never outlive its holder: a second run that finds the file locked stops at once (or waits, `wait_seconds`)
with "another run (run id, pid, started at) holds this warehouse"; a run that finds it unlocked takes it.

The file also holds the holder's run id, pid and start time as one JSON line while it runs, and is
emptied when the holder releases it. A run that takes the lock and finds a previous holder's line in it
knows that that run ended without releasing it (killed, or its process died): it is returned as
`Lock.stale` so that the new run records it (`audit.runs` status `abandoned`, run_records.py) and clears
the line.

Re-entrant within a process: the runner takes the lock before Dagster starts, and the run's first asset
takes it again with the same run id (the same lock). Dagster concurrency (a pool of one writer, see
docs/operations.md) keeps Dagster-launched runs queued instead of failing on the lock; the lock is the
guarantee for everything else (the CLI, a second Dagster instance, a cron job).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class WarehouseBusy(RuntimeError):
    """Another live process holds the warehouse."""


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    started_at: str  # ISO 8601, UTC
    host: str = ""

    def describe(self) -> str:
        return f"run id {self.run_id}, pid {self.pid}, started at {self.started_at}"


@dataclass
class Lock:
    path: Path
    holder: Holder
    fd: int
    stale: Holder | None = None  # a previous holder that never released the lock
    depth: int = 1


_HELD: dict[Path, Lock] = {}


def lock_path(warehouse: str | Path) -> Path:
    p = Path(warehouse).resolve()
    return p.parent / f"{p.name}.lock"


def _read_holder(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text.splitlines()[0])
        return Holder(str(data["run_id"]), int(data["pid"]), str(data["started_at"]), str(data.get("host", "")))
    except (ValueError, KeyError, TypeError):
        return Holder("unknown", 0, "unknown")


def current_holder(warehouse: str | Path) -> Holder | None:
    """Who holds the warehouse now (None when nobody does)."""
    path = lock_path(warehouse)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder("unknown", 0, "unknown")
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def acquire(warehouse: str | Path, run_id: str, *, wait_seconds: float = 0.0) -> Lock:
    """Take the writer lock of `warehouse` for `run_id`; raise WarehouseBusy when another process holds
    it (after waiting up to `wait_seconds`)."""
    path = lock_path(warehouse)
    held = _HELD.get(path)
    if held is not None:
        if held.holder.run_id != run_id:
            raise WarehouseBusy(
                f"another run ({held.holder.describe()}) holds this warehouse {Path(warehouse).resolve()}"
            )
        held.depth += 1
        return held
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    other = _read_holder(fd) or Holder("unknown", 0, "unknown")
                    raise WarehouseBusy(
                        f"another run ({other.describe()}) holds this warehouse {Path(warehouse).resolve()}; "
                        "wait for it to finish (scorecard run --wait SECONDS) or stop that process"
                    ) from None
                time.sleep(0.5)
        stale = _read_holder(fd)
        if stale is not None and stale.run_id == run_id:
            stale = None  # the same run again (a retried step in a new process)
        holder = Holder(run_id, os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"), socket.gethostname())
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (json.dumps(holder.__dict__) + "\n").encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        raise
    lock = Lock(path, holder, fd, stale)
    _HELD[path] = lock
    return lock


def release(warehouse: str | Path, run_id: str, *, force: bool = False) -> None:
    """Release the lock taken by `run_id` in this process (every `acquire` has its `release`; `force`
    releases it whatever the depth). Emptying the file marks a clean end."""
    path = lock_path(warehouse)
    lock = _HELD.get(path)
    if lock is None or lock.holder.run_id != run_id:
        return
    lock.depth -= 1
    if lock.depth > 0 and not force:
        return
    try:
        os.ftruncate(lock.fd, 0)
    finally:
        fcntl.flock(lock.fd, fcntl.LOCK_UN)
        os.close(lock.fd)
        del _HELD[path]


def held_by_this_process(warehouse: str | Path) -> Lock | None:
    return _HELD.get(lock_path(warehouse))


# Dagster concurrency pool of every asset that writes the warehouse: with the instance's
# `concurrency: pools: {granularity: run, default_limit: 1}` (docs/dagster.yaml) the daemon starts one
# run at a time that touches it, so the schedule, the sensor and backfills queue instead of colliding.
WRITER_POOL = "scorecard_warehouse_writer"
