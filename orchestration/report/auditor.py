"""The auditor's report of a run: one self-contained HTML file an auditor reads without SQL.

`render_auditor_report(warehouse, run_id)` writes `reports_dir(warehouse)/auditor/<run_id>.html` and
`latest.html` beside it. Sections: run summary and row counts per entity (with the invariant
rows in = accepted + quarantined + exact duplicates + superseded), validation results per source and
check with in-page links to each failing check's rows, quarantine counts per source and reason with
sample raw rows, anomaly flags per rule with their evidence, manager adjustments and clamping.

Bounded on tens of millions of rows: every figure is aggregated in SQL, and only capped samples are
fetched (per check, per source, per rule: `min_by`/`max_by` with a count keep a bounded heap per
group, over rowids where the table is large, and only the picked rows are read). A table another
stage has not written yet (or a column it lacks) turns its section into "not available in this run"
instead of failing the report.

This module renders and writes the file; auditor_reader reads the warehouse (bounded samples, sections
that may be unavailable) and auditor_data shapes the run's figures into the template's view model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from orchestration.report.auditor_data import cap_text, collect
from orchestration.report.auditor_reader import Reader
from orchestration.report.cjk_font import with_cjk_font
from orchestration.report.files import file_name, write_atomic
from orchestration.report.language import DEFAULT_LANGUAGE, install, run_language, ui_text
from orchestration.warehouse import connect, reports_dir

TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class AuditorReport:
    """What `build_auditor_report` wrote, with the headline figures (Dagster metadata, CLI echo)."""

    run_id: str
    path: Path
    latest_path: Path | None
    headline: dict[str, Any] = field(default_factory=dict)


def render_auditor_report(
    warehouse: str | Path,
    run_id: str | None = None,
    out_dir: str | Path | None = None,
    *,
    timezone: str | None = None,
    language: str | None = None,
) -> Path:
    """Write the auditor's HTML report of `run_id` (default: the latest run) and return its path.

    `out_dir` defaults to `reports_dir(warehouse)/auditor`; `latest.html` there is updated unless a
    later run is already recorded. `timezone` (the scheme's) adds local times beside UTC ones; `language`
    (the scheme's report.language) defaults to that of the last published run's scheme file."""
    return build_auditor_report(warehouse, run_id, out_dir, timezone=timezone, language=language).path


def build_auditor_report(
    warehouse: str | Path,
    run_id: str | None = None,
    out_dir: str | Path | None = None,
    *,
    timezone: str | None = None,
    published_as: str | Path | None = None,
    language: str | None = None,
) -> AuditorReport:
    """`published_as`: the published warehouse when `warehouse` is a run's build copy and `out_dir` the
    run's staged reports (warehouse/build_copy.py): the report names that file and links the reports beside it.
    `language`: the scheme's report language (default: that of the last published run's scheme file)."""
    out = Path(out_dir) if out_dir is not None else reports_dir(warehouse) / "auditor"
    final_out = reports_dir(published_as) / "auditor" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        reader = Reader(con)
        run_id = run_id or reader.latest_run_id()
        if run_id is None:
            raise ValueError(f"{warehouse}: no run recorded in audit.runs or audit.run_counts")
        ctx = collect(reader, run_id, final_out)
        if language is None:
            language, _ = run_language(con)
    ctx["generated_at"] = datetime.now(UTC).replace(tzinfo=None)
    ctx["warehouse"] = str(Path(published_as or warehouse).resolve())
    html = with_cjk_font(_environment(timezone, language).get_template("auditor.html.j2").render(**ctx))

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{file_name(run_id)}.html"
    write_atomic(path, html)
    latest = None
    if ctx["is_latest"]:
        latest = out / "latest.html"
        write_atomic(latest, html)
    return AuditorReport(run_id=run_id, path=path, latest_path=latest, headline=ctx["headline"])


def _environment(timezone: str | None, language: str = DEFAULT_LANGUAGE) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value from the warehouse is escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install(env, language)  # the report language: _(), trans blocks, labels of ids (report/language.py)
    tz = ZoneInfo(timezone) if timezone else None
    env.filters["num"] = _fmt_num
    env.filters["ts"] = lambda v: _fmt_ts(v, tz)
    env.filters["cap"] = cap_text
    env.filters["yesno"] = lambda v: "—" if v is None else ui_text("yes" if v else "no", language)
    env.filters["sev"] = lambda v: re.sub(r"[^a-z]", "", (v or "unknown").lower()) or "unknown"
    return env


def _fmt_num(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Decimal):  # points: two decimals at least, without the trailing zeros of DECIMAL(38, 10)
        trimmed = v.normalize()
        return f"{trimmed if trimmed.as_tuple().exponent < -2 else v.quantize(Decimal('0.01')):,f}"
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.3f}".rstrip("0")
    return str(v)


def _fmt_ts(v: Any, tz: ZoneInfo | None) -> str:
    """Timestamps of audit.runs are naive UTC; shown in UTC and, given the scheme's zone, local."""
    if v is None:
        return "—"
    if not isinstance(v, datetime):
        return str(v)
    utc = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
    text = f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    if tz is not None:
        text += f" ({utc.astimezone(tz):%Y-%m-%d %H:%M:%S} {tz.key})"
    return text
