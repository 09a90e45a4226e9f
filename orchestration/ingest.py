"""Ingestion of one landing-folder entity into the raw layer, inside DuckDB.

Order of work (CONTRACT.md): read every file as text -> type and check each row (SQL compiled
from the pandera model) -> pandera over bounded chunks of what passed -> quarantine the rest with
their reasons -> drop exact duplicates -> among versions of a key keep the latest `updated_at`
(then the later file, then the later row); superseded versions stay in the raw table with
`_is_current = false`. No file is loaded whole into pandas.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandera.pandas as pa

from .contract.spec import EntitySpec
from .contract.sql import typed_select
from .warehouse import ensure_audit_tables, ident, sql_str

log = logging.getLogger(__name__)

EXTENSIONS = (".csv", ".parquet", ".jsonl")
PANDERA_CHUNK_ROWS = 100_000
# DuckDB's memory limit while an entity is ingested (its default is 80 % of the machine): the
# temporary landing/typed tables and the key-rule window spill to <warehouse>.tmp beyond it. At
# 10 M input rows the step's resident set fell from 2.9-3.2 GB to 1.7 GB, no slower (docs/benchmarks.md).
INGEST_MEMORY_LIMIT = os.environ.get("SCORECARD_INGEST_MEMORY_LIMIT", "1500MB")
MAX_LEDGER_ROWS = 1000
NOW_UTC = "timezone('UTC', current_timestamp)"  # audit times are stored in UTC
_READ_BLOCK = 1 << 20


class IngestError(RuntimeError):
    """A file that cannot be read at all, or a required entity that is missing: the run stops."""


@dataclass
class EntityCounts:
    entity: str
    files: int = 0
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    exact_duplicates: int = 0
    superseded: int = 0
    # incremental ingestion (audit.file_manifest): `files` above are the files read by this run
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: list[str] = field(default_factory=list)
    full_refresh: bool = True
    current_rows: int = 0  # current rows of the entity in raw after the run, read or not

    def as_dict(self) -> dict:
        return asdict(self)


def entity_files(landing: Path, spec: EntitySpec) -> list[Path]:
    """Every data file of the entity, in lexicographic order of the path (how dated drops sort)."""
    files: list[Path] = []
    folder = landing / spec.entity
    if folder.is_dir():
        files += [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS]
    for ext in EXTENSIONS:
        single = landing / f"{spec.entity}{ext}"
        if single.is_file():
            files.append(single)
    return sorted(files, key=lambda p: p.relative_to(landing).as_posix())


def detect_encoding(path: Path) -> str:
    """'utf-8' (BOM or not) when the whole file decodes as UTF-8, else 'gb18030' when that decodes."""
    for enc in ("utf-8-sig", "gb18030"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(_READ_BLOCK):
                    dec.decode(block)
                dec.decode(b"", final=True)
            return "utf-8" if enc == "utf-8-sig" else enc
        except UnicodeDecodeError:
            continue
    raise IngestError(f"{path}: cannot be decoded as UTF-8 or GB18030; set its encoding in the scheme file")


def _transcode(path: Path, encoding: str, tmpdir: Path) -> Path:
    """Stream a non-UTF-8 CSV into a UTF-8 copy that DuckDB reads."""
    out = tmpdir / (path.name + ".utf8.csv")
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while block := src.read(_READ_BLOCK):
                dst.write(dec.decode(block))
            dst.write(dec.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path}: not valid {encoding}: {exc}") from None
    return out


def _relation_sql(con: duckdb.DuckDBPyConnection, path: Path, encoding: str | None, tmpdir: Path) -> tuple[str, dict]:
    """A SQL relation yielding the file's rows with every column as VARCHAR, and its column map
    {normalised name: original name}."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        enc = (encoding or detect_encoding(path)).lower()
        src = path if enc in ("utf-8", "utf8", "utf-8-sig") else _transcode(path, enc, tmpdir)
        rel = (
            f"read_csv({sql_str(str(src))}, all_varchar = true, header = true, delim = ',', quote = '\"', "
            f"escape = '\"', auto_detect = false, columns = __COLUMNS__)"
        )
        try:
            header = con.execute(
                f"select * from read_csv({sql_str(str(src))}, all_varchar = true, header = true, "
                f"delim = ',', quote = '\"', escape = '\"') limit 0"
            ).description
        except duckdb.Error as exc:
            raise IngestError(f"{path}: cannot be read as CSV: {exc}") from None
        names = [d[0] for d in header]
        cols = "{" + ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names) + "}"
        rel = rel.replace("__COLUMNS__", cols)
        return rel, {n.strip().lower(): n for n in names}
    if suffix == ".parquet":
        try:
            names = [d[0] for d in con.execute(f"select * from read_parquet({sql_str(str(path))}) limit 0").description]
        except duckdb.Error as exc:
            raise IngestError(f"{path}: cannot be read as Parquet: {exc}") from None
        casts = ", ".join(f"cast({ident(n)} as varchar) as {ident(n)}" for n in names)
        return f"(select {casts} from read_parquet({sql_str(str(path))}))", {n.strip().lower(): n for n in names}
    if suffix == ".jsonl":
        objs = f"read_ndjson_objects({sql_str(str(path))})"
        try:
            keys = [
                r[0]
                for r in con.execute(f"select distinct unnest(json_keys(json)) as k from {objs} order by k").fetchall()
            ]
        except duckdb.Error as exc:
            raise IngestError(f"{path}: cannot be read as JSON lines: {exc}") from None
        sel = ", ".join(f"json_extract_string(json, {sql_str('$.' + ident(k))}) as {ident(k)}" for k in keys)
        return f"(select {sel or 'null as _none'} from {objs})", {k.strip().lower(): k for k in keys}
    raise IngestError(f"{path}: unsupported file type {suffix}")


