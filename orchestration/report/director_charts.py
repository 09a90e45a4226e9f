"""The charts of the directors' report: matplotlib figures embedded as inline SVG, labelled with team ids
(T01) and with titles, axes, legends and indicator names in the report language.

Chinese text is measured and laid out with Noto Sans CJK, which the install brings (the pinned PyPI
package manimgx-fonts-cjk, SIL Open Font License 1.1): `cjk_font()` registers its file with matplotlib's
font manager the first time a chart is drawn, so a fresh machine needs no system font. The SVG keeps text
as text (svg.fonttype none: searchable, selectable) and names the font family first; the reader's browser
draws the glyphs (any CJK font it has: Noto Sans CJK SC, PingFang SC, Microsoft YaHei...).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import io
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

from matplotlib import colormaps, font_manager, rc_context
from matplotlib.figure import Figure

from orchestration.catalogue import grade_label, indicator_label
from orchestration.report.language import DEFAULT_LANGUAGE, ui_text

CJK_FAMILY = "Noto Sans CJK SC"  # the Simplified Chinese face of the collection


@functools.cache
@cache
def cjk_font() -> Path:
    """The CJK font file the install brings, registered with matplotlib's font manager (once per process).
    It is a variable font whose default instance says weight 100: each of its faces is also registered at
    400 and 700, the weights the charts ask for, so that matplotlib picks it without a weight warning (the
    outlines matter only for measuring: the SVG keeps text as text)."""
    import manimgx_fonts_cjk

    path = Path(manimgx_fonts_cjk.__file__).with_name("NotoSansCJK-VF.otf.ttc")
    manager = font_manager.fontManager
    manager.addfont(str(path))
    added = [f for f in manager.ttflist if f.fname == str(path)]
    for entry in added:
        for weight in (400, 700):
            manager.ttflist.append(dataclasses.replace(entry, weight=weight))
    # addfont cleared findfont's cache and nothing looked a font up since: the entries above are seen
    return path


def _font_rc(language: str) -> dict:
    if language != "zh-CN":
        return {}
    cjk_font()
    return {"font.family": "sans-serif", "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"]}


GRADE_COLOURS = {
    "excellent": "#1e7a3c",
    "good": "#2f6fbd",
    "needs_improvement": "#d98a1c",
    "insufficient_data": "#9aa1ad",
}
OTHER_GRADE_COLOURS = ["#7b4fa0", "#b8446a", "#3d8f8f", "#6b6b2f"]


# Data text is drawn literally: with math parsing on, matplotlib reads `$...$` in a team id or a name as
# mathtext (a team "T$^$" made the report raise). Every chart is built and saved with it off.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


def _literal_text(chart: Callable[..., str]) -> Callable[..., str]:
    """Draw and save the chart with data text literal, in the font of its `language` argument."""

    signature = inspect.signature(chart)

    @functools.wraps(chart)
    def wrapper(*args, **kwargs) -> str:
        language = signature.bind(*args, **kwargs).arguments.get("language", DEFAULT_LANGUAGE)
        with rc_context({**LITERAL_TEXT, **_font_rc(language)}):
            return chart(*args, **kwargs)

    return wrapper


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "scorecard", **LITERAL_TEXT}):  # font: the caller's
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # scale with the page: drop the fixed size, keep the viewBox
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', text, count=1)
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _grade_colour(label: str, i: int) -> str:
    return GRADE_COLOURS.get(label) or OTHER_GRADE_COLOURS[i % len(OTHER_GRADE_COLOURS)]


@_literal_text
def chart_grades(
    labels: list[str], team_ids: list[str], counts: dict, language: str = DEFAULT_LANGUAGE, grade_names=None
) -> str:
    rows = [*team_ids, "all"]
    fig = Figure(figsize=(7.5, 0.42 * len(rows) + 1.2))
    ax = fig.add_subplot()
    left = [0] * len(rows)
    for i, g in enumerate(labels):
        widths = [counts[t][g] for t in rows]
        bars = ax.barh(
            range(len(rows)),
            widths,
            left=left,
            color=_grade_colour(g, i),
            label=grade_label(g, language, grade_names),
            edgecolor="white",
        )
        for bar, w in zip(bars, widths, strict=True):
            if w:
                ax.text(
                    bar.get_x() + w / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(w),
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(rows)), [*team_ids, ui_text("all", language)])
    ax.invert_yaxis()
    ax.set_xlabel(ui_text("reps", language))
    ax.set_title(ui_text("Reps per grade, by team", language))
    ax.legend(ncol=len(labels), loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


@_literal_text
def chart_heatmap(team_ids: list[str], rows: list[dict], language: str = DEFAULT_LANGUAGE) -> str:
    """Teams x indicators, coloured by how far each team is from the company (direction-aware, relative,
    clipped at +-30 %), annotated with the value. Grey: hidden or no value; hatched: below minimum sample."""
    import numpy as np

    data = np.full((len(rows), len(team_ids)), np.nan)
    for i, row in enumerate(rows):
        ref = row["reference"]
        for j, c in enumerate(row["cells"]):
            if c["value"] is None or ref is None:
                continue
            sign = -1 if row["lower_is_better"] else 1
            denom = abs(ref) if ref else 1.0
            data[i, j] = max(-0.3, min(0.3, sign * (c["value"] - ref) / denom))
    fig = Figure(figsize=(1.15 * len(team_ids) + 3.4, 0.36 * len(rows) + 1.4))
    ax = fig.add_subplot()
    cmap = colormaps["RdYlGn"].with_extremes(bad="#e3e6ec")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=-0.3, vmax=0.3, aspect="auto")
    for i, row in enumerate(rows):
        for j, c in enumerate(row["cells"]):
            if c["state"] == "hidden":
                text = ui_text("hidden", language)
            elif c["value"] is None:
                text = "-"
            else:
                text = _short(c["value"]) + ("*" if c["state"] == "thin" else "")
            strong = not np.isnan(data[i, j]) and abs(data[i, j]) > 0.2
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white" if strong else "#1d2330")
    ax.set_xticks(range(len(team_ids)), team_ids, fontsize=8)
    ax.set_yticks(
        range(len(rows)),
        [f"{indicator_label(r['indicator'], language)} ({_short(r['reference'])})" for r in rows],
        fontsize=8,
    )
    ax.xaxis.tick_top()
    cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label(ui_text("better (+) / worse (-) than company, relative", language), fontsize=7.5)
    cbar.ax.tick_params(labelsize=7)
    cbar.set_ticks([-0.3, -0.15, 0, 0.15, 0.3], labels=["-30%", "-15%", "0", "+15%", "+30%"])
    ax.set_title(
        ui_text("Team value per indicator (company value in brackets, new customers per team)", language)
        + "\n"
        + ui_text("* below minimum sample", language),
        fontsize=9,
        pad=24,
    )
    return _svg(fig)


def _short(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"


@_literal_text
def chart_nps(rows: list[dict], company: dict | None, language: str = DEFAULT_LANGUAGE) -> str:
    def t(text: str) -> str:
        return ui_text(text, language)

    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    xs = list(range(len(rows)))
    values = [x["nps"]["value"] for x in rows]
    lows = [x["nps"]["value"] - _or(x["nps"]["low"], x["nps"]["value"]) for x in rows]
    highs = [_or(x["nps"]["high"], x["nps"]["value"]) - x["nps"]["value"] for x in rows]
    if company:
        ax.axhspan(company["low"], company["high"], color="#2f6fbd", alpha=0.10, label=t("company 95% interval"))
        ax.axhline(
            company["value"],
            color="#2f6fbd",
            linewidth=1,
            linestyle="--",
            label=f"{t('company NPS')} {company['value']:.1f}",
        )
    ax.errorbar(
        xs,
        values,
        yerr=[lows, highs],
        fmt="o",
        color="#1d2330",
        ecolor="#5c6475",
        capsize=5,
        label=t("team NPS with 95% interval"),
    )
    for x, v, row in zip(xs, values, rows, strict=True):
        ax.annotate(f"{v:.1f}\nn={row['nps']['n']}", (x, v), textcoords="offset points", xytext=(12, -4), fontsize=7.5)
    ax.set_xticks(xs, [x["team_id"] for x in rows])
    ax.axhline(0, color="#d9dde5", linewidth=0.8)
    ax.set_ylabel(t("NPS (points)"))
    ax.set_title(t("NPS per team with its 95% interval"))
    ax.legend(fontsize=7.5, loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@_literal_text
def chart_pareto(rows: list[dict], language: str = DEFAULT_LANGUAGE) -> str:
    """Bars: complaints per category; line: the cumulative share on the right axis, whose 80 % tick is the
    vital-few mark. No text is drawn inside the plot, so none can cover a bar or the line: each category's
    count is in its axis label (`service (40)`), slanted when the labels are long."""
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    counts = [x["complaint_count"] for x in rows]
    labels = [f"{x['category']} ({x['complaint_count']})" for x in rows]
    xs = list(range(len(rows)))
    colours = ["#b42318" if x["is_vital_few"] else "#c9ced8" for x in rows]
    ax.bar(xs, counts, color=colours, width=0.7)
    ax.set_ylim(0, (max(counts) if counts else 1) * 1.1)
    ax.set_ylabel(ui_text("complaint tickets", language))
    slanted = sum(len(label) for label in labels) > 60
    ax.set_xticks(xs, labels, fontsize=8, rotation=30 if slanted else 0, ha="right" if slanted else "center")
    ax2 = ax.twinx()
    ax2.plot(xs, [x["cumulative_share"] for x in rows], color="#1d2330", marker="o", markersize=4)
    ax2.axhline(80, color="#935f00", linestyle="--", linewidth=1)
    ax2.set_ylim(0, 105)
    ax2.set_yticks([0, 20, 40, 60, 80, 100], ["0", "20", "40", "60", "80%", "100"])
    ax2.get_yticklabels()[4].set_color("#935f00")
    ax2.set_ylabel(ui_text("cumulative share (%)", language))
    ax.set_title(ui_text("Complaints by category, company (red: the vital few reaching 80%)", language), fontsize=9.5)
    ax.spines[["top"]].set_visible(False)
    ax2.spines[["top"]].set_visible(False)
    return _svg(fig)


@_literal_text
def chart_tracking(rows: list[dict], language: str = DEFAULT_LANGUAGE) -> str:
    import numpy as np

    labels = [ui_text("company", language) if x["level"] == "company" else x["subject_id"] for x in rows]
    metrics = [
        ("action_rate", ui_text("action taken", language), "#2f6fbd"),
        ("completion_rate", ui_text("completed", language), "#1e7a3c"),
        ("confirmation_rate", ui_text("confirmed", language), "#7b4fa0"),
        ("overdue_rate", ui_text("overdue", language), "#b42318"),
    ]
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.2
    for i, (key, label, colour) in enumerate(metrics):
        vals = [r[key] if r[key] is not None else 0 for r in rows]
        ax.bar(x + (i - 1.5) * width, vals, width, label=label, color=colour)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(ui_text("Improvement actions on complaints", language), fontsize=9.5)
    ax.legend(ncol=4, fontsize=7.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
