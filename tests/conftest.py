"""Settings for the whole test session."""

import pytest

from .shared import set_shared_folder, shared_folder


@pytest.fixture(autouse=True, scope="session")
def _ephemeral_dagster_instance():
    """Runs made by tests go to an in-memory Dagster instance, not to the developer's DAGSTER_HOME (that
    `make` exports): test runs stay out of the run history of `dagster dev`, and a whole run is about 20 s
    faster without writing its thousand-odd events to SQLite on disk. Subprocesses inherit this."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        yield


@pytest.fixture(autouse=True, scope="session")
def _session_shared_folder(tmp_path_factory, request):
    """The folder where `tests.shared.once` makes what several test files share, once per session (an
    xdist worker has `workerinput`; without xdist there is one process)."""
    set_shared_folder(shared_folder(tmp_path_factory, "gw" if hasattr(request.config, "workerinput") else "master"))


# The files that take longest (whole pipeline runs, dbt builds; `make test` lists its slowest steps), slowest
# first. `make test` hands whole files to its two workers (--dist loadfile), and a worker is given another
# file while it still has up to two tests to go: by default xdist hands out the files with most tests first,
# which left these one-test files, each minutes long, queued behind one another on one worker at the end
# of the session while the other had nothing left to do. Handed out first, they run beside each other and
# the many short files fill the gaps. (Order only: every test runs as before.)
SLOW_FILES_FIRST = (
    "tests/e2e/test_recovery.py",  # makes the shared hand-made run, which the next e2e files read
    "tests/e2e/test_closed_periods.py",  # makes the shared tiny-sample run (test_sample_run.py reads it)
    "tests/e2e/test_write_audit_publish.py",
    "tests/engines/test_postgres.py",
    "tests/integration/test_dbt_models.py",
    "tests/integration/test_bench.py",
    "tests/e2e/test_pipeline.py",
    "tests/integration/test_dbt_pending_events.py",
    "tests/e2e/test_sample_run.py",
    "tests/integration/test_dbt_reviews.py",
    "tests/integration/test_analysis_marts.py",
)


def pytest_configure(config):
    # hand out files in the order of the collection (below), not by their number of tests
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    rank = {path: i for i, path in enumerate(SLOW_FILES_FIRST)}
    root = config.rootpath
    items.sort(key=lambda item: rank.get(item.path.relative_to(root).as_posix(), len(rank)))
