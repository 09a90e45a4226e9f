"""Small file helpers shared by the HTML reports."""

import os
import re
from pathlib import Path


def file_name(text: str) -> str:
    """A run id or period label as a safe file name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def write_atomic(path: Path, text: str) -> None:
    """Readers (a browser on the reports folder) never see a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
