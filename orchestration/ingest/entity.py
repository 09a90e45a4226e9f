"""Ingestion of one landing-folder entity into the raw layer, inside DuckDB.

Order of work (CONTRACT.md): read every file as text -> type and check each row (SQL compiled
from the pandera model) -> pandera over bounded chunks of what passed -> quarantine the rest with
their reasons -> drop exact duplicates -> among versions of a key keep the latest `updated_at`
(then the later file, then the later row); superseded versions stay in the raw table with
`_is_current = false`. No file is loaded whole into pandas.

Reading files (CONTRACT.md "File rules"):
- Paths are literal: DuckDB's readers expand `?`, `*` and `[` as glob patterns, so every file is
  read through a link with a plain name in the ingestion's scratch folder (`_Scratch`).
- Encodings: UTF-8 (BOM or not) is read as is. Otherwise the file is read as GB18030 only when
  `detect_encoding` is confident of it (charset-normalizer's mess ratio of the GB18030 reading and
  the share of its characters in GB2312, the common simplified-Chinese set: Big5, Shift-JIS and
  cp1252 bytes read as GB18030 land outside it); anything else stops the run naming the file and
  the `encodings` key. A declared encoding (any Python codec) is used as given. The encoding and the
  detector's confidence are kept in audit.file_manifest.
- CSV rows DuckDB cannot parse (more or fewer fields than the header, an unbalanced quote, a line
  over DuckDB's maximum size) are kept as rows in with reason `unparsable_row: ...`, their line and
  raw text (read_csv `store_rejects`). After an unbalanced quote DuckDB may swallow the rest of the
  file (or, reading in parallel, up to a block boundary), so only that physical line is taken as
  unparsable and the file is read again from the next line on (at most MAX_RESYNCS times a file).
  A quoted field that holds lines shaped like records (as many commas as a record has separators)
  is reported as a warning with its line range (`quoted_field_swallows_records`). Only a file that
  cannot be read as CSV at all (binary, empty, no or an empty header) stops the run.
- `_row` (and `audit.quarantine.row_number`): for CSV the line of the file where the record starts
  (the header is line 1; a record with quoted newlines spans several lines, blank lines count);
  for JSON lines the object's ordinal (its line when the file has no blank lines); for Parquet the
  row's ordinal in the file (1 = first row).
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandera.pandas as pa
import pyarrow

from orchestration.contract.layout import data_files
from orchestration.contract.spec import EntitySpec
from orchestration.contract.sql import DECIMAL_KINDS, OLDEST_DATE, typed_select
from orchestration.settings import ingest_memory_limit
from orchestration.warehouse import ensure_audit_tables, ident, sql_str

log = logging.getLogger(__name__)

PANDERA_CHUNK_ROWS = 100_000
# DuckDB's memory limit while an entity is ingested (its default is 80 % of the machine): the
# temporary landing/typed tables and the key-rule window spill to <warehouse>.tmp beyond it. At
# 10 M input rows the step's resident set fell from 2.9-3.2 GB to 1.7 GB, no slower (docs/benchmarks.md).
MAX_LEDGER_ROWS = 1000
NOW_UTC = "timezone('UTC', current_timestamp)"  # audit times are stored in UTC
_READ_BLOCK = 1 << 20
# What decides a file's typed rows besides its bytes and the column types: bump it when the row
# rules change, so that incremental runs read every file again once (status `changed`).
CONTRACT_RULES_VERSION = "2"

# encodings
UTF8_CODECS = ("utf-8", "utf8", "utf-8-sig", "utf_8", "utf_8_sig")
GB_MIN_CONFIDENCE = 0.8
DETECT_SAMPLE_BYTES = 256 * 1024
# CSV reading
MAX_HEADER_CHARS = 1 << 20
RAW_TEXT_LIMIT = 65536  # characters of an unparsable row's raw text kept (DuckDB's rejects_line_size_limit)
MAX_RESYNCS = 20  # unbalanced quotes per file after which the file counts as not CSV
_COLUMN_COUNT_ERRORS = ("TOO MANY COLUMNS", "MISSING COLUMNS")
_PARSE_REASONS = {
    "TOO MANY COLUMNS": "unparsable_row: more fields than the header",
    "MISSING COLUMNS": "unparsable_row: fewer fields than the header",
    "UNQUOTED VALUE": "unparsable_row: unbalanced quote",
    "LINE SIZE OVER MAXIMUM": "unparsable_row: line longer than DuckDB's maximum line size",
}
_BLANK_LINE = re.compile(rb"(?m)^\r?$")
_GLOB_CHARS = set("*?[]{}")


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
    # warnings of this run (audit.check_results, severity warn): accepted rows whose money or points
    # were rounded to 4 decimals, rows with a quoted field holding lines shaped like records
    rounded_rows: int = 0
    swallowing_rows: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def entity_files(landing: Path, spec: EntitySpec) -> list[Path]:
    """Every data file of the entity, in lexicographic order of the path (how dated drops sort)."""
    return data_files(landing, spec.entity)


# --- literal paths ------------------------------------------------------------------------------


class _Scratch:
    """The ingestion's scratch folder: plain names only, so that DuckDB, which expands `*`, `?` and
    `[...]` in the paths it is given, reads exactly the file meant."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._n = 0
        if _GLOB_CHARS & set(str(folder)):
            raise IngestError(f"{folder}: the temporary folder's path has a glob character; set TMPDIR")

    def path(self, suffix: str) -> Path:
        self._n += 1
        return self.folder / f"f{self._n:06d}{suffix}"

    def link(self, path: Path) -> Path:
        """A plain-named path that reads as `path`: a symbolic link, else a hard link, else a copy."""
        dst = self.path(path.suffix.lower())
        try:
            os.symlink(path.resolve(), dst)
        except OSError:
            try:
                os.link(path, dst)
            except OSError:
                shutil.copyfile(path, dst)
        return dst


