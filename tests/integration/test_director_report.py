"""The directors' report on the hand-made warehouse of test_analysis_marts (figures worked out there):
its figures, its charts, and that no hidden survey figure leaks into it."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from orchestration.report.director import build_director_report, render_director_report
from orchestration.warehouse import reports_dir

from .test_analysis_marts import handmade_warehouse


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("director")
    built = build_director_report(handmade_warehouse(), "2026-Q1", out)
    text = built.path.read_text(encoding="utf-8")
    return built, text, _visible(text)


def _visible(text: str) -> str:
    """The text a reader sees (tables and chart labels), entities decoded, whitespace collapsed."""
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text))


def test_written_beside_the_warehouse_by_default():
    path = render_director_report(handmade_warehouse())  # the latest (only) period
    assert path == reports_dir(handmade_warehouse()) / "director" / "2026-Q1.html"
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_headline_and_grade_distribution(report):
    built, _, text = report
    # reps: A1 120 excellent (its nps is hidden and left out), B1 120 excellent, A3 88 good, A2 50, B2 50,
    # C1 69 needs_improvement
    assert built.headline["reps_graded"] == 6 and built.headline["teams"] == 3
    assert built.headline["total_bonus"] == Decimal("5.8")  # 1.2 + 1.2 + 1.0 + 0.8 x 3
    # hidden survey cells (anonymity_k 10, test_analysis_marts): nps A1 A2 B1 B2 T1 T2, csat A2 B1 B2 T2 T3 C1,
    # key_account_nps of the 6 reps and 3 teams (no key-account answers at all: sample 0 hides nothing, but
    # the cell stays empty); the company's figures are always shown
    assert built.headline["hidden_cells"] == 21
    assert "reps graded 6 / 6" in text
    # why B1's 120 and A1's 107.67 are possible, and what the bonus card adds up (5.8 above)
    assert "It can pass 100: an indicator scored by its own value may go above 100 up to its cap" in text
    assert "card adds up the bonus coefficients of the reps' grades in this period" in text
    # grade table rows: team, name, excellent, good, needs_improvement, reps (grades and stages by name)
    assert "team name Excellent Good Needs improvement reps" in text
    assert "T1 华东一组 1 1 1 3" in text
    assert "T2 West 1 0 1 2" in text
    assert "T3 华东二组 0 0 1 1" in text
    assert "all all reps 2 1 3 6" in text
    # team grades: T1 90 (its nps hidden, left out: 0.8 x 90 / 0.8) excellent; T2 100 excellent; T3 69.00
    assert "T1 华东一组 Mature business 90.00 Excellent 1.20 2" in text
    assert "T3 华东二组 Mature business 69.00 Needs improvement 0.80 3" in text


def test_team_comparison_nps_and_pareto(report):
    _, _, text = report
    assert "NPS per team" in text
    assert "T3 华东二组 25.0 -11.3 … 61.3 20" in text  # 5 / 20 = 25 +- 36.28
    assert "T1 华东一组 hidden (small-sample protection)" in text  # complementary
    assert "T2 West hidden (small-sample protection)" in text
    # teams per indicator (company T1 T2 T3): nps 25 / 57 = 43.9; csat 40 / 50 = 80, T1 22 / 27 = 81.5
    assert "NPS points 43.9 hidden hidden 25.0" in text
    assert "Customer satisfaction % 80.0 81.5 hidden hidden" in text
    # company pareto: service 4 of 8 (50 %), billing 2 (cumulative 75 %), delivery reaches 87.5 %: vital
    assert "service 4 50.0 % 50.0 % yes" in text
    assert "delivery 1 12.5 % 87.5 % yes" in text
    assert "product 1 12.5 % 100.0 %" in text and "product 1 12.5 % 100.0 % yes" not in text


def test_shortfalls_tracking_sales_and_feedback(report):
    _, _, text = report
    assert "T1 华东一组 1 Sales attainment 90.0 93.8 3.8 points 4.0 % 2 of 3 0.80" in text
    assert "T1 华东一组 5 4 (80.0 %) 2 (50.0 %) 2 (50.0 %) 1 (50.0 %)" in text
    assert "company 8 4 (50.0 %) 2 (50.0 %) 2 (50.0 %) 1 (50.0 %)" in text
    assert "East 350 4 400 87.5 % 100.0 %" in text
    assert "soft new 120 1 30.0 % 34.3 %" in text  # 120 of East's 400 target and of its 350 won
    assert "A1 王芳 120.00 Excellent 1" in text
    assert "Response within SLA: 1st of 3 in team (100.0 %; team median 80.0 %)" in text
    assert "Median response time: 3.5 h against a team median of 1.0 h, 2.5 h above (3rd of 3 in team)" in text


def test_charts_are_inline_svg_from_matplotlib(report):
    _, raw, _ = report
    charts = re.findall(r"<svg[^>]*class=\"chart\"", raw)
    assert len(charts) == 5  # grades, teams x indicators, nps, pareto, improvement actions
    assert "<script" not in raw and "http://" not in raw.replace("http://www.w3.org", "")
    # charts are labelled with ids, names stay in the HTML tables
    svg_text = " ".join(re.findall(r"<svg.*?</svg>", raw, flags=re.S))
    assert "T1" in svg_text and "华东" not in svg_text
    # Pareto: the counts are in the category labels, the 80 % mark is the right axis' tick: no text in the plot
    pareto = html.unescape(svg_text)
    assert "service (4)" in pareto and "product (1)" in pareto and "80%" in pareto


def test_no_hidden_survey_figure_leaks(report):
    _, raw, text = report
    # hidden (anonymity_k 10): A1 nps 58.33 (complementary), A2 71.43 (7 answers), T1 52.94 (complementary);
    # B1's and T2's 66.67 are checked in the tables above (66.7 is also the company's published complaint_rate,
    # 2 of 3 customers), T3's and C1's csat 75.0 too (75.0 % is a published Pareto share)
    # (the visible text: tables and the labels of the charts; not the SVG coordinates)
    for figure in ("58.3", "71.4", "52.9"):
        assert figure not in text, figure
    # the company NPS is always published: 25 / 57
    assert "company NPS 43.9" in text
    # the small-sample note says what was hidden, and why
    assert "1 rep NPS (complementary)" in text and "1 team NPS (complementary)" in text
    assert "1 rep Customer satisfaction (complementary)" in text
    assert "1 team Customer satisfaction (complementary)" in text
    assert "fewer answers than the anonymity threshold (survey.anonymity_k" in text


@pytest.mark.parametrize("team", ["T$^$", "$x_1$", "<b>x</b>", "{0}", "%s", "T\n2"])
def test_charts_draw_data_text_literally(team):
    """A team id that is mathtext, markup, a format field or holds a newline is drawn as it is (with
    matplotlib's defaults `T$^$` raises ParseSyntaxException while the figure is saved)."""
    from orchestration.report.director_charts import chart_grades, chart_heatmap

    svg = chart_grades(["good"], [team], {team: {"good": 2}, "all": {"good": 2}})
    row = {"indicator": "nps", "reference": 10.0, "lower_is_better": False, "cells": [{"value": 12.5, "state": "ok"}]}
    svg += chart_heatmap([team], [row])
    drawn = html.unescape(svg)
    for part in team.split("\n"):
        assert part in drawn, (team, part)


def test_no_table_wider_than_the_page(report):
    """Every table sits in a wrapper that scrolls inside the page (and prints at the page's width)."""
    _, raw, _ = report
    assert raw.count("<table") == raw.count('<div class="tw"><table') > 10
    assert ".tw { max-width: 100%; overflow-x: auto;" in raw


def test_english_is_the_default_language(report):
    _, raw, text = report
    assert '<html lang="en">' in raw
    assert "Sales scorecard 2026-Q1: grades, strengths and gaps" in text
    assert "data as of 2026-03-31 15:59 UTC" in text


def test_footer_names_the_published_warehouse(tmp_path):
    """A run renders from its build copy into its staged reports: the footer names the published warehouse."""
    import shutil

    build = tmp_path / ".build" / "scorecard.duckdb"
    build.parent.mkdir()
    shutil.copy(handmade_warehouse(), build)
    published = tmp_path / "scorecard.duckdb"
    built = build_director_report(build, "2026-Q1", tmp_path / "staged", published_as=published)
    text = _visible(built.path.read_text(encoding="utf-8"))
    assert f"Source: the published warehouse {published.resolve()} (schema marts)." in text
    assert ".build" not in text


# --- zh-CN: the same warehouse built under a scheme file with `report: {language: zh-CN}` -----------------


@pytest.fixture(scope="module")
def report_zh(tmp_path_factory):
    out = tmp_path_factory.mktemp("director-zh")
    # no language passed: the scheme file of the warehouse's last published run (audit.runs.config) decides
    built = build_director_report(handmade_warehouse("zh-CN"), "2026-Q1", out)
    raw = built.path.read_text(encoding="utf-8")
    return built, raw, _visible(raw)


def test_zh_headings_periods_dates_and_cards(report_zh):
    built, raw, text = report_zh
    assert '<html lang="zh-CN">' in raw
    assert built.headline["reps_graded"] == 6 and built.headline["total_bonus"] == Decimal("5.8")
    assert "销售计分卡 2026年第1季度：评级、优势与差距" in text
    assert "考核期 2026年第1季度（季度）· 数据截至 2026年3月31日 15:59 UTC" in text
    assert "已评级销售代表 6 / 6 团队数 3 奖金系数合计（销售代表） 5.80 公司净推荐值 43.9" in text


def test_zh_grades_stages_and_indicators(report_zh):
    _, _, text = report_zh
    assert "团队 名称 优秀 良好 待改进 人数" in text
    assert "T1 华东一组 1 1 1 3" in text and "全部 全体销售代表 2 1 3 6" in text
    assert "T1 华东一组 成熟业务 90.00 优秀 1.20 2" in text
    assert "T2 West 新业务 100.00 优秀 1.20 1" in text
    assert "净推荐值 分 43.9 已隐藏 已隐藏 25.0" in text
    assert "投诉率 (越低越好) % 66.7 66.7* 50.0* 100.0*" in text
    assert "T2 West 已隐藏（小样本保护）" in text
    assert "service 4 50.0% 50.0% 是" in text
    # a gap between two % rates is in percentage points
    assert "T1 华东一组 1 销售目标达成率 90.0 93.8 3.8个百分点 4.0% 第2名，共3个 0.80" in text
    assert "公司 8 4 (50.0%) 2 (50.0%) 2 (50.0%) 1 (50.0%)" in text
    assert "soft 新客户 120 1 30.0% 34.3%" in text


def test_zh_review_sentences_and_privacy_note(report_zh):
    _, _, text = report_zh
    # marts.rep_feedback, built with report_language zh-CN
    assert "A1 王芳 120.00 优秀 1 响应及时率：团队内第1名，共3人（100.0%；团队中位数80.0%）" in text
    assert "响应时长中位数：3.5小时，团队中位数1.0小时，高于中位数2.5小时（团队内第3名，共3人）" in text
    assert "1 销售代表 净推荐值 (连带隐藏)，" in text and "3 销售代表 净推荐值 (样本过小)，" in text
    assert "数据来源：已发布的数据仓库" in text


def test_zh_leaves_no_english_label(report_zh):
    _, _, text = report_zh
    for english in (
        "Grade distribution",
        "final score",
        "hidden",
        "needs_improvement",
        "Needs improvement",
        "mature",
        "new_business",
        "response_sla_rate",
        "Response within SLA",
        " of 3",
        "points",
    ):
        assert english not in text, english


def test_zh_charts_are_labelled_in_chinese_with_the_installed_cjk_font(report_zh):
    _, raw, _ = report_zh
    svgs = re.findall(r"<svg.*?</svg>", raw, flags=re.S)
    assert len(svgs) == 5
    drawn = html.unescape(" ".join(svgs))
    for label in (
        "各团队各评级人数",
        "优秀",
        "待改进",
        "销售目标达成率 (93.8)",
        "各团队净推荐值及95%置信区间",
        "累计占比（%）",
        "投诉整改措施",
        "已采取措施",
    ):
        assert label in drawn, label
    assert "font-family: 'Noto Sans CJK SC', 'DejaVu Sans'" in drawn


def test_cjk_font_comes_with_the_install_and_draws_every_glyph(caplog):
    import logging
    import warnings

    from matplotlib import font_manager

    from orchestration.report.director_charts import CJK_FAMILY, chart_grades, cjk_font

    path = cjk_font()
    assert path.is_file() and "site-packages" in str(path)  # the pinned package's file, not a system font
    assert font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY), fallback_to_default=False) == str(path)
    with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="matplotlib"):
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a warning
        svg = chart_grades(
            ["excellent", "needs_improvement"],
            ["T1"],
            {"T1": {"excellent": 1, "needs_improvement": 2}, "all": {"excellent": 1, "needs_improvement": 2}},
            "zh-CN",
        )
    assert "待改进" in svg and "各团队各评级人数" in svg
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.records


