"""Mapped exports into an entity's landing table (docs/mapping.md), inside DuckDB.

Each export file is read as the landing folder's files are (encodings, unparsable rows, line numbers:
orchestration/ingest/landing.py), every column kept as text in a JSON object; then the mapping's
SELECT (compile.py) turns each row into the contract's columns. A row whose mapping step fails keeps
its original row and goes on as a row with a parse error, `mapping_failed: <column>: <step>`: the
contract's typing sends it to quarantine with that reason, so the count identity of each file holds
(rows read = accepted + quarantined + duplicates + superseded). A row that maps goes on with its
original row in `_extra` (`{"_source": {...}}`), which the raw layer keeps and a quarantined row shows.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.contract.spec import ColumnSpec, EntitySpec
from orchestration.ingest.encoding import Encoding
from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing import create_landing_table, land_file
from orchestration.ingest.landing_files import Scratch
from orchestration.mapping.compile import DUCKDB_MAP, compile_file, landing_select, lookup_table, lookups_of
from orchestration.mapping.model import EntityMapping, Sources
from orchestration.warehouse import ident, sql_str

log = logging.getLogger(__name__)

_NONE = "__scorecard_no_column__"  # the staged table's one contract-like column: every file column is in _extra
# what becomes of a value no key of a value map covers
FALLBACK_TEXT = {"fail": "no entry: the row fails", "default": "the default is used", "keep": "kept as written"}


def stage_spec(input_name: str) -> EntitySpec:
    return EntitySpec(entity=f"inputs.{input_name}", model=None, columns=(ColumnSpec(_NONE, "text", False),), key=())


@dataclass
class Collected:
    """What a dry run wants to know besides the counts (scorecard map --dry-run)."""

    problems: list[str] = field(default_factory=list)  # files the mapping cannot read (missing columns)
    misses: dict[str, Counter] = field(default_factory=dict)  # "<column> (<fallback>)" -> value -> rows


class _Stager:
    """Export files staged once per ingestion: input -> its staged table."""

    def __init__(self, con, sources: Sources, scratch: Scratch):
        self.con, self.sources, self.scratch = con, sources, scratch
        self.staged: dict[str, str] = {}

    def stage(
        self, input_name: str, paths: list[Path], table: str
    ) -> tuple[dict[str, int], dict[str, Encoding | None]]:
        spec = stage_spec(input_name)
        create_landing_table(self.con, spec, table)
        rows, encodings = {}, {}
        encoding = self.sources.inputs[input_name].encoding
        for p in paths:
            rel = p.relative_to(self.sources.folder).as_posix()
            try:
                rows[rel], encodings[rel] = land_file(
                    self.con, spec, self.sources.folder, p, encoding, self.scratch, table
                )
            except IngestError as exc:
                raise IngestError(read_error(str(exc), self.sources, input_name)) from None
        return rows, encodings

    def whole(self, input_name: str) -> str:
        """Every file of the input, staged (for lookups)."""
        if input_name not in self.staged:
            table = f"_stage_lookup_{len(self.staged)}"
            self.stage(input_name, self.sources.files(input_name), table)
            self.staged[input_name] = table
        return self.staged[input_name]


def read_error(text: str, sources: Sources, input_name: str) -> str:
    """The landing reader's message about an export file, naming the mapping's input and its key."""
    cut = text.find("; set its encoding in the scheme file")
    if cut >= 0:  # the landing reader names the scheme file's key; here it is the mapping's
        text = text[:cut] + f"; set its encoding in {sources.path}: inputs.{input_name}.encoding"
    return f"{text} (input {input_name} of {sources.path})"


def header_of(con, table: str, rel: str) -> list[str]:
    """A staged file's column names as its header wrote them (JSON object keys keep their order)."""
    row = con.execute(
        f"select json_keys(_extra) from {table} "
        "where _file = ? and _parse_error is null and _extra is not null limit 1",
        [rel],
    ).fetchall()
    return list(row[0][0]) if row else []


