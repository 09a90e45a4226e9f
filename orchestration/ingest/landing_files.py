"""The entity's files in the landing folder, and reading them by literal path.

DuckDB's readers expand `?`, `*` and `[` as glob patterns, so every file is read through a link with
a plain name in the ingestion's scratch folder (`Scratch`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.contract.layout import data_files
from orchestration.contract.spec import EntitySpec
from orchestration.ingest.ingest_error import IngestError

READ_BLOCK = 1 << 20  # bytes of a file read at a time wherever a file is streamed
_GLOB_CHARS = set("*?[]{}")


def entity_files(landing: Path, spec: EntitySpec) -> list[Path]:
    """Every data file of the entity, in lexicographic order of the path (how dated drops sort)."""
    return data_files(landing, spec.entity)


class Scratch:
    """The ingestion's scratch folder: plain names only, so that DuckDB, which expands `*`, `?` and
    `[...]` in the paths it is given, reads exactly the file meant."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._n = 0
        if _GLOB_CHARS & set(str(folder)):
            raise IngestError(f"{folder}: the temporary folder's path has a glob character; set TMPDIR")

    def path(self, suffix: str) -> Path:
        self._n += 1
        return self.folder / f"f{self._n:06d}{suffix}"

    def link(self, path: Path) -> Path:
        """A plain-named path that reads as `path`: a symbolic link, else a hard link, else a copy."""
        dst = self.path(path.suffix.lower())
        try:
            os.symlink(path.resolve(), dst)
        except OSError:
            try:
                os.link(path, dst)
            except OSError:
                shutil.copyfile(path, dst)
        return dst
