"""Whole-pipeline runs here check grades, ledgers and publishing, not the Great Expectations HTML pages
(tests/integration/test_great_expectations.py does): skip rendering them, about 15 s per run.

A whole run costs about a minute here, so a run that several tests need is made once per session and
shared by the xdist workers through a file lock (`_once`):
- the first run of the hand-made folder on a fresh warehouse (`handmade_run`): test_pipeline.py reads
  it, and the tests that go on with more runs start from a copy of its landing folder and published
  warehouse (`copy_of_handmade_run`);
- `scorecard sample --scale tiny --seed 1` then `scorecard run` (`tiny_sample_run`): test_sample_run.py
  checks it as a newcomer's run, test_closed_periods.py compares its backfill with it."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.runner import RunOutcome, run_pipeline

from ..shared import once, shared_folder
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


def _once(name: str, tmp_path_factory, worker_id, make: Callable[[Path], object]) -> tuple[Path, object]:
    """The folder `name` and what `make(folder)` returned, made once for the whole session (tests/shared.py)."""
    return once(name, make, shared_folder(tmp_path_factory, worker_id))


@pytest.fixture(scope="session")
def handmade_run(tmp_path_factory, worker_id) -> HandmadeRun:
    """One whole run, in-process, of the hand-made folder on a fresh warehouse (read it, do not change it)."""

    def make(tmp: Path):
        landing = build(tmp / "landing")
        # the copies keep the name: DuckDB names the database after the file, and dbt's views refer to it
        warehouse = tmp / "w.duckdb"
        lines: list[str] = []
        with pytest.MonkeyPatch.context() as mp:
            for key, value in run_env(landing, warehouse).items():
                mp.setenv(key, value)
            mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
            outcome = run_pipeline(echo=lines.append, log_level="WARNING")
        return outcome, lines

    folder, (outcome, lines) = _once("handmade", tmp_path_factory, worker_id, make)
    return HandmadeRun(folder / "landing", folder / "w.duckdb", outcome, lines)


TINY_AS_OF = "2026-12-31T23:59:59+08:00"


@dataclass(frozen=True)
class CliRun:
    landing: Path
    warehouse: Path
    sample_out: str  # what `scorecard sample` printed
    code: int  # `scorecard run`'s exit code
    out: str  # what `scorecard run` printed


@pytest.fixture(scope="session")
def tiny_sample_run(tmp_path_factory, worker_id) -> CliRun:
    """`scorecard sample --scale tiny --seed 1` then `scorecard run` at TINY_AS_OF with the default scheme,
    through the CLI as a newcomer types them, on a fresh warehouse (read it, do not change it)."""
    root = Path(__file__).resolve().parents[2]

    def make(tmp: Path):
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            for env in ("SCORECARD_LANDING", "SCORECARD_CONFIG", "SCORECARD_WAREHOUSE", "SCORECARD_AS_OF"):
                mp.delenv(env, raising=False)
            mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
            with contextlib.redirect_stdout(out):
                assert main(["sample", "--out", str(tmp / "sample"), "--seed", "1", "--scale", "tiny"]) == 0
            sample_out, out = out.getvalue(), io.StringIO()
            with contextlib.redirect_stdout(out):
                landing, config = tmp / "sample" / "landing", root / "config" / "scorecard.yml"
                code = main(
                    ["run", "--landing", str(landing), "--config", str(config), "--warehouse", str(tmp / "x.duckdb")]
                    + ["--as-of", TINY_AS_OF, "--log-level", "WARNING"]
                )
        return sample_out, code, out.getvalue()

    folder, (sample_out, code, out) = _once("tiny_sample", tmp_path_factory, worker_id, make)
    return CliRun(folder / "sample" / "landing", folder / "x.duckdb", sample_out, code, out)


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
