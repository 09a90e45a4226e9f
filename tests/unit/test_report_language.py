"""The report language (orchestration/report/language.py, SCORING.md "Reports"): every text of the
directors' and the auditor's reports has its zh-CN translation in the catalogue, and figures, dates and
periods are written the way each language writes them."""

from __future__ import annotations

import ast
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.catalogue import UI_TEXT
from orchestration.report.auditor_data import STRENGTH
from orchestration.report.director import TEMPLATES, template_environment
from orchestration.report.director_data import EFFECT_WORDS, RULE_WORDS
from orchestration.report.language import fmt_date, fmt_num, fmt_pct, fmt_ts, period_name, ui_text

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_FILES = ["director.html", "director_macros.html", "director_whatif.html", "auditor.html.j2", "index.html"]
# report modules whose ui_text(...) / t(...) calls write text for readers
MODULES = ["orchestration/report/director_charts.py", "orchestration/report/director_data.py"]
# texts looked up with a value from the data: _(grain), _(unit), _(team_name), _(customer_type), yes / no
DYNAMIC = ["month", "quarter", "year", "%", "points", "count", "h", "all reps", "new", "existing", "yes", "no"]
# the auditor's report: run statuses and check outcomes (badge), what a flag's strength measures
DYNAMIC += ["succeeded", "failed", "abandoned", "unknown", "passed", "holds", "broken", *STRENGTH.values()]


def _report_texts() -> list[str]:
    env = template_environment()
    texts: list[str] = []
    for name in TEMPLATE_FILES:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        for _, _, message in env.extract_translations(source):
            for m in message if isinstance(message, tuple) else (message,):
                if isinstance(m, str):
                    texts.append(m)
    for module in MODULES:
        for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("ui_text", "t")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                texts.append(node.args[0].value)
    return [*texts, *RULE_WORDS.values(), *EFFECT_WORDS.values(), *DYNAMIC]


def test_the_texts_are_found():
    texts = _report_texts()
    assert len(texts) > 300
    assert "Grade distribution" in texts  # _("...")
    assert any(t.startswith("<strong>Reading the scores.</strong> A final score is") for t in texts)  # trans block
    assert "Reps per grade, by team" in texts  # a chart's title
    assert "%(n)s dismissed: the figures stand" in texts  # a review state
    assert "Review queue: %(n)s open flags, oldest first" in texts  # the auditor's report


def test_every_text_of_the_reports_has_a_translation():
    missing = sorted({t for t in _report_texts() if t not in UI_TEXT})
    assert missing == []


def test_translations_keep_the_placeholders():
    for english, chinese in UI_TEXT.items():
        assert sorted(re.findall(r"%\(\w+\)s", english)) == sorted(re.findall(r"%\(\w+\)s", chinese)), english
        assert chinese and chinese != english or english in ("%",), english


def test_english_is_the_text_itself():
    assert ui_text("Grade distribution", "en") == "Grade distribution"
    assert ui_text("Grade distribution", "zh-CN") == "评级分布"
    assert ui_text("a text nobody wrote", "zh-CN") == "a text nobody wrote"


@pytest.mark.parametrize(
    ("label", "en", "zh"),
    [("2026-Q1", "2026-Q1", "2026年第1季度"), ("2026-03", "2026-03", "2026年3月"), ("2026", "2026", "2026年")],
)
def test_period_names(label, en, zh):
    assert period_name(label, "en") == en and period_name(label, "zh-CN") == zh


def test_dates_times_and_numbers():
    assert fmt_date(date(2026, 4, 1), "en") == "2026-04-01"
    assert fmt_date(date(2026, 4, 1), "zh-CN") == "2026年4月1日"
    assert fmt_ts(datetime(2026, 3, 31, 15, 59, 59), "en") == "2026-03-31 15:59 UTC"  # naive: UTC
    assert fmt_ts(datetime(2026, 3, 31, 15, 59, 59), "zh-CN") == "2026年3月31日 15:59 UTC"
    # both languages: "." for decimals, "," between thousands; zh-CN writes no space before %
    assert fmt_num(Decimal("12345.678"), 2, "zh-CN") == fmt_num(Decimal("12345.678"), 2, "en") == "12,345.68"
    assert fmt_num(1234567, language="zh-CN") == "1,234,567"
    assert fmt_num(True, language="zh-CN") == "是" and fmt_num(False) == "no"
    assert fmt_pct(87.5, "en") == "87.5 %" and fmt_pct(87.5, "zh-CN") == "87.5%" and fmt_pct(None) == "—"