def _land_file(
    con, spec: EntitySpec, landing: Path, path: Path, encoding: str | None, tmpdir: Path, landing_table: str
) -> int:
    rel, colmap = _relation_sql(con, path, encoding, tmpdir)
    rel_path = path.relative_to(landing).as_posix()
    if len(colmap) != len({v.strip().lower() for v in colmap.values()}):
        raise IngestError(f"{rel_path}: two columns have the same name after trimming and lower-casing")
    missing = [c.name for c in spec.columns if c.required and c.name not in colmap]
    if missing:
        raise IngestError(f"{rel_path}: missing required column(s) {', '.join(missing)} for {spec.entity}")
    selects = [
        f"{ident(colmap[c.name])} as {ident(c.name)}"
        if c.name in colmap
        else f"cast(null as varchar) as {ident(c.name)}"
        for c in spec.columns
    ]
    contract = {c.name for c in spec.columns}
    extras = [orig for norm, orig in colmap.items() if norm not in contract]
    extra_sql = (
        "json_object(" + ", ".join(f"{sql_str(e)}, {ident(e)}" for e in extras) + ")"
        if extras
        else "cast(null as varchar)"
    )
    before = con.execute(f"select count(*) from {landing_table}").fetchone()[0]
    try:
        con.execute(
            f"insert into {landing_table} select {', '.join(selects)}, {extra_sql}, {sql_str(rel_path)}, "
            f"row_number() over () from {rel}"
        )
    except duckdb.Error as exc:
        raise IngestError(f"{rel_path}: cannot be read: {exc}") from None
    return con.execute(f"select count(*) from {landing_table}").fetchone()[0] - before


