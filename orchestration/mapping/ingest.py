"""The mapped entities of a mapping file ingested on their own, as a run ingests them: into raw.<entity>
and the audit tables of a DuckDB connection (the dry run, the templates' tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from orchestration.contract.spec import entity_specs
from orchestration.ingest.counts import EntityCounts
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.mapping.model import Sources, load_sources
from orchestration.scheme.model import Scheme


def ingest_run(scheme: Scheme, as_of: datetime, run_id: str, sources: Sources) -> IngestRun:
    return IngestRun(run_id=run_id, as_of=as_of, sources=sources, **scheme.ingest_fields())


def ingest_sources(
    con, sources: Path | Sources, scheme: Scheme, as_of: datetime, run_id: str = "map", landing: Path | None = None
) -> dict[str, EntityCounts]:
    """Every entity the mapping file maps, ingested through it: {entity: counts}. `landing`: the landing
    folder that must hold no file of a mapped entity (default: none is checked)."""
    src = sources if isinstance(sources, Sources) else load_sources(sources)
    run = ingest_run(scheme, as_of, run_id, src)
    out = {}
    for spec in entity_specs():
        if spec.entity in src.entities:
            out[spec.entity] = ingest_entity(con, spec, landing or Path("/nonexistent-landing"), run)
    return out
