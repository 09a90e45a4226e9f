"""The report language (SCORING.md "Reports"; docs/languages.md): what a Jinja environment of the reports
needs to speak `en` or `zh-CN`. The words are the catalogue's (orchestration/catalogue.py: labels of ids,
UI_TEXT); this module formats numbers, dates and periods for the language and installs it all.

In templates: `_("text")` (or `_("… %(name)s …", name=value)`) and `{% trans %}…{% endtrans %}` blocks
(jinja2.ext.i18n, whitespace trimmed) look the English text up in UI_TEXT; the filters `ind`, `grade`,
`stage`, `level`, `rule`, `review`, `disclosure` and `policy` turn ids into labels; `num`, `pct`, `ts`,
`date` and `period` format figures. A text without a translation is shown in English (tests/unit/
test_report_language.py fails when a template holds one).

Numbers: both languages write `.` for decimals and `,` between thousands (the usual way in mainland
China too); zh-CN writes no space before `%`. Dates: `2026-04-01` / `2026年4月1日`; periods: `2026-Q1` /
`2026年第1季度`, `2026-03` / `2026年3月`, `2026` / `2026年`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment

from orchestration import catalogue

DEFAULT_LANGUAGE = "en"


def ui_text(msgid: str, language: str) -> str:
    """The report's text `msgid` (its English wording) in `language`."""
    if language == "zh-CN":
        return catalogue.UI_TEXT.get(msgid, msgid)
    return msgid


def fmt_num(v: Any, places: int = 2, language: str = DEFAULT_LANGUAGE) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return ui_text("yes" if v else "no", language)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Decimal):
        return f"{v.quantize(Decimal(1).scaleb(-places)):,f}"
    if isinstance(v, float):
        return f"{v:,.{places}f}"
    return str(v)


def fmt_pct(v: Any, language: str = DEFAULT_LANGUAGE) -> str:
    if v is None:
        return "—"
    return f"{v:.1f}%" if language == "zh-CN" else f"{v:.1f} %"


def fmt_date(v: date | None, language: str = DEFAULT_LANGUAGE) -> str:
    if v is None:
        return "—"
    return f"{v.year}年{v.month}月{v.day}日" if language == "zh-CN" else f"{v:%Y-%m-%d}"


def fmt_ts(v: datetime | None, language: str = DEFAULT_LANGUAGE) -> str:
    """A moment in UTC (naive values are UTC): `2026-04-01 08:30 UTC` / `2026年4月1日 08:30 UTC`."""
    if v is None:
        return "—"
    utc = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    return f"{fmt_date(utc.date(), language)} {utc:%H:%M} UTC"


def period_name(label: str | None, language: str = DEFAULT_LANGUAGE) -> str:
    """A period label as readers see it: the label itself in English, `2026年第1季度` in zh-CN."""
    if label is None:
        return "—"
    if language != "zh-CN":
        return label
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return f"{m[1]}年第{m[2]}季度"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return f"{m[1]}年{int(m[2])}月"
    if re.fullmatch(r"\d{4}", label):
        return f"{label}年"
    return label


def install(env: Environment, language: str = DEFAULT_LANGUAGE, grade_names: dict | None = None) -> Environment:
    """Make `env` (built with extensions=["jinja2.ext.i18n"]) speak `language`."""
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(
        lambda s: ui_text(s, language), lambda s, p, n: ui_text(s if n == 1 else p, language), newstyle=False
    )

    def _(msgid: str, **values: Any) -> str:  # values are escaped where the text is output
        text = ui_text(msgid, language)
        return text % values if values else text

    env.globals["_"] = _
    env.globals["language"] = language
    labels = {
        "stage": catalogue.STAGE_LABELS,
        "level": catalogue.LEVEL_LABELS,
        "review": catalogue.REVIEW_STATUS_LABELS,
        "disclosure": catalogue.DISCLOSURE_LABELS,
        "policy": catalogue.POLICY_LABELS,
    }
    for name, kind in labels.items():
        env.filters[name] = lambda v, kind=kind: catalogue.id_label(kind, v, language)
    env.filters["ind"] = lambda v: catalogue.indicator_label(v, language)
    env.filters["rule"] = lambda v: catalogue.rule_label(v, language)
    env.filters["grade"] = lambda v: catalogue.grade_label(v, language, grade_names)
    env.filters["gap_unit"] = lambda unit: catalogue.GAP_UNITS[language].get(unit, "")
    env.filters["num"] = lambda v, places=2: fmt_num(v, places, language)
    env.filters["pct"] = lambda v: fmt_pct(v, language)
    env.filters["ts"] = lambda v: fmt_ts(v, language)
    env.filters["date"] = lambda v: fmt_date(v, language)
    env.filters["period"] = lambda v: period_name(v, language)
    env.filters["signed"] = lambda v: "—" if v is None else (f"+{fmt_num(v)}" if v > 0 else fmt_num(v))
    return env


def run_language(con: Any) -> tuple[str, dict]:
    """The report language and grade names of the scheme file of the warehouse's last published run
    (audit.runs.config), for a report rendered outside a run; English when it cannot be read."""
    import duckdb

    from orchestration.scheme.errors import SchemeError
    from orchestration.scheme.file import load_scheme

    try:
        row = con.execute(
            "select config from audit.runs where published and config is not null order by finished_at desc limit 1"
        ).fetchone()
    except duckdb.Error:  # no audit.runs (a warehouse built by dbt alone)
        return DEFAULT_LANGUAGE, {}
    if not row or not Path(row[0]).is_file():
        return DEFAULT_LANGUAGE, {}
    try:
        scheme = load_scheme(row[0])
    except SchemeError:
        return DEFAULT_LANGUAGE, {}
    return scheme.report.language, scheme.grade_names()
