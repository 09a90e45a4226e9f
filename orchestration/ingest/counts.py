"""What the ingestion of one entity reports: its counts (audit.run_counts) and warnings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class EntityCounts:
    entity: str
    files: int = 0
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    exact_duplicates: int = 0
    superseded: int = 0
    # incremental ingestion (audit.file_manifest): `files` above are the files read by this run
    files_new: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_deleted: list[str] = field(default_factory=list)
    full_refresh: bool = True
    current_rows: int = 0  # current rows of the entity in raw after the run, read or not
    # warnings of this run (audit.check_results, severity warn): accepted rows whose money or points
    # were rounded to 4 decimals, rows with a quoted field holding lines shaped like records
    rounded_rows: int = 0
    swallowing_rows: int = 0

    def as_dict(self) -> dict:
        return asdict(self)
