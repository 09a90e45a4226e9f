"""`scorecard map --dry-run`: what a mapping would make of the exports, in seconds, writing nothing.

Per mapped entity, in an in-memory DuckDB: the files and rows read, the rows that would pass (typed and
checked by the contract's SQL, as the run does), the first failures with their file, line and reason,
the reasons counted, the required contract columns left unmapped, the columns the mapping reads that a
file lacks, and the value-map misses: values seen that no key of a `map` covers, with their counts.
The run's pandera pass re-checks the same rules over what the SQL accepted; the key rule (duplicates,
versions) is not applied here: `would pass` counts every row that meets the contract.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.contract.spec import entity_specs
from orchestration.ingest.entity import type_rows
from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.landing import create_landing_table
from orchestration.mapping.ingest import ingest_run
from orchestration.mapping.land import Collected, land_mapped
from orchestration.mapping.model import Sources, unmapped_required
from orchestration.scheme.model import Scheme
from orchestration.settings import ingest_memory_limit
from orchestration.warehouse import sql_str

# a reason with its quoted values blanked: reasons that differ only in the value count together
_REASON_SHAPE = r"regexp_replace(_reason, '''[^'']*''', '''…''', 'g')"


@dataclass
class FileCount:
    path: str
    rows: int  # read from the file
    passing: int
    quarantined: int  # a file the mapping cannot read has rows that neither pass nor are quarantined


@dataclass
class EntityDryRun:
    entity: str
    input: str
    files: list[FileCount] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # required contract columns the mapping does not give
    stopped: str | None = None  # why the run would stop on this entity (a file, a missing column)
    problems: list[str] = field(default_factory=list)
    failures: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, reason), the first ones
    reasons: list[tuple[str, int]] = field(default_factory=list)
    misses: dict[str, Counter] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def passing(self) -> int:
        return sum(f.passing for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def ok(self) -> bool:
        return not (self.unmapped or self.stopped or self.problems)


def dry_run(
    sources: Sources, scheme: Scheme, as_of: datetime, first: int = 5, entities: list[str] | None = None
) -> list[EntityDryRun]:
    run = ingest_run(scheme, as_of, "dry-run", sources)
    out = []
    with duckdb.connect() as con, tempfile.TemporaryDirectory(prefix="scorecard-map-") as tmp:
        con.execute(f"set TimeZone = {sql_str(scheme.timezone)}")
        # as a run's ingestion: bounded memory, what does not fit spills to the temporary folder
        con.execute(f"set memory_limit = {sql_str(ingest_memory_limit())}")
        con.execute(f"set temp_directory = {sql_str(str(Path(tmp) / 'spill'))}")
        for spec in entity_specs():
            if spec.entity not in sources.entities or (entities and spec.entity not in entities):
                continue
            m = sources.entities[spec.entity]
            rep = EntityDryRun(spec.entity, m.input, unmapped=unmapped_required(m))
            out.append(rep)
            paths = sources.files(m.input)
            if not paths:
                rep.stopped = f"input {m.input}: no file matches {', '.join(sources.inputs[m.input].files)}"
                continue
            collect = Collected()
            landing, typed = f"_landing_{spec.table}", f"_typed_{spec.table}"
            create_landing_table(con, spec, landing)
            try:
                read, _ = land_mapped(con, spec, sources, paths, landing, Path(tmp), collect)
            except IngestError as exc:
                rep.stopped = str(exc)
                continue
            rep.problems, rep.misses = collect.problems, collect.misses
            type_rows(con, spec, run, landing, typed)
            counts = {
                f: (ok, bad)
                for f, ok, bad in con.execute(
                    "select _file, count(*) filter (where _reason is null), "
                    f"count(*) filter (where _reason is not null) from {typed} group by 1"
                ).fetchall()
            }
            for p in paths:
                rel = p.relative_to(sources.folder).as_posix()
                rep.files.append(FileCount(rel, read.get(rel, 0), *counts.get(rel, (0, 0))))
            rep.failures = con.execute(
                f"select _file, _row, _reason from {typed} where _reason is not null order by _file, _row limit {first}"
            ).fetchall()
            rep.reasons = con.execute(
                f"select {_REASON_SHAPE} as r, count(*) as n from {typed} where _reason is not null "
                "group by 1 order by n desc, r"
            ).fetchall()
            for t in (landing, typed):
                con.execute(f"drop table if exists {t}")
    return out


def render(sources: Sources, reports: list[EntityDryRun], max_values: int = 10) -> list[str]:
    """The dry run as lines of text for the terminal."""
    lines = [f"mapping {sources.path} (exports under {sources.folder})"]
    if not reports:
        lines.append("  no entity to map")
    for r in reports:
        head = f"{r.entity} from {r.input}: "
        if r.stopped:
            lines += [head + "the run would stop here", f"    {r.stopped}"]
        else:
            lines.append(
                head + f"{len(r.files)} file(s), {r.rows:,} rows read, {r.passing:,} would pass, "
                f"{r.quarantined:,} quarantined"
            )
            if len(r.files) > 1:
                lines += [f"    {f.path}: {f.rows:,} read, {f.passing:,} would pass" for f in r.files]
        if r.unmapped:
            lines.append(f"  required columns left unmapped: {', '.join(r.unmapped)}")
        for p in r.problems:
            lines.append(f"  the file cannot be mapped: {p}")
        if r.failures:
            lines.append("  first failures:")
            lines += [f"    {f} line {n}: {reason}" for f, n, reason in r.failures]
        if r.reasons:
            lines.append("  quarantined by reason:")
            lines += [f"    {n:>8,}  {reason}" for reason, n in r.reasons[:max_values]]
        for name, counter in r.misses.items():
            if counter:
                shown = ", ".join(f"{v!r} x{n:,}" for v, n in counter.most_common(max_values))
                more = f" (+{len(counter) - max_values} more values)" if len(counter) > max_values else ""
                lines.append(f"  value-map misses, {name}: {shown}{more}")
    bad = [r.entity for r in reports if not r.ok]
    lines.append(
        "the run would stop: fix " + ", ".join(bad) if bad else "the mapping is complete: a run would read it as above"
    )
    return lines
