"""The auditor's HTML report, rendered from a small warehouse built by hand with known rows."""

import html as html_module
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.report import auditor_data
from orchestration.report.auditor import build_auditor_report, render_auditor_report
from orchestration.settings import PROJECT_ROOT
from orchestration.warehouse import connect, ensure_audit_tables, reports_dir

RUN = "run-2"
OLD_RUN = "run-1"
SCRIPT = '<script>alert("x")</script>'
EVIDENCE = (
    "R001 logged praise for C0007 on 2026-02-10 while ticket TK-88 (complaint about 交付延迟) "
    "was opened against R001 on 2026-02-14, 4 days later"
)

MARTS_DDL = """
create schema if not exists marts;
create table marts.scorecard (
    period varchar, level varchar, subject_id varchar, subject_name varchar, team_id varchar,
    final_score decimal(18, 2), grade varchar, adjustment_points decimal(18, 2)
);
create table marts.anomaly_flags (
    flag_id varchar, period varchar, rep_id varchar, team_id varchar, customer_id varchar,
    response_id varchar, rule_id varchar, severity varchar, strength double, evidence varchar,
    first_run_id varchar
);
create table audit.adjustments (
    adjustment_id varchar, adjustment_period varchar, period varchar, level varchar, subject_id varchar,
    points decimal(18, 2), reason varchar, approved_by varchar, subject_raw_points decimal(38, 2),
    subject_clamped_points decimal(18, 2), was_clamped boolean
);
"""


def _audit_rows(con) -> None:
    con.execute(
        "insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            OLD_RUN,
            datetime(2026, 12, 30, 18),
            datetime(2026, 12, 30, 18, 1),
            datetime(2026, 12, 30, 15, 59, 59),
            "succeeded",
            None,
            10,
            0,
            True,
            "/landing",
            "/config.yml",
        ],
    )
    con.execute(
        "insert into audit.runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            RUN,
            datetime(2026, 12, 31, 18),
            datetime(2026, 12, 31, 18, 2, 5),
            datetime(2026, 12, 31, 15, 59, 59),
            "failed",
            "step marts failed: 3 rows with a NULL final score",
            9,
            1,
            False,
            "/landing",
            "/config.yml",
        ],
    )
    con.execute(
        """insert into audit.run_counts values
           ('run-2', 'crm/deals', 2, 10, 6, 2, 1, 1, now()),
           ('run-2', 'crm/reps', 1, 3, 3, 0, 0, 0, now()),
           ('run-1', 'crm/deals', 2, 99, 99, 0, 0, 0, now())"""
    )
    con.execute(
        "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, ?, now())",
        [
            RUN,
            "crm/deals",
            "D0009",
            "missing required value: amount; wrong type: closed_on='昨天' is not a YYYY-MM-DD date",
            '{"deal_id": "D0009", "customer_name": "上海明远贸易", "amount": null, "closed_on": "昨天"}',
            "crm/deals/2026-03-31.csv",
            9,
        ],
    )
    con.execute(
        "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, ?, now())",
        [
            RUN,
            "crm/deals",
            "D0010",
            "missing required value: amount",
            '{"deal_id": "D0010", "customer_name": "北京客户", "amount": null}',
            "crm/deals/2026-03-31.csv",
            10,
        ],
    )
    con.execute(
        """insert into audit.check_results values
           (?, now(), 'dbt', 'marts.scorecard', 'not_null_scorecard_final_score', 'ERROR', false, 3,
            'final_score is null for 3 graded rows'),
           (?, now(), 'great_expectations', 'survey/responses', 'expect_column_values_to_be_between(csat)', 'warn',
            true, 0, 'csat within 1..5'),
           ('run-1', now(), 'dbt', 'marts.scorecard', 'stale_check_of_the_old_run', 'error', false, 8, 'old')""",
        [RUN, RUN],
    )
    for key, value in [("R001", "9.5"), ("R002", SCRIPT), ("R003", None)]:
        con.execute(
            "insert into audit.validation_failures values (?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                RUN,
                "marts.scorecard",
                "not_null_scorecard_final_score",
                "error",
                f"2026-Q1|rep|{key}",
                "final_score",
                value,
                "final_score is null",
                "dbt",
            ],
        )


