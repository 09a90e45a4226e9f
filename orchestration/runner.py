"""Run the nightly job in-process (what `scorecard run` does) and summarise it from the warehouse."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import DagsterEventType, DagsterInstance

from .run_records import failure_reason, record_failed_run
from .warehouse import connect


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    failure: str | None = None
    counts: list[tuple] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: int = 0
    checks_by_kind: list[tuple] = field(default_factory=list)  # (kind, passed, warned, failed)
    grades: list[tuple] = field(default_factory=list)
    flags: int | None = None
    closed_periods: list[str] = field(default_factory=list)  # kept out of every refresh window
    report: Path | None = None
    files: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> status -> files (manifest)
    deleted_files: list[tuple[str, str]] = field(default_factory=list)  # (entity, path) deleted this run


def _summarise(warehouse: str, outcome: RunOutcome) -> None:
    with connect(warehouse, read_only=True) as con:
        outcome.counts = con.execute(
            "select entity, files, rows_in, accepted, quarantined, exact_duplicates, superseded "
            "from audit.run_counts where run_id = ? order by entity",
            [outcome.run_id],
        ).fetchall()
        outcome.checks_by_kind = con.execute(
            "select check_kind, count(*) filter (where passed), "
            "count(*) filter (where not passed and severity = 'warn'), "
            "count(*) filter (where not passed and severity <> 'warn') "
            "from audit.check_results where run_id = ? group by check_kind order by check_kind",
            [outcome.run_id],
        ).fetchall()
        outcome.checks_passed = sum(r[1] for r in outcome.checks_by_kind)
        outcome.checks_failed = sum(r[2] + r[3] for r in outcome.checks_by_kind)
        try:
            outcome.grades = con.execute(
                "select period, level, grade, count(*) from marts.scorecard group by all order by all"
            ).fetchall()
        except duckdb.CatalogException:
            outcome.grades = []
        try:  # incremental ingestion: what the manifest found (published with the raw layer)
            for entity, status, n in con.execute(
                "select entity, status, count(*) from audit.file_manifest where checked_run_id = ? group by all",
                [outcome.run_id],
            ).fetchall():
                outcome.files.setdefault(entity, {})[status] = n
            outcome.deleted_files = con.execute(
                "select entity, path from audit.file_manifest where checked_run_id = ? and status = 'deleted' "
                "order by all",
                [outcome.run_id],
            ).fetchall()
        except duckdb.CatalogException:
            pass
        try:
            outcome.closed_periods = [
                r[0] for r in con.execute("select period from raw.cfg_closed_periods order by 1").fetchall()
            ]
        except duckdb.CatalogException:
            outcome.closed_periods = []
        try:
            outcome.flags = con.execute("select count(*) from marts.anomaly_flags").fetchone()[0]
        except duckdb.CatalogException:
            outcome.flags = None


def run_pipeline(
    echo: Callable[[str], None] = print,
    log_level: str = "INFO",
    period_from: str | None = None,
    period_to: str | None = None,
) -> RunOutcome:
    """One run of the nightly job in this process. With `period_from`/`period_to` (a partition range
    of the scheme's grain; one period: both equal) the dbt models rebuild those periods only."""
    from .config.scheme import load_scheme
    from .definitions import build_defs
    from .periods import RANGE_END, RANGE_START
    from .resources import parse_as_of

    started = datetime.now(UTC)
    warehouse = os.environ["SCORECARD_WAREHOUSE"]
    as_of_text = os.environ.get("SCORECARD_AS_OF", "")
    echo(f"landing   {os.environ['SCORECARD_LANDING']}")
    echo(f"config    {os.environ['SCORECARD_CONFIG']}")
    echo(f"warehouse {warehouse}")
    if os.environ.get("SCORECARD_TARGET") == "postgres":
        echo(
            f"postgres  {os.environ.get('SCORECARD_PG_HOST', 'localhost')}:"
            f"{os.environ.get('SCORECARD_PG_PORT', '5432')}/{os.environ.get('SCORECARD_PG_DATABASE', 'scorecard')}"
        )
    scheme = load_scheme(os.environ["SCORECARD_CONFIG"])
    job = build_defs(scheme.grain, scheme.first_period).resolve_job_def("nightly_scorecard")
    keys = job.partitions_def.get_partition_keys()
    if period_from or period_to:
        period_from, period_to = period_from or period_to, period_to or period_from
        echo(f"periods   {period_from} to {period_to} (the other periods keep their published rows)")
    else:  # every partition: dbt refreshes every period that is not closed
        period_from, period_to = keys[0], keys[-1]
    tags = {RANGE_START: period_from, RANGE_END: period_to}
    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    # Dagster's console log is the progress output; DEBUG (every engine event) only on request.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    result = job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False, tags=tags)
    outcome = RunOutcome(
        run_id=result.run_id,
        success=result.success,
        failure=failure_reason([e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]),
    )
    if not outcome.success:  # a succeeded run was recorded by its publish step
        record_failed_run(
            warehouse,
            outcome.run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            as_of=parse_as_of(as_of_text, "UTC") if as_of_text else started,
            failure_reason=outcome.failure,
            landing=os.environ["SCORECARD_LANDING"],
            config=os.environ["SCORECARD_CONFIG"],
        )
    _summarise(warehouse, outcome)
    _print_summary(outcome, warehouse, echo)
    try:  # the auditor's report, for failed runs too: rendered after the run is recorded
        from .config.scheme import load_scheme
        from .reports.auditor import render_auditor_report

        outcome.report = render_auditor_report(
            warehouse, outcome.run_id, timezone=load_scheme(os.environ["SCORECARD_CONFIG"]).timezone
        )
        echo(f"auditor report: {outcome.report}")
    except Exception as exc:  # a report that cannot be rendered must not hide the run's own outcome
        echo(f"auditor report could not be rendered: {exc}")
    return outcome


def _print_summary(o: RunOutcome, warehouse: str, echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"run {o.run_id}: {'SUCCEEDED' if o.success else 'FAILED'}")
    if o.failure:
        echo(f"  reason: {o.failure}")
    if o.counts:
        echo(f"  {'entity':<28}{'files':>6}{'rows in':>10}{'accepted':>10}{'quarant.':>10}{'dupl.':>8}{'supers.':>8}")
        for entity, files, rows_in, acc, quar, dup, sup in o.counts:
            unchanged = o.files.get(entity, {}).get("unchanged", 0)
            note = (
                f"  ({unchanged} unchanged file(s) not read)"
                if rows_in == 0 and unchanged
                else ("  (empty input)" if rows_in == 0 else "")
            )
            echo(f"  {entity:<28}{files:>6}{rows_in:>10,}{acc:>10,}{quar:>10,}{dup:>8,}{sup:>8,}{note}")
    if o.files:
        tally = {st: sum(v.get(st, 0) for v in o.files.values()) for st in ("new", "changed", "unchanged", "deleted")}
        echo("  files: " + ", ".join(f"{n} {st}" for st, n in tally.items()) + " (audit.file_manifest)")
    for entity, path in o.deleted_files:
        echo(f"  DELETED {entity}: {path} (its rows were removed from raw)")
    if o.closed_periods:
        echo(f"  closed periods (published rows kept): {', '.join(o.closed_periods)}")
    echo(f"  checks: {o.checks_passed} passed, {o.checks_failed} failed")
    for kind, passed, warned, failed in o.checks_by_kind:
        echo(f"    {kind:<20} {passed:>5} passed {warned:>5} warned (non-blocking) {failed:>5} failed (blocking)")
    if o.grades:
        echo("  graded subjects:")
        by_period: dict[tuple[str, str], list[str]] = {}
        for period, level, grade, n in o.grades:
            by_period.setdefault((period, level), []).append(f"{grade} {n}")
        for (period, level), grades in by_period.items():
            echo(f"    {period} {level:<5} " + ", ".join(grades))
    if o.flags is not None:
        echo(f"  anomaly flags: {o.flags}")
    echo(f"warehouse: {warehouse}")
    echo(
        f'  query it read-only: .venv/bin/python -c "import duckdb; '
        f"print(duckdb.connect('{warehouse}', read_only=True).sql('select * from marts.scorecard limit 5'))\""
    )
