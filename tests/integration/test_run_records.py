"""Runs started outside `scorecard run` (schedule, UI) are recorded by the run-status sensors,
failed ones with their reason; the first thing a run does is validate the scheme file."""

from pathlib import Path

import duckdb
import yaml
from dagster import DagsterEventType, DagsterInstance, build_run_status_sensor_context

from orchestration.definitions import defs
from orchestration.publish.run_records import failure_reason
from orchestration.resources import ScorecardSettings
from orchestration.sensors import record_failed_runs

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-06-30T23:59:59+08:00"


def _run(tmp_path, monkeypatch, landing: Path, config: Path):
    warehouse = tmp_path / "w.duckdb"
    for k, v in {
        "SCORECARD_LANDING": landing,
        "SCORECARD_CONFIG": config,
        "SCORECARD_WAREHOUSE": warehouse,
        "SCORECARD_AS_OF": AS_OF,
    }.items():
        monkeypatch.setenv(k, str(v))
    instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def("nightly_scorecard").execute_in_process(instance=instance, raise_on_error=False)
    settings = ScorecardSettings(landing=str(landing), config=str(config), warehouse=str(warehouse), as_of=AS_OF)
    return instance, result, settings, warehouse


def test_failed_run_is_recorded_with_its_reason(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "crm" / "reps").mkdir(parents=True)  # crm/teams, a required entity, is missing
    instance, result, settings, warehouse = _run(tmp_path, monkeypatch, landing, ROOT / "config" / "scorecard.yml")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
    context = build_run_status_sensor_context(
        sensor_name="record_failed_runs",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"settings": settings},
    ).for_run_failure()
    record_failed_runs(context)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        run_id, status, reason, published = con.execute(
            "select run_id, status, failure_reason, published from audit.runs"
        ).fetchone()
    assert (run_id, status, published) == (result.run_id, "failed", False)
    assert "required entity crm/teams has no file (.csv, .parquet, .jsonl)" in reason
    assert "raw__crm__teams" in reason
    # the sensor rendered the failed run's auditor report: it leads with what failed, and shows no
    # "0 failed" for checks that never ran
    html = (warehouse.parent / "reports" / "auditor" / f"{result.run_id}.html").read_text(encoding="utf-8")
    lead = html.split('id="what-failed"', 1)[1].split("</p>", 1)[0]
    assert "required entity crm/teams has no file" in lead and "Nothing of this run was published" in lead
    # the other entities were ingested and checked before the three required ones stopped the run
    assert "No check failed: the run stopped on the error above, outside its checks" in lead
    assert html.index('id="what-failed"') < html.index('id="run"')
    assert '<div class="label">Failed checks</div><div class="value">none</div>' in html
    assert '<div class="label">Failed checks</div><div class="value">0</div>' not in html
    assert "failed: the run failed outside its checks (failure reason above)" in html


def test_invalid_scheme_stops_the_run_before_anything_is_written(tmp_path, monkeypatch):
    bad = yaml.safe_load((ROOT / "config" / "scorecard.yml").read_text(encoding="utf-8"))
    bad["schemes"]["mature"]["weights"]["nps"] = 0.5
    config = tmp_path / "bad.yml"
    config.write_text(yaml.safe_dump(bad), encoding="utf-8")
    _, result, _, warehouse = _run(tmp_path, monkeypatch, tmp_path / "landing", config)
    assert not result.success
    reason = failure_reason([e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE])
    assert reason.startswith("scheme_config: ") and "schemes.mature.weights: weights add up to 1.30, not 1" in reason
    assert not warehouse.exists()
