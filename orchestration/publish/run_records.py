"""audit.runs: one row per run of the nightly job, succeeded or failed, with its check counts.

Written by `scorecard run` after its in-process run, and by the run-status sensors for runs that
the schedule or the UI starts (sensors.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from orchestration.warehouse import connect, ensure_audit_tables
from orchestration.warehouse.build_copy import AuditPublish, publish_audit_only


def _naive_utc(value: datetime | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def record_run(
    warehouse: str,
    run_id: str,
    *,
    started_at,
    finished_at,
    as_of,
    status: str,
    failure_reason: str | None,
    published: bool,
    landing: str,
    config: str,
) -> tuple[int, int]:
    """Replace this run's row in audit.runs; return (checks passed, checks failed) of the run."""
    with connect(warehouse) as con:
        ensure_audit_tables(con)
        passed, failed = con.execute(
            "select count(*) filter (where passed), count(*) filter (where not passed) "
            "from audit.check_results where run_id = ?",
            [run_id],
        ).fetchone()
        con.execute("delete from audit.runs where run_id = ?", [run_id])
        con.execute(
            "insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                _naive_utc(started_at),
                _naive_utc(finished_at),
                _naive_utc(as_of),
                status,
                failure_reason,
                passed,
                failed,
                published,
                landing,
                config,
            ],
        )
    return passed, failed


def failure_reason(step_failure_events) -> str | None:
    """'<step>: <deepest error message>' for each failed step, joined with '; '."""
    reasons = []
    for event in step_failure_events:
        err = event.step_failure_data.error if event.step_failure_data else None
        while err is not None and err.cause is not None:
            err = err.cause
        reasons.append(f"{event.step_key}: {err.message.strip() if err else event.message}")
    return "; ".join(reasons) or None


def record_failed_run(
    warehouse: str,
    run_id: str,
    *,
    started_at,
    finished_at,
    as_of,
    failure_reason: str | None,
    landing: str,
    config: str,
    wait_seconds: float = 600.0,
    free_build_first: bool = False,
) -> AuditPublish:
    """A failed run: publish its audit rows and its audit.runs row (the published marts stay as they
    were). Under the warehouse's writer lock (re-entrant for the run that holds it; a sensor recording a
    run of the daemon waits for a run in progress). Never erases (publish.publish_audit_only): a run
    whose marts were published before a later step failed stays published, with the reason."""
    from orchestration.warehouse.writer_lock import acquire, release

    acquire(warehouse, run_id, wait_seconds=wait_seconds)
    try:
        return publish_audit_only(
            warehouse,
            run_id,
            {
                "started_at": started_at,
                "finished_at": finished_at,
                "as_of": as_of,
                "status": "failed",
                "failure_reason": failure_reason,
                "landing": landing,
                "config": config,
            },
            free_build_first=free_build_first,
        )
    finally:  # the run is over once it is recorded
        release(warehouse, run_id, force=True)
