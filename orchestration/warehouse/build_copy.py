"""Write, audit, publish.

A run never writes the published warehouse file that analysts read. It builds in a copy,
`<warehouse dir>/.build/<warehouse name>`: the run starts by copying the published file there,
every asset writes the copy, the blocking checks run on it, and only then the copy replaces the
published file in one atomic rename. DuckDB allows one writer per file and readers lock the file
they read, so an in-place update is impossible while analysts are connected; a rename is not
blocked by them, and a connection opened before it keeps reading the file it opened (the previous
marts) until it reconnects. One run at a time holds the warehouse (writer_lock.py).

The reports that readers open describe the published marts: the run renders them into
`.build/reports/` (a staging folder that names its run in `RUN_ID`) and they are moved into
`<warehouse dir>/reports/` right after the rename. The rename is the commit point: a run killed
before it leaves its staged reports behind, and the next run discards them; a run killed after it
leaves them to be moved, and the next run moves them (`settle_leftovers`).

A failed run publishes nothing of its marts; its audit rows (run record, counts, quarantine, check
results, validation failures) are copied into a fresh copy of the published file, which then
replaces it the same way: auditors see the failure, analysts keep the last good marts. Audit rows are
never erased: rows of a run already in the published `audit.runs` are never deleted or replaced, and a
published run is never marked unpublished.

A run killed with SIGKILL records nothing itself. The next run finds what it left (its build copy, and
its line in the lock file) and records it as `abandoned`, with the audit rows its build copy holds.

The build file has the same name as the published one in another folder, so the database (catalog)
name that dbt writes into view definitions is the same in both.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.warehouse import connect, ensure_audit_tables, ident, sql_str

log = logging.getLogger(__name__)

AUDIT_RUN_TABLES = ("runs", "run_counts", "quarantine", "check_results", "validation_failures", "ge_suite_runs")
RUNS_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "as_of",
    "status",
    "failure_reason",
    "checks_passed",
    "checks_failed",
    "published",
    "landing",
    "config",
)


def build_path(published: str | Path) -> Path:
    p = Path(published).resolve()
    return p.parent / ".build" / p.name


def staged_reports_dir(published: str | Path) -> Path:
    """Where a run renders the reports that are published with its marts."""
    return build_path(published).parent / "reports"


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def discard_build(published: str | Path) -> None:
    """Remove the run's temporary copies (build copy, audit staging copy, staged reports)."""
    build = build_path(published)
    _remove(build)
    _remove(build.parent / "audit" / build.name)
    _remove(build.with_name(build.name + ".leftover"))
    shutil.rmtree(staged_reports_dir(published), ignore_errors=True)
    _remove_empty_build_dirs(published)


def _remove_empty_build_dirs(published: str | Path) -> None:
    build = build_path(published)
    for d in (build.parent / "audit", build.parent):
        try:
            d.rmdir()
        except OSError:  # not empty (another copy in it) or already gone
            pass


def _replace(source: Path, published: Path) -> None:
    """Atomic rename; the source must be checkpointed (no WAL) and closed."""
    os.replace(source, published)
    dir_fd = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _naive_utc(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, UTC)
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def published_run(published: str | Path, run_id: str) -> tuple[str, bool] | None:
    """(status, published) of `run_id` in the published warehouse's audit.runs, or None."""
    p = Path(published)
    if not p.exists():
        return None
    with connect(p, read_only=True) as con:
        if not _has_table(con, "audit", "runs"):
            return None
        row = con.execute("select status, published from audit.runs where run_id = ? limit 1", [run_id]).fetchone()
    return (row[0], bool(row[1])) if row else None


