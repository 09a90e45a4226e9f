"""The mapping's generated SQL is portable: compiled in Spark's dialect (orchestration/mapping/compile.py,
SparkMapDialect) and run by Spark over the same staged rows, it gives what DuckDB gives, value for value
and failure message for failure message: the Maven CRM deals (lookups with and without first_by, value
maps, dates) and the hand-made export of tests/integration/test_mapping.py (every operator and failure)."""

import tempfile
from pathlib import Path

import duckdb
import pytest

from orchestration.contract.spec import spec_for
from orchestration.ingest.landing_files import Scratch
from orchestration.mapping.compile import SPARK_MAP, compile_file, lookup_select, lookup_table_sql, lookups_of
from orchestration.mapping.land import _Stager, header_of
from orchestration.mapping.model import load_sources
from orchestration.settings import PROJECT_ROOT
from tests.integration.test_mapping import make

STAGED_COLUMNS = (
    "_extra, _file, _row, _parse_error, _parse_detail, _raw_text, "
    "_seg, _ord, _nb, _span, _swallowed, _swallowed_col, _swallowed_text"
)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from orchestration.engines.spark import spark_session

    session = spark_session(tmp_path_factory.mktemp("spark_mapping"), master="local[2]")
    session.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    yield session
    session.stop()


def _both(spark, sources, entity: str, tmp: Path) -> tuple[list, list]:
    """The mapped rows of `entity` (contract columns as text and _map_error) computed by DuckDB's
    land_mapped SQL and by the same compiled SQL in Spark's dialect over the staged rows."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'Asia/Shanghai'")
    mapping = sources.entities[entity]
    contract = [c.name for c in spec_for(entity).columns]
    stager = _Stager(con, sources, Scratch(Path(tempfile.mkdtemp(dir=tmp))))
    duck_tables, spark_tables = {}, {}
    for lk in lookups_of(mapping):
        staged = stager.whole(lk.input)
        view = f"staged_{lk.input}"
        _to_spark(spark, con, staged, view, tmp)
        parts_d, parts_s = [], []
        for p in sources.files(lk.input):
            rel = p.relative_to(sources.folder).as_posix()
            names = header_of(con, staged, rel)
            parts_d.append(lookup_select(lk.node, names, staged, f"_file = '{rel}'")[0])
            parts_s.append(lookup_select(lk.node, names, view, f"_file = '{rel}'", SPARK_MAP)[0])
        first_by = "first_by" in lk.node
        con.execute(f"create temp table lk_{lk.index} as {lookup_table_sql(parts_d, first_by)}")
        spark.sql(lookup_table_sql(parts_s, first_by)).createOrReplaceTempView(f"lk_{lk.index}")
        duck_tables[lk.index] = spark_tables[lk.index] = f"lk_{lk.index}"
    stager.stage(mapping.input, sources.files(mapping.input), "_main")
    _to_spark(spark, con, "_main", "staged_main", tmp)
    duck, sparks = [], []
    cols = ", ".join(f"cast({c} as varchar)" for c in contract)
    for p in sources.files(mapping.input):
        rel = p.relative_to(sources.folder).as_posix()
        names = header_of(con, "_main", rel)
        d_sql = compile_file(mapping, names, contract, "_main", f"_file = '{rel}'", duck_tables).sql
        s_sql = compile_file(mapping, names, contract, "staged_main", f"_file = '{rel}'", spark_tables, SPARK_MAP).sql
        duck += con.execute(f"select {cols}, _map_error, _row from ({d_sql}) m").fetchall()
        spark_cols = ", ".join(f"cast(`{c}` as string)" for c in contract)
        sparks += [tuple(r) for r in spark.sql(f"select {spark_cols}, _map_error, _row from ({s_sql}) m").collect()]
    return sorted(duck, key=lambda r: r[-1]), sorted(sparks, key=lambda r: r[-1])


def _to_spark(spark, con, table: str, view: str, tmp: Path) -> None:
    out = tmp / f"{view}.parquet"
    con.execute(f"copy (select {STAGED_COLUMNS} from {table}) to '{out}' (format parquet)")
    spark.read.parquet(str(out)).createOrReplaceTempView(view)


def test_hand_made_export_every_operator_same_in_spark(spark, tmp_path):
    duck, sparks = _both(spark, make(tmp_path), "crm/deals", tmp_path)
    assert len(duck) == 7
    assert sparks == duck
    # a value and a failure of each kind, so that "equal" is not "equally empty"
    assert duck[0][:3] == ("D-1", "ACME", "R1") and duck[0][5] == "1234.50"
    assert duck[0][9] == "2026-03-31T07:15:00.000000+00:00"
    assert duck[5][-2].startswith("product_line: lookup: 2 different values of products for key 'mg'")


def test_maven_deals_same_in_spark(spark, tmp_path):
    sources = load_sources(PROJECT_ROOT / "mappings" / "maven_crm" / "sources.yml")
    duck, sparks = _both(spark, sources, "crm/deals", tmp_path)
    assert len(duck) == 8800
    assert sparks == duck


def test_spark_ingestion_reads_the_maven_exports_through_the_mapping(spark, tmp_path):
    # `scorecard run --target spark --sources ...`: the Spark engine's own ingestion, every mapped entity,
    # counts and won amounts equal to the DuckDB engine's (tests/integration/test_maven_mapping.py)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from orchestration.engines.spark_ingest import SparkIngestRun, ingest_entity
    from orchestration.mapping.ingest import ingest_sources
    from orchestration.scheme.file import load_scheme

    sources = load_sources(PROJECT_ROOT / "mappings" / "maven_crm" / "sources.yml")
    scheme = load_scheme(PROJECT_ROOT / "config" / "scorecard.yml")
    as_of = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    run = SparkIngestRun(run_id="spark-map", as_of=as_of, sources=sources, **scheme.ingest_fields())
    for db in ("raw", "audit"):
        spark.sql(f"create database if not exists {db}")
    got = {}
    for entity in sources.entities:
        c = ingest_entity(spark, spec_for(entity), str(tmp_path / "landing"), run, str(tmp_path / "scratch"))
        got[entity] = (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded)
    con = duckdb.connect()
    duck = ingest_sources(con, sources, scheme, as_of)
    assert got == {e: (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded) for e, c in duck.items()}
    assert got["crm/deals"] == (8800, 7375, 1425, 0, 0)
    won = (
        "select rep_id, year(closed_on), quarter(closed_on), sum(amount) from {} "
        "where stage = 'won' and _is_current group by 1, 2, 3"
    )
    spark_won = sorted(tuple(r) for r in spark.sql(won.format("raw.crm__deals")).collect())
    assert spark_won == sorted(con.execute(won.format("raw.crm__deals")).fetchall())
    reasons = spark.sql("select reason, count(*) from audit.quarantine where run_id = 'spark-map' group by 1").collect()
    assert [tuple(r) for r in reasons] == [("missing required value: customer_id", 1425)]
    owner = spark.sql("select owner_rep_id, acquired_on from raw.crm__customers where customer_id = 'Acme Corporation'")
    assert [tuple(r) for r in owner.collect()] == [("Reed Clapper", datetime(2016, 11, 12).date())]
