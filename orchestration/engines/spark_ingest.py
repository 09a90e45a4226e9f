"""Ingestion on Spark: the landing folder (a local path or any Hadoop-compatible URI) read by Spark's
executors, the contract applied as Spark SQL, quarantine with reasons, the key rule, the count
identity. The Spark twin of orchestration/ingest/entity.py.

- **Files** are listed by the driver through Hadoop's FileSystem (the layout of CONTRACT.md:
  `<entity>/**.<ext>` and `<entity>.<ext>`, in path order). Each file is read by one executor task
  (`mapInArrow`): a local file from its path, any other URI from its bytes (Spark's `binaryFile`
  source, so a file must stay under 2 GB; split bigger exports). The task reads the file with the
  same reader as the DuckDB engine (orchestration/ingest/landing.py, in an in-memory DuckDB of the
  task): encodings (detection and the declared `encodings`), unparsable rows with their line and
  raw text, quoted fields that swallow records, extra columns as JSON, the errors that stop a run
  (binary file, no header, a required column missing). One reader, so the two engines cannot drift.
  Each file adds one status row (`_row` = 0) with its encoding, confidence and error, if any.
- **The contract** (types, row rules, enumerations, plausible values, reasons) is the Spark dialect
  of the SQL compiled from the pandera models (orchestration/contract/sql.py, `SPARK`), run with the
  session time zone set to the configured zone (timestamps without an offset are local).
- **Key rule** (CONTRACT.md "Keys"): exact duplicates dropped (the first copy kept), then per key the
  latest `updated_at`, then the later file, then the later row is current; the other versions stay
  with `_is_current = false` (`key_rule_select`).
- **Counts**: rows in = accepted + superseded + exact duplicates + quarantined, per entity, written
  to audit.run_counts; every quarantined row to audit.quarantine with its reason.

Every run reads every file (no file manifest on Spark yet): the raw tables are rewritten whole.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from orchestration.contract.layout import EXTENSIONS
from orchestration.contract.spec import EntitySpec, entity_specs
from orchestration.contract.sql import SPARK, typed_select
from orchestration.ingest.counts import EntityCounts
from orchestration.ingest.ingest_error import IngestError

log = logging.getLogger(__name__)

# the landing rows a task returns: the contract's columns as text, then these (see landing.py)
LANDING_TECH = (
    ("_extra", "string"),
    ("_file", "string"),
    ("_row", "bigint"),
    ("_span", "bigint"),
    ("_swallowed", "int"),
    ("_swallowed_col", "string"),
    ("_swallowed_text", "string"),
    ("_parse_error", "string"),
    ("_parse_detail", "string"),
    ("_raw_text", "string"),
    # status row of a file (`_row` = 0): how it was read, or why it could not be
    ("_file_error", "string"),
    ("_encoding", "string"),
    ("_confidence", "double"),
)
STATUS_COLUMNS = ("_file_error", "_encoding", "_confidence")
TASK_MEMORY = "512MB"  # DuckDB's memory in one reading task (beyond it, it spills to the task's temp folder)
QUARANTINE_SCHEMA = (
    "run_id string, source string, row_key string, reason string, raw_row string, file string, row_number bigint, "
    "quarantined_at timestamp"
)
AUDIT_DDL = (
    f"create table if not exists audit.quarantine ({QUARANTINE_SCHEMA}) using parquet",
    "create table if not exists audit.run_counts (run_id string, entity string, files int, rows_in bigint, "
    "accepted bigint, quarantined bigint, exact_duplicates bigint, superseded bigint, counted_at timestamp) "
    "using parquet",
)


@dataclass(frozen=True)
class SparkIngestRun:
    """What one ingestion needs to know (the Spark side of ingest.entity.IngestRun)."""

    run_id: str
    as_of: datetime
    timezone: str = "Asia/Shanghai"
    base_currency: str = "CNY"
    currencies: tuple[str, ...] = ()
    encodings: dict[str, str] = field(default_factory=dict)
    scratch: str = ""  # a folder (URI) for the run's intermediate Parquet; default <warehouse>/_scratch/<run_id>
    # the mapping file (orchestration.mapping.model.Sources): the entities it maps come from exports through it
    sources: Any = None


def landing_schema(spec: EntitySpec) -> str:
    cols = [f"`{c.name}` string" for c in spec.columns] + [f"{n} {t}" for n, t in LANDING_TECH]
    return ", ".join(cols)


# --- the driver: which files ------------------------------------------------------------------------


def list_entity_files(spark, landing: str, spec: EntitySpec) -> list[tuple[str, str]]:
    """(URI, path relative to the landing folder) of every data file of the entity, in the order of
    the relative path (contract.layout.data_files, through Hadoop's FileSystem)."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(landing)
    fs = root.getFileSystem(conf)
    root_uri = fs.makeQualified(root).toString().rstrip("/")
    found: list[tuple[str, str]] = []

    def add(status) -> None:
        uri = status.getPath().toString()
        if uri.lower().endswith(EXTENSIONS) and uri.startswith(root_uri + "/"):
            found.append((uri, uri[len(root_uri) + 1 :]))

    folder = jvm.org.apache.hadoop.fs.Path(root_uri + "/" + spec.entity)
    if fs.exists(folder) and fs.getFileStatus(folder).isDirectory():
        files = fs.listFiles(folder, True)
        while files.hasNext():
            add(files.next())
    for ext in EXTENSIONS:
        single = jvm.org.apache.hadoop.fs.Path(root_uri + "/" + spec.entity + ext)
        if fs.exists(single) and fs.getFileStatus(single).isFile():
            add(fs.getFileStatus(single))
    # Hadoop escapes some characters in URIs (a space is %20); the relative path is what the
    # DuckDB engine records, the file's own name
    from urllib.parse import unquote

    return sorted(((u, unquote(r)) for u, r in found), key=lambda f: f[1])


# --- the executors: one file per task -------------------------------------------------------------


def _local_path(uri: str) -> Path | None:
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    return None


def land_files_task(entity: str, encoding: str | None, stage_input: str | None = None):
    """The mapInArrow function: batches of files (uri, rel[, content]) in, landing rows out. With
    `stage_input`, the files are exports of that input of a mapping: every column goes to `_extra`."""

    def run(batches: Iterator) -> Iterator:
        if stage_input is not None:
            from orchestration.mapping.land import stage_spec

            spec = stage_spec(stage_input)
        else:
            spec = next(s for s in entity_specs() if s.entity == entity)
        for batch in batches:
            cols = batch.to_pydict()
            contents = cols.get("content", [None] * batch.num_rows)
            for uri, rel, content in zip(cols["uri"], cols["rel"], contents, strict=True):
                yield from _land_one(spec, uri, rel, content, encoding)

    return run


def _arrow_schema(spec: EntitySpec):
    import pyarrow as pa

    types = {"string": pa.string(), "bigint": pa.int64(), "int": pa.int32(), "double": pa.float64()}
    return pa.schema([(c.name, pa.string()) for c in spec.columns] + [(n, types[t]) for n, t in LANDING_TECH])


def _land_one(spec: EntitySpec, uri: str, rel: str, content: bytes | None, encoding: str | None) -> Iterator:
    """One file's landing rows (Arrow batches), then its status row (`_row` = 0: the encoding it was
    read with, or the error that stops the run). The task's DuckDB is a file in the task's temporary
    folder with a memory limit, so a big file spills to disk instead of filling the executor."""
    import duckdb
    import pyarrow as pa

    from orchestration.ingest.landing import create_landing_table, land_file
    from orchestration.ingest.landing_files import Scratch

    schema = _arrow_schema(spec)
    status = {n: None for n in schema.names} | {"_file": rel, "_row": 0}
    with tempfile.TemporaryDirectory(prefix="scorecard-spark-ingest-") as tmp:
        root = Path(tmp) / "landing"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        local = _local_path(uri)
        if content is not None or local is None:
            path.write_bytes(content or b"")
        else:
            os.symlink(local, path)
        scratch_dir = Path(tmp) / "scratch"
        scratch_dir.mkdir()
        con = duckdb.connect(str(Path(tmp) / "landing.duckdb"), config={"threads": 1, "memory_limit": TASK_MEMORY})
        try:
            create_landing_table(con, spec, "_landing")
            try:
                _, enc = land_file(con, spec, root, path, encoding, Scratch(scratch_dir), "_landing")
            except IngestError as exc:
                status["_file_error"] = str(exc)
            else:
                if enc is not None:
                    status["_encoding"], status["_confidence"] = enc.codec, enc.confidence
                landed = [n for n, _ in LANDING_TECH if n not in STATUS_COLUMNS]
                names = ", ".join(f'"{n}"' for n in [c.name for c in spec.columns] + landed)
                reader = con.execute(
                    f"select {names}, null::varchar as _file_error, null::varchar as _encoding, "
                    f"null::double as _confidence from _landing order by _row"
                ).to_arrow_reader(65536)
                for batch in reader:
                    yield from pa.Table.from_batches([batch]).cast(schema).to_batches()
        finally:
            con.close()
    yield pa.RecordBatch.from_pylist([status], schema=schema)


# --- the driver: one entity ------------------------------------------------------------------------


def key_rule_select(spec: EntitySpec, typed: str, run_id: str) -> str:
    """Spark SQL: the raw table from the accepted typed rows (CONTRACT.md "Keys"), the key rule of
    ingest.raw_table.recompute_raw without DuckDB's QUALIFY."""
    q = SPARK.ident
    cols = ", ".join(q(c.name) for c in spec.columns)
    key = ", ".join(q(k) for k in spec.key)
    order = ("`updated_at` desc nulls last, " if spec.has_updated_at else "") + "_file desc, _row desc"
    return f"""
select {cols}, _file, _row, {SPARK.s(run_id)} as _run_id, _version = 1 as _is_current, _extra
from (
    select *, row_number() over (partition by {key} order by {order}) as _version
    from (
        select *, row_number() over (partition by md5(_raw) order by _file, _row) as _copy
        from {typed}
        where _reason is null
    ) as copies
    where _copy = 1
) as versions
"""


def ingest_entity(spark, spec: EntitySpec, landing: str, run: SparkIngestRun, scratch: str) -> EntityCounts:
    """One entity from the landing folder into raw.<entity>, audit.quarantine and audit.run_counts."""
    counts = EntityCounts(spec.entity)
    files = list_entity_files(spark, landing, spec)
    if run.sources is not None and spec.entity in run.sources.entities:
        if files:
            raise IngestError(
                f"{spec.entity} is mapped by {run.sources.path} and has files in the landing folder too "
                f"({files[0][1]}, ...): keep one of the two"
            )
        counts.files = _land_mapped(spark, spec, run.sources, scratch)
    else:
        if not files and spec.required:
            raise IngestError(
                f"{landing}/{spec.entity}: required entity {spec.entity} has no file (.csv, .parquet, .jsonl)"
            )
        counts.files = len(files)
        encoding = run.encodings.get(spec.entity)
        _stage(spark, spec, files, encoding, f"{scratch}/landing/{spec.table}").createOrReplaceTempView("_landing")

    as_of_utc = run.as_of.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    as_of_local_date = run.as_of.astimezone(ZoneInfo(run.timezone)).date().isoformat()
    allowed = sorted({run.base_currency.upper(), *[c.upper() for c in run.currencies]})
    sql = typed_select(
        spec,
        "_landing",
        base_currency=run.base_currency.upper(),
        allowed_currencies=allowed,
        as_of_utc=as_of_utc,
        as_of_local_date=as_of_local_date,
        dialect=SPARK,
    )
    typed_dir = f"{scratch}/typed/{spec.table}"
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", run.timezone)  # offset-less timestamps are local
    try:
        spark.sql(sql).write.mode("overwrite").parquet(typed_dir)
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    spark.read.parquet(typed_dir).createOrReplaceTempView("_typed")
    if spec.required and spark.sql("select count(*) from _typed").first()[0] == 0:
        raise IngestError(f"{landing}/{spec.entity}: required entity {spec.entity} holds no rows")

    for ddl in AUDIT_DDL:
        spark.sql(ddl)
    spark.sql(
        f"insert into audit.quarantine select {SPARK.s(run.run_id)}, {SPARK.s(spec.entity)}, _row_key, _reason, "
        "_raw, _file, _row, current_timestamp() from _typed where _reason is not null"
    )
    raw_cols = ", ".join(f"{SPARK.ident(c.name)} {SPARK.sql_type(c)}" for c in spec.columns)
    spark.sql(f"drop table if exists raw.{spec.table}")
    spark.sql(
        f"create table raw.{spec.table} ({raw_cols}, _file string, _row bigint, _run_id string, "
        "_is_current boolean, _extra string) using parquet"
    )
    spark.sql(f"insert into raw.{spec.table} {key_rule_select(spec, '_typed', run.run_id)}")

    row = spark.sql("select count(*), count_if(_reason is not null), count_if(_reason is null) from _typed").first()
    counts.rows_in, counts.quarantined, valid = row[0], row[1], row[2]
    counts.accepted, counts.superseded = spark.sql(
        f"select count_if(_is_current), count_if(not _is_current) from raw.{spec.table}"
    ).first()
    counts.exact_duplicates = valid - counts.accepted - counts.superseded
    counts.current_rows = counts.accepted
    spark.sql(
        "insert into audit.run_counts select "
        f"{SPARK.s(run.run_id)}, {SPARK.s(spec.entity)}, {counts.files}, {counts.rows_in}, {counts.accepted}, "
        f"{counts.quarantined}, {counts.exact_duplicates}, {counts.superseded}, current_timestamp()"
    )
    log.info(
        "%s: %s rows in from %s files: %s accepted, %s superseded, %s exact duplicates, %s quarantined",
        spec.entity,
        counts.rows_in,
        counts.files,
        counts.accepted,
        counts.superseded,
        counts.exact_duplicates,
        counts.quarantined,
    )
    return counts


def _stage(spark, spec: EntitySpec, files: list[tuple[str, str]], encoding: str | None, folder: str, stage_input=None):
    """The files' landing rows, read by the executors into Parquet under `folder`; a file that cannot be
    read stops the run (the first one, in path order)."""
    _read_files(spark, spec, files, encoding, stage_input).write.mode("overwrite").parquet(folder)
    landed = spark.read.parquet(folder)
    errors = landed.where("_row = 0 and _file_error is not null").orderBy("_file").select("_file_error").collect()
    if errors:
        raise IngestError(errors[0][0])
    return landed.where("_row > 0")


def _land_mapped(spark, spec: EntitySpec, sources, scratch: str) -> int:
    """The entity's landing rows from a mapping's exports (docs/mapping.md), as view `_landing`: each
    export file read by an executor into JSON-object rows, the mapping compiled to Spark SQL (the same
    compiler and landing SELECT as the DuckDB engine's orchestration/mapping/land.py). Returns the
    number of files."""
    import json

    from orchestration.mapping.compile import SPARK_MAP, compile_file, landing_select, lookup_table, lookups_of
    from orchestration.mapping.land import read_error, stage_spec

    mapping = sources.entities[spec.entity]

    def files_of(name: str) -> list[tuple[str, str]]:
        return [(p.resolve().as_uri(), p.relative_to(sources.folder).as_posix()) for p in sources.files(name)]

    def stage(name: str, view: str) -> None:
        try:
            frame = _stage(
                spark, stage_spec(name), files_of(name), sources.inputs[name].encoding,
                f"{scratch}/stage/{spec.table}/{view}", name,
            )  # fmt: skip
        except IngestError as exc:
            raise IngestError(read_error(str(exc), sources, name)) from None
        frame.createOrReplaceTempView(view)

    def header(view: str, rel: str) -> list[str]:
        row = spark.sql(
            f"select _extra from {view} where _file = {SPARK.s(rel)} and _parse_error is null "
            "and _extra is not null limit 1"
        ).first()
        return list(json.loads(row[0])) if row else []

    def stop(problems: list[str]) -> IngestError:
        return IngestError(f"{spec.entity} mapped by {sources.path} (input {mapping.input}): " + "; ".join(problems))

    files = files_of(mapping.input)
    if not files and spec.required:
        raise IngestError(
            f"input {mapping.input} of {sources.path}: required entity {spec.entity} has no file "
            "(.csv, .parquet, .jsonl)"
        )
    tables: dict[int, str] = {}
    staged: dict[str, str] = {}
    try:
        for lk in lookups_of(mapping, SPARK_MAP):
            if lk.input not in staged:
                staged[lk.input] = f"_stage_lookup_{len(staged)}"
                stage(lk.input, staged[lk.input])
            view = staged[lk.input]
            files_in = [rel for _, rel in files_of(lk.input)]
            sql, missing = lookup_table(lk, files_in, lambda rel, view=view: header(view, rel), view, SPARK_MAP)
            if missing:
                raise stop(missing)
            tables[lk.index] = f"_lookup_{lk.index}"
            spark.sql(sql).createOrReplaceTempView(tables[lk.index])
        stage(mapping.input, "_staged")
        contract = [c.name for c in spec.columns]
        selects = []
        for _, rel in files:
            names = header("_staged", rel)
            compiled = compile_file(mapping, names, contract, "_staged", f"_file = {SPARK.s(rel)}", tables, SPARK_MAP)
            if compiled.missing and names:
                raise stop([f"{rel}: {m}" for m in compiled.missing])
            selects.append(
                landing_select(f"({compiled.sql})", contract, SPARK_MAP, f"mapping of {spec.entity} in {sources.path}")
            )
    except ValueError as exc:  # a header Spark cannot read
        raise stop([str(exc)]) from None
    if selects:
        spark.sql(" union all ".join(selects)).createOrReplaceTempView("_landing")
    else:
        spark.createDataFrame([], landing_schema(spec)).createOrReplaceTempView("_landing")
    return len(files)


def _read_files(spark, spec: EntitySpec, files: list[tuple[str, str]], encoding: str | None, stage_input=None):
    """The landing rows of the files (one task per file), status rows included."""
    schema = landing_schema(spec)
    task = land_files_task(spec.entity, encoding, stage_input)
    if not files:
        return spark.createDataFrame([], schema)
    local = [(u, r) for u, r in files if _local_path(u) is not None]
    remote = [(u, r) for u, r in files if _local_path(u) is None]
    parts = []
    if local:
        frame = spark.createDataFrame(local, "uri string, rel string").repartition(len(local))
        parts.append(frame.mapInArrow(task, schema))
    if remote:
        rel_of = dict(remote)
        content = spark.read.format("binaryFile").load([u for u, _ in remote])
        names = spark.createDataFrame(list(rel_of.items()), "uri string, rel string")
        frame = content.join(names, content.path == names.uri).select("uri", "rel", "content")
        parts.append(frame.repartition(len(remote)).mapInArrow(task, schema))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


def ingest(spark, landing: str, run: SparkIngestRun, warehouse: str) -> list[EntityCounts]:
    """Every entity of the contract, in the contract's order."""
    scratch = run.scratch or f"{warehouse.rstrip('/')}/_scratch/{run.run_id}"
    for db in ("raw", "audit"):
        spark.sql(f"create database if not exists {db}")
    try:
        return [ingest_entity(spark, spec, landing, run, scratch) for spec in entity_specs()]
    finally:  # the landing and typed rows were copied into raw and audit: their Parquet goes
        delete_path(spark, scratch)


def delete_path(spark, uri: str) -> None:
    """Remove a folder (any Hadoop URI) and everything in it; nothing when it does not exist."""
    path = spark._jvm.org.apache.hadoop.fs.Path(uri)
    path.getFileSystem(spark._jsc.hadoopConfiguration()).delete(path, True)