def test_zh_report_draws_its_chinese_with_the_embedded_font_in_a_browser(report_zh):
    """Opened in headless Chromium on this machine, which has no CJK font of its own: every element with
    Chinese text, the first table cell and the chart labels included, is drawn with the embedded face (a
    text drawn by a Latin font would show empty boxes)."""
    from orchestration.report.cjk_font import CJK
    from tools.browser import Browser

    built, raw, _ = report_zh
    assert raw.count('<style id="cjk-font">') == 1
    with Browser() as browser:
        page = browser.open(built.path)
        s = page.session
        browser.call("DOM.enable", session=s)
        browser.call("CSS.enable", session=s)
        root = browser.call("DOM.getDocument", {"depth": 0}, s)["root"]["nodeId"]
        nodes = browser.call("DOM.querySelectorAll", {"nodeId": root, "selector": "body *"}, s)
        drawn: dict[str, int] = {}
        for node in nodes["nodeIds"]:
            children = browser.call("DOM.describeNode", {"nodeId": node, "depth": 1}, s)["node"].get("children", [])
            own_text = "".join(c["nodeValue"] for c in children if c["nodeType"] == 3)  # its own text nodes
            if not CJK.search(own_text):
                continue
            outer = browser.call("DOM.getOuterHTML", {"nodeId": node}, s)["outerHTML"]
            fonts = browser.call("CSS.getPlatformFontsForNode", {"nodeId": node}, s)["fonts"]
            custom = [f for f in fonts if f["familyName"] == "Noto Sans CJK SC" and f["isCustomFont"]]
            key = "embedded" if custom and custom[0]["glyphCount"] > 0 else f"other: {outer[:80]}"
            drawn[key] = drawn.get(key, 0) + 1
    # every Chinese text of the page: headings, tables, notes and the charts' SVG text
    assert list(drawn) == ["embedded"] and drawn["embedded"] > 100
