"""Ingestion on Spark against ingestion on DuckDB, on one hostile landing folder: the same raw tables
cell for cell, the same quarantined rows with the same reasons, lines and raw text, the same counts
(rows in = accepted + superseded + exact duplicates + quarantined). The hostile cases are those of
tests/integration/test_ingest_adversarial.py, whose expected values were worked out by hand there;
here DuckDB is the independent second engine, plus a few values asserted directly."""

from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract.spec import spec_for
from orchestration.engines.spark_ingest import SparkIngestRun, ingest_entity, list_entity_files
from orchestration.ingest.entity import IngestRun
from orchestration.ingest.entity import ingest_entity as duckdb_ingest_entity
from orchestration.ingest.ingest_error import IngestError
from tests.integration.test_ingest_adversarial import (
    AS_OF,
    DEALS,
    MALFORMED,
    REPS,
    SWALLOWING,
    TEAMS,
    TICKETS,
    TZ,
    write,
)

ENTITIES = (
    "crm/teams",
    "crm/reps",
    "crm/deals",
    "crm/targets",
    "crm/adjustments",
    "survey/responses",
    "tickets/tickets",
)


def hostile_landing(root):
    t = "C1,,complaint,service,high"
    write(root, "tickets/tickets/m.csv", "\n".join(MALFORMED) + "\n")
    write(root, "tickets/tickets/s.csv", "\r\n".join(SWALLOWING) + "\r\n")
    write(
        root,
        "tickets/tickets/old.csv",
        TICKETS
        + f"K21,{t},1600-01-01 10:00:00,,,\n"
        + f"K22,{t},0001-01-01T00:00:00Z,,,\n"
        + f"K23,{t},-infinity,,,\n"
        + f"K24,{t},epoch,,,\n"
        + f"K25,{t},now,,,\n"
        + f"K26,{t},1900-01-01 00:00:00,,,\n"
        + f"K27,{t},2026-03-01T10:00:00+02:00,2026-03-01 09:00:00,,with offset\n"  # response before opening
        + f'K28,{t},2026-03-01 10:00:00.123456,2026-03-01 10:30:00,2026-03-02 10:00:00,"中文, 逗号"\n'
        + f"K29,{t},2027-01-05 10:00:00,,,future\n",
    )
    write(root, "crm/teams/teams.csv", TEAMS + "T1,华东一组,华东,mature\nT2,华南二组,华南,new_business\n", "gb18030")
    write(
        root,
        "crm/reps/r.csv",
        REPS + "R3,A,T1,,1600-01-01,\nR4,B,T1,,epoch,\nR6,D,T1,,1899-12-31,\nR7,E,T1,,1900-01-01,today\n"
        "R8,F,T1,,1900-01-01,\nR1,王伟,T1,,2024-01-01,\n",
    )
    write(root, "crm/reps/utf8.csv", "\ufeff" + REPS.rstrip("\n") + ",Extra Col\nR9,张敏,T1,,2024-01-01,,x\n")
    write(
        root,
        "crm/deals/2026-01.csv",
        DEALS
        + "D1,C1,R1,p,won,100.5,CNY,2026-01-05,100.5,2026-01-05 10:00:00\n"
        + "D1,C1,R1,p,won,100.5,CNY,2026-01-05,100.5,2026-01-05 10:00:00\n"  # exact duplicate
        + "D2,C1,R1,p,open,12.34567,usd,,,2026-01-06 10:00:00\n"  # rounded half-up, a warning
        + "D3,C1,R1,p,lost,-1,CNY,2026-01-07,,2026-01-07 10:00:00\n"  # negative amount
        + "D4,C1,R1,p,won,50,EUR,2026-01-07,60,2026-01-07 10:00:00\n"  # no rate, collected above amount
        + "D5,C1,R1,p,WON,1e20,CNY,,,\n",  # too large, won without closed_on
    )
    write(root, "crm/deals/2026-02.csv", DEALS + "D1,C1,R1,p,won,120,CNY,2026-01-05,120,2026-02-01 10:00:00\n")
    write(
        root,
        "survey/responses/r.jsonl",
        '{"response_id": "S1", "invitation_id": "I1", "responded_at": "2026-02-01 10:00:00", "nps": "9", '
        '"csat": "5", "duration_seconds": "12.5"}\n'
        '{"response_id": "S2", "invitation_id": "I1", "responded_at": "2026-02-01 10:00:00", "nps": 11, '
        '"csat": "5", "duration_seconds": "1e309"}\n'
        '{"response_id": "S3", "invitation_id": "I1", "responded_at": "2026-02-01", "nps": "NaN", "csat": 0}\n',
    )
    (root / "crm" / "adjustments").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "adjustment_id": ["A1", "A2", "A3"],
                "period": ["2026-Q1", "2026-Q5", "2026-Q1"],
                "level": ["rep", "rep", "galaxy"],
                "subject_id": ["R1", "R1", "R1"],
                "points": [2.5, float("nan"), -1.23456],
                "reason": ["r", "r", "r"],
                "approved_by": ["M", "M", "M"],
            }
        ),
        root / "crm" / "adjustments" / "a.parquet",
    )
    write(root, "crm/targets/t.csv", "period,rep_id,sales_target\n2026-Q1,R1,Infinity\n2026-Q2,R1,1000.5\n")


