"""The directors' and HR's report of one period: one self-contained HTML file that opens from disk.

`render_director_report(warehouse, period=None, out_dir=None)` writes
`reports_dir(warehouse)/director/<period>.html` (default: the latest graded period) and returns its path.
Sections: headline figures, grade distribution, team comparison per indicator, NPS per team with its 95 %
interval, complaint Pareto, top team shortfalls, improvement-action tracking, sales against target, each
rep's strengths and improvement points, and the weight what-ifs computed on these very grades.

Only the published marts are read (never the audit layer): a figure hidden by the small-cell rule or by
complementary suppression is NULL there and appears as "hidden" here, in tables and charts alike. Charts
are drawn by matplotlib and embedded as inline SVG; they are labelled with ids (T01, R001, indicator
ids) because the machine that renders them may have no CJK font; names (Chinese) are in the HTML.

This module renders and writes the file; the figures are read by director_reader, shaped into the
template's view model by director_data and drawn by director_charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestration.report.director_data import collect
from orchestration.report.director_reader import Reader, graded_periods, latest_graded_period
from orchestration.report.files import file_name, write_atomic
from orchestration.warehouse import connect, reports_dir

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class DirectorReport:
    period: str
    path: Path
    headline: dict[str, Any]


def render_director_report(warehouse: str | Path, period: str | None = None, out_dir: str | Path | None = None) -> Path:
    """Write the report of `period` (default: the latest graded period) and return its path."""
    return build_director_report(warehouse, period, out_dir).path


def render_all_periods(
    warehouse: str | Path,
    out_dir: str | Path | None = None,
    *,
    as_of: datetime | None = None,
    only: Callable[[str], bool] | None = None,
    published_as: str | Path | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
) -> list[DirectorReport]:
    """One report per graded period (what the nightly asset does). With `only`, the periods it accepts
    (the run's refresh window) and the periods that have no report yet; the others keep theirs.
    `published_as`: the published warehouse when `warehouse` is the run's build copy and `out_dir` its
    staged reports. `on_error(period, exc)`: a period whose report fails is reported there and the other
    periods go on (without it, the error is raised)."""
    out = Path(out_dir) if out_dir else reports_dir(warehouse) / "director"
    final_out = reports_dir(published_as) / "director" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        periods = graded_periods(Reader(con))
    if only is not None:
        periods = [p for p in periods if only(p) or not (final_out / f"{file_name(p)}.html").exists()]
    reports = []
    for p in periods:
        try:
            reports.append(build_director_report(warehouse, p, out, as_of=as_of, published_as=published_as))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(p, exc)
    return reports


def build_director_report(
    warehouse: str | Path,
    period: str | None = None,
    out_dir: str | Path | None = None,
    *,
    as_of: datetime | None = None,
    published_as: str | Path | None = None,
) -> DirectorReport:
    """As render_director_report, with the headline figures. `as_of` (the run's) defaults to the as-of
    of the last published run in audit.runs."""
    out = Path(out_dir) if out_dir else reports_dir(warehouse) / "director"
    final_out = reports_dir(published_as) / "director" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        r = Reader(con)
        if not r.has("marts.scorecard"):
            raise ValueError(f"{warehouse}: marts.scorecard is missing; run the pipeline first")
        period = period or latest_graded_period(r)
        if period is None:
            raise ValueError(f"{warehouse}: marts.scorecard holds no graded period")
        known = graded_periods(r)
        if period not in known:
            raise ValueError(f"period {period} is not graded in {warehouse} (graded: {', '.join(known)})")
        context = collect(r, period, known, final_out, published_as or warehouse, as_of)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{file_name(period)}.html"
    html = template_environment().get_template("director.html").render(**context)
    write_atomic(path, html)
    return DirectorReport(period=period, path=path, headline=context["headline"])


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.1f} %"
    env.filters["ts"] = lambda v: (
        "—"
        if v is None
        else (f"{(v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)):%Y-%m-%d %H:%M} UTC")
    )
    env.filters["signed"] = lambda v: "—" if v is None else (f"+{fmt_num(v)}" if v > 0 else fmt_num(v))
    return env


def fmt_num(v: Any, places: int = 2) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Decimal):
        return f"{v.quantize(Decimal(1).scaleb(-places)):,f}"
    if isinstance(v, float):
        return f"{v:,.{places}f}"
    return str(v)
