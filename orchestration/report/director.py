"""The directors' and HR's report of one period: one self-contained HTML file that opens from disk.

`render_director_report(warehouse, period=None, out_dir=None)` writes
`reports_dir(warehouse)/director/<period>.html` (default: the latest graded period) and returns its path.
Sections: headline figures, grade distribution, team comparison per indicator, NPS per team with its 95 %
interval, complaint Pareto, top team shortfalls, improvement-action tracking, sales against target, each
rep's strengths and improvement points, and the weight what-ifs computed on these very grades.

Only the published marts are read (never the audit layer): a figure hidden by the small-cell rule or by
complementary suppression is NULL there and appears as "hidden" here, in tables and charts alike. Charts
are drawn by matplotlib and embedded as inline SVG; they are labelled with team ids (T01) and labels in
the report language, drawn with the CJK font the install brings (director_charts).

Every text a reader sees is in the report language (`report.language` of the scheme file: the run passes
it; rendered by hand, the scheme file of the last published run decides): report/language.py.

This module renders and writes the file; the figures are read by director_reader, shaped into the
template's view model by director_data and drawn by director_charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestration.report.cjk_font import with_cjk_font
from orchestration.report.director_data import collect
from orchestration.report.director_reader import Reader, graded_periods, latest_graded_period
from orchestration.report.files import file_name, write_atomic
from orchestration.report.language import DEFAULT_LANGUAGE, install, run_language
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
    language: str | None = None,
    grade_names: dict[str, dict[str, str]] | None = None,
) -> list[DirectorReport]:
    """One report per graded period (what the nightly asset does). With `only`, the periods it accepts
    (the run's refresh window) and the periods that have no report yet; the others keep theirs.
    `published_as`: the published warehouse when `warehouse` is the run's build copy and `out_dir` its
    staged reports. `on_error(period, exc)`: a period whose report fails is reported there and the other
    periods go on (without it, the error is raised). `language`, `grade_names`: the scheme's report language
    and grade names (default: those of the last published run's scheme file)."""
    out = Path(out_dir) if out_dir else reports_dir(warehouse) / "director"
    final_out = reports_dir(published_as) / "director" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        periods = graded_periods(Reader(con))
    if only is not None:
        periods = [p for p in periods if only(p) or not (final_out / f"{file_name(p)}.html").exists()]
    reports = []
    for p in periods:
        try:
            reports.append(
                build_director_report(
                    warehouse,
                    p,
                    out,
                    as_of=as_of,
                    published_as=published_as,
                    language=language,
                    grade_names=grade_names,
                )
            )
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
    language: str | None = None,
    grade_names: dict[str, dict[str, str]] | None = None,
) -> DirectorReport:
    """As render_director_report, with the headline figures. `as_of` (the run's) defaults to the as-of
    of the last published run in audit.runs; `language` and `grade_names` to those of its scheme file.
    `published_as`: the warehouse the footer names (the published one, when `warehouse` is a build copy)."""
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
        if language is None:
            language, found_names = run_language(con)
            grade_names = grade_names if grade_names is not None else found_names
        context = collect(r, period, known, final_out, published_as or warehouse, as_of, language, grade_names)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{file_name(period)}.html"
    html = template_environment(language, grade_names).get_template("director.html").render(**context)
    write_atomic(path, with_cjk_font(html))
    return DirectorReport(period=period, path=path, headline=context["headline"])


def template_environment(language: str = DEFAULT_LANGUAGE, grade_names: dict | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    return install(env, language, grade_names)
