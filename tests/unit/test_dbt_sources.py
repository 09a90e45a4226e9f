"""dbt's sources are generated from the input contract: the committed file is what the contract says."""

import duckdb
import yaml

from orchestration.contract.dbt_sources import COMMAND, SOURCES_YML, cfg_columns, render
from orchestration.contract.spec import entity_specs
from orchestration.ingest.scheme_tables import CFG_TABLES


def test_committed_sources_are_generated_from_the_contract():
    assert SOURCES_YML.read_text(encoding="utf-8") == render(), f"__sources.yml is out of date: run `{COMMAND}`"


def test_render_is_deterministic_and_lists_every_raw_table_with_typed_described_columns():
    assert render() == render()
    (source,) = yaml.safe_load(render())["sources"]
    assert (source["name"], source["schema"]) == ("raw", "raw")
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == [s.table for s in entity_specs()] + list(CFG_TABLES)
    for spec in entity_specs():
        columns = tables[spec.table]["columns"]
        assert [(c["name"], c["data_type"]) for c in columns] == [(n, t.lower()) for n, t in spec.raw_columns]
        assert all(c["description"].strip() for c in columns)
    for table, ddl in CFG_TABLES.items():
        assert [(c["name"], c["data_type"]) for c in tables[table]["columns"]] == cfg_columns(ddl)
    assert cfg_columns("a varchar, b decimal(9,2)") == [("a", "varchar"), ("b", "decimal(9,2)")]


def test_every_contract_column_and_table_is_described():
    for spec in entity_specs():
        assert spec.description.strip(), spec.entity
        assert [c.name for c in spec.columns if not c.description.strip()] == [], spec.entity
        if spec.event_column is not None:
            assert spec.column(spec.event_column).kind in ("date", "timestamp", "period"), spec.entity


def test_technical_columns_are_the_ones_ingestion_writes():
    from orchestration.ingest.raw_table import create_empty_raw

    con = duckdb.connect()
    con.execute("create schema raw")
    for spec in entity_specs():
        create_empty_raw(con, spec)
        described = con.execute(f"describe raw.{spec.table}").fetchall()
        assert tuple((r[0], r[1]) for r in described) == spec.raw_columns, spec.table
