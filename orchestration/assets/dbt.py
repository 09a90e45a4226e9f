"""dbt models as Dagster assets; dbt tests become asset checks.

The manifest is prepared by an explicit step (`make setup` runs `dbt parse`), never at import.
"""

import importlib.metadata
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, BackfillPolicy, Failure
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from ..config.scheme import dbt_vars
from ..faults import maybe_kill
from ..periods import period_partitions, window_vars
from ..resources import DBT_PROJECT_DIR, ScorecardSettings
from ..validation.dbt_results import record_dbt_results
from ..warehouse import connect, ensure_audit_tables

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


@cache
def dbt_project() -> DbtProject:
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_run_vars(settings: ScorecardSettings) -> dict[str, Any]:
    """The --vars of a run: the scheme's scalars and the pinned as-of time (UTC)."""
    scheme = settings.scheme()
    as_of = settings.as_of_time(scheme).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return dbt_vars(scheme, as_of)


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
    )
    def scorecard_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: ScorecardSettings):
        """`dbt build`: staging -> intermediate -> marts, with every dbt test as an asset check.

        Test results and failing rows go to the audit ledger; a failing error-severity test (or a
        model error) fails this step, so nothing downstream of it runs; warnings do not."""
        run_vars = dbt_run_vars(settings) | {"run_id": context.run_id} | window_vars(context)
        # profiles.yml reads SCORECARD_DBT_DATABASE: dbt builds in the run's copy. Set only while the
        # dbt process starts (it inherits the environment), not for the rest of this process.
        previous = os.environ.get("SCORECARD_DBT_DATABASE")
        os.environ["SCORECARD_DBT_DATABASE"] = settings.build
        try:
            # dbt unit tests check the models' logic, not the night's data: they run in `make test`
            invocation = dbt.cli(["build", "--exclude", "resource_type:unit_test", "--vars", json.dumps(run_vars)],
                                 context=context, raise_on_error=False)
        finally:
            if previous is None:
                os.environ.pop("SCORECARD_DBT_DATABASE", None)
            else:
                os.environ["SCORECARD_DBT_DATABASE"] = previous
        maybe_kill("during_dbt")  # the dbt process is running
        try:
            yield from invocation.stream()
        except BaseException:
            # never leave a dbt process behind: it would keep the DuckDB file locked
            if invocation.process.poll() is None:
                invocation.process.terminate()
                invocation.process.wait(timeout=30)
            raise
        run_results = invocation.get_artifact("run_results.json")
        with connect(settings.build) as con:
            ensure_audit_tables(con)
            tally = record_dbt_results(con, context.run_id, run_results, invocation.manifest)
        context.log.info(
            f"dbt tests: {tally.passed} passed, {tally.warned} warned, {tally.failed} failed, "
            f"{tally.errored} errored, {tally.skipped} skipped (failing rows in audit.validation_failures)"
        )
        if not invocation.is_successful():
            raise Failure(
                description=f"dbt build failed: {tally.failed} error-severity test(s) failed, "
                f"{tally.errored} node(s) errored; downstream models were skipped. "
                "See audit.validation_failures and audit.check_results for this run.",
                metadata={"tests_failed": tally.failed, "errored": tally.errored},
            )

    return scorecard_dbt_models


class ScorecardDbtCliResource(DbtCliResource):
    """DbtCliResource without two steps dagster-dbt takes before every invocation, worth seconds per run
    and of no use here: `dbt --version` in a subprocess (the dbt of this environment is the dbt-core
    package installed in it) and an in-process dbt adapter (it loads the profile and every macro) that
    serves only `fetch_column_metadata` / `fetch_row_counts`, which these assets do not call. Both
    override private members of dagster-dbt 0.29: if they are renamed, dagster-dbt's own steps run
    again (slower, not wrong)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)  # another dbt: ask it

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    # The dbt of this environment, even when its bin/ is not on PATH (python -m, IDEs, schedulers).
    local = Path(sys.executable).parent / "dbt"
    return ScorecardDbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(local) if local.exists() else "dbt",
    )
