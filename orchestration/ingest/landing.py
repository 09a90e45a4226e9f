"""Every row of the files an ingestion reads into one temporary landing table, as text.

Columns are matched to the contract case-insensitively after trimming; unknown extra columns are
kept as JSON in `_extra`; a missing required column stops the run naming the file and the column.
`_row` is the line where a CSV record starts (csv_landing), the object's ordinal for JSON lines
(its line when the file has no blank lines), the row's ordinal for Parquet (1 = first row)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import duckdb

from orchestration.contract.spec import EntitySpec
from orchestration.ingest.csv_landing import csv_header, land_csv
from orchestration.ingest.encoding import UTF8_CODECS, Encoding, decodes, detect_encoding, is_wide, transcode
from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing_files import READ_BLOCK, Scratch
from orchestration.ingest.manifest import FileState
from orchestration.warehouse import ident, sql_str

# the logger of ingestion as before the split into modules: its lines (`scorecard` shows the logger's
# name) read as they did
log = logging.getLogger("orchestration.ingest.entity")

LANDING_TECH_DDL = (
    "_extra varchar, _file varchar, _row bigint, "
    "_seg integer, _ord bigint, _nb bigint, _span bigint, "  # CSV: read, record ordinal, non-blank lines, lines
    "_swallowed integer, _swallowed_col varchar, _swallowed_text varchar, "  # lines shaped like records in a field
    "_parse_error varchar, _parse_detail varchar, _raw_text varchar"  # an unparsable row
)
_TECH_NULLS = (
    "null as _seg, null as _ord, 1 as _nb, 1 as _span, 0 as _swallowed, null as _swallowed_col, "
    "null as _swallowed_text, null as _parse_error, null as _parse_detail, null as _raw_text"
)


def create_landing_table(con, spec: EntitySpec, landing_table: str) -> None:
    cols_ddl = ", ".join(f"{ident(c.name)} varchar" for c in spec.columns)
    con.execute(f"create or replace temp table {landing_table} ({cols_ddl}, {LANDING_TECH_DDL})")


def land_files(
    con, spec: EntitySpec, landing: Path, to_read: list[FileState], encoding: str | None, landing_table: str
) -> tuple[dict[str, int], dict[str, Encoding | None]]:
    """Every file of `to_read` into the landing table: ({path: rows in}, {path: the encoding it was
    read with}). `encoding` is the codec the scheme file declares for the entity (None: detected)."""
    rows_read: dict[str, int] = {}
    encodings: dict[str, Encoding | None] = {}
    with tempfile.TemporaryDirectory(prefix="scorecard-ingest-") as tmp:
        scratch = Scratch(Path(tmp))
        for f in to_read:
            n, enc = land_file(con, spec, landing, landing / f.path, encoding, scratch, landing_table)
            rows_read[f.path], encodings[f.path] = n, enc
            log.info("%s: %s rows from %s (%s%s)", spec.entity, n, f.path, f.status, f", {enc.codec}" if enc else "")
    return rows_read, encodings


def land_file(
    con, spec: EntitySpec, landing: Path, path: Path, encoding: str | None, scratch: Scratch, landing_table: str
) -> tuple[int, Encoding | None]:
    """Every row of one file into the landing table: (rows in, the encoding it was read with)."""
    rel_path = path.relative_to(landing).as_posix()
    before = con.execute(f"select count(*) from {landing_table}").fetchall()[0][0]
    suffix = path.suffix.lower()
    enc: Encoding | None = None
    if suffix == ".csv":
        enc = _land_csv_file(con, spec, rel_path, path, encoding, scratch, landing_table)
    elif suffix == ".parquet":
        _land_parquet(con, spec, rel_path, path, scratch, landing_table)
    elif suffix == ".jsonl":
        _land_jsonl(con, spec, rel_path, path, scratch, landing_table)
    else:
        raise IngestError(f"{rel_path}: unsupported file type {suffix}")
    return con.execute(f"select count(*) from {landing_table}").fetchall()[0][0] - before, enc


def _land_csv_file(
    con, spec: EntitySpec, rel_path: str, path: Path, encoding: str | None, scratch: Scratch, landing_table: str
) -> Encoding:
    if not (encoding and is_wide(encoding)):
        with path.open("rb") as fh:
            if b"\x00" in fh.read(READ_BLOCK):
                raise IngestError(f"{rel_path}: cannot be read as CSV: binary content (NUL bytes)")
    enc = Encoding(encoding.lower(), None) if encoding else detect_encoding(path, rel_path, spec.entity)
    if enc.codec in UTF8_CODECS:
        if encoding and not decodes(path, "utf-8-sig"):
            raise IngestError(f"{rel_path}: not valid {encoding} (declared in the scheme file)")
        src = scratch.link(path)
    else:
        src = transcode(path, enc.codec, scratch.path(".csv"), rel_path)
    names, header_lines = csv_header(src, rel_path)
    colmap = _check_columns(spec, rel_path, names)
    selects, extra_sql = _columns_sql(spec, colmap)
    land_csv(con, rel_path, src, names, header_lines, selects, extra_sql, landing_table, scratch)
    return enc


def _land_parquet(con, spec: EntitySpec, rel_path: str, path: Path, scratch: Scratch, landing_table: str) -> None:
    src = scratch.link(path)
    rel = f"read_parquet({sql_str(str(src))}, file_row_number = true)"
    try:
        names = [d[0] for d in con.execute(f"select * from read_parquet({sql_str(str(src))}) limit 0").description]
    except duckdb.Error as exc:
        raise IngestError(f"{rel_path}: cannot be read as Parquet: {str(exc).splitlines()[0]}") from None
    colmap = _check_columns(spec, rel_path, names)
    selects, extra_sql = _columns_sql(spec, colmap)
    casts = ", ".join(f"cast({ident(n)} as varchar) as {ident(n)}" for n in names)
    _insert_select(
        con,
        rel_path,
        landing_table,
        selects,
        extra_sql,
        "file_row_number + 1",
        f"(select {casts}, file_row_number from {rel})",
        "Parquet",
    )


def _land_jsonl(con, spec: EntitySpec, rel_path: str, path: Path, scratch: Scratch, landing_table: str) -> None:
    src = scratch.link(path)
    objs = f"read_ndjson_objects({sql_str(str(src))})"
    try:
        keys = [
            r[0] for r in con.execute(f"select distinct unnest(json_keys(json)) as k from {objs} order by k").fetchall()
        ]
    except duckdb.Error as exc:
        raise IngestError(f"{rel_path}: cannot be read as JSON lines: {str(exc).splitlines()[0]}") from None
    colmap = _check_columns(spec, rel_path, keys)
    selects, extra_sql = _columns_sql(spec, colmap)
    sel = ", ".join(f"json_extract_string(json, {sql_str('$.' + ident(k))}) as {ident(k)}" for k in keys)
    _insert_select(
        con,
        rel_path,
        landing_table,
        selects,
        extra_sql,
        "row_number() over ()",
        f"(select {sel or 'null as _none'} from {objs})",
        "JSON lines",
    )


def _check_columns(spec: EntitySpec, rel_path: str, names: list[str]) -> dict[str, str]:
    """{normalised name: name in the file}; a blocking error for duplicate or missing columns."""
    colmap = {n.strip().lower(): n for n in names}
    if len(colmap) != len(names):
        raise IngestError(f"{rel_path}: two columns have the same name after trimming and lower-casing")
    missing = [c.name for c in spec.columns if c.required and c.name not in colmap]
    if missing:
        raise IngestError(f"{rel_path}: missing required column(s) {', '.join(missing)} for {spec.entity}")
    return colmap


def _columns_sql(spec: EntitySpec, colmap: dict[str, str]) -> tuple[list[str], str]:
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
    return selects, extra_sql


def _insert_select(con, rel_path, landing_table, selects, extra_sql, row_sql, rel, what) -> None:
    try:
        con.execute(
            f"insert into {landing_table} select {', '.join(selects)}, {extra_sql}, {sql_str(rel_path)}, "
            f"{row_sql}, {_TECH_NULLS} from {rel}"
        )
    except duckdb.Error as exc:
        raise IngestError(f"{rel_path}: cannot be read as {what}: {str(exc).splitlines()[0]}") from None
