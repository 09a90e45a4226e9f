"""Snapshots of the names users rely on: the code location's asset keys, check names, jobs, schedules and
sensors, and the columns of every published table. A rename or a drop shows up as a diff against the
committed JSON beside this file; `SCORECARD_UPDATE_SNAPSHOTS=1 pytest tests/...` rewrites it after a
deliberate change (review the diff like code)."""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).parent


def compare(name: str, actual: dict) -> None:
    path = HERE / f"{name}.json"
    text = json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("SCORECARD_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    for section in sorted(set(expected) | set(actual)):
        want, got = expected.get(section), actual.get(section)
        if isinstance(want, list) and isinstance(got, list):
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            assert not missing and not extra, f"{name}.json [{section}]: missing {missing}, new {extra}"
        assert got == want, f"{name}.json [{section}] differs"
