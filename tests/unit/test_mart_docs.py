"""What analysts read about the published marts (dbt_project/models/marts/*.yml, in the manifest `make
setup` prepares): every column described and typed, contracts enforced, the two reports as exposures."""

import json
from pathlib import Path

import pytest
import yaml

from orchestration.catalogue import INDICATOR_IDS, MARTS

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "dbt_project" / "target" / "manifest.json"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _mart(manifest: dict, name: str) -> dict:
    return manifest["nodes"][f"model.scorecard.{name}"]


@pytest.mark.parametrize("mart", MARTS)
def test_every_column_of_a_published_mart_is_described_and_typed(manifest, mart):
    node = _mart(manifest, mart)
    assert node["config"]["contract"]["enforced"] is True  # the manifest is parsed for DuckDB
    assert node["description"].strip()
    columns = node["columns"]
    assert len(columns) >= 12, mart
    for name, column in columns.items():
        assert column["description"].strip(), f"{mart}.{name} has no description"
        assert "{{" not in column["description"], f"{mart}.{name}: unrendered doc() in the description"
        assert column["data_type"] and "{{" not in column["data_type"], f"{mart}.{name}: data_type"


def test_scorecard_has_a_described_score_column_per_indicator_in_catalogue_order(manifest):
    columns = list(_mart(manifest, "scorecard")["columns"])
    scores = [c for c in columns if c.endswith("_score") and c != "composite_score" and c != "final_score"]
    assert scores == [f"{i}_score" for i in INDICATOR_IDS]
    # in the SQL's place: after business_stage, before composite_score (a contract builds the table in this order)
    assert columns[columns.index("business_stage") + 1] == "sales_attainment_score"
    assert columns[columns.index("composite_score") - 1] == "referral_rate_score"
    nps = _mart(manifest, "scorecard")["columns"]["nps_score"]
    assert nps["data_type"] == "decimal(38,10)"
    assert nps["description"].startswith("Score of NPS (nps: customer_feedback, points, -100..100, higher is better)")
    assert "not published" in nps["description"]  # a survey indicator
    assert "not published" not in _mart(manifest, "scorecard")["columns"]["collection_rate_score"]["description"]


def test_types_that_differ_per_adapter_come_from_the_project_vars(manifest):
    # parsed for DuckDB: the anchors of the YAML render var('column_types')['duckdb']
    columns = _mart(manifest, "indicator_values")["columns"]
    assert columns["value"]["data_type"] == "double"
    assert columns["sample_size"]["data_type"] == "hugeint"
    assert columns["numerator"]["data_type"] == "decimal(38,6)"
    assert _mart(manifest, "anomaly_flags")["columns"]["first_seen_at"]["data_type"] == "timestamp with time zone"
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    types = project["vars"]["column_types"]
    assert set(types) == {"duckdb", "postgres", "spark"}
    assert all(set(t) == set(types["duckdb"]) for t in types.values())
    assert types["postgres"] == {"double": "float8", "int_sum": "bigint", "bigint_sum": "numeric", "rank": "bigint",
                                 "timestamp": "timestamp", "timestamptz": "timestamptz"}  # fmt: skip
    assert types["spark"]["rank"] == "int" and types["spark"]["timestamp"] == "timestamp_ntz"
    assert _mart(manifest, "scorecard")["columns"]["rank_overall"]["data_type"] == "bigint"  # rank on DuckDB


def test_the_two_reports_are_exposures_of_the_marts_they_read(manifest):
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {"directors_report", "auditors_report"}
    directors, auditors = exposures["directors_report"], exposures["auditors_report"]
    assert directors["url"] == "../director/" and auditors["url"] == "../auditor/latest.html"
    assert directors["owner"]["name"] == auditors["owner"]["name"] == "Scorecard data engineering"
    marts = {f"model.scorecard.{m}" for m in MARTS}
    # the directors' report reads every published mart but the score statement (orchestration/report/director_data.py)
    assert marts & set(directors["depends_on"]["nodes"]) == marts - {"model.scorecard.score_statement"}
    assert set(auditors["depends_on"]["nodes"]) == {
        "model.scorecard.anomaly_flags", "model.scorecard.scorecard",
        "model.scorecard.audit_adjustments", "model.scorecard.audit_flag_reviews",
    }  # fmt: skip