def _build_lookups(con, mapping: EntityMapping, stager: _Stager, prefix: str, problems: list[str]) -> dict[int, str]:
    """One table (key, val, n) per lookup of the mapping: n = how many different values the key has
    (1 when first_by picks one)."""
    tables = {}
    for lk in lookups_of(mapping):
        staged = stager.whole(lk.input)
        files = [p.relative_to(stager.sources.folder).as_posix() for p in stager.sources.files(lk.input)]
        sql, missing = lookup_table(lk, files, lambda rel, staged=staged: header_of(con, staged, rel), staged)
        problems.extend(missing)
        tables[lk.index] = f"_lookup_{prefix}_{lk.index}"
        con.execute(f"create or replace temp table {tables[lk.index]} as {sql}")
    return tables


def land_mapped(
    con,
    spec: EntitySpec,
    sources: Sources,
    paths: list[Path],
    landing_table: str,
    scratch_dir: Path,
    collect: Collected | None = None,
) -> tuple[dict[str, int], dict[str, Encoding | None]]:
    """Every row of the mapped export files `paths` into the entity's landing table: ({path: rows in},
    {path: encoding}). A file that lacks a column the mapping reads stops the run naming both (a dry
    run records it in `collect` and leaves the file's rows, read but not mapped, out of the table)."""
    mapping = sources.entities[spec.entity]
    scratch = Scratch(Path(tempfile.mkdtemp(prefix="map-", dir=scratch_dir)))  # its own names: f000001, ...
    stager = _Stager(con, sources, scratch)
    problems: list[str] = []
    tables = _build_lookups(con, mapping, stager, spec.table, problems)
    staged = f"_stage_{spec.table}"
    rows, encodings = stager.stage(mapping.input, paths, staged)
    contract = [c.name for c in spec.columns]
    cols = ", ".join(ident(c) for c in contract)
    for p in paths:
        rel = p.relative_to(sources.folder).as_posix()
        names = header_of(con, staged, rel)
        compiled = compile_file(mapping, names, contract, staged, f"_file = {sql_str(rel)}", tables)
        missing = [f"{rel}: {m}" for m in compiled.missing] + problems
        if missing and names:
            if collect is None:
                raise IngestError(
                    f"{spec.entity} mapped by {sources.path} (input {mapping.input}): " + "; ".join(missing)
                )
            collect.problems.extend(m for m in missing if m not in collect.problems)
            continue
        source = f"({compiled.sql})"
        if collect is not None:  # a dry run reads the mapped rows once more per value map: map them once
            con.execute(f"create or replace temp table _mapped_file as {compiled.sql}")
            source = "_mapped_file"
        detail = f"mapping of {spec.entity} in {sources.path}"
        con.execute(
            f"insert into {landing_table} ({cols}, _extra, _file, _row, _span, _swallowed, _swallowed_col, "
            f"_swallowed_text, _parse_error, _parse_detail, _raw_text) "
            + landing_select(source, contract, DUCKDB_MAP, detail)
        )
        if collect is not None:
            for use in compiled.maps:
                name = f"{use.column} ({FALLBACK_TEXT[use.fallback]})"
                keys = ", ".join(sql_str(k) for k in use.keys)
                found = con.execute(
                    f"select {use.input_sql} as v, count(*) from {source} m "
                    f"where {use.input_sql} is not null and lower({use.input_sql}) not in ({keys}) group by 1"
                ).fetchall()
                counter = collect.misses.setdefault(name, Counter())
                for v, n in found:
                    counter[v] += n
            con.execute("drop table _mapped_file")
        log.info("%s: %s rows mapped from %s", spec.entity, rows[rel], rel)
    for t in [staged, *tables.values(), *stager.staged.values()]:
        con.execute(f"drop table if exists {t}")
    return rows, encodings
