"""The DuckDB reader file of a Spark warehouse (orchestration/engines/spark_catalog.py) over folders laid
out as Spark writes them: `period=<label>/part-*.parquet` partitions, `_SUCCESS` and hidden `.crc` files,
an empty table (no file), a folder name with a quote. No Spark here: the folders are written by DuckDB."""

from decimal import Decimal

import duckdb
import pytest

from orchestration.engines.spark_catalog import ParquetTable, duckdb_type, is_reader_catalog, write_catalog


@pytest.mark.parametrize(
    ("spark", "duck"),
    [
        ("string", "varchar"),
        ("int", "integer"),
        ("bigint", "bigint"),
        ("decimal(18,4)", "decimal(18,4)"),
        ("DECIMAL(9, 2)", "decimal(9, 2)"),
        ("timestamp", "timestamp"),
        ("timestamp_ntz", "timestamp"),
        ("boolean", "boolean"),
        ("array<string>", "varchar"),
    ],
)
def test_duckdb_type(spark, duck):
    assert duckdb_type(spark) == duck


@pytest.fixture
def spark_like(tmp_path):
    """Table `scores` partitioned by period (a quarter and a month label), table `empty` with no file,
    table `notes` in a folder named with a quote."""
    root = tmp_path / "spark-warehouse"
    con = duckdb.connect()
    for period, rows in {"2026-Q1": [(1, "12.3400")], "2026-01": [(2, "-0.0001"), (3, None)]}.items():
        folder = root / "build_marts.db" / "scores" / f"period={period}"
        folder.mkdir(parents=True)
        values = ", ".join(f"({x}, {'null' if a is None else repr(a)}::decimal(18,4))" for x, a in rows)
        con.execute(
            f"copy (select * from (values {values}) as t(x, amount)) to '{folder}/part-00000-c000.snappy.parquet'"
        )
        (folder / ".part-00000-c000.snappy.parquet.crc").write_bytes(b"\x00crc")
    (root / "build_marts.db" / "scores" / "_SUCCESS").write_text("")
    (root / "audit.db" / "empty").mkdir(parents=True)
    notes = root / "audit.db" / "it's"
    notes.mkdir(parents=True)
    con.execute(f"copy (select 'héllo, 世界' as note) to '{str(notes).replace(chr(39), chr(39) * 2)}/part-0.parquet'")
    scores = (("x", "integer"), ("amount", "decimal(18,4)"), ("period", "varchar"))
    return {
        ("marts", "scores"): ParquetTable(str(root / "build_marts.db" / "scores"), scores, ("period",)),
        ("audit", "empty"): ParquetTable(str(root / "audit.db" / "empty"), (("run_id", "varchar"), ("n", "bigint"))),
        ("audit", "notes"): ParquetTable(str(notes), (("note", "varchar"),)),
    }  # fmt: skip


def test_reader_file_reads_spark_folders(tmp_path, spark_like):
    path = write_catalog(tmp_path / "w.duckdb", spark_like, {"published_run_id": "r1"})
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select x, amount, period from marts.scores order by x").fetchall() == [
            (1, Decimal("12.3400"), "2026-Q1"),
            (2, Decimal("-0.0001"), "2026-01"),  # a month label stays text, not a date
            (3, None, "2026-01"),
        ]
        types = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'scores' order by ordinal_position"
        ).fetchall()
        assert types == [("x", "INTEGER"), ("amount", "DECIMAL(18,4)"), ("period", "VARCHAR")]
        assert con.execute("select count(*) from audit.empty").fetchone() == (0,)
        assert con.execute("describe audit.empty").fetchall()[1][:2] == ("n", "BIGINT")
        assert con.execute("select note from audit.notes").fetchall() == [("héllo, 世界",)]
        assert dict(con.execute("select key, value from main.spark_catalog").fetchall())["published_run_id"] == "r1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spark-warehouse", "w.duckdb"]  # no temporary file left


def test_reader_file_is_replaced_whole(tmp_path, spark_like):
    path = tmp_path / "w.duckdb"
    write_catalog(path, spark_like, {"published_run_id": "r1"})
    write_catalog(path, {("marts", "scores"): spark_like[("marts", "scores")]}, {"published_run_id": "r2"})
    with duckdb.connect(str(path), read_only=True) as con:
        views = con.execute(
            "select schema_name, view_name from duckdb_views() where not internal order by all"
        ).fetchall()
        assert views == [("marts", "scores")]
        assert con.execute("select value from main.spark_catalog where key = 'published_run_id'").fetchone() == ("r2",)


def test_a_duckdb_warehouse_is_not_a_reader_file(tmp_path, spark_like):
    assert is_reader_catalog(tmp_path / "none.duckdb")  # nothing there yet
    assert is_reader_catalog(write_catalog(tmp_path / "r.duckdb", spark_like))
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.scorecard (x int)")
    assert not is_reader_catalog(warehouse)
