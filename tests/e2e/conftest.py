"""Whole-pipeline runs here check grades, ledgers and publishing, not the Great Expectations HTML pages
(tests/integration/test_great_expectations.py does): skip rendering them, about 15 s per run.

The first run of the hand-made folder on a fresh warehouse is the same in several tests: it runs once
per session (`handmade_run`, shared by the xdist workers through a file lock); test_pipeline.py reads it,
and the tests that go on with more runs start from a copy of its landing folder and published warehouse
(`copy_of_handmade_run`)."""

from __future__ import annotations

import fcntl
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.runner import RunOutcome, run_pipeline

from .handmade import build, run_env


@pytest.fixture(autouse=True, scope="module")
def _no_ge_data_docs():
    # module scope: set before the module-scoped fixtures that run the pipeline, not only around each test
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
        yield


@dataclass(frozen=True)
class HandmadeRun:
    landing: Path
    warehouse: Path
    outcome: RunOutcome
    lines: list[str]  # what the runner printed


@pytest.fixture(scope="session")
def handmade_run(tmp_path_factory, worker_id) -> HandmadeRun:
    """One whole run, in-process, of the hand-made folder on a fresh warehouse (read it, do not change it).
    Made once for the whole session: under pytest-xdist the first worker that needs it makes it in the
    session's shared temp folder, under a file lock, and the other worker reads what it left (the run's
    outcome and printed lines pickled beside the warehouse)."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # the folder of every worker's basetemp
    tmp = shared / "handmade"
    done = tmp / "outcome.pickle"
    with open(shared / "handmade.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not done.exists():
            tmp.mkdir(exist_ok=True)
            landing = build(tmp / "landing")
            # the copies keep the name: DuckDB names the database after the file, and dbt's views refer to it
            warehouse = tmp / "w.duckdb"
            lines: list[str] = []
            with pytest.MonkeyPatch.context() as mp:
                for key, value in run_env(landing, warehouse).items():
                    mp.setenv(key, value)
                mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
                outcome = run_pipeline(echo=lines.append, log_level="WARNING")
            done.write_bytes(pickle.dumps((outcome, lines)))
        outcome, lines = pickle.loads(done.read_bytes())
    return HandmadeRun(tmp / "landing", tmp / "w.duckdb", outcome, lines)


@pytest.fixture
def copy_of_handmade_run(handmade_run, tmp_path) -> HandmadeRun:
    """The landing folder and the published warehouse of `handmade_run`, copied into this test's own
    folder: the state a test is in after its own first run (the file manifest keeps paths relative to
    the landing folder, so the next run sees the same files as unchanged)."""
    landing = tmp_path / "landing"
    warehouse = tmp_path / handmade_run.warehouse.name
    shutil.copytree(handmade_run.landing, landing)
    for suffix in ("", ".wal"):
        source = Path(f"{handmade_run.warehouse}{suffix}")
        if source.exists():
            shutil.copy2(source, f"{warehouse}{suffix}")
    reports = handmade_run.warehouse.parent / "reports"  # the reports published with the run
    if reports.is_dir():
        shutil.copytree(reports, tmp_path / "reports")
    return HandmadeRun(landing, warehouse, handmade_run.outcome, handmade_run.lines)
