"""What several test files need and is slow to make, made once per test session and shared by the
pytest-xdist workers through a file lock (tests/conftest.py sets the session's shared folder)."""

from __future__ import annotations

import fcntl
import pickle
from collections.abc import Callable
from pathlib import Path

_SHARED: list[Path] = []  # the session's shared folder, set by tests/conftest.py before any test


def shared_folder(tmp_path_factory, worker_id: str) -> Path:
    """The session's temp folder that every xdist worker sees (a worker's own basetemp is inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def set_shared_folder(folder: Path) -> None:
    _SHARED[:] = [folder]


def once(name: str, make: Callable[[Path], object], shared: Path | None = None) -> tuple[Path, object]:
    """The folder `name` and what `make(folder)` returned (pickled), made once for the whole session:
    under pytest-xdist the first worker that needs it makes it in the session's shared temp folder,
    under a file lock, and the other worker reads what it left. The folder is for reading only."""
    if shared is None:
        if not _SHARED:
            raise RuntimeError("tests/conftest.py sets the session's shared folder before any test")
        shared = _SHARED[0]
    tmp = shared / name
    done = tmp / "outcome.pickle"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not done.exists():
            tmp.mkdir(exist_ok=True)
            done.write_bytes(pickle.dumps(make(tmp)))
        return tmp, pickle.loads(done.read_bytes())
