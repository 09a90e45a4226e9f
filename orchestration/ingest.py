"""Ingestion of one landing-folder entity into the raw layer, inside DuckDB.

Order of work (CONTRACT.md): read every file as text -> type and check each row (SQL compiled
from the pandera model) -> pandera over bounded chunks of what passed -> quarantine the rest with
their reasons -> drop exact duplicates -> among versions of a key keep the latest `updated_at`
(then the later file, then the later row); superseded versions stay in the raw table with
`_is_current = false`. No file is loaded whole into pandas.
"""

from __future__ import annotations

import codecs
import logging
import tempfile
from dataclasses import asdict, dataclass
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
) -> EntityCounts:
    """Replace raw.<entity> from every file of the entity; append quarantine and run counts.

    `as_of` is timezone-aware. Idempotent per run: what this run wrote before is replaced."""
    ensure_audit_tables(con)
    con.execute(f"set TimeZone = {sql_str(timezone)}")
    counts = EntityCounts(spec.entity)
    files = entity_files(landing, spec)
    counts.files = len(files)
    if not files and spec.required:
        raise IngestError(
            f"{landing / spec.entity}: required entity {spec.entity} has no file (.csv, .parquet, .jsonl)"
        )
    landing_table = f"_landing_{spec.table}"
    typed_table = f"_typed_{spec.table}"
    cols_ddl = ", ".join(f"{ident(c.name)} varchar" for c in spec.columns)
    con.execute(
        f"create or replace temp table {landing_table} ({cols_ddl}, _extra varchar, _file varchar, _row bigint)"
    )
    with tempfile.TemporaryDirectory(prefix="scorecard-ingest-") as tmp:
        for path in files:
            n = _land_file(con, spec, landing, path, encoding, Path(tmp), landing_table)
            log.info("%s: %s rows from %s", spec.entity, n, path.relative_to(landing).as_posix())
    if spec.required and con.execute(f"select count(*) from {landing_table}").fetchone()[0] == 0:
        raise IngestError(f"{landing / spec.entity}: required entity {spec.entity} holds no rows")

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

    con.execute("delete from audit.quarantine where run_id = ? and source = ?", [run_id, spec.entity])
    con.execute(
        f"insert into audit.quarantine select ?, ?, _row_key, _reason, _raw, _file, _row, {NOW_UTC} "
        f"from {typed_table} where _reason is not null",
        [run_id, spec.entity],
    )
    _record_contract_results(con, spec, typed_table, run_id)
    key = ", ".join(ident(k) for k in spec.key)
    order = ("updated_at desc nulls last, " if spec.has_updated_at else "") + "_file desc, _row desc"
    cols = ", ".join(ident(c.name) for c in spec.columns)
    con.execute(f"""
        create or replace table raw.{spec.table} as
        with valid as (
            select *, row_number() over (partition by md5(_raw) order by _file, _row) as _copy
            from {typed_table} where _reason is null
        ),
        distinct_rows as (select * from valid where _copy = 1),
        versioned as (
            select *, row_number() over (partition by {key} order by {order}) as _version
            from distinct_rows
        )
        select {cols}, _file, _row, {sql_str(run_id)} as _run_id, _version = 1 as _is_current, _extra
        from versioned
        order by _file, _row
    """)
    counts.rows_in = con.execute(f"select count(*) from {landing_table}").fetchone()[0]
    counts.quarantined = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchone()[0]
    counts.accepted, counts.superseded = con.execute(
        f"select count(*) filter (where _is_current), count(*) filter (where not _is_current) from raw.{spec.table}"
    ).fetchone()
    counts.exact_duplicates = counts.rows_in - counts.quarantined - counts.accepted - counts.superseded
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
    con.execute(f"drop table if exists {landing_table}")
    con.execute(f"drop table if exists {typed_table}")
    return counts


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
