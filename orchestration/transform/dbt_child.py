"""`scorecard-dbt`: the dbt executable of the pipeline's dbt step. It asks the kernel to kill it when the
process that started it dies (Linux `PR_SET_PDEATHSIG`, kept across exec), then becomes this
environment's `dbt`. A run killed with SIGKILL so leaves no dbt behind writing its discarded build copy
and holding the DuckDB file lock (an orphaned dbt ran on for about 25 s before this).

With SCORECARD_DBT_WORKDIR set, dbt starts in that folder (the build copy's), where profiles.yml's
DuckDB path is the bare file name (dbt_cli.py `dbt_child_environment(relative=True)`): dbt's
partial-parse state then holds no folder, and serves a warehouse of the same name anywhere. The folders
dbt was given relative to the folder it was started in (DBT_PROJECT_DIR and the others, set by
dagster-dbt) are made absolute first."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
PARENT_ENV = "SCORECARD_DBT_PARENT_PID"
WORKDIR_ENV = "SCORECARD_DBT_WORKDIR"
# dbt's folders as environment variables (dagster-dbt sets them): resolved against the starting folder
FOLDER_ENVS = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    parent = os.environ.get(PARENT_ENV)
    if parent and parent.isdigit() and os.getppid() != int(parent):
        sys.exit(f"scorecard-dbt: the process that started dbt ({parent}) is gone; not starting")


def enter_workdir() -> None:
    """Start dbt in SCORECARD_DBT_WORKDIR, if set; the project (and profiles) stay where they were: the
    folder dbt was started in, unless DBT_PROJECT_DIR names another."""
    workdir = os.environ.get(WORKDIR_ENV)
    if not workdir:
        return
    here = Path.cwd()
    os.environ.setdefault("DBT_PROJECT_DIR", str(here))
    os.environ.setdefault("DBT_PROFILES_DIR", os.environ["DBT_PROJECT_DIR"])
    for name in FOLDER_ENVS:
        if os.environ.get(name):
            os.environ[name] = str(here / os.environ[name])  # an absolute path stays as it is
    os.chdir(workdir)


def main() -> None:
    die_with_parent()
    enter_workdir()
    dbt = Path(sys.executable).parent / "dbt"
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