def _marts_rows(con) -> None:
    con.execute(MARTS_DDL)
    con.execute(
        """insert into marts.scorecard values
           ('2026-Q1', 'rep', 'R001', '张伟', 'T01', 91.25, 'excellent', 5.00),
           ('2026-Q1', 'rep', 'R002', 'Chloe Li', 'T01', 80.00, 'good', 0.00),
           ('2026-Q1', 'team', 'T01', '华东一组', 'T01', 84.00, 'good', 0.00)"""
    )
    con.execute(
        "insert into marts.anomaly_flags values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ["F-hc-1", "2026-Q1", "R001", "T01", "C0007", None, "hidden_complaint", "high", 0.87, EVIDENCE, RUN],
    )
    con.execute(
        """insert into audit.adjustments values
           ('ADJ001', '2026-Q1', '2026-Q1', 'rep', 'R001', 4.00, '季度大客户突破', '王经理', 7.00, 5.00, true),
           ('ADJ002', '2026-02', '2026-Q1', 'rep', 'R001', 3.00, 'Mentored two new hires', 'VP Sales Wong', 7.00, 5.00,
            true),
           ('ADJ003', '2026-Q1', '2026-Q1', 'rep', 'R002', -1.50, 'Late CRM updates', '王经理', -1.50, -1.50, false)"""
    )


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        ensure_audit_tables(con)
        _audit_rows(con)
        _marts_rows(con)
    return path


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def test_report_of_the_latest_run(warehouse: Path):
    path = render_auditor_report(warehouse)  # run_id defaults to the latest run of audit.runs

    assert path == reports_dir(warehouse) / "auditor" / f"{RUN}.html"
    latest = path.parent / "latest.html"
    html = path.read_text(encoding="utf-8")
    assert latest.read_text(encoding="utf-8") == html
    assert html.startswith("<!doctype html>") and '<meta charset="utf-8">' in html

    # self-contained and escaped: no script at all, no external asset; the bad value is shown escaped
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html

    # run summary: status, failure reason, published, and the count invariant per entity
    assert "failed" in html and "step marts failed: 3 rows with a NULL final score" in html
    assert "10 = 6 + 2 + 1 + 1" in html and "3 = 3 + 0 + 0 + 0" in html
    assert html.count(">holds<") == 3  # two entities and the total
    # the invariant holds, and the 2 quarantined rows are stored
    assert ">broken<" not in html and "does not hold" not in html
    assert "99 = 99" not in html  # the old run's counts are not in this run's report

    # validation: the failing dbt check links to a table of its 3 failing rows; the passing GE check does not
    link = re.search(r'<a href="#(fail-[^"]+)">not_null_scorecard_final_score</a>', html)
    assert link, "the failing check links to its failing rows"
    rows = _section(html, link.group(1))
    assert rows.count('<tr><td class="n">') == 3
    for key in ("2026-Q1|rep|R001", "2026-Q1|rep|R002", "2026-Q1|rep|R003"):
        assert key in rows
    assert "&lt;script&gt;" in rows and "final_score is null" in rows
    assert "Failing rows reported: 3; stored in audit.validation_failures: 3." in rows
    assert "expect_column_values_to_be_between(csat)" in html
    assert not re.search(r'<a href="#[^"]+">expect_column_values_to_be_between', html)
    # failures first: the passing checks are folded per source and kind, after the failing ones
    passing = html[html.index('id="check-list"') : html.index('id="quarantine"')]
    assert html.index('id="failing-checks"') < html.index('id="check-list"')
    assert "expect_column_values_to_be_between(csat)" in passing.split("<details", 1)[1]
    assert "not_null_scorecard_final_score" not in passing
    assert re.search(r"<summary><strong>[^<]+</strong>: 1 great_expectations</summary>", passing)
    # a failed run leads with what failed
    lead = html.split('id="what-failed"', 1)[1].split("</p>", 1)[0]
    assert "step marts failed: 3 rows with a NULL final score" in lead and "No check failed" not in lead
    assert "stale_check_of_the_old_run" not in html

    # quarantine: counted per reason, a row with two reasons counts under both; raw rows with Chinese intact
    quarantine = html[html.index('id="quarantine"') : html.index('id="flags"')]
    assert re.search(r"missing required value: amount</td><td class=\"n\">2</td>", quarantine)
    assert re.search(
        r"wrong type: closed_on=&#39;…&#39; is not a YYYY-MM-DD date</td><td class=\"n\">1</td>", quarantine
    )
    assert "上海明远贸易" in quarantine and "北京客户" in quarantine
    assert "crm/deals/2026-03-31.csv : 9" in quarantine

    # anomaly flags: grouped by rule, with severity, strength, evidence and the rep's name
    flags = html[html.index('id="flags"') : html.index('id="adjustments"')]
    assert "hidden_complaint" in flags and "0.87" in flags and "张伟" in flags
    assert EVIDENCE in flags
    assert "1 first raised by this run" in flags
    # the strength column has a legend for each rule shown
    assert (
        '<li>Hidden complaint (<span class="mono">hidden_complaint</span>): distinct complaint tickets within the '
        "window of the rep's positive records</li>" in flags.replace("&#39;", "'")
    )

    # adjustments: reasons, approvers, and the clamped subject with raw vs clamped sum and the applied points
    adjustments = html[html.index('id="adjustments"') : html.index('id="history"')]
    assert "季度大客户突破" in adjustments and "王经理" in adjustments and "VP Sales Wong" in adjustments
    clamped = adjustments[adjustments.index("Clamped subjects") : adjustments.index("Every adjustment")]
    assert re.search(
        r"R001 张伟</td>\s*<td class=\"n\">2</td><td class=\"n\">7.00</td><td class=\"n\">5.00</td>", clamped
    )
    assert "ADJ001, ADJ002" in clamped and "R002" not in clamped
    assert "<strong>1</strong> subject-periods were clamped" in adjustments

    # history links the other run's report only when it exists
    assert f'href="{RUN}.html"' in html and f'href="{OLD_RUN}.html"' not in html


