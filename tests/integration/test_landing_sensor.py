"""landing_drop_sensor: a new, changed or deleted landing file starts nightly_scorecard once."""

import json
import os

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context

from orchestration.definitions import defs
from orchestration.resources import ScorecardSettings
from orchestration.sensors import landing_drop_sensor


def evaluate(settings, cursor, instance):
    ctx = build_sensor_context(cursor=cursor, resources={"settings": settings}, instance=instance)
    return landing_drop_sensor(ctx)


def test_sensor_starts_the_nightly_job_on_a_new_drop(tmp_path):
    landing = tmp_path / "landing"
    (landing / "crm/deals").mkdir(parents=True)
    first = landing / "crm/deals/2026-11-22.csv"
    first.write_text("deal_id\nD1\n", encoding="utf-8")
    settings = ScorecardSettings(landing=str(landing), config="unused.yml", warehouse=str(tmp_path / "w.duckdb"))
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_sensor_def("landing_drop_sensor").job_name == "nightly_scorecard"

    result = evaluate(settings, None, instance)  # first look: the files there are a drop
    assert len(result.run_requests) == 1 and isinstance(result.run_requests[0], RunRequest)
    cursor = result.cursor
    assert json.loads(cursor) == {"crm/deals/2026-11-22.csv": [first.stat().st_size, first.stat().st_mtime_ns]}

    nothing = evaluate(settings, cursor, instance)  # nothing new: no run
    assert isinstance(nothing, SkipReason)

    (landing / "crm/deals/2026-11-23.csv").write_text("deal_id\nD2\n", encoding="utf-8")  # a new drop
    (landing / "crm/deals/notes.txt").write_text("not a data file", encoding="utf-8")
    again = evaluate(settings, cursor, instance)
    assert len(again.run_requests) == 1
    assert again.run_requests[0].tags["scorecard/landing_changes"] == "1 new"
    assert again.run_requests[0].run_key != result.run_requests[0].run_key
    cursor = again.cursor

    st = first.stat()  # re-exported: same name, new modification time
    os.utime(first, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    changed = evaluate(settings, cursor, instance)
    assert changed.run_requests[0].tags["scorecard/landing_changes"] == "1 changed"

    first.unlink()
    deleted = evaluate(settings, changed.cursor, instance)
    assert deleted.run_requests[0].tags["scorecard/landing_changes"] == "1 deleted"
