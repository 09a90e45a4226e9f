"""The HTML of the Great Expectations suite runs, beside the warehouse in `reports/data_docs/`:

- GE's own Data Docs site in `ge/` (one page per validation, rendered from the combined result;
  the GE project holding the stored results is `reports/great_expectations/`), made to work from disk with no
  network: its CDN scripts, stylesheets and fonts are served from vendored copies (ge_offline.py);
- the auditor's pages, plain static HTML without scripts or network (templates/ge_*.html.j2):
  `runs/<run>.html` (every suite, expectation, result, observed value and sample of failing rows)
  and `index.html` (the latest runs); `runs/<run>.json` collects the suites of a run as their
  checks finish.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orchestration.contract.spec import entity_specs
from orchestration.validate.ge_combine import SuiteOutcome
from orchestration.validate.ge_offline import install_vendor, make_offline
from orchestration.validate.ge_suites import build_ge_suite
from orchestration.warehouse import reports_dir

TEMPLATES = Path(__file__).parent / "templates"
DATA_DOCS_RUNS_IN_INDEX = 30  # the auditor's index (index.html) lists the suites of the latest N runs
# GE's own index page reads every validation it lists, at every suite's build (16 per run): listing the
# latest 30 runs cost 0.45 s more per run of history (9.5 s a run after 12 runs, tiny sample). It lists
# the latest run's suites; the auditor's index.html lists the latest runs.
GE_INDEX_RUNS = 1
# GE's site (and the project's stored results) keep each suite's latest N runs. Every build lists every
# stored result about six times and parses its run time (dateutil): the 16 suites of a run cost 0.2 s
# more per kept run (7.3 s a run with 30 kept, measured on the tiny sample). The auditor's run pages
# (runs/<run>.html) keep every expectation's result of every run; their link to GE's page of a run
# older than this works no more.
GE_KEPT_RUNS = 7
SAMPLE_ROWS_IN_PAGE = 20


def data_docs_dir(warehouse: str | Path) -> Path:
    return reports_dir(warehouse) / "data_docs"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


# --------------------------------------------------------------------------------------------
# GE's Data Docs site
# --------------------------------------------------------------------------------------------


def _site_config(site_dir: Path) -> dict:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
        # GE's index reads each validation it lists at every build: the latest run's suites only
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": GE_INDEX_RUNS * len(entity_specs()),
        },
    }


@lru_cache(maxsize=4)
def _ge_site(project_root: str, site_dir: str):
    """The GE project beside a warehouse and the SiteBuilder of its `scorecard` site, made once per
    process: a GE file context reads its YAML again when made (0.15 s), and a SiteBuilder's views
    compile GE's Jinja templates once (0.3 s a build when made anew)."""
    import great_expectations as gx
    from great_expectations.render.renderer.site_builder import SiteBuilder

    ctx = gx.get_context(mode="file", project_root_dir=project_root)
    site = _site_config(Path(site_dir))
    sites = ctx.get_config().data_docs_sites or {}
    if "local_site" in sites:
        ctx.delete_data_docs_site("local_site")
    if sites.get("scorecard") != site:
        if "scorecard" in sites:
            ctx.delete_data_docs_site("scorecard")
        ctx.add_data_docs_site("scorecard", site)
    builder = SiteBuilder(
        data_context=ctx,
        store_backend=site["store_backend"],
        site_name="scorecard",
        site_index_builder=site["site_index_builder"],
        show_how_to_buttons=False,
        runtime_environment={"data_context": ctx, "root_directory": ctx.root_directory, "site_name": "scorecard"},
    )
    return ctx, builder


