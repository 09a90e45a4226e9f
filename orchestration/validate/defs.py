"""Validate stage: one Great Expectations suite per raw entity, run as a blocking asset check.

GE is called directly inside each `@asset_check` (STYLE habit 8); the suite files live in
`expectations/`, the chunked runner in `orchestration.validate.ge_runner`. A failing
error-severity expectation fails the check, and, the check being blocking, nothing downstream of
the entity runs; warn-only failures pass with severity WARN.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    Definitions,
    MetadataValue,
    asset_check,
)

from orchestration.contract.spec import EntitySpec, entity_specs
from orchestration.resources import RunOptions, ScorecardSettings
from orchestration.validate.ge_combine import SuiteOutcome
from orchestration.validate.ge_ledger import CHECK_KIND
from orchestration.validate.ge_runner import run_suite
from orchestration.validate.ge_suites import suite_path
from orchestration.warehouse import connect


def _ge_check(spec: EntitySpec) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(["raw", spec.table]),
        name="great_expectations_suite",
        blocking=True,
        description=f"Dataset-level expectations of {spec.entity} ({suite_path(spec).name}): volume, "
        "distributions, freshness, key uniqueness, enumerations and required values of the current rows.",
    )
    def _check(
        context: AssetCheckExecutionContext, settings: ScorecardSettings, run_options: RunOptions
    ) -> AssetCheckResult:
        scheme = settings.scheme()
        as_of = settings.as_of_time(scheme)
        if run_options.engine() == "spark":  # GE's Spark execution engine on the Spark warehouse's raw table
            from orchestration.engines.spark_run import spark_run
            from orchestration.validate.ge_spark import run_suite_spark

            outcome = run_suite_spark(
                spark_run(context.run.run_id, settings.warehouse).spark, spec, context.run.run_id, as_of
            )
            return _check_result(context, spec, outcome)
        # the run writes and checks the build copy (write, audit, publish); the HTML goes beside the
        # published warehouse, where the auditor finds it whatever the run's outcome
        with connect(settings.build) as con:
            # run_options.data_docs=false skips the HTML pages (about a second per suite), not the checks
            outcome = run_suite(
                con,
                spec,
                context.run.run_id,
                as_of,
                settings.warehouse,
                data_docs=run_options.data_docs,
            )
        return _check_result(context, spec, outcome)

    return _check


def _check_result(context: AssetCheckExecutionContext, spec: EntitySpec, outcome: SuiteOutcome) -> AssetCheckResult:
    """The check's result and metadata (the Data Docs paths: none on Spark, which renders no HTML)."""
    failed = outcome.failed
    for o in failed:
        context.log.warning(f"{spec.entity} [{o.severity}] {o.message}")
    return AssetCheckResult(
        passed=outcome.passed,
        severity=AssetCheckSeverity.ERROR if outcome.failed_error else AssetCheckSeverity.WARN,
        description=(
            f"{outcome.successful}/{outcome.evaluated} expectations met; "
            f"{outcome.failed_error} error and {outcome.failed_warn} warn failure(s)"
        ),
        metadata={
            "evaluated": outcome.evaluated,
            "successful": outcome.successful,
            "failed": len(failed),
            "failed_error": outcome.failed_error,
            "failed_warn": outcome.failed_warn,
            "rows_validated": outcome.rows_validated,
            "chunks": outcome.chunks,
            "seconds": round(outcome.seconds, 2),
            "failing_expectations": MetadataValue.md(
                "\n".join(f"- [{o.severity}] {o.message}" for o in failed) or "none"
            ),
            "suite": MetadataValue.path(str(suite_path(spec))),
            "data_docs": MetadataValue.path(str(outcome.data_docs_index)),
            "data_docs_run": MetadataValue.path(str(outcome.data_docs_run)),
            "data_docs_ge_page": MetadataValue.path(str(outcome.data_docs_page)),
            "audit": MetadataValue.text(
                f"audit.check_results / audit.validation_failures where check_kind = '{CHECK_KIND}' "
                f"and source = '{spec.entity}' and run_id = '{context.run.run_id}'"
            ),
        },
    )


great_expectations_checks = [_ge_check(s) for s in entity_specs()]

defs = Definitions(asset_checks=great_expectations_checks)
