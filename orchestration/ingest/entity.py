"""Ingestion of one landing-folder entity into the raw layer, inside DuckDB (CONTRACT.md).

Order of work: plan which files to read (manifest) -> read every file as text into a landing table
(landing, csv_landing, encoding; paths are literal, files) -> type and check each row (SQL compiled
from the pandera model) -> pandera over bounded chunks of what passed (pandera_checks) -> quarantine
the rest with their reasons and record the contract's results (ledger) -> keep the typed valid rows
of every file in landed.<entity> and compute raw.<entity> from them by the key rule (raw_table):
exact duplicates dropped, among versions of a key the latest `updated_at` (then the later file, then
the later row); superseded versions stay in the raw table with `_is_current = false` -> update the
file manifest and the run counts. No file is loaded whole into pandas. DuckDB's memory limit is
lowered meanwhile (memory_limit).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from orchestration.contract.spec import EntitySpec
from orchestration.contract.sql import typed_select
from orchestration.ingest.counts import EntityCounts
from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing import create_landing_table, land_files
from orchestration.ingest.landing_files import entity_files
from orchestration.ingest.ledger import record_contract_results, record_quarantine, record_run_counts
from orchestration.ingest.manifest import (
    MANIFEST_DDL,
    FileState,
    plan_files,
    read_settings_fingerprint,
    update_manifest,
)
from orchestration.ingest.memory_limit import _under_ingest_memory_limit
from orchestration.ingest.pandera_checks import quarantine_pandera_failures
from orchestration.ingest.raw_table import recompute_raw, store_landed, table_exists
from orchestration.mapping.land import land_mapped
from orchestration.mapping.model import Sources
from orchestration.warehouse import ensure_audit_tables, sql_str

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestRun:
    """The facts of one ingestion run, the same for every entity it ingests."""

    run_id: str
    as_of: datetime  # timezone-aware
    timezone: str  # the configured time zone: timestamps without an offset are in it
    base_currency: str
    currencies: tuple[str, ...]  # the currencies with a rate to the base currency (scheme file)
    encodings: Mapping[str, str] = field(default_factory=dict)  # declared codec per entity; else detected
    incremental: bool = False  # read only new and changed files (the nightly run unless a full refresh)
    # the mapping file (docs/mapping.md): its entities come from export files through it, not the landing folder
    sources: Sources | None = None


@dataclass(frozen=True)
class _Plan:
    settings: str  # fingerprint of the read settings (audit.file_manifest.read_settings)
    current: list[FileState]  # the entity's files with their status
    deleted: list[FileState]  # files gone since the last run
    full: bool  # every file is read and landed.<entity> rebuilt
    to_read: list[FileState]
    mapped: bool = False  # the files are exports under the mapping's source folder (paths relative to it)


@_under_ingest_memory_limit
def ingest_entity(con: duckdb.DuckDBPyConnection, spec: EntitySpec, landing: Path, run: IngestRun) -> EntityCounts:
    """Bring raw.<entity> up to date with the entity's files; append quarantine and run counts.

    Incremental (docs/operations.md): audit.file_manifest says which files are new, changed,
    unchanged or deleted since the last published run; only new and changed files are read. The
    typed valid rows of every file (exact duplicates included) live in landed.<entity>; the rows of
    changed and deleted files are replaced there, then raw.<entity> is recomputed from it with the
    key rule, so it is identical to a full re-ingestion (an entity with no new, changed or deleted
    file keeps its raw table as it is: recomputing it would give the same rows). DuckDB's memory
    limit is SCORECARD_INGEST_MEMORY_LIMIT meanwhile, then back to what it was. Without `run.incremental` (the
    nightly asset sets it unless run_options.full_refresh) every file is re-read, and the manifest still records
    what it found. Idempotent per run."""
    ensure_audit_tables(con)
    con.execute(MANIFEST_DDL)
    con.execute(f"set TimeZone = {sql_str(run.timezone)}")
    plan = _plan(con, spec, landing, run)
    counts = _file_counts(spec, plan)
    for f in plan.deleted:
        log.warning("%s: file %s was deleted from the landing folder; its rows are removed", spec.entity, f.path)

    landing_table, typed_table = f"_landing_{spec.table}", f"_typed_{spec.table}"
    create_landing_table(con, spec, landing_table)
    if plan.mapped:
        with tempfile.TemporaryDirectory(prefix="scorecard-map-") as tmp:
            paths = [run.sources.folder / f.path for f in plan.to_read]
            rows_read, encodings = land_mapped(con, spec, run.sources, paths, landing_table, Path(tmp))
    else:
        rows_read, encodings = land_files(
            con, spec, landing, plan.to_read, run.encodings.get(spec.entity), landing_table
        )
    type_rows(con, spec, run, landing_table, typed_table)
    quarantine_pandera_failures(con, spec, typed_table, run.as_of, run.timezone)
    record_quarantine(con, spec, typed_table, run.run_id)
    record_contract_results(con, spec, typed_table, run.run_id, counts)

    replaced = [f.path for f in plan.to_read] + [f.path for f in plan.deleted]
    store = store_landed(con, spec, typed_table, run.run_id, plan.full, replaced)
    _require_rows(con, spec, landing, store, landing_table)
    if not _untouched(con, spec, plan):
        recompute_raw(con, spec, store, landing_table, typed_table, run.run_id, counts)
    counts.current_rows = con.execute(f"select count(*) from raw.{spec.table} where _is_current").fetchall()[0][0]
    update_manifest(con, spec, run.run_id, plan.settings, plan.current, plan.deleted, rows_read, encodings)
    record_run_counts(con, run.run_id, counts)
    for t in (landing_table, typed_table):
        con.execute(f"drop table if exists {t}")
    return counts


def _plan(con, spec: EntitySpec, landing: Path, run: IngestRun) -> _Plan:
    """Which files this run reads: all of them on a full read (not incremental, or nothing landed
    yet), else the new and changed ones."""
    files = entity_files(landing, spec)
    mapped = run.sources is not None and spec.entity in run.sources.entities
    encoding, root, mapping_print = run.encodings.get(spec.entity), landing, ""
    if mapped:
        if files:
            raise IngestError(
                f"{spec.entity} is mapped by {run.sources.path} and has files in the landing folder too "
                f"({files[0].relative_to(landing).as_posix()}, ...): keep one of the two"
            )
        mapping = run.sources.entities[spec.entity]
        files, root = run.sources.files(mapping.input), run.sources.folder
        encoding, mapping_print = run.sources.inputs[mapping.input].encoding, run.sources.fingerprint(spec.entity)
    if not files and spec.required:
        where = (
            f"input {run.sources.entities[spec.entity].input} of {run.sources.path}"
            if mapped
            else landing / spec.entity
        )
        raise IngestError(f"{where}: required entity {spec.entity} has no file (.csv, .parquet, .jsonl)")
    settings = read_settings_fingerprint(
        spec, run.base_currency, list(run.currencies), run.timezone, encoding, mapping_print
    )
    store_exists = table_exists(con, "landed", spec.table)
    current, deleted = plan_files(con, spec, root, files, run.run_id, settings)
    full = not run.incremental or not store_exists
    to_read = [f for f in current if full or f.status in ("new", "changed")]
    return _Plan(settings, current, deleted, full, to_read, mapped)


def _file_counts(spec: EntitySpec, plan: _Plan) -> EntityCounts:
    return EntityCounts(
        spec.entity,
        files=len(plan.to_read),
        files_new=sum(f.status == "new" for f in plan.current),
        files_changed=sum(f.status == "changed" for f in plan.current),
        files_unchanged=sum(f.status == "unchanged" for f in plan.current),
        files_deleted=[f.path for f in plan.deleted],
        full_refresh=bool(plan.full),
    )


def type_rows(con, spec: EntitySpec, run: IngestRun, landing_table: str, typed_table: str) -> None:
    """The landing table's rows typed and checked by the SQL compiled from the pandera model: a row
    that breaks a rule keeps its text and gets its `_reason`."""
    as_of_utc = run.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    as_of_local_date = run.as_of.astimezone(ZoneInfo(run.timezone)).date().isoformat()
    allowed = sorted({run.base_currency.upper(), *[r.upper() for r in run.currencies]})
    sql = typed_select(
        spec,
        landing_table,
        base_currency=run.base_currency.upper(),
        allowed_currencies=allowed,
        as_of_utc=as_of_utc,
        as_of_local_date=as_of_local_date,
    )
    con.execute(f"create or replace temp table {typed_table} as {sql}")


def _require_rows(con, spec: EntitySpec, landing: Path, store: str, landing_table: str) -> None:
    if (
        spec.required
        and con.execute(f"select count(*) from {store}").fetchall()[0][0] == 0
        and (con.execute(f"select count(*) from {landing_table}").fetchall()[0][0] == 0)
    ):
        raise IngestError(f"{landing / spec.entity}: required entity {spec.entity} holds no rows")


def _untouched(con, spec: EntitySpec, plan: _Plan) -> bool:
    """Nothing new, changed or deleted for this entity (the common case of a nightly incremental run):
    landed.<entity> is as the last published run left it, so raw.<entity>, computed from it by the
    key rule, is too; recomputing it would rewrite the same rows (the cost of a full entity,
    docs/benchmarks.md). Counts of this run are all 0: it read nothing."""
    return not plan.full and not plan.to_read and not plan.deleted and table_exists(con, "raw", spec.table)