def pandera_failures(
    con, spec: EntitySpec, typed_table: str, as_of: datetime, timezone: str
) -> list[tuple[str, int, str]]:
    """Run the entity's pandera model (lazy) over the SQL-accepted rows in bounded chunks.

    Returns (file, row, reason) for every row pandera rejects. The SQL compiled from the same
    model should already have caught these; anything found here is still quarantined."""
    schema = spec.model.to_schema()
    # as-of dependent rule: nothing more than one day after as-of (timestamps are UTC, dates local)
    ts_bound = (as_of.astimezone(UTC) + timedelta(days=1)).replace(tzinfo=None)
    date_bound = datetime.combine(as_of.astimezone(ZoneInfo(timezone)).date() + timedelta(days=1), time())
    for c in spec.columns:
        if c.kind in ("timestamp", "date"):
            bound = ts_bound if c.kind == "timestamp" else date_bound
            col = schema.columns[c.name]
            schema = schema.update_column(c.name, checks=[*col.checks, pa.Check.le(bound, name="not_in_future")])
    cols = ", ".join(ident(c.name) for c in spec.columns)
    reader = con.sql(
        f"select {cols}, _file, _row from {typed_table} where _reason is null order by _file, _row"
    ).to_arrow_reader(PANDERA_CHUNK_ROWS)
    bad: dict[tuple[str, int], list[str]] = {}
    for batch in reader:
        df = batch.to_pandas()
        try:
            schema.validate(df, lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            for _, f in fc.iterrows():
                idx = f["index"]
                if idx is None or (isinstance(idx, float) and idx != idx):
                    raise IngestError(
                        f"{spec.entity}: pandera schema failure not tied to a row: {f.to_dict()}"
                    ) from None
                key = (df.at[idx, "_file"], int(df.at[idx, "_row"]))
                bad.setdefault(key, []).append(f"pandera {f['check']} on {f['column']}: {f['failure_case']}")
    return [(f, r, "; ".join(reasons)) for (f, r), reasons in bad.items()]


def create_empty_raw(con, spec: EntitySpec) -> None:
    cols = ", ".join(f"{ident(c.name)} {c.sql_type}" for c in spec.columns)
    con.execute(
        f"create or replace table raw.{spec.table} ({cols}, _file varchar, _row bigint, _run_id varchar, "
        f"_is_current boolean, _extra varchar)"
    )


MANIFEST_DDL = """
create table if not exists audit.file_manifest (
    path varchar, entity varchar, size_bytes bigint, sha256 varchar, read_settings varchar,
    rows_read bigint, first_seen_run_id varchar, first_seen_at timestamp, last_seen_run_id varchar,
    status varchar,          -- new | changed | unchanged | deleted, as the last run that checked it found it
    checked_run_id varchar,  -- the run that set `status`
    checked_at timestamp
);
create schema if not exists landed;
"""


@dataclass
class FileState:
    path: str  # relative to the landing folder
    size: int
    sha256: str
    status: str  # new | changed | unchanged | deleted


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_READ_BLOCK):
            h.update(block)
    return h.hexdigest()


def read_settings_fingerprint(
    spec: EntitySpec, base_currency: str, rates: list[str], timezone: str, encoding: str | None
) -> str:
    """What, besides a file's bytes, decides its typed rows: a file read under other settings is
    re-read (status `changed`)."""
    cols = ",".join(f"{c.name}:{c.sql_type}:{c.required}" for c in spec.columns)
    text = f"{cols}|{base_currency.upper()}|{','.join(sorted(r.upper() for r in rates))}|{timezone}|{encoding or ''}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def full_refresh_requested() -> bool:
    return os.environ.get("SCORECARD_FULL_REFRESH", "").strip().lower() in ("1", "true", "yes")


def _plan_files(
    con, spec: EntitySpec, landing: Path, files: list[Path], run_id: str, settings: str
) -> tuple[list[FileState], list[FileState]]:
    """Compare the entity's files with audit.file_manifest: (current files with their status,
    files deleted since the last run)."""
    prev = {
        r[0]: r[1:]
        for r in con.execute(
            "select path, sha256, read_settings, status, checked_run_id from audit.file_manifest where entity = ?",
            [spec.entity],
        ).fetchall()
    }
    current: list[FileState] = []
    for path in files:
        rel = path.relative_to(landing).as_posix()
        sha, size = file_sha256(path), path.stat().st_size
        old = prev.get(rel)
        if old is None or (old[2] == "deleted" and old[3] != run_id):
            status = "new"
        elif old[3] == run_id and old[2] in ("new", "changed"):
            status = old[2]  # the same run again (a retried step): read it again, report it the same way
        elif old[0] != sha or old[1] != settings:
            status = "changed"
        else:
            status = "unchanged"
        current.append(FileState(rel, size, sha, status))
    seen = {f.path for f in current}
    deleted = [
        FileState(p, 0, old[0], "deleted")
        for p, old in sorted(prev.items())
        if p not in seen and (old[2] != "deleted" or old[3] == run_id)
    ]
    return current, deleted


