"""The landing folder's layout (CONTRACT.md): which entities must be there and which files are read.

Light on purpose (no pandera, no Dagster): `scorecard run` checks the folder with it before it starts
Dagster, and ingestion lists the files with it."""

from __future__ import annotations

from pathlib import Path

EXTENSIONS = (".csv", ".parquet", ".jsonl")
REQUIRED_ENTITIES = ("crm/teams", "crm/reps", "crm/customers")


def data_files(landing: Path, entity: str) -> list[Path]:
    """Every data file of `entity` (its folder, searched recursively, and `<entity>.<ext>`), in
    lexicographic order of the path relative to the landing folder (how dated drops sort)."""
    files: list[Path] = []
    folder = landing / entity
    if folder.is_dir():
        files += [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS]
    for ext in EXTENSIONS:
        single = landing / f"{entity}{ext}"
        if single.is_file():
            files.append(single)
    return sorted(files, key=lambda p: p.relative_to(landing).as_posix())


def landing_problem(landing: Path, mapped: tuple[str, ...] = ()) -> str | None:
    """Why `landing` cannot be read as a landing folder (one line), or None. `mapped`: the entities a
    mapping file brings from exports (docs/mapping.md); with every required one mapped, the landing
    folder may be absent."""
    if not landing.exists():
        if all(e in mapped for e in REQUIRED_ENTITIES):
            return None
        return f"landing folder {landing} does not exist"
    if not landing.is_dir():
        return f"landing folder {landing} is not a folder"
    missing = [e for e in REQUIRED_ENTITIES if e not in mapped and not data_files(landing, e)]
    if missing:
        return (
            f"landing folder {landing} has no file for the required "
            f"entit{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)} "
            f"(expected {landing}/<entity>/*.csv|.parquet|.jsonl or <entity>.csv)"
        )
    return None
