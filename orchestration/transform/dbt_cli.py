"""How dbt is started: the one place for its executable, its command line and its environment.

Every dbt of the pipeline starts here: the Dagster dbt asset through `dbt_resource()` (dagster-dbt's
DbtCliResource, transform/defs.py), the PostgreSQL engine's `dbt build --target postgres` and the
what-if's `dbt run` through `run_dbt` (a subprocess outside Dagster), the Spark engine's in-process
dbtRunner through `dbt_args`.

- executable: `scorecard-dbt` of this environment (dbt_child.py: dbt dies with the process that
  started it), `dbt` when the package's scripts are not installed;
- command line (`dbt_args`): the project and profiles folder (dbt_project/), the target, `--vars` as
  JSON, the selection; a target other than the default builds into target/<target>/ and logs/<target>/,
  so the manifest Dagster loads (target/manifest.json) is never rewritten;
- environment (`child_variables`): SCORECARD_DBT_DATABASE (profiles.yml builds in that DuckDB file, the
  run's build copy or the what-if's copy), SCORECARD_DBT_PARENT_PID (read by scorecard-dbt) and no
  anonymous usage statistics.

dagster-dbt (and dbt-core with it, about 2 s) is imported only when the Dagster resource is made: the
CLI and the what-if start dbt as a subprocess without it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from orchestration.settings import DBT_PROJECT_DIR, child_environment
from orchestration.transform.dbt_child import PARENT_ENV, WORKDIR_ENV

DATABASE_ENV = "SCORECARD_DBT_DATABASE"
# the values that change with every run: environment variables of the dbt process (SCORECARD_RUN_<NAME>),
# read by macros/run_values.sql while dbt executes, not --vars: dbt discards its partial-parse state
# whenever --vars differ from the last parse's (a full parse costs 8.2 s here, a partial one 3.9 s)
RUN_VALUES = ("run_id", "as_of", "period_from", "period_to")
RUN_VALUE_ENV = "SCORECARD_RUN_"
# the dbt target folder of the Dagster dbt step, beside the warehouse: <warehouse dir>/.dbt/<warehouse name>/
# (its partial_parse.msgpack is what the next run starts from)
STATE_DIR = ".dbt"
# dbt's partial-parse state, and the last one of each warehouse name, from which the first run on a new
# warehouse of that name starts (dbt checks it against the project, the --vars and the profile and parses
# in full when anything differs): dbt_project/target/parse_seeds/<warehouse file name>.msgpack
PARSE_STATE = "partial_parse.msgpack"
PARSE_SEEDS = DBT_PROJECT_DIR / "target" / "parse_seeds"
EXECUTABLES = ("scorecard-dbt", "dbt")
# the private members of dagster-dbt's DbtCliResource that ScorecardDbtCliResource replaces
# (tests/unit/test_dbt_cli.py fails when dagster-dbt renames them)
SKIPPED_STEPS = ("_cli_version", "_initialize_dbt_core_adapter")


def dbt_executable() -> str:
    """The dbt of this environment, even when its bin/ is not on PATH (python -m, IDEs, schedulers),
    through `scorecard-dbt`, which makes it die with the run (dbt_child.py)."""
    bin_dir = Path(sys.executable).parent
    for name in EXECUTABLES:
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    return "dbt"


def dbt_args(
    command: str,
    *,
    run_vars: Mapping[str, Any] | None = None,
    select: Sequence[str] = (),
    exclude_unit_tests: bool = False,
    target: str | None = None,
    target_path: str | Path | None = None,
    log_path: str | Path | None = None,
    project_dirs: bool = True,
    extra: Sequence[str] = (),
) -> list[str]:
    """The arguments of a dbt command (without the executable).

    `exclude_unit_tests`: dbt unit tests check the models' logic, not the night's data (`make test` runs
    them). `target`: a profiles.yml output other than the default (duckdb), built in target/<target>/
    with logs in logs/<target>/ unless `target_path` / `log_path` say otherwise. `project_dirs=False`
    for dagster-dbt's resource, which names the project and profiles folder itself."""
    args = [command]
    if select:
        args += ["--select", *select]
    if exclude_unit_tests:
        args += ["--exclude", "resource_type:unit_test"]
    if target:
        args += ["--target", target]
        target_path = target_path or f"target/{target}"
        log_path = log_path or f"logs/{target}"
    if project_dirs:
        args += ["--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR)]
    if target_path:
        args += ["--target-path", str(target_path)]
    if log_path:
        args += ["--log-path", str(log_path)]
    if run_vars is not None:
        args += ["--vars", json.dumps(dict(run_vars))]
    return [*args, *extra]


def split_run_values(run_vars: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the --vars that stay the same from one run to the next, the environment variables that carry the
    per-run values RUN_VALUES). Every per-run variable is set, empty for none, so that a value left in
    the parent's environment never reaches dbt."""
    stable = {k: v for k, v in run_vars.items() if k not in RUN_VALUES}
    env = {RUN_VALUE_ENV + k.upper(): "" if run_vars.get(k) is None else str(run_vars[k]) for k in RUN_VALUES}
    return stable, env


def state_dir(warehouse: str | Path) -> Path:
    """The dbt target folder kept with a warehouse: dbt's partial-parse file, manifest and last results."""
    p = Path(warehouse).resolve()  # dagster-dbt would put a relative target folder under dbt_project/
    return p.parent / STATE_DIR / p.name


def seed_parse_state(state: Path, database: str | Path) -> bool:
    """Start the dbt state folder `state` of a warehouse that has none from the last partial-parse state
    of a warehouse of the same file name (PARSE_SEEDS). Whether it did; never fails a run (a full disk, a
    read-only install: dbt then parses in full)."""
    target, seed = Path(state) / PARSE_STATE, PARSE_SEEDS / f"{Path(database).name}.msgpack"
    try:
        if target.exists() or not seed.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_atomically(seed, target)
        return True
    except OSError:
        return False


def keep_parse_state(state: Path, database: str | Path) -> bool:
    """Keep the partial-parse state of `state` as the seed of its warehouse name (seed_parse_state)."""
    source = Path(state) / PARSE_STATE
    try:
        if not source.exists():
            return False
        PARSE_SEEDS.mkdir(parents=True, exist_ok=True)
        _copy_atomically(source, PARSE_SEEDS / f"{Path(database).name}.msgpack")
        return True
    except OSError:
        return False


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy, then rename into place: two runs at once never read a half-written file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def child_variables(database: str | Path | None = None, relative: bool = False) -> dict[str, str]:
    """What a dbt process gets on top of this process's environment: the DuckDB file it builds in
    (profiles.yml reads DATABASE_ENV; none for another engine), this process's id (so that
    scorecard-dbt dies with it) and no anonymous usage statistics.

    `relative`: the file's bare name, with its folder as the folder scorecard-dbt starts dbt in
    (WORKDIR_ENV, dbt_child.py), so that the profile, and with it dbt's partial-parse state, does not
    depend on where the warehouse is (seed_parse_state)."""
    variables = {PARENT_ENV: str(os.getpid()), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", WORKDIR_ENV: ""}
    if database is not None and relative:
        path = Path(database).resolve()
        variables[DATABASE_ENV], variables[WORKDIR_ENV] = path.name, str(path.parent)
    elif database is not None:
        variables[DATABASE_ENV] = str(database)
    return variables


def dbt_env(database: str | Path | None = None, relative: bool = False, **extra: str) -> dict[str, str]:
    """The whole environment of a dbt subprocess (`extra`: an engine's connection settings)."""
    return child_environment(**extra, **child_variables(database, relative))


@contextmanager
def dbt_child_environment(database: str | Path | None = None, relative: bool = False, **extra: str) -> Iterator[None]:
    """`child_variables` (and `extra`: the run's values from `split_run_values`) in this process's
    environment while a dbt process is started by a library that passes its own environment on
    (dagster-dbt's DbtCliResource.cli), not for the rest of this process."""
    variables = {**extra, **child_variables(database, relative)}
    previous = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for k, v in previous.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_dbt(
    args: Sequence[str],
    *,
    database: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    relative: bool = False,
) -> subprocess.CompletedProcess:
    """dbt with `args` (from `dbt_args`) in a subprocess in dbt_project/, its output captured; the caller
    reads the return code. `database`: the DuckDB file to build in; `env`: more variables (an engine's);
    `relative`: the file by its bare name, dbt started in its folder (child_variables)."""
    return subprocess.run(
        [dbt_executable(), *args],
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(database, relative, **dict(env or {})),
        capture_output=True,
        text=True,
        check=False,
    )


# --- the Dagster side ------------------------------------------------------------------------------


@cache
def dbt_project():
    """The one DbtProject (its manifest is prepared by `make setup`, never parsed on import)."""
    from dagster_dbt import DbtProject

    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


@cache
def scorecard_dbt_cli_resource_class() -> type:
    """DbtCliResource without two steps dagster-dbt 0.29 takes before every invocation, worth seconds per
    run and of no use here: `dbt --version` in a subprocess (the dbt of this environment is the dbt-core
    package installed in it) and an in-process dbt adapter (it loads the profile and every macro) that
    serves only `fetch_column_metadata` / `fetch_row_counts`, which these assets do not call.

    dagster-dbt 0.29 has no public switch for either (DbtCliResource.cli always calls both), so this
    overrides its private members `SKIPPED_STEPS`; tests/unit/test_dbt_cli.py fails if they are renamed,
    instead of the two steps silently running again. Made on first use: dagster-dbt is imported here."""
    from dagster_dbt import DbtCliResource
    from packaging import version

    class ScorecardDbtCliResource(DbtCliResource):
        @cached_property
        def _cli_version(self) -> version.Version:
            if Path(self.dbt_executable).parent == Path(sys.executable).parent:
                return version.parse(importlib.metadata.version("dbt-core"))
            return DbtCliResource._cli_version.func(self)  # another dbt: ask it

        def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
            return None

    # a module-level name (see __getattr__), not a local class of this function, for whoever looks it up
    ScorecardDbtCliResource.__module__ = __name__
    ScorecardDbtCliResource.__qualname__ = ScorecardDbtCliResource.__name__
    return ScorecardDbtCliResource


def __getattr__(name: str) -> Any:
    if name == "ScorecardDbtCliResource":
        return scorecard_dbt_cli_resource_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def dbt_resource():
    """The `dbt` resource of the code location: the project's dbt through scorecard-dbt."""
    return scorecard_dbt_cli_resource_class()(
        project_dir=dbt_project(), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable()
    )