def _update_manifest(
    con,
    spec: EntitySpec,
    run_id: str,
    settings: str,
    current: list[FileState],
    deleted: list[FileState],
    rows_read: dict[str, int],
) -> None:
    for f in current:
        if f.status == "unchanged":
            con.execute(
                f"update audit.file_manifest set last_seen_run_id = ?, status = 'unchanged', checked_run_id = ?, "
                f"checked_at = {NOW_UTC} where path = ? and entity = ?",
                [run_id, run_id, f.path, spec.entity],
            )
        elif f.status == "changed":
            con.execute(
                f"update audit.file_manifest set size_bytes = ?, sha256 = ?, read_settings = ?, rows_read = ?, "
                f"last_seen_run_id = ?, status = 'changed', checked_run_id = ?, checked_at = {NOW_UTC} "
                "where path = ? and entity = ?",
                [f.size, f.sha256, settings, rows_read.get(f.path, 0), run_id, run_id, f.path, spec.entity],
            )
        else:  # new (or a file deleted earlier that came back)
            con.execute("delete from audit.file_manifest where path = ? and entity = ?", [f.path, spec.entity])
            con.execute(
                f"insert into audit.file_manifest values (?, ?, ?, ?, ?, ?, ?, {NOW_UTC}, ?, 'new', ?, {NOW_UTC})",
                [f.path, spec.entity, f.size, f.sha256, settings, rows_read.get(f.path, 0), run_id, run_id, run_id],
            )
    for f in deleted:
        con.execute(
            f"update audit.file_manifest set status = 'deleted', checked_run_id = ?, checked_at = {NOW_UTC} "
            "where path = ? and entity = ?",
            [run_id, f.path, spec.entity],
        )


def _under_ingest_memory_limit(fn):
    """Run `fn(con, ...)` with DuckDB's memory limit at INGEST_MEMORY_LIMIT, then back to what it was."""

    @functools.wraps(fn)
    def wrapper(con: duckdb.DuckDBPyConnection, *args, **kwargs):
        previous = con.execute("select current_setting('memory_limit')").fetchone()[0]
        if INGEST_MEMORY_LIMIT:
            con.execute(f"set memory_limit = {sql_str(INGEST_MEMORY_LIMIT)}")
        try:
            return fn(con, *args, **kwargs)
        finally:
            con.execute(f"set memory_limit = {sql_str(previous)}")

    return wrapper


