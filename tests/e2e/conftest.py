"""Whole-pipeline runs here check grades, ledgers and publishing, not the Great Expectations HTML pages
(tests/integration/test_great_expectations.py does): skip rendering them, about 15 s per run.

The first run of the hand-made folder on a fresh warehouse is the same in several tests: it runs once
per session (`handmade_run`; its test files share one xdist worker, tests/conftest.py); test_pipeline.py
reads it, and the tests that go on with more runs start from a copy of its landing folder and published
warehouse (`copy_of_handmade_run`)."""

from __future__ import annotations

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
def handmade_run(tmp_path_factory) -> HandmadeRun:
    """One whole run, in-process, of the hand-made folder on a fresh warehouse (read it, do not change it)."""
    tmp = tmp_path_factory.mktemp("handmade")
    landing = build(tmp / "landing")
    # the copies keep the name: DuckDB names the database after the file, and dbt's views refer to it
    warehouse = tmp / "w.duckdb"
    lines: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        for key, value in run_env(landing, warehouse).items():
            mp.setenv(key, value)
        mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
        outcome = run_pipeline(echo=lines.append, log_level="WARNING")
    return HandmadeRun(landing, warehouse, outcome, lines)


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