def write_ge_data_docs(warehouse: str | Path, suite: dict, ge_result, run_id: str, checked_at: datetime) -> Path:
    """Store the combined result in a GE project beside the warehouse (`reports/great_expectations`)
    and render GE's Data Docs page for it into `reports/data_docs/ge/`. Returns the page."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    site_dir = data_docs_dir(warehouse) / "ge"
    project = reports_dir(warehouse) / "great_expectations"
    if not (project / "gx" / "great_expectations.yml").is_file():
        _ge_site.cache_clear()  # a new or removed project: made again
    ctx, builder = _ge_site(str(project), str(site_dir))
    suite_key = ExpectationSuiteIdentifier(name=suite["name"])
    resources: list = []
    # the suite's page is rendered again only when the suite file changed
    marker = site_dir / "expectations" / f".{suite['name']}.sha"
    digest = _sha(suite)
    if not marker.is_file() or marker.read_text() != digest:
        ctx.suites.add_or_update(build_ge_suite(suite))
        resources.append(suite_key)
    run = RunIdentifier(run_name=run_id, run_time=checked_at.astimezone(UTC))
    key = ValidationResultIdentifier(expectation_suite_identifier=suite_key, run_id=run, batch_identifier=suite["name"])
    ge_result.meta["run_id"] = run
    store = ctx.validation_results_store
    store.set(key, ge_result)
    # the GE project keeps the suite's results of the latest runs only; GE's site drops the pages of
    # the others at its next build (the auditor's run pages keep every run: write_run_pages)
    kept = sorted((k for k in store.list_keys() if k.expectation_suite_identifier == suite_key), key=_run_time)
    for old in kept[:-GE_KEPT_RUNS]:
        store.remove_key(old)
    builder.build(resource_identifiers=[key, *resources], build_index=True)
    page = site_dir / "validations" / Path(*key.to_tuple()).with_suffix(".html")
    written = [page, site_dir / "expectations" / f"{suite['name']}.html", site_dir / "index.html"]
    # a site new to the vendored files (or to a new set of them): its older pages are rewritten too
    make_offline(sorted(site_dir.rglob("*.html")) if install_vendor(site_dir) else written, site_dir)
    if len(kept) > GE_KEPT_RUNS:  # GE leaves the folders of removed results and pages behind
        _remove_empty_folders(Path(store.store_backend.full_base_directory) / suite["name"])
        _remove_empty_folders(site_dir / "validations" / suite["name"])
    if resources:
        marker.write_text(digest)
    return page


def _remove_empty_folders(top: Path) -> None:
    for folder, _, _ in os.walk(top, topdown=False):  # deepest first: a parent sees its emptied children
        if Path(folder) == top:
            continue
        empty = False
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            empty = not any(entries)
        if empty:
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def _run_time(key) -> datetime:
    run_time = key.run_id.run_time
    return run_time if run_time.tzinfo else run_time.replace(tzinfo=UTC)


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# The run pages
# --------------------------------------------------------------------------------------------


def write_run_pages(
    warehouse: str | Path,
    outcome: SuiteOutcome,
    run_id: str,
    checked_at: datetime,
    as_of: datetime,
    ge_page: Path | None,
) -> tuple[Path, Path]:
    """The auditor's pages: plain static HTML without scripts or network (opens from disk anywhere).

    `data_docs/runs/<run>.json` collects the suites of a run as their checks finish;
    `data_docs/runs/<run>.html` shows every suite, expectation, result, observed value and sample of
    failing values; `data_docs/index.html` lists the latest runs. Returns (index, run page)."""
    site = data_docs_dir(warehouse)
    runs = site / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    manifest_path = runs / f"{_safe(run_id)}.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {"run_id": run_id, "suites": {}}
    manifest["as_of"] = as_of.isoformat()
    manifest["suites"][outcome.entity] = {
        "suite": outcome.suite_name,
        "checked_at": checked_at.astimezone(UTC).isoformat(timespec="seconds"),
        "rows_validated": outcome.rows_validated,
        "scope": outcome.scope,
        "rows_current": outcome.rows_current,
        "chunks": outcome.chunks,
        "seconds": round(outcome.seconds, 2),
        "passed": outcome.passed,
        "evaluated": outcome.evaluated,
        "successful": outcome.successful,
        "failed_error": outcome.failed_error,
        "failed_warn": outcome.failed_warn,
        "ge_page": ge_page.relative_to(site).as_posix() if ge_page else None,
        "expectations": [
            {
                "check_name": o.check_name,
                "severity": o.severity,
                "success": o.success,
                "not_measured": o.not_measured,
                "message": o.message,
                "why": o.why,
                "unexpected_count": o.unexpected_count,
                "failing_rows": o.failing_rows[:SAMPLE_ROWS_IN_PAGE],
            }
            for o in outcome.outcomes
        ],
    }
    manifest["started_at"] = min(s["checked_at"] for s in manifest["suites"].values())
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=str))
    run_page = runs / f"{_safe(run_id)}.html"
    run_page.write_text(_run_html(manifest, link_prefix="../"), encoding="utf-8")
    manifests = []
    latest = sorted(runs.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)[:DATA_DOCS_RUNS_IN_INDEX]
    for p in latest:
        try:
            manifests.append(json.loads(p.read_text()))
        except (OSError, json.JSONDecodeError):
            continue
    manifests.sort(key=lambda m: m.get("started_at", ""), reverse=True)
    index = site / "index.html"
    index.write_text(_index_html(manifests[:DATA_DOCS_RUNS_IN_INDEX]), encoding="utf-8")
    return index, run_page


def _escape(v: Any) -> Markup:
    """Every value printed by the templates, escaped as `html.escape` does (None prints nothing)."""
    if isinstance(v, Markup):
        return v
    return Markup(html.escape("" if v is None else str(v)))


def _observed(e: dict) -> str:
    return e["message"].removeprefix(e["check_name"] + ": ")


@cache
def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda v: f"{v:,}"
    env.filters["file_stem"] = _safe
    env.filters["observed"] = _observed
    return env


def _run_html(m: dict, link_prefix: str) -> str:
    return (
        template_environment()
        .get_template("ge_run.html.j2")
        .render(m=m, suites=sorted(m["suites"].items()), link_prefix=link_prefix)
    )


def _index_html(manifests: list[dict]) -> str:
    latest = manifests[0]["suites"] if manifests else {}
    return (
        template_environment()
        .get_template("ge_index.html.j2")
        .render(
            runs=manifests,
            latest_suites=sorted(latest.items()),
            failing=[
                (entity, e) for entity, s in sorted(latest.items()) for e in s["expectations"] if not e["success"]
            ],
        )
    )
