"""reports/index.html: one door to a warehouse's reports. The latest run's status and what failed, the
published run when it is another one, and relative links to exactly the reports that exist."""

import re
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.report.index import write_index

RUNS = [
    # run_id, started_at, finished_at, status, failure_reason, published
    ("r1", datetime(2026, 12, 1, 2, 0), datetime(2026, 12, 1, 2, 5), "succeeded", None, True),
    ("r2", datetime(2026, 12, 2, 2, 0), datetime(2026, 12, 2, 2, 1), "failed", "raw__crm__teams: <no file>", False),
]


def _warehouse(tmp_path: Path) -> Path:
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema audit")
        con.execute(
            "create table audit.runs (run_id varchar, started_at timestamp, finished_at timestamp, status varchar, "
            "failure_reason varchar, published boolean)"
        )
        con.executemany("insert into audit.runs values (?, ?, ?, ?, ?, ?)", RUNS)
    reports = tmp_path / "reports"
    for name in ("auditor/latest.html", "director/2026-Q2.html", "director/2026-Q1.html", "whatif/2026-Q1__alt.html"):
        (reports / name).parent.mkdir(parents=True, exist_ok=True)
        (reports / name).write_text("<html></html>")
    (reports / "director" / "notes.txt").write_text("not a report")
    return warehouse


def test_index_links_what_exists_and_leads_with_the_latest_run(tmp_path):
    path = write_index(_warehouse(tmp_path))
    assert path == tmp_path / "reports" / "index.html"
    html = path.read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', html)
    assert links == [
        "auditor/latest.html",
        "director/2026-Q1.html",
        "director/2026-Q2.html",
        "whatif/2026-Q1__alt.html",
    ]
    assert all((path.parent / link).is_file() for link in links)
    assert '<span class="status failed">failed</span> run <code>r2</code>' in html
    assert "What failed: raw__crm__teams: &lt;no file&gt;" in html  # escaped
    assert "The published marts are those of run <code>r1</code> (finished 2026-12-01 02:05 UTC)" in html
    assert "docs (dbt docs) are not built yet: <code>scorecard docs</code>" in html
    assert "<script" not in html and not list(path.parent.glob(".index.*"))


def test_index_of_a_new_warehouse(tmp_path):
    html = write_index(tmp_path / "none.duckdb").read_text(encoding="utf-8")
    assert "No run is recorded in this warehouse yet." in html
    assert re.findall(r'href="([^"]+)"', html) == []


def test_index_in_chinese(tmp_path):
    html = write_index(_warehouse(tmp_path), language="zh-CN").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert '<html lang="zh-CN">' in html
    assert "计分卡报告" in text and "最近一次运行" in text and "失败 运行 r2" in text and "，未发布" in text
    assert "已发布的数据集市来自运行 r1 （结束于 2026-12-01 02:05 UTC）。" in text
    assert "2026年第1季度" in text and 'href="director/2026-Q1.html"' in html  # the period named, the file as it is
    assert "Latest run" not in text and "none yet" not in text
