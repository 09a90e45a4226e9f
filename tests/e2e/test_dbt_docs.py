"""The marts' docs (orchestration/report/dbt_docs.py): `dbt docs generate --static` on a published
warehouse, opened read-only, into reports/dbt_docs/index.html, linked from reports/index.html."""

import hashlib
import html as html_module
import json
import re

import duckdb

from orchestration.cli import main
from orchestration.report.dbt_docs import docs_path


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _embedded(html: str, kind: str) -> dict:
    """The manifest or catalog the static page carries: one JSON object each, opening with its metadata."""
    schema = html.index(f'"dbt_schema_version": "https://schemas.getdbt.com/dbt/{kind}/')
    return json.JSONDecoder().raw_decode(html, html.rindex('{"metadata": {', 0, schema))[0]


def test_docs_of_the_published_warehouse(copy_of_handmade_run, capsys):
    warehouse = copy_of_handmade_run.warehouse
    before = _sha256(warehouse)
    # an analyst's read-only connection stays open the whole time: dbt opens the file read-only too (a
    # read-write open by another process would fail on DuckDB's lock), and writes nothing into it
    with duckdb.connect(str(warehouse), read_only=True) as analyst:
        assert main(["docs", "--warehouse", str(warehouse)]) == 0
        assert analyst.execute("select count(*) from marts.scorecard").fetchone()[0] > 0
    assert _sha256(warehouse) == before
    page = docs_path(warehouse)
    assert page == warehouse.parent / "reports" / "dbt_docs" / "index.html"
    assert f"the marts' docs: {page}" in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and 1_000_000 < len(html) < 20_000_000

    manifest, catalog = _embedded(html, "manifest"), _embedded(html, "catalog")
    nps = manifest["nodes"]["model.scorecard.scorecard"]["columns"]["nps_score"]
    assert nps["description"].startswith("Score of NPS (nps: customer_feedback, points, -100..100, higher is better)")
    assert {e["name"] for e in manifest["exposures"].values()} == {"directors_report", "auditors_report"}
    assert "Score of NPS (nps: customer_feedback" in html and '"name": "directors_report"' in html
    # the catalog is the published warehouse's: DuckDB's own types of the contracted columns
    columns = catalog["nodes"]["model.scorecard.scorecard"]["columns"]
    assert columns["nps_score"]["type"] == "DECIMAL(38,10)" and columns["final_score"]["type"] == "DECIMAL(18,2)"
    assert catalog["nodes"]["model.scorecard.indicator_values"]["columns"]["sample_size"]["type"] == "HUGEINT"

    # nothing is fetched from the network: no remote script, style sheet or font, and dbt's usage tracker
    # (a script it would load from a CDN) stays off because the manifest says so
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    assert not re.findall(r"""<(?:script|link|img|iframe)[^>]*\b(?:src|href)=["'](?:https?:)?//""", html)
    assert not re.findall(r"""@import\s+(?:url\()?["']?(?:https?:)?//|url\(["']?(?:https?:)?//""", html)

    index = (warehouse.parent / "reports" / "index.html").read_text(encoding="utf-8")
    # (the label comes through the report language's catalogue, HTML-escaped: The marts&#39; docs)
    assert '<a href="dbt_docs/index.html">The marts\' docs</a>' in html_module.unescape(index)


def test_docs_without_a_warehouse_say_so(tmp_path, capsys):
    assert main(["docs", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert f"no warehouse at {tmp_path / 'none.duckdb'}: run `scorecard run`" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()
