"""Ingestion assets: one per entity of the landing folder (CONTRACT.md)."""

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, asset

from ..contract.spec import EntitySpec, entity_specs
from ..faults import maybe_kill
from ..ingest import ingest_entity
from ..resources import ScorecardSettings
from ..warehouse import connect
from .config import CFG_TABLES


def _ingest_asset(spec: EntitySpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", spec.table]),
        group_name="ingest",
        deps=[AssetKey(["raw", t]) for t in CFG_TABLES],  # the scheme validates before any ingestion
        description=f"Raw layer of {spec.entity}: every file typed and checked against the contract; "
        "broken rows to audit.quarantine with their reason; superseded versions kept with _is_current=false.",
        kinds={"duckdb", "pandera"},
    )
    def _asset(context: AssetExecutionContext, settings: ScorecardSettings) -> MaterializeResult:
        scheme = settings.scheme()
        with connect(settings.build) as con:
            counts = ingest_entity(
                con,
                spec,
                settings.landing_path,
                context.run_id,
                settings.as_of_time(scheme),
                scheme.timezone,
                scheme.currency.base,
                list(scheme.currency.rates),
                encoding=scheme.encodings.get(spec.entity),
            )
        context.log.info(
            f"{spec.entity}: {counts.rows_in} rows in {counts.files} file(s): {counts.accepted} accepted, "
            f"{counts.quarantined} quarantined, {counts.exact_duplicates} exact duplicates, "
            f"{counts.superseded} superseded" + (" (empty input)" if counts.rows_in == 0 else "")
        )
        if spec.entity == entity_specs()[-1].entity:
            maybe_kill("after_ingest")  # the last entity is in the build copy
        return MaterializeResult(
            metadata={k: v for k, v in counts.as_dict().items() if k != "entity"} | {"empty_input": counts.rows_in == 0}
        )

    return _asset


ingest_assets = [_ingest_asset(s) for s in entity_specs()]
