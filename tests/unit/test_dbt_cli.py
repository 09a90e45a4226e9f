"""How dbt is started (orchestration/transform/dbt_cli.py): its command line, its environment, and the two
steps of dagster-dbt's DbtCliResource that the pipeline's resource skips through private members."""

import json
import os
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform import dbt_cli
from orchestration.transform.dbt_child import PARENT_ENV, WORKDIR_ENV, enter_workdir


def test_a_target_of_another_engine_builds_in_its_own_target_path():
    args = dbt_cli.dbt_args("build", target="postgres", run_vars={"grain": "quarter"}, exclude_unit_tests=True)
    assert args[0] == "build"
    assert args[args.index("--target") + 1] == "postgres"
    assert args[args.index("--target-path") + 1] == "target/postgres"
    assert args[args.index("--log-path") + 1] == "logs/postgres"
    assert args[args.index("--exclude") + 1] == "resource_type:unit_test"
    assert args[args.index("--project-dir") + 1] == args[args.index("--profiles-dir") + 1] == str(DBT_PROJECT_DIR)
    assert json.loads(args[args.index("--vars") + 1]) == {"grain": "quarter"}


def test_the_dagster_resource_gets_no_project_dirs_and_the_default_target():
    args = dbt_cli.dbt_args("build", run_vars={"period_from": None}, exclude_unit_tests=True, project_dirs=False)
    assert args == ["build", "--exclude", "resource_type:unit_test", "--vars", '{"period_from": null}']


def test_selection_paths_and_extra_arguments():
    args = dbt_cli.dbt_args(
        "run", select=["a", "+b"], target_path=Path("/t/target"), log_path="/t/logs", extra=["--quiet"]
    )
    assert args[:4] == ["run", "--select", "a", "+b"]
    assert "--target" not in args
    assert args[args.index("--target-path") + 1] == "/t/target"
    assert args[args.index("--log-path") + 1] == "/t/logs"
    assert args[-1] == "--quiet"


def test_the_child_builds_in_the_given_database_and_dies_with_this_process(monkeypatch):
    monkeypatch.delenv(dbt_cli.DATABASE_ENV, raising=False)
    env = dbt_cli.dbt_env("/w/build.duckdb", SCORECARD_PG_HOST="db")
    assert env[dbt_cli.DATABASE_ENV] == "/w/build.duckdb"
    assert env[PARENT_ENV] == str(os.getpid())
    assert env["SCORECARD_PG_HOST"] == "db"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert dbt_cli.DATABASE_ENV not in dbt_cli.dbt_env(None)  # another engine: no DuckDB file
    with dbt_cli.dbt_child_environment("/w/build.duckdb"):
        assert os.environ[dbt_cli.DATABASE_ENV] == "/w/build.duckdb"
    assert dbt_cli.DATABASE_ENV not in os.environ  # set only while dbt starts


def test_the_pipeline_names_the_database_by_its_bare_name_in_its_own_folder(monkeypatch, tmp_path):
    env = dbt_cli.dbt_env(tmp_path / "w" / ".build" / "w.duckdb", relative=True)
    assert (env[dbt_cli.DATABASE_ENV], env[WORKDIR_ENV]) == ("w.duckdb", str(tmp_path / "w" / ".build"))
    assert dbt_cli.dbt_env("/w/build.duckdb")[WORKDIR_ENV] == ""  # a whole path: dbt stays where it starts
    # scorecard-dbt: into the folder; dbt's folders, relative to where it started, made absolute first
    (tmp_path / "w" / ".build").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(WORKDIR_ENV, str(tmp_path / "w" / ".build"))
    monkeypatch.setenv("DBT_TARGET_PATH", "state")
    monkeypatch.setenv("DBT_LOG_PATH", "/var/log/dbt")
    for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR"):
        monkeypatch.delenv(name, raising=False)
    enter_workdir()
    assert Path.cwd() == tmp_path / "w" / ".build"
    assert os.environ["DBT_PROJECT_DIR"] == os.environ["DBT_PROFILES_DIR"] == str(tmp_path)  # where it started
    assert os.environ["DBT_TARGET_PATH"] == str(tmp_path / "state")
    assert os.environ["DBT_LOG_PATH"] == "/var/log/dbt"


def test_a_parse_seed_that_cannot_be_written_or_read_fails_nothing(monkeypatch, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(dbt_cli, "PARSE_SEEDS", blocker / "seeds")  # cannot be made: OSError inside
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / dbt_cli.PARSE_STATE).write_bytes(b"state")
    assert not dbt_cli.keep_parse_state(tmp_path / "state", "w.duckdb")
    assert not dbt_cli.seed_parse_state(tmp_path / "new", "w.duckdb")
    assert not (tmp_path / "new").exists()
    assert not list(tmp_path.glob("**/*.tmp"))  # no half-written copy left


def test_the_executable_is_scorecard_dbt_of_this_environment():
    assert dbt_cli.dbt_executable() == str(Path(sys.executable).parent / "scorecard-dbt")


# --- the private members of dagster-dbt the resource overrides ----------------------------------------


