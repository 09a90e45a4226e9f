"""dbt models as Dagster assets; dbt tests become asset checks.

The manifest is prepared by an explicit step (`make setup` runs `dbt parse`), never at import.
"""

import contextlib
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetExecutionContext,
    AssetSpec,
    BackfillPolicy,
    Definitions,
    Failure,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.periods import period_partitions, window_vars
from orchestration.resources import FaultInjection, RunOptions, ScorecardSettings
from orchestration.reviews import record_review_outcomes, widen_for_decisions
from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.transform.dbt_cli import (
    dbt_args,
    dbt_child_environment,
    dbt_project,
    keep_parse_state,
    seed_parse_state,
    split_run_values,
    state_dir,
)
from orchestration.validate.dbt_results import record_dbt_results
from orchestration.warehouse import connect, ensure_audit_tables
from orchestration.warehouse.writer_lock import WRITER_POOL

DBT_GROUPS = ("staging", "intermediate", "marts", "audit")


class ScorecardTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder (models/<group>/...), not hard-coded model names."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        fqn = props.get("fqn") or []
        if props.get("resource_type") in ("model", "seed", "snapshot") and len(fqn) > 2 and fqn[1] in DBT_GROUPS:
            spec = spec.replace_attributes(group_name=f"dbt_{fqn[1]}")
        return spec


def dbt_run_vars(settings: ScorecardSettings) -> dict[str, Any]:
    """The --vars of a run: the scheme's scalars and the pinned as-of time (UTC)."""
    scheme = settings.scheme()
    as_of = settings.as_of_time(scheme).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return dbt_vars(scheme, as_of)


class _DbtLines(io.TextIOBase):
    """A stdout that forwards each line dbt prints to the run's log (DEBUG), its closing summary at INFO,
    and a progress line at INFO for each tenth of the nodes done: `dbt: 37 of 367 nodes done, 4.1 s`."""

    SUMMARY = ("Finished running", "Completed successfully", "Completed with", "Done. PASS=")
    NODE_DONE = re.compile(r"^\s*\d+ of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP)\b")

    def __init__(self, log) -> None:
        self.log = log
        self.buffer_text = ""
        self.done = 0
        self.next_tenth = 1
        self.started = time.monotonic()

    def _progress(self, line: str) -> None:
        match = self.NODE_DONE.match(line)
        if not match:
            return
        self.done += 1
        total = int(match.group(1))
        if self.done * 10 >= self.next_tenth * total:
            self.next_tenth = self.done * 10 // total + 1
            self.log.info(f"dbt: {self.done} of {total} nodes done, {time.monotonic() - self.started:.1f} s")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.buffer_text += text
        *lines, self.buffer_text = self.buffer_text.split("\n")
        for line in lines:
            if line.strip():
                (self.log.info if line.lstrip().startswith(self.SUMMARY) else self.log.debug)(f"dbt: {line}")
                self._progress(line)
        return len(text)


