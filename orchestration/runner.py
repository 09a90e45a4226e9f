"""Run the nightly job in-process (what `scorecard run` does) and summarise it from the warehouse."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dagster import DagsterEventType

from orchestration.contract.layout import data_files
from orchestration.dagster_instance import run_instance
from orchestration.publish.run_records import failure_reason, record_failed_run
from orchestration.report.disclosure import HIDDEN_SHARE_SQL, HiddenShare, hidden_share
from orchestration.report.failures import report_failure_text
from orchestration.report.files import file_name
from orchestration.report.index import refresh_index
from orchestration.run_logging import run_log_path
from orchestration.settings import path_setting
from orchestration.warehouse import connect, reports_dir
from orchestration.warehouse.build_copy import discard_build
from orchestration.warehouse.writer_lock import acquire, release


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
    flag_status: dict[str, int] = field(default_factory=dict)  # review_status -> flags
    held: list[tuple] = field(default_factory=list)  # (period, level, subject_id, holding flags) of held grades
    excluded_responses: int = 0  # distinct responses left out of the survey figures by confirmed flags
    hidden_share: HiddenShare | None = None  # small-cell protection of the published survey figures
    closed_periods: list[str] = field(default_factory=list)  # kept out of every refresh window
    report: Path | None = None
    files: dict[str, dict[str, int]] = field(default_factory=dict)  # entity -> status -> files (manifest)
    deleted_files: list[tuple[str, str]] = field(default_factory=list)  # (entity, path) deleted this run
    log_file: Path | None = None
    published: bool = False  # this run's marts are the published ones (a step after publishing may still fail)
    recorded: bool = False  # a failed run's row and audit rows are in the published warehouse
    record_error: str | None = None  # why a failed run could not be recorded (a full disk)
    published_run: tuple | None = None  # (run_id, finished_at) of the run whose marts are published
    has_marts: bool = False
    landing_files: dict[str, int] = field(default_factory=dict)  # entity -> data files in the landing folder


def _summarise(warehouse: str, outcome: RunOutcome) -> None:
    """What the published warehouse says of the run (a failed run: its audit rows only)."""
    if not Path(warehouse).exists():
        return
    with connect(warehouse, read_only=True) as con:

        def rows(sql: str, params: list | None = None) -> list[tuple]:
            try:
                return con.execute(sql, params or []).fetchall()
            except duckdb.CatalogException:
                return []

        outcome.counts = rows(
            "select entity, files, rows_in, accepted, quarantined, exact_duplicates, superseded "
            "from audit.run_counts where run_id = ? order by entity",
            [outcome.run_id],
        )
        landing = Path(path_setting("SCORECARD_LANDING"))
        outcome.landing_files = {e: len(data_files(landing, e)) for e, *_ in outcome.counts} if landing.is_dir() else {}
        outcome.checks_by_kind = rows(
            "select check_kind, count(*) filter (where passed), "
            "count(*) filter (where not passed and severity = 'warn'), "
            "count(*) filter (where not passed and severity <> 'warn') "
            "from audit.check_results where run_id = ? group by check_kind order by check_kind",
            [outcome.run_id],
        )
        outcome.checks_passed = sum(r[1] for r in outcome.checks_by_kind)
        outcome.checks_failed = sum(r[2] + r[3] for r in outcome.checks_by_kind)
        last = rows("select run_id, finished_at from audit.runs where published order by finished_at desc limit 1")
        outcome.published_run = last[0] if last else None
        outcome.has_marts = bool(rows("select 1 from marts.scorecard limit 1")) or bool(
            rows(
                "select 1 from duckdb_tables() where database_name = current_database() and schema_name = 'marts' "
                "and table_name = 'scorecard'"
            )
        )
        outcome.grades = rows("select period, level, grade, count(*) from marts.scorecard group by all order by all")
        # incremental ingestion: what the manifest found (published with the raw layer)
        for entity, status, n in rows(
            "select entity, status, count(*) from audit.file_manifest where checked_run_id = ? group by all",
            [outcome.run_id],
        ):
            outcome.files.setdefault(entity, {})[status] = n
        outcome.deleted_files = rows(
            "select entity, path from audit.file_manifest where checked_run_id = ? and status = 'deleted' order by all",
            [outcome.run_id],
        )
        outcome.closed_periods = [r[0] for r in rows("select period from raw.cfg_closed_periods order by 1")]
        flags = rows("select count(*) from marts.anomaly_flags")
        outcome.flags = flags[0][0] if flags else None
        outcome.flag_status = dict(rows("select review_status, count(*) from marts.anomaly_flags group by all"))
        outcome.held = rows(
            "select period, level, subject_id, holding_flags from marts.scorecard where grade_status = 'held' "
            "order by period, level, subject_id"
        )
        share = rows(HIDDEN_SHARE_SQL)
        outcome.hidden_share = hidden_share(share[0]) if share else None
        excluded = rows("select count(distinct response_id) from audit.excluded_responses")
        outcome.excluded_responses = excluded[0][0] if excluded else 0


def run_pipeline(
    echo: Callable[[str], None] = print,
    log_level: str = "INFO",
    period_from: str | None = None,
    period_to: str | None = None,
    *,
    verbose: bool = False,
    wait_seconds: float = 0.0,
    full_refresh: bool | None = None,
    data_docs: bool | None = None,
    target: str | None = None,
) -> RunOutcome:
    """One run of the nightly job in this process. With `period_from`/`period_to` (a partition range
    of the scheme's grain; one period: both equal) the dbt models rebuild those periods only.

    The run holds the warehouse's writer lock from before Dagster starts until it is recorded
    (writer_lock.WarehouseBusy when another run holds it, after `wait_seconds`). `full_refresh`, `data_docs`
    and `target` are the run's choices (run config of `run_options`); None takes the environment's default
    (settings.run_choices). Everything the run logs
    goes to `<warehouse dir>/logs/<run id>.log`; the screen gets one line per message (`verbose`: whole)."""
    from orchestration.definitions import build_defs
    from orchestration.periods import RANGE_END, RANGE_START
    from orchestration.resources import run_choice_config
    from orchestration.scheme.file import load_scheme
    from orchestration.settings import dagster_home, parse_as_of, postgres_settings

    started = datetime.now(UTC)
    warehouse = path_setting("SCORECARD_WAREHOUSE")
    as_of_text = path_setting("SCORECARD_AS_OF")
    run_id = str(uuid.uuid4())
    resources = run_choice_config(full_refresh, data_docs, target)
    options = resources["run_options"]["config"]
    echo(f"landing   {path_setting('SCORECARD_LANDING')}")
    echo(f"config    {path_setting('SCORECARD_CONFIG')}")
    echo(f"warehouse {warehouse}")
    if options["target"] == "postgres":
        pg = postgres_settings()
        echo(f"postgres  {pg['SCORECARD_PG_HOST']}:{pg['SCORECARD_PG_PORT']}/{pg['SCORECARD_PG_DATABASE']}")
    if options["target"] == "spark":
        from orchestration.engines.spark_run import MASTER_ENV, spark_warehouse

        echo(f"spark     {os.environ.get(MASTER_ENV) or 'local[2] (SCORECARD_SPARK_MASTER unset)'}")
        echo(f"          tables in {spark_warehouse(warehouse)}; {warehouse} is their DuckDB reader file")
    scheme = load_scheme(path_setting("SCORECARD_CONFIG"))
    lock = acquire(warehouse, run_id, wait_seconds=wait_seconds)
    log_file = run_log_path(warehouse, run_id)
    echo(f"run log   {log_file}")
    try:
        job = build_defs(scheme.grain, scheme.first_period).resolve_job_def("nightly_scorecard")
        keys = job.partitions_def.get_partition_keys()
        if period_from or period_to:
            period_from, period_to = period_from or period_to, period_to or period_from
            echo(f"periods   {period_from} to {period_to} (the other periods keep their published rows)")
        else:  # every partition: dbt refreshes every period that is not closed
            period_from, period_to = keys[0], keys[-1]
        tags = {RANGE_START: period_from, RANGE_END: period_to}
        instance = run_instance(dagster_home())
        # Dagster's console log is the progress output; DEBUG (every engine event) only on request.
        run_config = {
            "loggers": {
                "console": {"config": {"log_level": log_level, "verbose": verbose}},
                "run_file": {"config": {"path": str(log_file)}},
            },
            "resources": resources,
        }
        with instance:  # disposed at the end (its event log keeps database connections)
            result = job.execute_in_process(
                run_config=run_config, instance=instance, raise_on_error=False, tags=tags, run_id=run_id
            )
        outcome = RunOutcome(
            run_id=result.run_id,
            success=result.success,
            failure=failure_reason([e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]),
            log_file=log_file,
        )
        if not outcome.success:  # a succeeded run was recorded by its publish step
            record = _record_spark_failure if options["target"] == "spark" else _record_failure
            record(outcome, warehouse, started, as_of_text, scheme.timezone, parse_as_of)
        else:
            outcome.published = True
    finally:
        if options["target"] == "spark":
            from orchestration.engines.spark_run import end_spark_run

            end_spark_run(run_id)
        release(warehouse, lock.holder.run_id, force=True)
    _summarise(warehouse, outcome)
    _print_summary(outcome, warehouse, echo)
    if not outcome.success and outcome.recorded:
        try:  # the auditor's report of a failed run: rendered once the run is recorded in the published file
            from orchestration.report.auditor import render_auditor_report

            outcome.report = render_auditor_report(
                warehouse, outcome.run_id, timezone=scheme.timezone, language=scheme.report.language
            )
        except Exception as exc:  # a report that cannot be rendered must not hide the run's own outcome
            echo(report_failure_text("auditor report", exc))
    if outcome.report is None:
        latest = reports_dir(warehouse) / "auditor" / f"{file_name(outcome.run_id)}.html"
        outcome.report = latest if latest.exists() else None
    if outcome.report is not None:
        echo(f"auditor report: {outcome.report}")
    if not outcome.success and outcome.recorded:  # a published run wrote it when it published
        refresh_index(warehouse, echo)
    index = reports_dir(warehouse) / "index.html"
    if index.exists():
        echo(f"all reports: {index}")
    return outcome


def _record_failure(outcome: RunOutcome, warehouse: str, started, as_of_text: str, timezone: str, parse_as_of) -> None:
    """Record a failed run in the published warehouse (its audit rows, never its marts). An OS error
    here (a full disk) is reported, and the run's temporary copies are removed all the same."""
    kwargs = dict(
        started_at=started,
        finished_at=datetime.now(UTC),
        as_of=parse_as_of(as_of_text, timezone) if as_of_text else started,
        failure_reason=outcome.failure,
        landing=path_setting("SCORECARD_LANDING"),
        config=path_setting("SCORECARD_CONFIG"),
    )
    try:
        try:
            done = record_failed_run(warehouse, outcome.run_id, **kwargs)
        except (OSError, duckdb.Error):  # a full disk: again, the build copy removed first
            done = record_failed_run(warehouse, outcome.run_id, free_build_first=True, **kwargs)
        outcome.recorded = True
        outcome.published = done.already_published
    except (OSError, duckdb.Error) as exc:
        outcome.record_error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    finally:
        if not outcome.published:
            discard_build(warehouse)


def _record_spark_failure(outcome: RunOutcome, warehouse: str, started, as_of_text: str, timezone: str, parse_as_of):
    """A failed Spark run's row in the Spark ledger and the reader file refreshed (engines/spark_run.py);
    the published views are untouched. A run that could not reach Spark says why in the summary."""
    from orchestration.engines.spark_run import record_failed_spark_run

    try:
        record_failed_spark_run(
            outcome.run_id,
            warehouse,
            started=started,
            as_of=parse_as_of(as_of_text, timezone) if as_of_text else started,
            failure=outcome.failure,
            landing=path_setting("SCORECARD_LANDING"),
            config=path_setting("SCORECARD_CONFIG"),
        )
        outcome.recorded = True
    except Exception as exc:  # noqa: BLE001 - no session (cluster unreachable), a DuckDB warehouse at the path
        first = (str(exc).strip().splitlines() or [""])[0]
        outcome.record_error = f"{type(exc).__name__}: {first}"
    finally:
        discard_build(warehouse)


def _entity_note(o: RunOutcome, entity: str, rows_in: int) -> str:
    if rows_in:
        return ""
    unchanged = o.files.get(entity, {}).get("unchanged", 0)
    if unchanged:
        return f"  ({unchanged} unchanged file(s) not read)"
    if o.landing_files.get(entity):
        return "  (files not read: unchanged since the last published run)" if not o.success else ""
    return "  (empty input)"


def _print_summary(o: RunOutcome, warehouse: str, echo: Callable[[str], None]) -> None:
    echo("")
    if o.success:
        echo(f"run {o.run_id}: SUCCEEDED, published")
    elif o.published:
        echo(f"run {o.run_id}: FAILED after publishing: its marts are published; a later step failed")
        echo(f"  reason: {o.failure}")
    else:
        echo(f"run {o.run_id}: FAILED, nothing of it was published")
        echo(f"  reason: {o.failure or 'see the run log'}")
        if o.published_run:
            run, at = o.published_run
            echo(f"  the published marts are still those of run {run} ({at:%Y-%m-%d %H:%M} UTC)")
        else:
            echo("  no run has been published to this warehouse yet: there are no marts to query")
        if o.record_error:
            echo(f"  the run could not be recorded in {warehouse}: {o.record_error}")
        elif o.recorded:
            echo("  its audit rows (counts, quarantine, checks, failures) are published in the audit schema")
    if o.log_file:
        echo(f"  run log (stack traces): {o.log_file}")
    if o.counts:
        echo(f"  {'entity':<28}{'files':>6}{'rows in':>10}{'accepted':>10}{'quarant.':>10}{'dupl.':>8}{'supers.':>8}")
        for entity, files, rows_in, acc, quar, dup, sup in o.counts:
            note = _entity_note(o, entity, rows_in)
            echo(f"  {entity:<28}{files:>6}{rows_in:>10,}{acc:>10,}{quar:>10,}{dup:>8,}{sup:>8,}{note}")
    if o.files:
        tally = {st: sum(v.get(st, 0) for v in o.files.values()) for st in ("new", "changed", "unchanged", "deleted")}
        echo("  files: " + ", ".join(f"{n} {st}" for st, n in tally.items()) + " (audit.file_manifest)")
    for entity, path in o.deleted_files:
        echo(f"  DELETED {entity}: {path} (its rows were removed from raw)")
    if o.closed_periods:
        echo(f"  closed periods (published rows kept): {', '.join(o.closed_periods)}")
    if o.checks_by_kind:
        label = "checks" if o.success or o.published else "checks run before the failure"
        echo(f"  {label}: {o.checks_passed} passed, {o.checks_failed} failed")
        for kind, passed, warned, failed in o.checks_by_kind:
            echo(f"    {kind:<20} {passed:>5} passed {warned:>5} warned (non-blocking) {failed:>5} failed (blocking)")
    if o.grades and (o.success or o.published):
        echo("  graded subjects:")
        by_period: dict[tuple[str, str], list[str]] = {}
        for period, level, grade, n in o.grades:
            by_period.setdefault((period, level), []).append(f"{grade} {n}")
        for (period, level), grades in by_period.items():
            echo(f"    {period} {level:<5} " + ", ".join(grades))
    if o.flags is not None and (o.success or o.published):
        status = ", ".join(f"{o.flag_status.get(s, 0)} {s}" for s in ("open", "confirmed", "dismissed"))
        echo(f"  anomaly flags: {o.flags} ({status}; queue: scorecard review --list --open)")
        if o.held:
            shown = ", ".join(f"{p} {subject}" for p, _, subject, _ in o.held[:8])
            more = f" and {len(o.held) - 8} more" if len(o.held) > 8 else ""
            echo(f"  grades held until their flags are decided: {len(o.held)} ({shown}{more})")
        if o.excluded_responses:
            echo(f"  survey responses excluded by confirmed flags: {o.excluded_responses} (audit.excluded_responses)")
    if o.hidden_share is not None and (o.success or o.published):
        echo(f"  hidden survey cells: {o.hidden_share.text()} (marts.indicator_values.disclosure)")
    echo(f"warehouse: {warehouse}")
    if o.has_marts:
        echo(
            f'  query it read-only: .venv/bin/python -c "import duckdb; '
            f"print(duckdb.connect('{warehouse}', read_only=True).sql('select * from marts.scorecard limit 5'))\""
        )
