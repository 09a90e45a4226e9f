"""Sensors. A new drop in the landing folder starts the nightly job (`landing_drop_sensor`).

Run-failure sensor: a failed run of the nightly job started by the schedule or the UI leaves its row
in audit.runs with the reason, and its audit rows are published (succeeded runs are recorded by the
publish step itself; `scorecard run` records its own failed runs)."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from orchestration.contract.layout import EXTENSIONS
from orchestration.publish.run_records import failure_reason, record_failed_run
from orchestration.report.auditor import render_auditor_report
from orchestration.report.failures import report_failure_text
from orchestration.report.index import refresh_index
from orchestration.resources import ScorecardSettings
from orchestration.schedules import nightly_run_request, nightly_scorecard_job
from orchestration.scheme.errors import SchemeError


@run_failure_sensor(monitored_jobs=[nightly_scorecard_job], name="record_failed_runs")
def record_failed_runs(context: RunFailureSensorContext, settings: ScorecardSettings):
    run = context.dagster_run
    stats = context.instance.get_run_stats(run.run_id)
    reason = failure_reason(context.get_step_failure_events()) or context.failure_event.message
    scheme = settings.scheme()
    options = run.run_config.get("resources", {}).get("run_options", {}).get("config", {})
    if str(options.get("target", "")).strip().lower() == "spark":
        # the Spark ledger is written by a Spark session: the next Spark run records this one as abandoned
        # (engines/spark_flow.py record_abandoned_runs); its reason stays in Dagster's run history
        context.log.warning(f"run {run.run_id} (target spark) failed: {reason}; recorded by the next Spark run")
        return
    record_failed_run(
        settings.warehouse,
        run.run_id,
        started_at=stats.start_time,
        finished_at=stats.end_time,
        as_of=settings.as_of_time(scheme),
        failure_reason=reason,
        landing=settings.landing,
        config=settings.config,
        # a run in progress holds the warehouse: the tick fails within the sensor's time limit and the
        # next tick records the run (writer_lock.WarehouseBusy)
        wait_seconds=45,
    )
    try:  # the auditor's report of the failed run, now that the published warehouse records it
        render_auditor_report(settings.warehouse, run.run_id, timezone=scheme.timezone, language=scheme.report.language)
    except Exception as exc:
        context.log.error(report_failure_text("auditor report", exc))
    refresh_index(settings.warehouse, context.log.warning)


# --- a new drop in the landing folder starts the nightly job ------------------------------------


def landing_state(landing: Path) -> dict[str, list[int]]:
    """{path relative to the landing folder: [size, mtime in ns]} of every data file."""
    state: dict[str, list[int]] = {}
    if landing.is_dir():
        for p in sorted(landing.rglob("*")):
            if p.is_file() and p.suffix.lower() in EXTENSIONS:
                st = p.stat()
                state[p.relative_to(landing).as_posix()] = [st.st_size, st.st_mtime_ns]
    return state


def landing_changes(before: dict[str, list[int]], after: dict[str, list[int]]) -> dict[str, list[str]]:
    return {
        "new": sorted(set(after) - set(before)),
        "changed": sorted(p for p in set(after) & set(before) if list(after[p]) != list(before[p])),
        "deleted": sorted(set(before) - set(after)),
    }


@sensor(
    job=nightly_scorecard_job,
    name="landing_drop_sensor",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts nightly_scorecard when files in the landing folder, or the exports a mapping file "
    "reads, are new, changed (size or "
    "modification time) or deleted since the sensor's cursor. The run itself reads only the new and "
    "changed files (audit.file_manifest).",
)
def landing_drop_sensor(context: SensorEvaluationContext, settings: ScorecardSettings):
    state = landing_state(Path(settings.landing))
    try:
        mapping = settings.source_mapping(settings.scheme())
    except SchemeError:  # the run it starts says what is wrong with the files; the landing folder still counts
        mapping = None
    if mapping is not None:  # exports a mapping file reads (docs/mapping.md) are drops too, under `exports:`
        state |= {f"exports:{path}": v for path, v in landing_state(mapping.folder).items()}
    before = json.loads(context.cursor) if context.cursor else {}
    changes = landing_changes(before, state)
    if not any(changes.values()):
        return SkipReason(f"no new, changed or deleted file in {settings.landing} since the last drop")
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    summary = ", ".join(f"{len(v)} {k}" for k, v in changes.items() if v)
    context.log.info(f"landing drop: {summary}")
    return SensorResult(
        cursor=json.dumps(state, sort_keys=True),
        run_requests=[
            nightly_run_request(  # the nightly window: open and previous period
                settings,
                datetime.now(UTC),
                run_key=f"landing-{digest}",
                tags={"scorecard/trigger": "landing_drop", "scorecard/landing_changes": summary},
            )
        ],
    )
