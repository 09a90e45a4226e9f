"""The code location loads, and its asset graph keeps the names analysts and schedules rely on."""

import pytest

from orchestration.definitions import defs

EXPECTED_RAW = {
    "raw/crm__teams",
    "raw/crm__reps",
    "raw/crm__customers",
    "raw/crm__deals",
    "raw/crm__targets",
    "raw/crm__proposals",
    "raw/crm__followups",
    "raw/crm__interactions",
    "raw/crm__feedback_self_reported",
    "raw/crm__adjustments",
    "raw/crm__improvement_actions",
    "raw/crm__rep_devices",
    "raw/survey__invitations",
    "raw/survey__responses",
    "raw/review__flag_decisions",
    "raw/tickets__tickets",
    "raw/cfg_scheme_weights",
    "raw/cfg_scoring_points",
    "raw/cfg_grade_bands",
    "raw/cfg_anomaly_policy",
}


def test_definitions_load_with_job_schedule_and_resources():
    job = defs.resolve_job_def("nightly_scorecard")
    assert job.name == "nightly_scorecard"
    schedule = defs.resolve_schedule_def("nightly_scorecard_0200_shanghai")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert set(defs.resources) == {"settings", "dbt", "run_options", "faults"}


def test_run_choices_are_run_config_of_the_job():
    """Full refresh, Data Docs and the engine target are run config (the launchpad can set them), with the
    defaults of a nightly run; nothing about them is read from the environment by the code location."""
    job = defs.resolve_job_def("nightly_scorecard")
    fields = job.run_config_schema.config_type.fields["resources"].config_type.fields
    options = fields["run_options"].config_type.fields["config"].config_type.fields
    assert {name: options[name].default_value for name in options} == {
        "full_refresh": False,
        "data_docs": True,
        "target": "duckdb",
    }
    assert fields["faults"].config_type.fields["config"].config_type.fields["kill_at"].default_value == ""


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert EXPECTED_RAW <= keys
    assert {"marts/indicator_values", "marts/scorecard"} <= keys
    assert {"audit/audit_flag_reviews", "audit/audit_excluded_responses"} <= keys
    # groups follow the dbt folders
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["marts/scorecard"] == "dbt_marts"
    assert groups["staging/stg_crm__deals"] == "dbt_staging"
    assert groups["raw/crm__deals"] == "ingest"
    assert groups["director_report"] == "report"
    assert groups["published_warehouse"] == "publish"
    # every dbt model depends, through staging, on the raw layer; dbt tests are asset checks
    assert any(c.asset_key.to_user_string() == "marts/scorecard" for c in graph.asset_check_keys)
    def parents(name: str) -> set[str]:
        key = next(k for k in graph.get_all_asset_keys() if k.to_user_string() == name)
        return {k.to_user_string() for k in graph.get(key).parent_keys}

    # the reports are rendered before publishing and published with the marts (publish.py)
    assert parents("published_warehouse") == {"marts/scorecard", "marts/indicator_values", "director_report"}
    assert {"marts/scorecard", "marts/rep_feedback"} <= parents("director_report")


def test_the_code_location_imports_production_code_only():
    """Loading the code location imports no developer tool (tools/: sample generator, bench harness,
    anomaly evaluation) and no test code; fault injection is a resource that does nothing by default."""
    import subprocess
    import sys

    probe = (
        "import sys, orchestration.definitions; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tools', 'tests')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert defs.resources["faults"].kill_at == ""


def test_the_engine_target_is_checked():
    from orchestration.resources import RunOptions

    assert [RunOptions(target=t).engine() for t in ("duckdb", " Postgres ", "spark")] == ["duckdb", "postgres", "spark"]
    with pytest.raises(ValueError, match="run_options.target='oracle': must be one of duckdb, postgres, spark"):
        RunOptions(target="oracle").engine()