@cache
def scorecard_dbt_assets(grain: str = "quarter", first_period: str | None = None):
    """The dbt models, partitioned by the evaluation periods of `grain` (orchestration/periods.py): a
    run over a partition range rebuilds those periods only, a run without one every period."""
    project = dbt_project()
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"dbt manifest not found at {project.manifest_path}: run `make setup` (it runs `dbt parse`)"
        )

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=ScorecardTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
        partitions_def=period_partitions(grain, first_period),
        backfill_policy=BackfillPolicy.single_run(),  # a backfill of a range is one dbt build
        pool=WRITER_POOL,
    )
    def scorecard_dbt_models(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        settings: ScorecardSettings,
        faults: FaultInjection,
        run_options: RunOptions,
    ):
        """`dbt build`: staging -> intermediate -> marts, with every dbt test as an asset check.

        Test results and failing rows go to the audit ledger; a failing error-severity test (or a
        model error) fails this step, so nothing downstream of it runs; warnings do not."""
        run_vars = dbt_run_vars(settings) | {"run_id": context.run_id} | window_vars(context)
        if run_options.engine() == "spark":
            yield from _spark_dbt_build(context, settings, faults, run_vars, project)
            return
        with connect(settings.build) as con:  # no other connection to the build copy is open here
            period_from, period_to, decided = widen_for_decisions(
                con, context.run_id, run_vars["period_from"], run_vars["period_to"]
            )
        if decided:
            _log_widened(context, decided, period_from, period_to)
            run_vars |= {"period_from": period_from, "period_to": period_to}
        # dbt builds in the run's copy and dies with this process (dbt_cli.py); the variables are in this
        # process's environment only while the dbt process starts (it inherits the environment). The run's
        # own values travel as environment variables and the rest as --vars, which stay the same from run
        # to run, so dbt's partial-parse state, kept with the warehouse, holds between runs.
        stable_vars, run_env = split_run_values(run_vars)
        first, last = run_vars["period_from"] or "first period", run_vars["period_to"] or "last period"
        as_of = run_vars["as_of"]
        context.log.info(f"dbt: refresh window {first} .. {last} (closed periods excepted), as-of {as_of} UTC")
        # the build copy by its bare name, dbt started in its folder: the partial-parse state is the same for
        # every warehouse of that name, and a new warehouse starts from the last one's (dbt_cli.py)
        state = state_dir(settings.warehouse)
        if seed_parse_state(state, settings.build):
            context.log.debug(
                f"dbt: partial-parse state seeded from another warehouse named {Path(settings.build).name}"
            )
        with dbt_child_environment(database=settings.build, relative=True, **run_env):
            invocation = dbt.cli(
                # no colour codes: dbt's lines go to the log file and the screen as text; dbt's own log file
                # (in the state folder) at INFO: at DEBUG it wrote 28 MB per run on the built-in sample, and
                # every line dbt prints is in the run's log already
                dbt_args(
                    "build",
                    run_vars=stable_vars,
                    exclude_unit_tests=True,
                    project_dirs=False,
                    extra=["--no-use-colors", "--log-level-file", "info"],
                ),
                context=context,
                raise_on_error=False,
                target_path=state,
            )
        faults.reached("during_dbt")  # the dbt process is running
        try:
            # dagster-dbt echoes every dbt event to stdout: into the run's log instead (DEBUG; the
            # closing summary at INFO), so that the screen keeps one line per step
            with contextlib.redirect_stdout(_DbtLines(context.log)):
                yield from invocation.stream()
        except BaseException:
            # never leave a dbt process behind: it would keep the DuckDB file locked
            if invocation.process.poll() is None:
                invocation.process.terminate()
                invocation.process.wait(timeout=30)
            raise
        keep_parse_state(state, settings.build)
        run_results = invocation.get_artifact("run_results.json")
        with connect(settings.build) as con:
            ensure_audit_tables(con)
            tally = record_dbt_results(con, context.run_id, run_results, invocation.manifest)
            rejected, for_closed = record_review_outcomes(con, context.run_id)
        _log_outcomes(context, tally, rejected, for_closed)
        if not invocation.is_successful():
            raise _dbt_failure(tally, f"dbt exited with code {invocation.process.returncode}; see the run log")

    return scorecard_dbt_models


def _log_widened(context, decided: list[str], period_from: str | None, period_to: str | None) -> None:
    context.log.info(
        f"review decisions about flags of {', '.join(decided)}: the refresh window is widened to "
        f"{period_from or 'the first period'} .. {period_to or 'the last period'} so that they reach the grades"
    )


def _log_outcomes(context, tally, rejected: int, for_closed: int) -> None:
    """What dbt's tests and the review decisions came to, in the run's log."""
    if rejected or for_closed:
        context.log.warning(
            f"review decisions: {rejected} rejected and quarantined, {for_closed} about flags of closed "
            "periods (kept, effective when reopened); see audit.quarantine and audit.validation_failures"
        )
    context.log.info(
        f"dbt tests: {tally.passed} passed, {tally.warned} warned, {tally.failed} failed, "
        f"{tally.errored} errored, {tally.skipped} skipped (failing rows in audit.validation_failures)"
    )


