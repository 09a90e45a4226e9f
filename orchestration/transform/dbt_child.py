"""`scorecard-dbt`: the dbt executable of the pipeline's dbt step. It asks the kernel to kill it when the
process that started it dies (Linux `PR_SET_PDEATHSIG`, kept across exec), then becomes this
environment's `dbt`. A run killed with SIGKILL so leaves no dbt behind writing its discarded build copy
and holding the DuckDB file lock (an orphaned dbt ran on for about 25 s before this)."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
PARENT_ENV = "SCORECARD_DBT_PARENT_PID"


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    parent = os.environ.get(PARENT_ENV)
    if parent and parent.isdigit() and os.getppid() != int(parent):
        sys.exit(f"scorecard-dbt: the process that started dbt ({parent}) is gone; not starting")


def main() -> None:
    die_with_parent()
    dbt = Path(sys.executable).parent / "dbt"
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