@_under_ingest_memory_limit
def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    spec: EntitySpec,
    landing: Path,
    run_id: str,
    as_of: datetime,
    timezone: str,
    base_currency: str,
    rates: list[str],
    encoding: str | None = None,
    incremental: bool = False,
) -> EntityCounts:
    """Bring raw.<entity> up to date with the entity's files; append quarantine and run counts.

    Incremental (docs/operations.md): audit.file_manifest says which files are new, changed,
    unchanged or deleted since the last published run; only new and changed files are read. The
    typed valid rows of every file (exact duplicates included) live in landed.<entity>; the rows of
    changed and deleted files are replaced there, then raw.<entity> is recomputed from it with the
    key rule, so it is identical to a full re-ingestion (an entity with no new, changed or deleted
    file keeps its raw table as it is: recomputing it would give the same rows). DuckDB's memory
    limit is INGEST_MEMORY_LIMIT meanwhile, then back to what it was. Without `incremental` (the nightly asset
    sets it unless SCORECARD_FULL_REFRESH=1) every file is re-read, and the manifest still records
    what it found. `as_of` is timezone-aware. Idempotent per run."""
    ensure_audit_tables(con)
    con.execute(MANIFEST_DDL)
    con.execute(f"set TimeZone = {sql_str(timezone)}")
    counts = EntityCounts(spec.entity)
    files = entity_files(landing, spec)
    if not files and spec.required:
        raise IngestError(
            f"{landing / spec.entity}: required entity {spec.entity} has no file (.csv, .parquet, .jsonl)"
        )
    settings = read_settings_fingerprint(spec, base_currency, rates, timezone, encoding)
    store = f"landed.{spec.table}"
    store_exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() and schema_name = 'landed' "
        "and table_name = ?",
        [spec.table],
    ).fetchone()[0]
    current, deleted = _plan_files(con, spec, landing, files, run_id, settings)
    full = not incremental or not store_exists
    to_read = [f for f in current if full or f.status in ("new", "changed")]
    counts.files = len(to_read)
    counts.files_new = sum(f.status == "new" for f in current)
    counts.files_changed = sum(f.status == "changed" for f in current)
    counts.files_unchanged = sum(f.status == "unchanged" for f in current)
    counts.files_deleted = [f.path for f in deleted]
    counts.full_refresh = bool(full)
    for f in deleted:
        log.warning("%s: file %s was deleted from the landing folder; its rows are removed", spec.entity, f.path)

    landing_table = f"_landing_{spec.table}"
    typed_table = f"_typed_{spec.table}"
    cols_ddl = ", ".join(f"{ident(c.name)} varchar" for c in spec.columns)
    con.execute(
        f"create or replace temp table {landing_table} ({cols_ddl}, _extra varchar, _file varchar, _row bigint)"
    )
    rows_read: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="scorecard-ingest-") as tmp:
        for f in to_read:
            n = _land_file(con, spec, landing, landing / f.path, encoding, Path(tmp), landing_table)
            rows_read[f.path] = n
            log.info("%s: %s rows from %s (%s)", spec.entity, n, f.path, f.status)

    as_of_utc = as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    as_of_local_date = as_of.astimezone(ZoneInfo(timezone)).date().isoformat()
    allowed = sorted({base_currency.upper(), *[r.upper() for r in rates]})
    sql = typed_select(
        spec,
        landing_table,
        base_currency=base_currency.upper(),
        allowed_currencies=allowed,
        as_of_utc=as_of_utc,
        as_of_local_date=as_of_local_date,
    )
    con.execute(f"create or replace temp table {typed_table} as {sql}")

    for file, row, reason in pandera_failures(con, spec, typed_table, as_of, timezone):
        con.execute(f"update {typed_table} set _reason = ? where _file = ? and _row = ?", [reason, file, row])

    # quarantine: this run's rows are replaced, earlier runs' rows stay
    con.execute("delete from audit.quarantine where run_id = ? and source = ?", [run_id, spec.entity])
    con.execute(
        f"insert into audit.quarantine select ?, ?, _row_key, _reason, _raw, _file, _row, {NOW_UTC} "
        f"from {typed_table} where _reason is not null",
        [run_id, spec.entity],
    )
    _record_contract_results(con, spec, typed_table, run_id)

    cols = ", ".join(ident(c.name) for c in spec.columns)
    store_select = (
        f"select {cols}, _file, _row, md5(_raw) as _raw_md5, {sql_str(run_id)} as _run_id, _extra "
        f"from {typed_table} where _reason is null"
    )
    if full:
        con.execute(f"create or replace table {store} as {store_select}")
    else:
        replaced = [f.path for f in to_read] + [f.path for f in deleted]
        if replaced:
            con.execute(f"delete from {store} where list_contains(?, _file)", [replaced])
        con.execute(f"insert into {store} {store_select}")
    if (
        spec.required
        and con.execute(f"select count(*) from {store}").fetchone()[0] == 0
        and (con.execute(f"select count(*) from {landing_table}").fetchone()[0] == 0)
    ):
        raise IngestError(f"{landing / spec.entity}: required entity {spec.entity} holds no rows")

    # Nothing new, changed or deleted for this entity (the common case of a nightly incremental run):
    # landed.<entity> is as the last published run left it, so raw.<entity>, computed from it by the
    # key rule below, is too; recomputing it would rewrite the same rows (the cost of a full
    # entity, docs/benchmarks.md). Counts of this run are all 0: it read nothing.
    untouched = (
        not full
        and not to_read
        and not deleted
        and con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'raw' and table_name = ?",
            [spec.table],
        ).fetchone()[0]
        > 0
    )
    if not untouched:
        _recompute_raw(con, spec, store, landing_table, typed_table, run_id, counts)
    counts.current_rows = con.execute(f"select count(*) from raw.{spec.table} where _is_current").fetchone()[0]
    _update_manifest(con, spec, run_id, settings, current, deleted, rows_read)
    con.execute("delete from audit.run_counts where run_id = ? and entity = ?", [run_id, spec.entity])
    con.execute(
        f"insert into audit.run_counts values (?, ?, ?, ?, ?, ?, ?, ?, {NOW_UTC})",
        [
            run_id,
            spec.entity,
            counts.files,
            counts.rows_in,
            counts.accepted,
            counts.quarantined,
            counts.exact_duplicates,
            counts.superseded,
        ],
    )
    for t in (landing_table, typed_table):
        con.execute(f"drop table if exists {t}")
    return counts