def _has_table(con, schema: str, table: str, database: str | None = None) -> bool:
    db = sql_str(database) if database else "current_database()"
    return (
        con.execute(
            f"select count(*) from duckdb_tables() where database_name = {db} and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )


# --- reports staged with the run ------------------------------------------------------------------


def stage_reports(published: str | Path, run_id: str) -> Path:
    """The staging folder of this run's reports (emptied; names the run in RUN_ID)."""
    staged = staged_reports_dir(published)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    (staged / "RUN_ID").write_text(run_id + "\n", encoding="utf-8")
    return staged


def _move_staged_reports(published: Path) -> list[Path]:
    """Move every staged report into <warehouse dir>/reports/ (one atomic rename per file)."""
    staged = staged_reports_dir(published)
    if not staged.is_dir():
        return []
    target_root = published.parent / "reports"
    moved = []
    for src in sorted(staged.rglob("*")):
        if not src.is_file() or src.name == "RUN_ID":
            continue
        dst = target_root / src.relative_to(staged)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        moved.append(dst)
    shutil.rmtree(staged, ignore_errors=True)
    return moved


def settle_leftovers(published: str | Path, new_run_id: str, stale_holder=None) -> list[str]:
    """What an earlier run left behind, settled before a new run builds (under the writer lock):
    staged reports of a published run are moved into place (the run was killed between its rename and
    the move), those of an unpublished run are discarded; a leftover build copy's audit rows of runs the
    published warehouse does not know are kept for the new run, which records those runs as
    `abandoned`. Returns the abandoned run ids; their rows are in `<build>.leftover` until start_build
    copies them."""
    published = Path(published).resolve()
    staged = staged_reports_dir(published)
    marker = staged / "RUN_ID"
    if marker.is_file():
        staged_run = marker.read_text(encoding="utf-8").strip()
        state = published_run(published, staged_run)
        if state is not None and state[1]:
            moved = _move_staged_reports(published)
            log.warning(
                "run %s was published but its %d report(s) were not moved into place: moved now", staged_run, len(moved)
            )
        else:
            shutil.rmtree(staged, ignore_errors=True)
    elif staged.exists():
        shutil.rmtree(staged, ignore_errors=True)
    build = build_path(published)
    leftover = build.with_name(build.name + ".leftover")
    _remove(leftover)
    abandoned: list[str] = []
    if build.exists():
        _remove(leftover)
        os.replace(build, leftover)
        wal = build.with_name(build.name + ".wal")
        if wal.exists():
            os.replace(wal, leftover.with_name(leftover.name + ".wal"))
        abandoned = _leftover_runs(published, leftover, new_run_id)
    if stale_holder is not None and stale_holder.run_id not in abandoned and stale_holder.run_id != new_run_id:
        if published_run(published, stale_holder.run_id) is None:
            abandoned.append(stale_holder.run_id)
    return abandoned


def _leftover_runs(published: Path, leftover: Path, new_run_id: str) -> list[str]:
    """Run ids with audit rows in the leftover build copy that the published audit.runs lacks."""
    try:
        with connect(leftover, read_only=True, wait_seconds=30) as con:
            ids: set[str] = set()
            for table in AUDIT_RUN_TABLES:
                if _has_table(con, "audit", table):
                    ids |= {r[0] for r in con.execute(f"select distinct run_id from audit.{table}").fetchall()}
    except duckdb.Error as exc:
        log.warning("the build copy left by an earlier run cannot be read (%s): discarded", str(exc).splitlines()[0])
        _remove(leftover)
        return []
    known = set()
    if published.exists():
        with connect(published, read_only=True) as con:
            if _has_table(con, "audit", "runs"):
                known = {r[0] for r in con.execute("select run_id from audit.runs").fetchall()}
    return sorted(i for i in ids if i and i not in known and i != new_run_id)


def _copy_audit_rows(con, source_db: str, run_ids: list[str]) -> None:
    """Append the audit rows of `run_ids` from the attached `source_db` (runs excepted)."""
    for table in AUDIT_RUN_TABLES:
        if table == "runs" or not _has_table(con, "audit", table, source_db):
            continue
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where database_name = current_database() "
                "and schema_name = 'audit' and table_name = ? and column_name in "
                "(select column_name from duckdb_columns() where database_name = ? and schema_name = 'audit' "
                "and table_name = ?) order by column_index",
                [table, source_db, table],
            ).fetchall()
        ]
        col_list = ", ".join(ident(c) for c in cols)
        con.execute(
            f"insert into audit.{table} ({col_list}) select {col_list} from {source_db}.audit.{table} "
            "where list_contains(?, run_id)",
            [run_ids],
        )


def _insert_run_row(con, row: dict) -> None:
    passed, failed = con.execute(
        "select count(*) filter (where passed), count(*) filter (where not passed) from audit.check_results "
        "where run_id = ?",
        [row["run_id"]],
    ).fetchone()
    values = {**row, "checks_passed": passed, "checks_failed": failed}
    values["started_at"] = _naive_utc(values.get("started_at"))
    values["finished_at"] = _naive_utc(values.get("finished_at"))
    values["as_of"] = _naive_utc(values.get("as_of"))
    con.execute(
        f"insert into audit.runs ({', '.join(RUNS_COLUMNS)}) values ({', '.join('?' for _ in RUNS_COLUMNS)})",
        [values.get(c) for c in RUNS_COLUMNS],
    )


