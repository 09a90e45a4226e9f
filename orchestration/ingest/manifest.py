"""The file manifest of incremental ingestion (audit.file_manifest, docs/operations.md): each file's
size, sha256 and read settings, so that a run reads only the files that are new or changed since
the last run and removes the rows of deleted ones."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from orchestration.contract.spec import EntitySpec
from orchestration.ingest.encoding import Encoding
from orchestration.ingest.landing_files import READ_BLOCK
from orchestration.ingest.ledger import NOW_UTC

# What decides a file's typed rows besides its bytes and the column types: bump it when the row
# rules change, so that incremental runs read every file again once (status `changed`).
CONTRACT_RULES_VERSION = "2"

MANIFEST_DDL = """
create table if not exists audit.file_manifest (
    path varchar, entity varchar, size_bytes bigint, sha256 varchar, read_settings varchar,
    rows_read bigint, first_seen_run_id varchar, first_seen_at timestamp, last_seen_run_id varchar,
    status varchar,          -- new | changed | unchanged | deleted, as the last run that checked it found it
    checked_run_id varchar,  -- the run that set `status`
    checked_at timestamp
);
-- the codec a CSV was read with and the detector's confidence (1.0 for UTF-8; NULL when the
-- encoding is declared in the scheme file, and for Parquet and JSON lines); added later, hence ALTER
alter table audit.file_manifest add column if not exists encoding varchar;
alter table audit.file_manifest add column if not exists encoding_confidence double;
create schema if not exists landed;
"""
MANIFEST_COLUMNS = (
    "path, entity, size_bytes, sha256, read_settings, rows_read, first_seen_run_id, first_seen_at, "
    "last_seen_run_id, status, checked_run_id, checked_at, encoding, encoding_confidence"
)


@dataclass
class FileState:
    path: str  # relative to the landing folder
    size: int
    sha256: str
    status: str  # new | changed | unchanged | deleted


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(READ_BLOCK):
            h.update(block)
    return h.hexdigest()


def read_settings_fingerprint(
    spec: EntitySpec, base_currency: str, rates: list[str], timezone: str, encoding: str | None, mapping: str = ""
) -> str:
    """What, besides a file's bytes, decides its typed rows: a file read under other settings is
    re-read (status `changed`). `mapping`: the fingerprint of the entity's source mapping
    (Sources.fingerprint), empty for landing files."""
    cols = ",".join(f"{c.name}:{c.sql_type}:{c.required}" + (":plan" if c.plan else "") for c in spec.columns)
    text = (
        f"{cols}|{base_currency.upper()}|{','.join(sorted(r.upper() for r in rates))}|{timezone}|{encoding or ''}"
        f"|rules:{CONTRACT_RULES_VERSION}" + (f"|mapping:{mapping}" if mapping else "")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_files(
    con, spec: EntitySpec, landing: Path, files: list[Path], run_id: str, settings: str
) -> tuple[list[FileState], list[FileState]]:
    """Compare the entity's files with audit.file_manifest: (current files with their status,
    files deleted since the last run)."""
    prev = {
        r[0]: r[1:]
        for r in con.execute(
            "select path, sha256, read_settings, status, checked_run_id from audit.file_manifest where entity = ?",
            [spec.entity],
        ).fetchall()
    }
    current: list[FileState] = []
    for path in files:
        rel = path.relative_to(landing).as_posix()
        sha, size = file_sha256(path), path.stat().st_size
        old = prev.get(rel)
        if old is None or (old[2] == "deleted" and old[3] != run_id):
            status = "new"
        elif old[3] == run_id and old[2] in ("new", "changed"):
            status = old[2]  # the same run again (a retried step): read it again, report it the same way
        elif old[0] != sha or old[1] != settings:
            status = "changed"
        else:
            status = "unchanged"
        current.append(FileState(rel, size, sha, status))
    seen = {f.path for f in current}
    deleted = [
        FileState(p, 0, old[0], "deleted")
        for p, old in sorted(prev.items())
        if p not in seen and (old[2] != "deleted" or old[3] == run_id)
    ]
    return current, deleted


def update_manifest(
    con,
    spec: EntitySpec,
    run_id: str,
    settings: str,
    current: list[FileState],
    deleted: list[FileState],
    rows_read: dict[str, int],
    encodings: dict[str, Encoding | None],
) -> None:
    for f in current:
        enc = encodings.get(f.path)
        codec, confidence = (enc.codec, enc.confidence) if enc else (None, None)
        if f.status == "unchanged" and f.path not in rows_read:
            con.execute(
                f"update audit.file_manifest set last_seen_run_id = ?, status = 'unchanged', checked_run_id = ?, "
                f"checked_at = {NOW_UTC} where path = ? and entity = ?",
                [run_id, run_id, f.path, spec.entity],
            )
        elif f.status in ("changed", "unchanged"):  # unchanged but read again (a full refresh)
            con.execute(
                f"update audit.file_manifest set size_bytes = ?, sha256 = ?, read_settings = ?, rows_read = ?, "
                f"last_seen_run_id = ?, status = ?, checked_run_id = ?, checked_at = {NOW_UTC}, "
                "encoding = ?, encoding_confidence = ? where path = ? and entity = ?",
                [
                    f.size,
                    f.sha256,
                    settings,
                    rows_read.get(f.path, 0),
                    run_id,
                    f.status,
                    run_id,
                    codec,
                    confidence,
                    f.path,
                    spec.entity,
                ],
            )
        else:  # new (or a file deleted earlier that came back)
            con.execute("delete from audit.file_manifest where path = ? and entity = ?", [f.path, spec.entity])
            con.execute(
                f"insert into audit.file_manifest ({MANIFEST_COLUMNS}) "
                f"values (?, ?, ?, ?, ?, ?, ?, {NOW_UTC}, ?, 'new', ?, {NOW_UTC}, ?, ?)",
                [
                    f.path,
                    spec.entity,
                    f.size,
                    f.sha256,
                    settings,
                    rows_read.get(f.path, 0),
                    run_id,
                    run_id,
                    run_id,
                    codec,
                    confidence,
                ],
            )
    for f in deleted:
        con.execute(
            f"update audit.file_manifest set status = 'deleted', checked_run_id = ?, checked_at = {NOW_UTC} "
            "where path = ? and entity = ?",
            [run_id, f.path, spec.entity],
        )