def _recompute_raw(
    con, spec: EntitySpec, store: str, landing_table: str, typed_table: str, run_id: str, counts: EntityCounts
) -> None:
    """raw.<entity> from every file's rows in landed.<entity> by the key rule, and the counts of
    what this run read. One statement, no intermediate copy of the entity: the counts follow from
    raw (the first copies) and landed (every copy) restricted to this run's rows."""
    # the key rule over every file's rows, in SQL: exact duplicates dropped (first copy kept), then
    # the latest updated_at wins, then the later file, then the later row
    cols = ", ".join(ident(c.name) for c in spec.columns)
    key = ", ".join(ident(k) for k in spec.key)
    order = ("updated_at desc nulls last, " if spec.has_updated_at else "") + "_file desc, _row desc"
    con.execute(f"""
        create or replace table raw.{spec.table} as
        with first_copies as (
            select * from {store}
            qualify row_number() over (partition by _raw_md5 order by _file, _row) = 1
        )
        select {cols}, _file, _row, _run_id,
            row_number() over (partition by {key} order by {order}) = 1 as _is_current, _extra
        from first_copies
        order by _file, _row
    """)
    # counts of what this run read (docs/operations.md)
    counts.rows_in = con.execute(f"select count(*) from {landing_table}").fetchone()[0]
    counts.quarantined = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchone()[0]
    counts.accepted, counts.superseded = con.execute(
        f"select count(*) filter (where _is_current), count(*) filter (where not _is_current) "
        f"from raw.{spec.table} where _run_id = ?",
        [run_id],
    ).fetchone()
    this_run = con.execute(f"select count(*) from {store} where _run_id = ?", [run_id]).fetchone()[0]
    counts.exact_duplicates = this_run - counts.accepted - counts.superseded


def _record_contract_results(con, spec: EntitySpec, typed_table: str, run_id: str) -> None:
    """The row-level contract as a check in the audit ledger: one audit.check_results row per entity
    and run, and the first MAX_LEDGER_ROWS quarantined rows in audit.validation_failures (all of them
    stay in audit.quarantine). Non-blocking: broken rows are set aside, the others go on."""
    con.execute(
        "delete from audit.check_results where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    con.execute(
        "delete from audit.validation_failures where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    bad = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchone()[0]
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, 'contract_row_rules', 'warn', ?, ?, ?)",
        [
            run_id,
            spec.entity,
            bad == 0,
            bad,
            f"{bad} row(s) broke the contract and were quarantined" if bad else "every row meets the contract",
        ],
    )
    con.execute(
        f"""insert into audit.validation_failures
        select ?, {NOW_UTC}, ?, 'contract_row_rules', 'warn', _row_key, f.column_name, f.bad_value,
               f.message || ' (' || _file || ' row ' || _row || ')', 'pandera'
        from (
            select _row_key, _file, _row, unnest(case when len(_failures) > 0 then _failures else
                [struct_pack(column_name := null::varchar, bad_value := null::varchar, message := _reason)]
                end) as f
            from {typed_table} where _reason is not null
        )
        order by _file, _row limit {MAX_LEDGER_ROWS}""",
        [run_id, spec.entity],
    )