# --- encodings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    codec: str  # the Python codec the file is read with
    confidence: float | None  # the detector's confidence; None when declared in the scheme file


def _decodes(path: Path, codec: str) -> bool:
    dec = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(_READ_BLOCK):
                dec.decode(block)
            dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _gb2312_share(path: Path) -> float | None:
    """Share of the non-ASCII characters of the file read as GB18030 that are GB2312 characters (the
    common simplified-Chinese set), or None when it is not valid GB18030. Streamed, C-speed counts."""
    dec = codecs.getincrementaldecoder("gb18030")(errors="strict")
    non_ascii = in_gb2312 = 0
    try:
        with path.open("rb") as fh:
            while True:
                block = fh.read(_READ_BLOCK)
                text = dec.decode(block, final=not block)
                ascii_chars = len(text.encode("ascii", errors="ignore"))
                non_ascii += len(text) - ascii_chars
                in_gb2312 += (len(text.encode("gb2312", errors="ignore")) - ascii_chars) // 2
                if not block:
                    break
    except UnicodeDecodeError:
        return None
    return in_gb2312 / non_ascii if non_ascii else 1.0


def _sample(path: Path) -> bytes:
    """The file's first DETECT_SAMPLE_BYTES, cut after its last full line (no character cut in two)."""
    with path.open("rb") as fh:
        data = fh.read(DETECT_SAMPLE_BYTES + 1)
    if len(data) > DETECT_SAMPLE_BYTES:
        data = data[:DETECT_SAMPLE_BYTES]
        cut = data.rfind(b"\n")
        if cut > 0:
            data = data[: cut + 1]
    return data


def detect_encoding(path: Path, rel: str | None = None, entity: str | None = None) -> Encoding:
    """UTF-8 (BOM or not) when the whole file decodes as UTF-8 (confidence 1.0); GB18030 when the
    detector is confident of it (confidence = GB2312 share x (1 - charset-normalizer's mess ratio of
    the GB18030 reading), at least GB_MIN_CONFIDENCE); else IngestError naming the file, the
    detector's guess and the scheme-file key that reads it right."""
    from charset_normalizer import from_bytes  # a dependency of requests (pinned in pyproject.toml)

    rel = rel or str(path)
    if _decodes(path, "utf-8-sig"):
        return Encoding("utf-8", 1.0)
    sample = _sample(path)
    share = _gb2312_share(path)
    gb_text = "not valid GB18030"
    if share is not None:
        gb = from_bytes(sample, cp_isolation=["gb18030"], threshold=1.0).best()
        mess = gb.chaos if gb is not None else 1.0
        confidence = round(share * (1.0 - mess), 3)
        if confidence >= GB_MIN_CONFIDENCE:
            return Encoding("gb18030", confidence)
        gb_text = f"GB18030 confidence {confidence:.2f}"
    best = from_bytes(sample).best()
    guess = f"{best.encoding}, {1.0 - best.chaos:.2f}" if best is not None else "no guess"
    raise IngestError(
        f"{rel}: not UTF-8 and not confidently GB18030 (detector: {guess}; {gb_text}); "
        f"set its encoding in the scheme file: encodings: {{{entity or '<entity>'}: <codec>}}"
    )