def record_abandoned(con, leftover: Path, run_ids: list[str], found_by: str, stale_holder=None) -> None:
    """In the new run's build copy: the abandoned runs' audit rows from the leftover copy, and one
    audit.runs row each with status `abandoned`."""
    if not run_ids:
        return
    attached = False
    if leftover.exists():
        try:
            con.execute(f"attach {sql_str(str(leftover))} as leftover_build (read_only)")
            attached = True
            _copy_audit_rows(con, "leftover_build", run_ids)
        except duckdb.Error as exc:
            log.warning("audit rows of the abandoned run(s) could not be copied: %s", str(exc).splitlines()[0])
    now = datetime.now(UTC)
    if attached and _has_table(con, "audit", "runs", "leftover_build"):
        # runs the leftover copy itself recorded as abandoned (a chain of killed runs): their rows as they are
        cols = ", ".join(RUNS_COLUMNS)
        con.execute(
            f"insert into audit.runs ({cols}) select {cols} from leftover_build.audit.runs "
            "where list_contains(?, run_id)",
            [run_ids],
        )
        have = {
            r[0]
            for r in con.execute("select run_id from audit.runs where list_contains(?, run_id)", [run_ids]).fetchall()
        }
        run_ids = [r for r in run_ids if r not in have]
    for run_id in run_ids:
        started = None
        if stale_holder is not None and stale_holder.run_id == run_id:
            started = stale_holder.started_at
        elif attached and _has_table(con, "audit", "run_counts", "leftover_build"):
            started = con.execute(
                "select min(counted_at) from leftover_build.audit.run_counts where run_id = ?", [run_id]
            ).fetchone()[0]
        pid = f" (pid {stale_holder.pid})" if stale_holder is not None and stale_holder.run_id == run_id else ""
        _insert_run_row(
            con,
            {
                "run_id": run_id,
                "started_at": started,
                "finished_at": None,
                "status": "abandoned",
                "failure_reason": f"the run's process{pid} ended without finishing (killed or died); "
                f"found by run {found_by} at {now:%Y-%m-%d %H:%M:%S} UTC",
                "published": False,
            },
        )
    if attached:
        con.execute("detach leftover_build")
    log.warning("recorded %d abandoned run(s): %s", len(run_ids), ", ".join(run_ids))


def start_build(published: str | Path, run_id: str | None = None, stale_holder=None) -> Path:
    """A fresh build copy of the published warehouse (empty when nothing is published yet), after
    settling what an earlier run left behind (settle_leftovers): its abandoned runs are recorded in the
    new copy."""
    published = Path(published).resolve()
    build = build_path(published)
    build.parent.mkdir(parents=True, exist_ok=True)
    abandoned = settle_leftovers(published, run_id or "", stale_holder)
    _remove(build)
    if published.exists():
        shutil.copyfile(published, build)
    leftover = build.with_name(build.name + ".leftover")
    if abandoned:
        with connect(build) as con:
            ensure_audit_tables(con)
            record_abandoned(con, leftover, abandoned, run_id or "unknown", stale_holder)
    _remove(leftover)
    return build


def publish(published: str | Path, checkpoint: Callable[[str], None] = lambda point: None) -> Path:
    """Replace the published warehouse with the build copy, then move the staged reports into place.
    `checkpoint` is told each point it passes (the recovery tests' fault injection)."""
    published = Path(published).resolve()
    build = build_path(published)
    with connect(build) as con:
        con.execute("checkpoint")
    checkpoint("during_publish")
    _replace(build, published)
    checkpoint("after_publish")
    _move_staged_reports(published)
    _remove_empty_build_dirs(published)
    return published


@dataclass
class AuditPublish:
    path: Path
    inserted_run_ids: list[str]  # runs whose audit rows this call published
    already_published: bool  # the run's marts were published before it failed


