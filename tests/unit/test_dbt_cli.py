"""How dbt is started (orchestration/transform/dbt_cli.py): its command line, its environment, and the two
steps of dagster-dbt's DbtCliResource that the pipeline's resource skips through private members."""

import json
import os
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform import dbt_cli
from orchestration.transform.dbt_child import PARENT_ENV


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
    monkeypatch.delenv("SCORECARD_DBT_DATABASE", raising=False)
    env = dbt_cli.dbt_env("/w/build.duckdb", SCORECARD_PG_HOST="db")
    assert env["SCORECARD_DBT_DATABASE"] == "/w/build.duckdb"
    assert env[PARENT_ENV] == str(os.getpid())
    assert env["SCORECARD_PG_HOST"] == "db"
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert "SCORECARD_DBT_DATABASE" not in dbt_cli.dbt_env(None)  # another engine: no DuckDB file
    with dbt_cli.dbt_child_environment("/w/build.duckdb"):
        assert os.environ["SCORECARD_DBT_DATABASE"] == "/w/build.duckdb"
    assert "SCORECARD_DBT_DATABASE" not in os.environ  # set only while dbt starts


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