def _transcode(path: Path, encoding: str, out: Path, rel: str) -> Path:
    """Stream a non-UTF-8 CSV into a UTF-8 copy that DuckDB reads."""
    dec = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while block := src.read(_READ_BLOCK):
                dst.write(dec.decode(block))
            dst.write(dec.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{rel}: not valid {encoding}: {exc}") from None
    return out


def _is_wide(codec: str) -> bool:
    return codecs.lookup(codec).name.startswith(("utf-16", "utf-32"))


# --- CSV ----------------------------------------------------------------------------------------


def _csv_header(src: Path, rel: str) -> tuple[list[str], int]:
    """The header's column names (an empty name becomes `column<i>`) and how many lines it takes.
    Read with Python's csv module, not DuckDB's sniffer: a malformed data row must not decide it."""
    with src.open("r", encoding="utf-8-sig", newline="") as fh:
        head = fh.read(MAX_HEADER_CHARS)
    if not head.strip("\r\n"):
        raise IngestError(f"{rel}: cannot be read as CSV: no header row (the file is empty)")
    if "\n" not in head and len(head) >= MAX_HEADER_CHARS:
        raise IngestError(f"{rel}: cannot be read as CSV: no line end in the first {MAX_HEADER_CHARS} characters")
    reader = csv.reader(io.StringIO(head), strict=False)
    try:
        names = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise IngestError(f"{rel}: cannot be read as CSV: header row: {exc}") from None
    if not any(n.strip() for n in names):
        raise IngestError(f"{rel}: cannot be read as CSV: the header row is empty")
    return [n if n.strip() else f"column{i + 1}" for i, n in enumerate(names)], reader.line_num


def _blank_lines(path: Path):
    """1-based numbers of the empty lines (or a lone CR) of a file, streamed."""
    line = 1
    carry = b""
    with path.open("rb") as fh:
        while True:
            block = fh.read(_READ_BLOCK)
            data = carry + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # inside a long line: its text does not matter, only that it is not blank
                    carry = b"x" if data else b""
                    continue
                piece, carry = data[:cut], data[cut:]
            else:
                piece, carry = data, b""
            pos = 0
            for m in _BLANK_LINE.finditer(piece):
                if m.start() >= len(piece):  # the end of a piece that ends with a line end
                    break
                line += piece.count(b"\n", pos, m.start())
                pos = m.start()
                yield line
            line += piece.count(b"\n", pos)
            if not block:
                return


class _LineCounter:
    """Line numbers of byte offsets of a file, asked in ascending order (one forward pass)."""

    def __init__(self, path: Path, first_line: int):
        self.fh = path.open("rb")
        self.offset = 0
        self.line = first_line

    def line_at(self, offset: int) -> int:
        while self.offset < offset:
            block = self.fh.read(min(_READ_BLOCK, offset - self.offset))
            if not block:
                break
            self.line += block.count(b"\n")
            self.offset += len(block)
        return self.line

    def close(self) -> None:
        self.fh.close()


def _line_from(path: Path, offset: int) -> tuple[str, int]:
    """The physical line starting at `offset` (at most RAW_TEXT_LIMIT characters of it) and the offset
    of the next line."""
    with path.open("rb") as fh:
        fh.seek(offset)
        if fh.read(1) == b"\n":  # DuckDB's position of a line after a CRLF
            offset += 1
        fh.seek(offset)
        kept = b""
        pos = offset
        while True:
            block = fh.read(_READ_BLOCK)
            if not block:
                return kept.decode("utf-8", errors="replace")[:RAW_TEXT_LIMIT], pos
            nl = block.find(b"\n")
            if nl >= 0:
                if len(kept) < RAW_TEXT_LIMIT * 4:
                    kept += block[:nl]
                text = kept.decode("utf-8", errors="replace").rstrip("\r")[:RAW_TEXT_LIMIT]
                return text, pos + nl + 1
            if len(kept) < RAW_TEXT_LIMIT * 4:
                kept += block
            pos += len(block)


def _copy_from(path: Path, offset: int, out: Path) -> Path:
    with path.open("rb") as src, out.open("wb") as dst:
        src.seek(offset)
        shutil.copyfileobj(src, dst, _READ_BLOCK)
    return out


def _insert_rows(con, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Bulk insert of Python rows (through Arrow, not row by row)."""
    if not rows:
        return
    data = pyarrow.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
    name = "_scorecard_rows"
    con.register(name, data)
    try:
        con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from {name}")
    finally:
        con.unregister(name)


def _land_csv(
    con,
    rel_path: str,
    src: Path,
    names: list[str],
    header_lines: int,
    selects: list[str],
    extra_sql: str,
    landing_table: str,
    scratch: _Scratch,
) -> None:
    """Every record of a UTF-8 CSV into the landing table, parsed rows and unparsable ones, with `_row`
    the line where the record starts (see the module docstring)."""
    cols = "{" + ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names) + "}"
    seps = max(1, len(names) - 1)  # a line shaped like a record has as many commas as the header
    nl, cr = "chr(10)", "chr(13)"
    per_col = []
    for i, n in enumerate(names):
        c = ident(n)
        per_col.append(
            f"case when contains({c}, {nl}) then len(regexp_extract_all(replace({c}, {cr}, ''), '\\n+')) "
            f"else 0 end as __runs{i}, "
            f"coalesce(length({c}) - length(replace({c}, {nl}, '')), 0) as __nls{i}, "
            f"case when contains({c}, {nl}) then len(list_filter(string_split({c}, {nl})[2:], "
            f"lambda x: length(x) - length(replace(x, ',', '')) >= {seps})) else 0 end as __sw{i}"
        )
    idx = range(len(names))
    swallowed_col = "case " + " ".join(f"when __sw{i} > 0 then {sql_str(names[i])}" for i in idx) + " end"
    swallowed_text = "case " + " ".join(f"when __sw{i} > 0 then left({ident(names[i])}, 500)" for i in idx) + " end"
    seg_file, seg, file_first, first_line, header = src, 0, 1, header_lines + 1, True
    while True:
        rejects, scans = f"_rejects_{seg}", f"_reject_scans_{seg}"
        reader = (
            f"read_csv({sql_str(str(seg_file))}, all_varchar = true, header = {str(header).lower()}, "
            f"delim = ',', quote = '\"', escape = '\"', auto_detect = false, columns = {cols}, "
            f"store_rejects = true, rejects_table = {sql_str(rejects)}, rejects_scan = {sql_str(scans)}, "
            f"rejects_line_size_limit = {RAW_TEXT_LIMIT})"
        )
        try:
            con.execute(
                f"""insert into {landing_table} select {", ".join(selects)}, {extra_sql} as _extra,
                    {sql_str(rel_path)} as _file, {first_line} + _ord - 1 as _row, {seg} as _seg, _ord,
                    1 + {" + ".join(f"__runs{i}" for i in idx)} as _nb,
                    1 + {" + ".join(f"__nls{i}" for i in idx)} as _span,
                    {" + ".join(f"__sw{i}" for i in idx)} as _swallowed,
                    {swallowed_col} as _swallowed_col, {swallowed_text} as _swallowed_text,
                    null as _parse_error, null as _parse_detail, null as _raw_text
                from (select *, row_number() over () as _ord, {", ".join(per_col)} from {reader})"""
            )
        except duckdb.Error as exc:
            raise IngestError(f"{rel_path}: cannot be read as CSV: {str(exc).splitlines()[0]}") from None
        resync_line, next_offset = _record_rejects(
            con, rel_path, seg, seg_file, file_first, first_line, rejects, landing_table
        )
        for t in (rejects, scans):
            con.execute(f"drop table if exists {t}")
        if resync_line is None or next_offset >= seg_file.stat().st_size:
            return
        if seg + 1 > MAX_RESYNCS:
            raise IngestError(
                f"{rel_path}: cannot be read as CSV: more than {MAX_RESYNCS} unbalanced quotes "
                f"(the last on line {resync_line}); check how the file was exported"
            )
        seg_file = _copy_from(seg_file, next_offset, scratch.path(".csv"))
        seg, file_first, first_line, header = seg + 1, resync_line + 1, resync_line + 1, False


def _record_rejects(
    con,
    rel_path: str,
    seg: int,
    seg_file: Path,
    file_first: int,
    first_line: int,
    rejects: str,
    landing_table: str,
) -> tuple[int | None, int]:
    """The rows DuckDB could not parse in one read of (a part of) a file, as unparsable rows of the
    landing table, and the line numbers of the parsed rows of that read. Returns (line of the first
    unbalanced quote or overlong line, offset in `seg_file` of the line after it), or (None, 0):
    after such an error DuckDB's later rows are not trusted, the file is read again from there."""
    # one reject per record (an unbalanced quote is also reported as an overlong line)
    deduped = f"""
        select line_byte_position - 1 as off, cast(error_type as varchar) as kind, csv_line, error_message
        from {rejects}
        qualify row_number() over (partition by line_byte_position order by
            case when cast(error_type as varchar) = 'UNQUOTED VALUE' then 0
                 when cast(error_type as varchar) in ('TOO MANY COLUMNS', 'MISSING COLUMNS') then 2 else 1 end) = 1"""
    resync_off = con.execute(
        f"select min(off) from ({deduped}) where kind not in ({', '.join(sql_str(k) for k in _COLUMN_COUNT_ERRORS)})"
    ).fetchall()[0][0]
    con.execute("create or replace temp table _excl (s bigint, e bigint)")
    counter = _LineCounter(seg_file, file_first)
    columns = ["_file", "_row", "_seg", "_parse_error", "_parse_detail", "_raw_text"]
    resync_line, next_offset = None, 0
    try:
        last = -1
        while batch := con.execute(  # paged: the inserts below would close a pending result
            f"select off, kind, csv_line, error_message from ({deduped}) "
            f"where off > ? and (? is null or off < ?) order by off limit 10000",
            [last, resync_off, resync_off],
        ).fetchall():
            last = batch[-1][0]
            rows, spans = [], []
            for off, kind, csv_line, message in batch:
                # with CRLF line ends DuckDB's position is that of the LF before the line: +1 counts it
                line = counter.line_at(off + 1)
                text = (csv_line or "").lstrip("\n").rstrip("\n").rstrip("\r")[:RAW_TEXT_LIMIT]
                span = text.count("\n") + 1
                rows.append(
                    (rel_path, line, seg, _PARSE_REASONS.get(kind, f"unparsable_row: {kind.lower()}"), message, text)
                )
                spans.append((line, line + span - 1))
            _insert_rows(con, landing_table, columns, rows)
            _insert_rows(con, "_excl", ["s", "e"], spans)
        if resync_off is not None:
            kind, message = con.execute(
                f"select kind, error_message from ({deduped}) where off = ?", [resync_off]
            ).fetchall()[0]
            resync_line = counter.line_at(resync_off + 1)
            text, next_offset = _line_from(seg_file, resync_off)
            reason = _PARSE_REASONS.get(kind, f"unparsable_row: {kind.lower()}")
            detail = f"{message} The file is read again from line {resync_line + 1}."
            _insert_rows(con, landing_table, columns, [(rel_path, resync_line, seg, reason, detail, text)])
            _insert_rows(con, "_excl", ["s", "e"], [(resync_line, resync_line)])
    finally:
        counter.close()
    blanks: list[tuple[int, int]] = []
    for b in _blank_lines(seg_file):
        line = file_first + b - 1
        if line >= first_line and (resync_line is None or line < resync_line):
            blanks.append((line, line))
            if len(blanks) >= 100_000:
                _insert_rows(con, "_excl", ["s", "e"], blanks)
                blanks = []
    _insert_rows(con, "_excl", ["s", "e"], blanks)
    _number_lines(con, rel_path, seg, first_line, landing_table)
    if resync_line is not None:  # DuckDB's rows after the unbalanced quote: read again
        con.execute(
            f"delete from {landing_table} where _file = ? and _seg = ? and _parse_error is null and _row >= ?",
            [rel_path, seg, resync_line],
        )
    con.execute("drop table if exists _excl")
    return resync_line, next_offset


def _number_lines(con, rel_path: str, seg: int, first_line: int, landing_table: str) -> None:
    """`_row` of the parsed rows of one read: the line where each record starts. A record takes
    `_nb` non-blank lines (1 + the runs of line ends in its quoted fields); the lines in _excl (blank
    lines, lines of unparsable records) belong to no parsed record. Record i starts at the (n_i+1)-th
    line not in _excl from `first_line` on, n_i being the non-blank lines of the records before it.
    Rows were inserted with `first_line + _ord - 1`, right when no record spans lines and no line is
    excluded before the last one."""
    where = f"_file = {sql_str(rel_path)} and _seg = {seg} and _parse_error is null"
    multi, rows = con.execute(
        f"select count(*) filter (where _nb > 1), count(*) from {landing_table} where {where}"
    ).fetchall()[0]
    if rows == 0:
        return
    # merged intervals of excluded lines, keyed by the non-excluded lines before them
    con.execute(f"""
        create or replace temp table _excl_keys as
        with clipped as (select greatest(s, {first_line}) as s, e from _excl where e >= {first_line}),
        ordered as (
            select s, e, max(e) over (order by s, e rows between unbounded preceding and 1 preceding) as prev_e
            from clipped
        ),
        grouped as (
            select s, e, sum(case when prev_e is null or s > prev_e + 1 then 1 else 0 end)
                over (order by s, e rows between unbounded preceding and current row) as g
            from ordered
        ),
        merged as (select min(s) as s, max(e) as e from grouped group by g),
        keyed as (
            select s, e,
                coalesce(sum(e - s + 1) over (order by s rows between unbounded preceding and 1 preceding), 0)
                    as before,
                sum(e - s + 1) over (order by s rows between unbounded preceding and current row) as upto
            from merged
        )
        select s - {first_line} - before as key, upto as shift from keyed
    """)
    first_key = con.execute("select min(key) from _excl_keys").fetchall()[0][0]
    if multi or (first_key is not None and first_key <= rows - 1):
        con.execute(f"""
            update {landing_table} as l set _row = fx.line
            from (
                select r._ord, {first_line} + r.n + coalesce(k.shift, 0) as line
                from (
                    select _ord, _ord - 1 + coalesce(sum(_nb - 1) over (order by _ord
                        rows between unbounded preceding and 1 preceding), 0) as n
                    from {landing_table} where {where}
                ) r
                asof left join _excl_keys k on r.n >= k.key
            ) fx
            where l._file = {sql_str(rel_path)} and l._seg = {seg} and l._parse_error is null and l._ord = fx._ord
        """)
    con.execute("drop table if exists _excl_keys")


# --- one file -----------------------------------------------------------------------------------


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


def _check_columns(spec: EntitySpec, rel_path: str, names: list[str]) -> dict[str, str]:
    """{normalised name: name in the file}; a blocking error for duplicate or missing columns."""
    colmap = {n.strip().lower(): n for n in names}
    if len(colmap) != len(names):
        raise IngestError(f"{rel_path}: two columns have the same name after trimming and lower-casing")
    missing = [c.name for c in spec.columns if c.required and c.name not in colmap]
    if missing:
        raise IngestError(f"{rel_path}: missing required column(s) {', '.join(missing)} for {spec.entity}")
    return colmap


_TECH_NULLS = (
    "null as _seg, null as _ord, 1 as _nb, 1 as _span, 0 as _swallowed, null as _swallowed_col, "
    "null as _swallowed_text, null as _parse_error, null as _parse_detail, null as _raw_text"
)


def _land_file(
    con, spec: EntitySpec, landing: Path, path: Path, encoding: str | None, scratch: _Scratch, landing_table: str
) -> tuple[int, Encoding | None]:
    """Every row of one file into the landing table: (rows in, the encoding it was read with)."""
    rel_path = path.relative_to(landing).as_posix()
    before = con.execute(f"select count(*) from {landing_table}").fetchall()[0][0]
    suffix = path.suffix.lower()
    enc: Encoding | None = None
    if suffix == ".csv":
        if not (encoding and _is_wide(encoding)):
            with path.open("rb") as fh:
                if b"\x00" in fh.read(_READ_BLOCK):
                    raise IngestError(f"{rel_path}: cannot be read as CSV: binary content (NUL bytes)")
        enc = Encoding(encoding.lower(), None) if encoding else detect_encoding(path, rel_path, spec.entity)
        if enc.codec in UTF8_CODECS:
            if encoding and not _decodes(path, "utf-8-sig"):
                raise IngestError(f"{rel_path}: not valid {encoding} (declared in the scheme file)")
            src = scratch.link(path)
        else:
            src = _transcode(path, enc.codec, scratch.path(".csv"), rel_path)
        names, header_lines = _csv_header(src, rel_path)
        colmap = _check_columns(spec, rel_path, names)
        selects, extra_sql = _columns_sql(spec, colmap)
        _land_csv(con, rel_path, src, names, header_lines, selects, extra_sql, landing_table, scratch)
    elif suffix == ".parquet":
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
    elif suffix == ".jsonl":
        src = scratch.link(path)
        objs = f"read_ndjson_objects({sql_str(str(src))})"
        try:
            keys = [
                r[0]
                for r in con.execute(f"select distinct unnest(json_keys(json)) as k from {objs} order by k").fetchall()
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
    else:
        raise IngestError(f"{rel_path}: unsupported file type {suffix}")
    return con.execute(f"select count(*) from {landing_table}").fetchall()[0][0] - before, enc


def _insert_select(con, rel_path, landing_table, selects, extra_sql, row_sql, rel, what) -> None:
    try:
        con.execute(
            f"insert into {landing_table} select {', '.join(selects)}, {extra_sql}, {sql_str(rel_path)}, "
            f"{row_sql}, {_TECH_NULLS} from {rel}"
        )
    except duckdb.Error as exc:
        raise IngestError(f"{rel_path}: cannot be read as {what}: {str(exc).splitlines()[0]}") from None


# --- pandera ------------------------------------------------------------------------------------


def pandera_failures(
    con, spec: EntitySpec, typed_table: str, as_of: datetime, timezone: str
) -> list[tuple[str, int, str]]:
    """Run the entity's pandera model (lazy) over the SQL-accepted rows in bounded chunks.

    Returns (file, row, reason) for every row pandera rejects. The SQL compiled from the same
    model should already have caught these; anything found here is still quarantined. Dates and
    timestamps are UTC (`datetime64[us, UTC]`); whatever pandera raises besides its schema errors
    becomes an IngestError naming the entity."""
    schema = spec.model.to_schema()
    # as-of dependent rule: nothing more than one day after as-of (timestamps are UTC, dates local),
    # plan dates excepted; and nothing before 1900 (the SQL's rule; for timestamps a day earlier in
    # UTC, as the SQL reads 1900-01-01 in the configured zone)
    ts_bound = as_of.astimezone(UTC) + timedelta(days=1)
    date_bound = datetime.combine(as_of.astimezone(ZoneInfo(timezone)).date() + timedelta(days=1), time(), UTC)
    oldest = datetime.fromisoformat(OLDEST_DATE).replace(tzinfo=UTC)
    for c in spec.columns:
        if c.kind in ("timestamp", "date"):
            col = schema.columns[c.name]
            checks = [*col.checks]
            low = oldest if c.kind == "date" else oldest - timedelta(days=1)
            checks.append(pa.Check.ge(low, name="not_before_1900"))
            if not c.plan:
                checks.append(pa.Check.le(ts_bound if c.kind == "timestamp" else date_bound, name="not_in_future"))
            schema = schema.update_column(c.name, checks=checks)
    cols = ", ".join(ident(c.name) for c in spec.columns)
    reader = con.sql(
        f"select {cols}, _file, _row from {typed_table} where _reason is null order by _file, _row"
    ).to_arrow_reader(PANDERA_CHUNK_ROWS)
    bad: dict[tuple[str, int], list[str]] = {}
    try:
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
                            f"{spec.entity}: pandera schema failure not tied to a row: "
                            f"{f['column']}: {f['check']}: {f['failure_case']}"
                        ) from None
                    key = (df.at[idx, "_file"], int(df.at[idx, "_row"]))
                    bad.setdefault(key, []).append(f"pandera {f['check']} on {f['column']}: {f['failure_case']}")
            except Exception as exc:  # a pandera or pandas failure must say which entity
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                raise IngestError(
                    f"{spec.entity}: pandera could not validate the rows of "
                    f"{df['_file'].iloc[0] if len(df) else '?'}: {type(exc).__name__}: {first}"
                ) from exc
    finally:
        reader.close()  # no pending result on the connection (a `set` would fail on it)
    return [(f, r, "; ".join(reasons)) for (f, r), reasons in bad.items()]


def create_empty_raw(con, spec: EntitySpec) -> None:
    cols = ", ".join(f"{ident(c.name)} {c.sql_type}" for c in spec.columns)
    con.execute(
        f"create or replace table raw.{spec.table} ({cols}, _file varchar, _row bigint, _run_id varchar, "
        f"_is_current boolean, _extra varchar)"
    )


# --- file manifest ------------------------------------------------------------------------------

MANIFEST_DDL = """
create table if not exists audit.file_manifest (
    path varchar, entity varchar, size_bytes bigint, sha256 varchar, read_settings varchar,
    rows_read bigint, first_seen_run_id varchar, first_seen_at timestamp, last_seen_run_id varchar,
    status varchar,          -- new | changed | unchanged | deleted, as the last run that checked it found it
    checked_run_id varchar,  -- the run that set `status`
    checked_at timestamp
);
-- the codec a CSV was read with and the detector's confidence (1.0 for UTF-8; NULL when the
-- encoding is declared in the scheme file, and for Parquet and JSON lines); added later, hence ALTER
alter table audit.file_manifest add column if not exists encoding varchar;
alter table audit.file_manifest add column if not exists encoding_confidence double;
create schema if not exists landed;
"""
MANIFEST_COLUMNS = (
    "path, entity, size_bytes, sha256, read_settings, rows_read, first_seen_run_id, first_seen_at, "
    "last_seen_run_id, status, checked_run_id, checked_at, encoding, encoding_confidence"
)


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
    cols = ",".join(f"{c.name}:{c.sql_type}:{c.required}" + (":plan" if c.plan else "") for c in spec.columns)
    text = (
        f"{cols}|{base_currency.upper()}|{','.join(sorted(r.upper() for r in rates))}|{timezone}|{encoding or ''}"
        f"|rules:{CONTRACT_RULES_VERSION}"
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
    encodings: dict[str, Encoding | None],
) -> None:
    for f in current:
        enc = encodings.get(f.path)
        codec, confidence = (enc.codec, enc.confidence) if enc else (None, None)
        if f.status == "unchanged" and f.path not in rows_read:
            con.execute(
                f"update audit.file_manifest set last_seen_run_id = ?, status = 'unchanged', checked_run_id = ?, "
                f"checked_at = {NOW_UTC} where path = ? and entity = ?",
                [run_id, run_id, f.path, spec.entity],
            )
        elif f.status in ("changed", "unchanged"):  # unchanged but read again (a full refresh)
            con.execute(
                f"update audit.file_manifest set size_bytes = ?, sha256 = ?, read_settings = ?, rows_read = ?, "
                f"last_seen_run_id = ?, status = ?, checked_run_id = ?, checked_at = {NOW_UTC}, "
                "encoding = ?, encoding_confidence = ? where path = ? and entity = ?",
                [
                    f.size,
                    f.sha256,
                    settings,
                    rows_read.get(f.path, 0),
                    run_id,
                    f.status,
                    run_id,
                    codec,
                    confidence,
                    f.path,
                    spec.entity,
                ],
            )
        else:  # new (or a file deleted earlier that came back)
            con.execute("delete from audit.file_manifest where path = ? and entity = ?", [f.path, spec.entity])
            con.execute(
                f"insert into audit.file_manifest ({MANIFEST_COLUMNS}) "
                f"values (?, ?, ?, ?, ?, ?, ?, {NOW_UTC}, ?, 'new', ?, {NOW_UTC}, ?, ?)",
                [
                    f.path,
                    spec.entity,
                    f.size,
                    f.sha256,
                    settings,
                    rows_read.get(f.path, 0),
                    run_id,
                    run_id,
                    run_id,
                    codec,
                    confidence,
                ],
            )
    for f in deleted:
        con.execute(
            f"update audit.file_manifest set status = 'deleted', checked_run_id = ?, checked_at = {NOW_UTC} "
            "where path = ? and entity = ?",
            [run_id, f.path, spec.entity],
        )


def _under_ingest_memory_limit(fn):
    """Run `fn(con, ...)` with DuckDB's memory limit at SCORECARD_INGEST_MEMORY_LIMIT (default 1500MB), then back
    to what it was.
    When `fn` fails, its error is the one raised: a failure to restore the limit (DuckDB refuses a
    `set` while a result is pending) is only logged, never raised in its place."""

    def restore(con: duckdb.DuckDBPyConnection, previous: str) -> None:
        # DuckDB shows the limit rounded down ("2.7 GiB"): setting that text back would lower it a
        # little on every call, so DuckDB's default is put back with `reset`
        con.execute("reset memory_limit")
        if con.execute("select current_setting('memory_limit')").fetchall()[0][0] != previous:
            con.execute(f"set memory_limit = {sql_str(previous)}")

    @functools.wraps(fn)
    def wrapper(con: duckdb.DuckDBPyConnection, *args, **kwargs):
        previous = con.execute("select current_setting('memory_limit')").fetchall()[0][0]
        if limit := ingest_memory_limit():
            con.execute(f"set memory_limit = {sql_str(limit)}")
        try:
            result = fn(con, *args, **kwargs)
        except BaseException:
            try:
                restore(con, previous)
            except duckdb.Error as reset_error:
                log.warning("memory_limit not restored after a failed ingestion: %s", reset_error)
            raise
        restore(con, previous)
        return result

    return wrapper


LANDING_TECH_DDL = (
    "_extra varchar, _file varchar, _row bigint, "
    "_seg integer, _ord bigint, _nb bigint, _span bigint, "  # CSV: read, record ordinal, non-blank lines, lines
    "_swallowed integer, _swallowed_col varchar, _swallowed_text varchar, "  # lines shaped like records in a field
    "_parse_error varchar, _parse_detail varchar, _raw_text varchar"  # an unparsable row
)


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
    limit is SCORECARD_INGEST_MEMORY_LIMIT meanwhile, then back to what it was. Without `incremental` (the
    nightly asset sets it unless run_options.full_refresh) every file is re-read, and the manifest still records
    what it found. `as_of` is timezone-aware. Idempotent per run. `encoding` is the codec the scheme
    file declares for the entity (None: detected per file)."""
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
    ).fetchall()[0][0]
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
    con.execute(f"create or replace temp table {landing_table} ({cols_ddl}, {LANDING_TECH_DDL})")
    rows_read: dict[str, int] = {}
    encodings: dict[str, Encoding | None] = {}
    with tempfile.TemporaryDirectory(prefix="scorecard-ingest-") as tmp:
        scratch = _Scratch(Path(tmp))
        for f in to_read:
            n, enc = _land_file(con, spec, landing, landing / f.path, encoding, scratch, landing_table)
            rows_read[f.path], encodings[f.path] = n, enc
            log.info("%s: %s rows from %s (%s%s)", spec.entity, n, f.path, f.status, f", {enc.codec}" if enc else "")

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
    _record_contract_results(con, spec, typed_table, run_id, counts)

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
        and con.execute(f"select count(*) from {store}").fetchall()[0][0] == 0
        and (con.execute(f"select count(*) from {landing_table}").fetchall()[0][0] == 0)
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
        ).fetchall()[0][0]
        > 0
    )
    if not untouched:
        _recompute_raw(con, spec, store, landing_table, typed_table, run_id, counts)
    counts.current_rows = con.execute(f"select count(*) from raw.{spec.table} where _is_current").fetchall()[0][0]
    _update_manifest(con, spec, run_id, settings, current, deleted, rows_read, encodings)
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
    # counts of what this run read (docs/operations.md); an unparsable row is one row in, quarantined
    counts.rows_in = con.execute(f"select count(*) from {landing_table}").fetchall()[0][0]
    counts.quarantined = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchall()[0][0]
    counts.accepted, counts.superseded = con.execute(
        f"select count(*) filter (where _is_current), count(*) filter (where not _is_current) "
        f"from raw.{spec.table} where _run_id = ?",
        [run_id],
    ).fetchall()[0]
    this_run = con.execute(f"select count(*) from {store} where _run_id = ?", [run_id]).fetchall()[0][0]
    counts.exact_duplicates = this_run - counts.accepted - counts.superseded


_WHERE = "(_file || case when lower(_file) like '%.parquet' then ' row ' else ' line ' end || _row)"


def _record_contract_results(con, spec: EntitySpec, typed_table: str, run_id: str, counts: EntityCounts) -> None:
    """The row-level contract as a check in the audit ledger: one audit.check_results row per entity
    and run, and the first MAX_LEDGER_ROWS quarantined rows in audit.validation_failures (all of them
    stay in audit.quarantine). Non-blocking: broken rows are set aside, the others go on. Warnings
    (only when there is something to say): `<kind>_rounded_to_4_decimals` (accepted rows whose money
    or points had more than 4 decimals, with the text as written) and `quoted_field_swallows_records`
    (rows with a quoted field holding lines shaped like records, with their line range)."""
    con.execute(
        "delete from audit.check_results where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    con.execute(
        "delete from audit.validation_failures where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    bad = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchall()[0][0]
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
               f.message || ' (' || {_WHERE} || ')', 'pandera'
        from (
            select _row_key, _file, _row, unnest(case when len(_failures) > 0 then _failures else
                [struct_pack(column_name := null::varchar, bad_value := null::varchar, message := _reason)]
                end) as f
            from {typed_table} where _reason is not null
        )
        order by _file, _row limit {MAX_LEDGER_ROWS}""",
        [run_id, spec.entity],
    )
    for kind in sorted({c.kind for c in spec.columns if c.kind in DECIMAL_KINDS}):
        check = f"{kind}_rounded_to_4_decimals"
        of_kind = f"list_filter(_rounded, lambda r: r.kind = {sql_str(kind)})"
        query = f"select count(*) from {typed_table} where _reason is null and len({of_kind}) > 0"
        n = con.execute(query).fetchall()[0][0]
        counts.rounded_rows += n
        if not n:
            continue
        con.execute(
            f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, ?, 'warn', false, ?, ?)",
            [
                run_id,
                spec.entity,
                check,
                n,
                f"{n} accepted row(s) had {kind} with more than 4 decimals: rounded half-up to 4, kept",
            ],
        )
        con.execute(
            f"""insert into audit.validation_failures
            select ?, {NOW_UTC}, ?, ?, 'warn', _row_key, r.column_name, r.bad_value,
                   r.column_name || '=' || r.bad_value || ' has more than 4 decimals: kept as ' || r.stored
                   || ' (rounded half-up) (' || {_WHERE} || ')', 'pandera'
            from (select _row_key, _file, _row, unnest({of_kind}) as r from {typed_table} where _reason is null)
            order by _file, _row limit {MAX_LEDGER_ROWS}""",
            [run_id, spec.entity, check],
        )
    n = con.execute(f"select count(*) from {typed_table} where _swallowed > 0").fetchall()[0][0]
    counts.swallowing_rows = n
    if n:
        con.execute(
            f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, 'quoted_field_swallows_records', "
            "'warn', false, ?, ?)",
            [
                run_id,
                spec.entity,
                n,
                f"{n} row(s) hold a quoted field with line(s) shaped like records: a quote may be unbalanced, "
                "the lines were read as one row (line ranges in audit.validation_failures)",
            ],
        )
        con.execute(
            f"""insert into audit.validation_failures
            select ?, {NOW_UTC}, ?, 'quoted_field_swallows_records', 'warn', _row_key, _swallowed_col,
                   _swallowed_text,
                   'quoted field ' || _swallowed_col || ' holds ' || _swallowed || ' line(s) shaped like records: '
                   || _file || ' lines ' || _row || '-' || (_row + _span - 1)
                   || ' were read as one row (is a quote unbalanced?)', 'pandera'
            from {typed_table} where _swallowed > 0
            order by _file, _row limit {MAX_LEDGER_ROWS}""",
            [run_id, spec.entity],
        )
