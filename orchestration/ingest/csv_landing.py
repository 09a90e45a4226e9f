"""CSV files into the landing table (CONTRACT.md "File rules"), every record: parsed rows and the
ones DuckDB cannot parse, each with the line where it starts.

- CSV rows DuckDB cannot parse (more or fewer fields than the header, an unbalanced quote, a line
  over DuckDB's maximum size) are kept as rows in with reason `unparsable_row: ...`, their line and
  raw text (read_csv `store_rejects`). After an unbalanced quote DuckDB may swallow the rest of the
  file (or, reading in parallel, up to a block boundary), so only that physical line is taken as
  unparsable and the file is read again from the next line on (at most MAX_RESYNCS times a file).
  A quoted field that holds lines shaped like records (as many commas as a record has separators)
  is reported as a warning with its line range (`quoted_field_swallows_records`). Only a file that
  cannot be read as CSV at all (binary, empty, no or an empty header) stops the run.
- `_row` (and `audit.quarantine.row_number`): the line of the file where the record starts (the
  header is line 1; a record with quoted newlines spans several lines, blank lines count).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow

from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing_files import READ_BLOCK, Scratch
from orchestration.warehouse import ident, sql_str

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


def csv_header(src: Path, rel: str) -> tuple[list[str], int]:
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
            block = fh.read(READ_BLOCK)
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
            block = self.fh.read(min(READ_BLOCK, offset - self.offset))
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
            block = fh.read(READ_BLOCK)
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
        shutil.copyfileobj(src, dst, READ_BLOCK)
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


def land_csv(
    con,
    rel_path: str,
    src: Path,
    names: list[str],
    header_lines: int,
    selects: list[str],
    extra_sql: str,
    landing_table: str,
    scratch: Scratch,
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
