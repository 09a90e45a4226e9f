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
def _session_shared_folder(tmp_path_factory, worker_id):
    """The folder where `tests.shared.once` makes what several test files share, once per session."""
    set_shared_folder(shared_folder(tmp_path_factory, worker_id))