def test_dagster_dbt_still_has_the_private_steps_the_resource_skips():
    """If this fails, dagster-dbt renamed or changed the steps ScorecardDbtCliResource skips (dbt_cli.py
    SKIPPED_STEPS): the overrides no longer apply and every dbt invocation pays `dbt --version` and an
    in-process adapter again. Find the new names in dagster_dbt/core/resource.py and update the overrides."""
    import inspect

    from dagster_dbt import DbtCliResource

    cli_source = inspect.getsource(DbtCliResource.cli)
    for name in dbt_cli.SKIPPED_STEPS:
        assert name in vars(DbtCliResource), f"dagster-dbt's DbtCliResource has no {name} any more"
        assert f"self.{name}" in cli_source, f"DbtCliResource.cli no longer calls self.{name}"
    assert hasattr(vars(DbtCliResource)["_cli_version"], "func"), "_cli_version is no longer a cached_property"
    resource_class = dbt_cli.scorecard_dbt_cli_resource_class()
    for name in dbt_cli.SKIPPED_STEPS:
        assert name in vars(resource_class)
    assert dbt_cli.ScorecardDbtCliResource is resource_class


def test_an_invocation_runs_neither_dbt_version_nor_an_adapter(monkeypatch):
    """DbtCliResource.cli with the overrides goes straight to the dbt process: no `dbt --version`
    subprocess, no adapter (dagster-dbt's DbtCliInvocation.run is stubbed to see what it is given)."""
    import dagster_dbt.core.resource as resource_module

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dagster-dbt started a subprocess before dbt: {args}")

    def no_adapter(*args, **kwargs):
        raise AssertionError("dagster-dbt initialised a dbt adapter")

    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return "invocation"

    monkeypatch.setattr(resource_module, "check_output", no_subprocess)
    monkeypatch.setattr(resource_module.DbtCliResource, "_initialize_dbt_core_adapter", no_adapter)
    monkeypatch.setattr(resource_module.DbtCliInvocation, "run", staticmethod(fake_run))
    resource = dbt_cli.dbt_resource()
    assert resource.cli(["parse"]) == "invocation"
    assert seen["adapter"] is None
    assert seen["args"][0] == dbt_cli.dbt_executable()
    from importlib.metadata import version

    assert str(seen["cli_version"]) == version("dbt-core")


def test_another_dbt_is_asked_its_version(monkeypatch):
    import dagster_dbt.core.resource as resource_module

    monkeypatch.setattr(resource_module, "check_output", lambda cmd: b"Core:\n  - installed: 9.8.7\n")
    resource = dbt_cli.scorecard_dbt_cli_resource_class()(project_dir=str(DBT_PROJECT_DIR), dbt_executable="/bin/true")
    assert str(resource._cli_version) == "9.8.7"


def test_the_values_of_a_run_travel_in_the_environment_and_the_rest_as_vars():
    run_vars = {
        "grain": "quarter",
        "as_of": "2026-12-31 15:59:59",
        "run_id": "r-1",
        "period_from": "2026-Q3",
        "period_to": None,
    }
    stable, env = dbt_cli.split_run_values(run_vars)
    assert stable == {"grain": "quarter"}
    assert env == {
        "SCORECARD_RUN_RUN_ID": "r-1",
        "SCORECARD_RUN_AS_OF": "2026-12-31 15:59:59",
        "SCORECARD_RUN_PERIOD_FROM": "2026-Q3",
        "SCORECARD_RUN_PERIOD_TO": "",  # none: empty, so that a value left in the parent never reaches dbt
    }
    # two runs of one scheme: the same --vars, so dbt's partial-parse state holds
    other, _ = dbt_cli.split_run_values(run_vars | {"as_of": "2027-01-01 00:00:00", "run_id": "r-2"})
    assert dbt_cli.dbt_args("build", run_vars=other) == dbt_cli.dbt_args("build", run_vars=stable)


def test_the_run_values_are_in_the_environment_only_while_dbt_starts(monkeypatch):
    monkeypatch.setenv("SCORECARD_RUN_AS_OF", "left over")
    _, env = dbt_cli.split_run_values({"as_of": "2026-12-31 15:59:59"})
    with dbt_cli.dbt_child_environment("/w/build.duckdb", **env):
        assert os.environ["SCORECARD_RUN_AS_OF"] == "2026-12-31 15:59:59"
        assert os.environ["SCORECARD_RUN_RUN_ID"] == ""
    assert os.environ["SCORECARD_RUN_AS_OF"] == "left over"
    assert "SCORECARD_RUN_RUN_ID" not in os.environ


def test_the_dbt_state_is_kept_beside_the_warehouse():
    assert dbt_cli.state_dir("/srv/wh/scorecard.duckdb") == Path("/srv/wh/.dbt/scorecard.duckdb")


class _Log:
    def __init__(self) -> None:
        self.info_lines: list[str] = []
        self.debug_lines: list[str] = []

    def info(self, message: str) -> None:
        self.info_lines.append(message)

    def debug(self, message: str) -> None:
        self.debug_lines.append(message)


def test_dbt_progress_is_one_line_per_tenth_of_the_nodes():
    from orchestration.transform.defs import _DbtLines

    log = _Log()
    out = _DbtLines(log)
    outcomes = ["OK created sql view model staging.a", "PASS not_null_a_id", "WARN unique_b", "ERROR c", "SKIP d"]
    for i in range(1, 21):
        # dbt's START line of a node is not progress; its end is, whatever the outcome; lines may be split
        text = f"{i} of 20 START test x .... [RUN]\n{i} of 20 {outcomes[i % 5]} .... [done in 0.1s]\n"
        out.write(text[:7])
        out.write(text[7:])
    out.write("Done. PASS=17 WARN=1 ERROR=1 SKIP=1 TOTAL=20\n")
    progress = [line.split(",")[0] for line in log.info_lines[:-1]]
    assert progress == [f"dbt: {n} of 20 nodes done" for n in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20)]
    assert log.info_lines[-1] == "dbt: Done. PASS=17 WARN=1 ERROR=1 SKIP=1 TOTAL=20"
    assert len(log.debug_lines) == 40  # every line of dbt, in the run's log