def _dbt_failure(tally, detail: str) -> Failure:
    """The step's failure when dbt build fails: what errored and failed, never an invented cause."""
    parts = []
    if tally.node_errors:
        parts.append(
            f"{len(tally.node_errors)} model(s) errored ("
            + "; ".join(tally.node_errors[:3])
            + (f"; {len(tally.node_errors) - 3} more" if len(tally.node_errors) > 3 else "")
            + ")"
        )
    if tally.failed or tally.errored:
        parts.append(f"{tally.failed} error-severity test(s) failed, {tally.errored} test(s) errored")
    if not parts:  # dbt said it failed and its results name nothing: say so, do not invent a cause
        parts.append(detail)
    return Failure(
        description="dbt build failed: " + ", ".join(parts) + "; downstream models were skipped. "
        "See audit.validation_failures and audit.check_results for this run.",
        metadata={"tests_failed": tally.failed, "errored": tally.errored, "models_errored": len(tally.node_errors)},
    )


def _spark_dbt_build(context: AssetExecutionContext, settings: ScorecardSettings, faults, run_vars, project):
    """The dbt step on Spark: the build tables restored from the published run when a failed or killed run
    wrote them last, `dbt build --target spark` in this process on the run's session (dbt-spark's session
    method), dbt's node results turned into the same Dagster events as dagster-dbt's, and its test results
    in the Spark audit ledger."""
    import json

    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt_common.events.functions import msg_to_dict

    from orchestration.engines.spark_flow import (
        SPARK_TARGET_DIR,
        dbt_build,
        record_dbt_results_spark,
        record_review_outcomes_spark,
        state_tables,
        widen_for_decisions_spark,
    )
    from orchestration.engines.spark_publish import restore_state
    from orchestration.engines.spark_run import spark_run
    from orchestration.validate.dbt_results import DbtTestTally

    if context.is_subset:
        raise Failure(
            description="on Spark the dbt models are built as a whole: materialize every dbt asset "
            "(the nightly_scorecard job does)"
        )
    run = spark_run(context.run_id, settings.warehouse)
    state = state_tables(project.manifest_path)
    run.restored = restore_state(run.spark, state, context.run_id, run.layout)
    context.log.info(
        {
            "kept": "Spark: the build tables are those of the published run",
            "restored": "Spark: the build tables were written by a run that was not published: restored from the "
            "published run's copy",
            "dropped": "Spark: nothing published yet: dbt builds every period",
        }[run.restored]
    )
    period_from, period_to, decided = widen_for_decisions_spark(
        run.spark, context.run_id, run_vars["period_from"], run_vars["period_to"]
    )
    if decided:
        _log_widened(context, decided, period_from, period_to)
        run_vars |= {"period_from": period_from, "period_to": period_to}
    first, last = run_vars["period_from"] or "first period", run_vars["period_to"] or "last period"
    context.log.info(
        f"dbt (Spark): refresh window {first} .. {last} (closed periods excepted), as-of {run_vars['as_of']} UTC"
    )
    results: list[dict] = []

    def collect(event) -> None:
        raw = msg_to_dict(event)
        name = raw.get("info", {}).get("name")
        if name in ("LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"):
            results.append(raw)
            if name == "LogModelResult" and len(results) == 1:
                faults.reached("during_dbt")  # dbt is writing the build tables

    with contextlib.redirect_stdout(_DbtLines(context.log)):
        outcome = dbt_build(run.spark, run_vars, run.layout, callbacks=[collect])
    manifest = json.loads(project.manifest_path.read_text())
    translator = ScorecardTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
    outputs, checks = set(context.selected_output_names), set(context.selected_asset_check_keys)
    for raw in results:
        for event in DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={}).to_default_asset_events(
            manifest, translator, context, SPARK_TARGET_DIR, project
        ):
            key = getattr(event, "output_name", None)
            if key is not None and key not in outputs:
                continue
            if isinstance(event, AssetCheckResult) and AssetCheckKey(event.asset_key, event.check_name) not in checks:
                continue
            yield event
    tally = record_dbt_results_spark(run.spark, context.run_id) or DbtTestTally()
    rejected, for_closed = record_review_outcomes_spark(run.spark, context.run_id, run.layout)
    _log_outcomes(context, tally, rejected, for_closed)
    if not outcome.success:
        raise _dbt_failure(tally, f"dbt stopped: {outcome.exception or 'see the run log'}")


def transform_defs(grain: str = "quarter", first_period: str | None = None) -> Definitions:
    """The dbt models of the scheme's grain (their tests are asset checks)."""
    return Definitions(assets=[scorecard_dbt_assets(grain, first_period)])
