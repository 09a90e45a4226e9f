"""`<warehouse dir>/reports/index.html`: one door to every report of a warehouse. The latest run's status
(from the published `audit.runs`), then links to the latest auditor's report, each period's directors'
report, the what-if reports, the validation docs (Great Expectations) and the marts' docs (dbt docs),
each only when its file exists. Static HTML, relative links, no script: it opens from disk.

Rewritten by every run when it publishes and when a failed run is recorded (`write_index`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader

from orchestration.report.cjk_font import with_cjk_font
from orchestration.report.language import DEFAULT_LANGUAGE, install, run_language
from orchestration.warehouse import connect, reports_dir

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _runs(warehouse: Path) -> tuple[dict | None, dict | None]:
    """(the latest recorded run, the latest published run) of the warehouse, or None each."""
    if not warehouse.exists():
        return None, None
    sql = (
        "select run_id, status, finished_at, published, failure_reason from audit.runs "
        "where {where} order by coalesce(finished_at, started_at) desc nulls last limit 1"
    )
    try:
        with connect(warehouse, read_only=True) as con:
            rows = [con.execute(sql.format(where=w)).fetchone() for w in ("true", "published")]
    except duckdb.Error:  # no audit.runs yet (a warehouse being created)
        return None, None
    out = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        run_id, status, finished, published, reason = row
        at = f"{finished:%Y-%m-%d %H:%M}" if finished else None
        known = status if status in ("succeeded", "failed", "abandoned") else "unknown"
        out.append({"run_id": run_id, "status": known, "finished": at, "published": published,
                    "failure_reason": reason})  # fmt: skip
    return out[0], out[1]


def write_index(warehouse: str | Path, language: str | None = None) -> Path:
    """Write `reports/index.html` beside the warehouse (atomically) and return its path. `language`: the
    report language (default: that of the scheme file of the warehouse's last published run)."""
    warehouse = Path(warehouse).resolve()
    if language is None:
        language = DEFAULT_LANGUAGE
        if warehouse.exists():
            try:
                with connect(warehouse, read_only=True) as con:
                    language, _ = run_language(con)
            except duckdb.Error:  # a warehouse being created or held: the default language
                pass
    root = reports_dir(warehouse)
    root.mkdir(parents=True, exist_ok=True)

    def rel(path: Path) -> str | None:
        return path.relative_to(root).as_posix() if path.is_file() else None

    latest, published = _runs(warehouse)
    director = sorted((p.stem, rel(p)) for p in (root / "director").glob("*.html"))
    whatif = sorted((p.stem, rel(p)) for p in (root / "whatif").glob("*.html"))
    html = (
        install(
            Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, extensions=["jinja2.ext.i18n"]),
            language,
        )
        .get_template("index.html")
        .render(
            warehouse=str(warehouse),
            written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            latest=latest,
            published=published,
            auditor=rel(root / "auditor" / "latest.html"),
            data_docs=rel(root / "data_docs" / "index.html"),
            director=director,
            whatif=whatif,
            dbt_docs=rel(root / "dbt_docs" / "index.html"),
        )
    )
    target = root / "index.html"
    tmp = target.with_name(f".index.{os.getpid()}.tmp")
    tmp.write_text(with_cjk_font(html), encoding="utf-8")
    os.replace(tmp, target)
    return target


def refresh_index(warehouse: str | Path, warn=None) -> Path | None:
    """write_index, never failing the caller (a run, a publish): an error is passed to `warn` and None
    returned; the reports themselves are in place either way."""
    try:
        return write_index(warehouse)
    except Exception as exc:  # noqa: BLE001 - the index is a convenience over files that exist
        if warn is not None:
            warn(f"reports/index.html could not be written: {type(exc).__name__}: {exc}")
        return None