def test_older_run_keeps_latest_and_is_scoped(warehouse: Path, tmp_path: Path):
    render_auditor_report(warehouse)
    report = build_auditor_report(warehouse, run_id=OLD_RUN)
    html = report.path.read_text(encoding="utf-8")
    assert report.latest_path is None  # latest.html still shows the newer run
    assert RUN in (report.path.parent / "latest.html").read_text(encoding="utf-8").split("<title>")[1][:40]
    assert "99 = 99 + 0 + 0 + 0" in html and "stale_check_of_the_old_run" in html
    assert "上海明远贸易" not in html  # quarantine of the other run
    assert f'href="{RUN}.html"' in html  # the newer run's report exists now

    out = tmp_path / "elsewhere"
    assert render_auditor_report(warehouse, RUN, out_dir=out) == out / f"{RUN}.html"


def test_failing_rows_are_capped(warehouse: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(auditor_data, "FAILING_ROWS_PER_CHECK", 2)
    html = render_auditor_report(warehouse).read_text(encoding="utf-8")
    assert "Showing 2 by row key; <strong>1 more not shown</strong>" in html
    assert "2026-Q1|rep|R003" not in html  # the rows are taken in row-key order


def test_missing_tables_and_run_in_progress(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:  # only what ingestion writes: no run row yet, no marts, no dbt audit models
        ensure_audit_tables(con)
        con.execute("insert into audit.run_counts values ('run-9', 'crm/reps', 1, 3, 3, 0, 0, 0, now())")
        con.execute("drop table audit.check_results")
    html = render_auditor_report(path).read_text(encoding="utf-8")  # falls back to audit.run_counts
    assert "run <code>run-9</code>" in html
    assert "not recorded in audit.runs yet" in html
    assert "Not available in this run: marts.anomaly_flags not in the warehouse." in html
    assert "Not available in this run: audit.adjustments not in the warehouse." in html
    assert "No check results recorded for this run (none)." in html  # validation_failures exists but is empty
    assert "No row was quarantined in this run (none)." in html

    empty = tmp_path / "empty.duckdb"
    with connect(empty) as con:
        ensure_audit_tables(con)
    with pytest.raises(ValueError, match="no run recorded"):
        render_auditor_report(empty)


def _publish_step(warehouse: Path, monkeypatch=None, fail_with: Exception | None = None, dbt_docs: bool = True):
    from dagster import materialize

    from orchestration.publish import defs as publish_assets
    from orchestration.resources import FaultInjection, RunOptions, ScorecardSettings
    from orchestration.warehouse.build_copy import start_build

    settings = ScorecardSettings(
        landing=str(warehouse.parent), config=str(PROJECT_ROOT / "config" / "scorecard.yml"), warehouse=str(warehouse)
    )
    if fail_with is not None:

        def broken(*args, **kwargs):
            raise fail_with

        monkeypatch.setattr(publish_assets, "build_auditor_report", broken)
    start_build(warehouse)  # a run builds in its copy of the warehouse (write-audit-publish)
    result = materialize(
        [publish_assets.published_warehouse],
        resources={"settings": settings, "faults": FaultInjection(), "run_options": RunOptions(data_docs=dbt_docs)},
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    return result, check


def test_the_auditor_report_is_published_with_the_run(warehouse: Path):
    # without the marts' dbt docs (about 15 s): the next test publishes them with its run and checks that
    result, check = _publish_step(warehouse, dbt_docs=False)
    assert check.passed
    path = reports_dir(warehouse) / "auditor" / f"{result.run_id}.html"
    html = path.read_text(encoding="utf-8")
    assert "Asia/Shanghai" in html  # local times in the scheme's zone beside UTC
    assert "not recorded in audit.runs yet" not in html  # the run is recorded before it is rendered
    assert f"warehouse <code>{warehouse.resolve()}</code>" in html  # the published file, not the build copy
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select status, published from audit.runs where run_id = ?", [result.run_id]).fetchall() == [
            ("succeeded", True)
        ]


def test_a_report_that_fails_does_not_block_publication(warehouse: Path, monkeypatch):
    result, check = _publish_step(
        warehouse, monkeypatch, fail_with=ValueError("Unknown symbol: \\^ (at char 1)\nline 2")
    )
    assert not check.passed and check.severity.value == "WARN"
    assert not (reports_dir(warehouse) / "auditor" / f"{result.run_id}.html").exists()
    # the marts' dbt docs are published with the run all the same (the only failed check is the report's)
    docs = (reports_dir(warehouse) / "dbt_docs" / "index.html").read_text(encoding="utf-8")
    assert docs.startswith("<!doctype html>") and "model.scorecard.scorecard" in docs
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # published all the same, the failure recorded as a failed non-blocking check of the run
        assert con.execute(
            "select status, published, checks_failed from audit.runs where run_id = ?", [result.run_id]
        ).fetchall() == [("succeeded", True, 1)]
        assert con.execute(
            "select check_kind, check_name, severity, passed, message from audit.check_results "
            "where run_id = ? and check_kind = 'report'",
            [result.run_id],
        ).fetchall() == [
            (
                "report",
                "auditor_report",
                "warn",
                False,
                "auditor report could not be rendered: ValueError: Unknown symbol: \\^ (at char 1)",
            )
        ]


def test_report_in_chinese(warehouse: Path, tmp_path: Path):
    """report.language zh-CN: headings, cards, table heads, notes, rule names and outcomes in Chinese; ids,
    figures, evidence and reasons as they are in the warehouse."""
    path = build_auditor_report(warehouse, out_dir=tmp_path, language="zh-CN").path
    page = path.read_text(encoding="utf-8")
    text = re.sub(
        r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", " ", page, flags=re.S)))
    )
    assert '<html lang="zh-CN">' in page
    assert "审计报告" in text and "运行状态 失败" in text and "隔离行数 2" in text
    assert "审核队列与审核决定" in text and "1. 运行概况" in text and "6. 运行历史" in text
    # the invariant: ids of entities and figures as they are, outcome in words
    assert "10 = 6 + 2 + 1 + 1" in text and page.count(">成立<") == 3
    assert "报告的不合格行：3；保存在 audit.validation_failures 中：3。" in text
    assert "step marts failed: 3 rows with a NULL final score" in text  # the recorded reason, verbatim
    # anomaly flags: the rule by name, its id beside it; the legend of strength in Chinese
    start = text.index("4. 异常标记", text.index("4. 异常标记") + 1)  # the section, after the table of contents
    flags = text[start : text.index("5. 经理调整", start)]
    assert "隐瞒投诉 ( hidden_complaint ) — 1 个标记" in flags and "张伟" in flags
    assert "隐瞒投诉 ( hidden_complaint ): 销售代表正面记录时间窗口内的不同投诉工单数" in flags
    assert EVIDENCE in page
    for english in ("Run summary", "Quarantined rows", "Failing checks", "failing rows", "Every adjustment", "holds"):
        assert english not in text, english


def test_share_of_hidden_survey_cells_in_both_languages(warehouse: Path, tmp_path: Path):
    """The share of hidden survey cells (SCORING.md), counted by hand: of the 4 survey figures with answers,
    2 are hidden (one below anonymity_k, one complementary); 5 indicator cells in all."""
    with connect(warehouse) as con:
        con.execute(
            "create table marts.indicator_values (period varchar, level varchar, subject_id varchar, "
            "indicator varchar, sample_size integer, disclosure varchar)"
        )
        con.execute(
            """insert into marts.indicator_values values
               ('2026-Q1', 'rep', 'R001', 'nps', 3, 'small_sample'),
               ('2026-Q1', 'rep', 'R002', 'nps', 6, 'complementary'),
               ('2026-Q1', 'team', 'T01', 'nps', 9, 'published'),
               ('2026-Q1', 'company', 'company', 'nps', 29, 'published'),
               ('2026-Q1', 'rep', 'R001', 'sales_attainment', 1, 'published')"""
        )
    en = build_auditor_report(warehouse, out_dir=tmp_path / "en", language="en").path.read_text(encoding="utf-8")
    zh = build_auditor_report(warehouse, out_dir=tmp_path / "zh", language="zh-CN").path.read_text(encoding="utf-8")
    assert '<div class="value">50.0 %</div>' in en and '<div class="value">50.0 %</div>' in zh
    assert (
        "Hidden survey cells: 2 of 4 survey figures with answers (50.0 %; 40.0 % of all 5 indicator cells): "
        "1 from fewer than anonymity_k answers, 1 complementary." in en
    )
    assert (
        "隐藏的问卷数据格：在 4 个有答卷的问卷数据中隐藏了 2 个（50.0%；占全部 5 个指标数据格的 40.0%）："
        "1 个因答卷少于 anonymity_k，1 个为互补隐藏。" in zh
    )
