"""A throwaway PostgreSQL server for tests: initdb in a temp dir, unix socket only, stopped after."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from orchestration.engines.postgres import PostgresTarget


def postgres_bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_postgres(user: str = "scorecard", database: str = "scorecard"):
    """Yields a PostgresTarget of a fresh server (trust auth, socket in the temp dir, no TCP)."""
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="scorecard-pg-"))
    as_root = os.geteuid() == 0  # initdb refuses root: run the server as the postgres user
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(root, "postgres")
    os.chmod(root, 0o755)
    data, port = root / "data", _free_port()
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*pg_ctl, "-o", f"-k {root} -p {port} -c listen_addresses='' -c fsync=off",
                    "-l", str(root / "server.log"), "-w", "start"], check=True, capture_output=True)
    try:
        target = PostgresTarget(host=str(root), port=port, user=user, database=database)
        con = target.connect(database="postgres")
        con.autocommit = True
        con.cursor().execute(f'create database "{database}"')
        con.close()
        yield target
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
