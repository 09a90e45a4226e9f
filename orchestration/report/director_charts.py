"""The charts of the directors' report: matplotlib figures embedded as inline SVG, labelled with ids (T01,
R001, indicator ids) because the machine that renders them may have no CJK font."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable

from matplotlib import colormaps, rc_context
from matplotlib.figure import Figure

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
    @functools.wraps(chart)
    def wrapper(*args, **kwargs) -> str:
        with rc_context(LITERAL_TEXT):
            return chart(*args, **kwargs)

    return wrapper


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "scorecard", **LITERAL_TEXT}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # scale with the page: drop the fixed size, keep the viewBox
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', text, count=1)
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _grade_colour(label: str, i: int) -> str:
    return GRADE_COLOURS.get(label) or OTHER_GRADE_COLOURS[i % len(OTHER_GRADE_COLOURS)]


@_literal_text
def chart_grades(labels: list[str], team_ids: list[str], counts: dict) -> str:
    rows = [*team_ids, "all"]
    fig = Figure(figsize=(7.5, 0.42 * len(rows) + 1.2))
    ax = fig.add_subplot()
    left = [0] * len(rows)
    for i, g in enumerate(labels):
        widths = [counts[t][g] for t in rows]
        bars = ax.barh(rows, widths, left=left, color=_grade_colour(g, i), label=g, edgecolor="white")
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
    ax.invert_yaxis()
    ax.set_xlabel("reps")
    ax.set_title("Reps per grade, by team")
    ax.legend(ncol=len(labels), loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


@_literal_text
def chart_heatmap(team_ids: list[str], rows: list[dict]) -> str:
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
                text = "hidden"
            elif c["value"] is None:
                text = "-"
            else:
                text = _short(c["value"]) + ("*" if c["state"] == "thin" else "")
            strong = not np.isnan(data[i, j]) and abs(data[i, j]) > 0.2
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white" if strong else "#1d2330")
    ax.set_xticks(range(len(team_ids)), team_ids, fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{r['indicator']} ({_short(r['reference'])})" for r in rows], fontsize=8)
    ax.xaxis.tick_top()
    cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label("better (+) / worse (-) than company, relative", fontsize=7.5)
    cbar.ax.tick_params(labelsize=7)
    cbar.set_ticks([-0.3, -0.15, 0, 0.15, 0.3], labels=["-30%", "-15%", "0", "+15%", "+30%"])
    ax.set_title(
        "Team value per indicator (company value in brackets, new_customers per team;\n* below minimum sample)",
        fontsize=9,
        pad=24,
    )
    return _svg(fig)


def _short(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"


@_literal_text
def chart_nps(rows: list[dict], company: dict | None) -> str:
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    xs = list(range(len(rows)))
    values = [x["nps"]["value"] for x in rows]
    lows = [x["nps"]["value"] - _or(x["nps"]["low"], x["nps"]["value"]) for x in rows]
    highs = [_or(x["nps"]["high"], x["nps"]["value"]) - x["nps"]["value"] for x in rows]
    if company:
        ax.axhspan(company["low"], company["high"], color="#2f6fbd", alpha=0.10, label="company 95% interval")
        ax.axhline(
            company["value"], color="#2f6fbd", linewidth=1, linestyle="--", label=f"company NPS {company['value']:.1f}"
        )
    ax.errorbar(
        xs,
        values,
        yerr=[lows, highs],
        fmt="o",
        color="#1d2330",
        ecolor="#5c6475",
        capsize=5,
        label="team NPS with 95% interval",
    )
    for x, v, row in zip(xs, values, rows, strict=True):
        ax.annotate(f"{v:.1f}\nn={row['nps']['n']}", (x, v), textcoords="offset points", xytext=(12, -4), fontsize=7.5)
    ax.set_xticks(xs, [x["team_id"] for x in rows])
    ax.axhline(0, color="#d9dde5", linewidth=0.8)
    ax.set_ylabel("NPS (points)")
    ax.set_title("NPS per team with its 95% interval")
    ax.legend(fontsize=7.5, loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@_literal_text
def chart_pareto(rows: list[dict]) -> str:
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    cats = [x["category"] for x in rows]
    counts = [x["complaint_count"] for x in rows]
    colours = ["#b42318" if x["is_vital_few"] else "#c9ced8" for x in rows]
    ax.bar(cats, counts, color=colours)
    for i, c in enumerate(counts):
        ax.text(i, c, str(c), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("complaint tickets")
    ax2 = ax.twinx()
    ax2.plot(cats, [x["cumulative_share"] for x in rows], color="#1d2330", marker="o", markersize=4)
    ax2.axhline(80, color="#935f00", linestyle="--", linewidth=1)
    ax2.text(-0.45, 81, "80%", ha="left", va="bottom", fontsize=8, color="#935f00")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative share (%)")
    ax.set_title("Complaints by category, company (red: the vital few reaching 80%)", fontsize=9.5)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top"]].set_visible(False)
    ax2.spines[["top"]].set_visible(False)
    return _svg(fig)


@_literal_text
def chart_tracking(rows: list[dict]) -> str:
    import numpy as np

    labels = [x["subject_id"] for x in rows]
    metrics = [
        ("action_rate", "action taken", "#2f6fbd"),
        ("completion_rate", "completed", "#1e7a3c"),
        ("confirmation_rate", "confirmed", "#7b4fa0"),
        ("overdue_rate", "overdue", "#b42318"),
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
    ax.set_title("Improvement actions on complaints", fontsize=9.5)
    ax.legend(ncol=4, fontsize=7.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