def _audit_rows_in_memory(build: Path, run_id: str) -> dict:
    """The build copy's audit rows of the runs it recorded (and of `run_id`), as Arrow tables: what a full
    disk leaves room to publish once the build copy itself is removed."""
    out: dict = {}
    with connect(build, read_only=True) as con:
        ids = [run_id]
        if _has_table(con, "audit", "runs"):
            ids += [r[0] for r in con.execute("select distinct run_id from audit.runs").fetchall()]
        for table in AUDIT_RUN_TABLES:
            if _has_table(con, "audit", table):
                sql = f"select * from audit.{table} where list_contains(?, run_id)"
                out[table] = con.execute(sql, [ids]).to_arrow_table()
    return out


def publish_audit_only(
    published: str | Path, run_id: str, run_row: dict, free_build_first: bool = False
) -> AuditPublish:
    """After a failed run: publish the audit rows of the run (and of any run the build copy recorded as
    abandoned), keep the published marts as they are. `run_row` holds the audit.runs columns of the run
    (checks_passed / checks_failed are counted here).

    Never erases: a run already in the published audit.runs keeps its rows; if it was published (a step
    after publishing failed), it stays `published = true` and only `failure_reason` is set, prefixed
    "after publishing:"; if it was recorded as abandoned by a later run, its status and reason become
    this record's.

    `free_build_first` (a full disk): the build copy's audit rows are read into memory and the copy is
    removed before the published file is copied, so that the copy fits where the build copy was."""
    published = Path(published).resolve()
    build = build_path(published)
    in_memory = None
    if free_build_first and build.exists():
        in_memory = _audit_rows_in_memory(build, run_id)
        _remove(build)
    staging = build.parent / "audit" / published.name
    staging.parent.mkdir(parents=True, exist_ok=True)
    _remove(staging)
    if published.exists():
        shutil.copyfile(published, staging)
    inserted: list[str] = []
    already = False
    try:
        with connect(staging) as con:
            ensure_audit_tables(con)
            known = {
                r[0]: (r[1], r[2]) for r in con.execute("select run_id, status, published from audit.runs").fetchall()
            }
            build_runs: list[str] = []
            if in_memory is not None:  # the rows read from the removed build copy, as a schema of views
                con.execute("attach ':memory:' as build_copy")
                con.execute("create schema build_copy.audit")
                for table, rows in in_memory.items():
                    con.register(f"_mem_{table}", rows)
                    con.execute(f"create table build_copy.audit.{table} as select * from _mem_{table}")
                    con.unregister(f"_mem_{table}")
            elif build.exists():
                con.execute(f"attach {sql_str(str(build))} as build_copy (read_only)")
            if in_memory is not None or build.exists():
                if _has_table(con, "audit", "runs", "build_copy"):
                    build_runs = [
                        r[0] for r in con.execute("select distinct run_id from build_copy.audit.runs").fetchall()
                    ]
                new_ids = sorted({run_id, *build_runs} - set(known))
                if new_ids:
                    _copy_audit_rows(con, "build_copy", new_ids)
                    # abandoned runs recorded by this run's start: their runs rows come from the build
                    others = [i for i in new_ids if i != run_id and i in build_runs]
                    if others:
                        cols = ", ".join(RUNS_COLUMNS)
                        con.execute(
                            f"insert into audit.runs ({cols}) select {cols} from build_copy.audit.runs "
                            "where list_contains(?, run_id)",
                            [others],
                        )
                    inserted = new_ids
                con.execute("detach build_copy")
            if run_id not in known:
                _insert_run_row(con, {**run_row, "run_id": run_id, "published": False})
                if run_id not in inserted:
                    inserted.append(run_id)
            else:
                status, was_published = known[run_id]
                already = bool(was_published)
                reason = run_row.get("failure_reason")
                if was_published:
                    con.execute(
                        "update audit.runs set failure_reason = ? where run_id = ?",
                        [f"after publishing: {reason}" if reason else None, run_id],
                    )
                elif status == "abandoned":
                    con.execute(
                        "update audit.runs set status = ?, failure_reason = ?, finished_at = ? where run_id = ?",
                        [run_row.get("status", "failed"), reason, _naive_utc(run_row.get("finished_at")), run_id],
                    )
            con.execute("checkpoint")
        _replace(staging, published)
    finally:
        _remove(staging)
    if not already:
        _remove(build)
        shutil.rmtree(staged_reports_dir(published), ignore_errors=True)
    _remove_empty_build_dirs(published)
    return AuditPublish(published, inserted, already)
