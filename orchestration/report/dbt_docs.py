"""`<warehouse dir>/reports/dbt_docs/index.html`: the marts' docs for analysts, dbt's own docs site as one
static page (`dbt docs generate --static`: manifest and catalog inside the HTML, it opens from disk).

Every published mart's columns are described and typed in dbt_project/models/marts/*.yml (their model
contracts); the catalog adds the types DuckDB reports for every table; the exposures (models/exposures.yml)
name the marts each HTML report reads.

Built by a run's publish step from its build copy into the staged reports (published with the marts, so
the page describes the published warehouse), and on demand by `scorecard docs` / `make docs` from the
published warehouse. dbt's catalog needs a connection to the warehouse: profiles.yml's `docs` output
opens it read-only (DuckDB `access_mode: READ_ONLY`), like an analyst's connection. A reader never blocks
a run: a run writes its build copy and publishes it by renaming it over the published file; the reader
keeps reading the file it opened. (A copy of the warehouse would serve too, at the cost of its size in
disk and time; read-only needs neither.)

dbt works in `<warehouse dir>/.dbt/<warehouse name>.docs-run/` (runs) or `.docs-cli/` (`scorecard docs`):
its own target folders, so the pipeline's manifest in dbt_project/target/ is not rewritten, and the next
build parses only what changed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.report.index import refresh_index
from orchestration.transform.dbt_cli import dbt_args, run_dbt, state_dir
from orchestration.warehouse import reports_dir

DOCS_DIR = "dbt_docs"
DOCS_TARGET = "docs"  # profiles.yml: the DuckDB warehouse, read-only


class DocsError(RuntimeError):
    """dbt could not build the docs; the message holds the end of dbt's output."""


def docs_path(warehouse: str | Path) -> Path:
    """Where the published docs page of a warehouse is."""
    return reports_dir(warehouse) / DOCS_DIR / "index.html"


def docs_work_dir(warehouse: str | Path, by: str = "run") -> Path:
    """dbt's target folder for the docs of a warehouse: `<warehouse dir>/.dbt/<warehouse name>.docs-<by>/`,
    one for the runs and one for `scorecard docs` (`by`), so that the two never write one folder at once."""
    state = state_dir(warehouse)
    return state.with_name(f"{state.name}.docs-{by}")


def build_dbt_docs(database: str | Path, out_dir: str | Path, work_dir: str | Path | None = None) -> Path:
    """Run `dbt docs generate --static` on the DuckDB file `database` (read-only) and write the page to
    `out_dir/index.html` (atomically); return its path. `work_dir`: dbt's target folder (default
    `docs_work_dir(database, "cli")`). Raises DocsError with the end of dbt's output when dbt fails."""
    database = Path(database).resolve()
    work = Path(work_dir) if work_dir is not None else docs_work_dir(database, "cli")
    work.mkdir(parents=True, exist_ok=True)
    page = work / "static_index.html"
    page.unlink(missing_ok=True)
    # compiled, not --no-compile: the page then shows each model's compiled SQL (scorecard's score columns
    # unrolled), and dbt 1.11 writes the manifest the static page embeds only when it compiles.
    # relative: the file by its bare name, dbt started in its folder, so that a run's build copy and the
    # published file share one profile and dbt's partial-parse state in `work`
    args = ["docs", *dbt_args("generate", target=DOCS_TARGET, target_path=work, log_path=work / "logs")]
    done = run_dbt([*args, "--static"], database=database, relative=True)
    if done.returncode != 0 or not page.is_file():
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines or ["no output"]
        tail = "\n".join(lines[-20:])
        raise DocsError(f"dbt docs generate failed (exit {done.returncode}): {errors[-1]}\n{tail}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "index.html"
    tmp = target.with_name(f".index.{os.getpid()}.tmp")
    shutil.copyfile(page, tmp)
    os.replace(tmp, target)
    return target


def publish_dbt_docs(warehouse: str | Path) -> Path:
    """The docs of the published warehouse into its reports (`scorecard docs`, `make docs`), read-only;
    reports/index.html links them. Returns the page."""
    warehouse = Path(warehouse).resolve()
    page = build_dbt_docs(warehouse, docs_path(warehouse).parent)
    refresh_index(warehouse)
    return page
