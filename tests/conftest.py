"""Settings for the whole test session."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _ephemeral_dagster_instance():
    """Runs made by tests go to an in-memory Dagster instance, not to the developer's DAGSTER_HOME (that
    `make` exports): test runs stay out of the run history of `dagster dev`, and a whole run is about 20 s
    faster without writing its thousand-odd events to SQLite on disk. Subprocesses inherit this."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        yield


def pytest_collection_modifyitems(config, items):
    """One xdist group per test file (module-scoped fixtures stay shared, as with --dist loadfile), except
    that the files reading the shared hand-made run (tests/e2e/conftest.py `handmade_run`) form one group:
    the run is made once per session, not once on each worker (`make test` uses --dist loadgroup)."""
    shared = {"handmade_run", "copy_of_handmade_run"}
    modules = {item.module.__name__ for item in items if shared & set(item.fixturenames)}
    for item in items:
        name = item.module.__name__
        item.add_marker(pytest.mark.xdist_group("handmade_run" if name in modules else name))