@pytest.fixture(scope="module")
def spark(cluster_spark):
    """The session on the standalone cluster (conftest.py)."""
    return cluster_spark


@pytest.fixture(scope="module")
def engines(tmp_path_factory, spark):
    """Both engines' ingestion of the hostile folder: (DuckDB connection, Spark session, counts)."""
    root = tmp_path_factory.mktemp("hostile") / "landing"
    hostile_landing(root)
    con = duckdb.connect(str(root.parent / "w.duckdb"))
    run = IngestRun("run-1", AS_OF, TZ, "CNY", ("USD",))
    duck = {e: duckdb_ingest_entity(con, spec_for(e), root, run) for e in ENTITIES}
    spark_run = SparkIngestRun("run-1", AS_OF, TZ, "CNY", ("USD",))
    for db in ("raw", "audit"):
        spark.sql(f"drop database if exists {db} cascade")
        spark.sql(f"create database {db}")
    scratch = str(root.parent / "scratch")
    sparks = {e: ingest_entity(spark, spec_for(e), str(root), spark_run, scratch) for e in ENTITIES}
    yield con, spark, duck, sparks, root
    con.close()


def _counts(c) -> tuple:
    assert c.rows_in == c.accepted + c.quarantined + c.exact_duplicates + c.superseded
    return (c.files, c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded)


def test_counts_agree_and_the_identity_holds(engines):
    _, _, duck, sparks, _ = engines
    assert {e: _counts(sparks[e]) for e in ENTITIES} == {e: _counts(duck[e]) for e in ENTITIES}
    # worked out by hand from the files above
    assert _counts(sparks["crm/deals"]) == (2, 7, 2, 3, 1, 1)
    assert _counts(sparks["tickets/tickets"]) == (3, 20, 10, 10, 0, 0)


def test_quarantine_agrees_row_for_row(engines):
    con, spark, *_ = engines
    sql = "select source, file, row_number, row_key, reason, raw_row from audit.quarantine"
    duck = sorted(con.execute(sql).fetchall(), key=str)
    sparks = sorted((tuple(r) for r in spark.sql(sql).collect()), key=str)
    assert [r[:5] for r in sparks] == [r[:5] for r in duck]
    assert sparks == duck  # the raw text too


@pytest.mark.parametrize("entity", ENTITIES)
def test_raw_tables_agree_cell_for_cell(engines, entity):
    con, spark, *_ = engines
    spec = spec_for(entity)
    cols = ", ".join([c.name for c in spec.columns] + ["_file", "_row", "_is_current", "_extra"])
    sql = f"select {cols} from raw.{spec.table} order by _file, _row"
    duck = con.execute(sql).fetchall()
    sparks = [tuple(r) for r in spark.sql(sql).collect()]
    assert sparks == duck


def test_values_worked_out_by_hand(engines):
    _, spark, *_ = engines
    deals = spark.sql("select deal_id, amount, currency, _is_current from raw.crm__deals order by _file, _row")
    assert [tuple(r) for r in deals.collect()] == [
        ("D1", Decimal("100.5000"), "CNY", False),
        ("D2", Decimal("12.3457"), "USD", True),
        ("D1", Decimal("120.0000"), "CNY", True),
    ]
    # 10:00 at +02:00 is 08:00 UTC; 1900-01-01 00:00 in Shanghai (local mean time +08:05:43) in UTC
    opened = dict(spark.sql("select ticket_id, opened_at from raw.tickets__tickets").collect())
    assert opened["K26"] == datetime(1899, 12, 31, 15, 54, 17)
    assert opened["K28"] == datetime(2026, 3, 1, 2, 0, 0, 123456)
    assert spark.sql("select team_name from raw.crm__teams order by team_id").collect()[0][0] == "华东一组"


def test_the_landing_folder_is_listed_in_path_order(engines, spark):
    *_, root = engines
    files = list_entity_files(spark, str(root), spec_for("crm/deals"))
    assert [rel for _, rel in files] == ["crm/deals/2026-01.csv", "crm/deals/2026-02.csv"]
    assert all(uri.startswith("file:") for uri, _ in files)


def test_a_file_that_is_not_csv_stops_the_ingestion_naming_it(tmp_path, spark):
    root = tmp_path / "landing"
    write(root, "crm/teams/bin.csv", b"\x00\x01\x02binary")
    with pytest.raises(IngestError, match=r"crm/teams/bin.csv: cannot be read as CSV: binary content"):
        ingest_entity(spark, spec_for("crm/teams"), str(root), SparkIngestRun("r", AS_OF, TZ), str(tmp_path / "s"))
