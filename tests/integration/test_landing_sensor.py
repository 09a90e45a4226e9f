"""landing_drop_sensor: a new, changed or deleted landing file starts nightly_scorecard once."""

import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, build_sensor_context

from orchestration.definitions import defs
from orchestration.resources import ScorecardSettings
from orchestration.schedules import nightly_schedule
from orchestration.sensors import landing_drop_sensor

CONFIG = str(Path(__file__).resolve().parents[2] / "config" / "scorecard.yml")  # quarterly, Asia/Shanghai
RANGE = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def evaluate(settings, cursor, instance):
    ctx = build_sensor_context(cursor=cursor, resources={"settings": settings}, instance=instance)
    return landing_drop_sensor(ctx)


def test_sensor_starts_the_nightly_job_on_a_new_drop(tmp_path):
    landing = tmp_path / "landing"
    (landing / "crm/deals").mkdir(parents=True)
    first = landing / "crm/deals/2026-11-22.csv"
    first.write_text("deal_id\nD1\n", encoding="utf-8")
    settings = ScorecardSettings(landing=str(landing), config=CONFIG, warehouse=str(tmp_path / "w.duckdb"))
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_sensor_def("landing_drop_sensor").job_name == "nightly_scorecard"

    result = evaluate(settings, None, instance)  # first look: the files there are a drop
    assert len(result.run_requests) == 1 and isinstance(result.run_requests[0], RunRequest)
    cursor = result.cursor
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the nightly window: previous + open quarter
    q = (today.month - 1) // 3 + 1
    previous = f"{today.year}-Q{q - 1}" if q > 1 else f"{today.year - 1}-Q4"
    assert tuple(result.run_requests[0].tags[k] for k in RANGE) == (previous, f"{today.year}-Q{q}")
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

    # a review decision (`scorecard review` writes a new file, through a hidden .tmp name) is a new drop too
    decisions = landing / "review/flag_decisions"
    decisions.mkdir(parents=True)
    (decisions / ".20261203T020000Z-abc.csv.tmp").write_text("half", encoding="utf-8")
    assert isinstance(evaluate(settings, deleted.cursor, instance), SkipReason)  # never a half-written file
    (decisions / "20261203T020000Z-abc.csv").write_text("flag_id,decision\n", encoding="utf-8")
    reviewed = evaluate(settings, deleted.cursor, instance)
    assert reviewed.run_requests[0].tags["scorecard/landing_changes"] == "1 new"


def test_nightly_schedule_refreshes_the_open_and_the_previous_period(tmp_path):
    settings = ScorecardSettings(landing=str(tmp_path), config=CONFIG, warehouse=str(tmp_path / "w.duckdb"))
    shanghai = ZoneInfo("Asia/Shanghai")
    for tick, window in (
        (datetime(2026, 4, 1, 2, 0, tzinfo=shanghai), ("2026-Q1", "2026-Q2")),  # first night of Q2
        (datetime(2026, 1, 15, 2, 0, tzinfo=shanghai), ("2025-Q4", "2026-Q1")),  # across the year
        (datetime(2026, 3, 31, 17, 30, tzinfo=ZoneInfo("UTC")), ("2026-Q1", "2026-Q2")),  # 01:30 local on 04-01
    ):
        ctx = build_schedule_context(scheduled_execution_time=tick, resources={"settings": settings})
        request = nightly_schedule(ctx)
        assert tuple(request.tags[k] for k in RANGE) == window
        assert request.tags["scorecard/trigger"] == "schedule"


def test_scheduled_runs_carry_the_run_choices_as_run_config(tmp_path, monkeypatch):
    """The schedule's run request holds the run's choices as run config: the nightly defaults, or what the
    daemon's environment sets (SCORECARD_FULL_REFRESH=1, SCORECARD_TARGET=postgres)."""
    settings = ScorecardSettings(landing=str(tmp_path), config=CONFIG, warehouse=str(tmp_path / "w.duckdb"))
    moment = datetime(2026, 12, 4, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for name in ("SCORECARD_FULL_REFRESH", "SCORECARD_TARGET", "SCORECARD_GE_DATA_DOCS", "SCORECARD_KILL_AT"):
        monkeypatch.delenv(name, raising=False)

    def request():
        ctx = build_schedule_context(scheduled_execution_time=moment, resources={"settings": settings})
        (run,) = [nightly_schedule(ctx)]
        return run

    nightly = request()
    assert tuple(nightly.tags[k] for k in RANGE) == ("2026-Q3", "2026-Q4")
    assert nightly.run_config["resources"] == {
        "run_options": {"config": {"full_refresh": False, "data_docs": True, "target": "duckdb"}},
        "faults": {"config": {"kill_at": ""}},
    }
    monkeypatch.setenv("SCORECARD_FULL_REFRESH", "1")
    monkeypatch.setenv("SCORECARD_TARGET", "postgres")
    options = request().run_config["resources"]["run_options"]["config"]
    assert options == {"full_refresh": True, "data_docs": True, "target": "postgres"}


def test_exports_of_a_mapping_file_are_drops_too(tmp_path):
    (tmp_path / "export").mkdir()
    export = tmp_path / "export" / "teams.csv"
    export.write_text("id,name\nT1,East\n", encoding="utf-8")
    mapping = tmp_path / "sources.yml"
    mapping.write_text(
        "source_folder: export\ninputs: {t: {files: [teams.csv]}}\nentities: {crm/teams: {from: t, columns: "
        "{team_id: id, team_name: name, region: {const: East}, business_stage: {const: mature}}}}\n"
    )
    settings = ScorecardSettings(
        landing=str(tmp_path / "landing"), config=CONFIG, warehouse=str(tmp_path / "w.duckdb"), sources=str(mapping)
    )
    instance = DagsterInstance.ephemeral()
    result = evaluate(settings, None, instance)
    assert json.loads(result.cursor) == {"exports:teams.csv": [export.stat().st_size, export.stat().st_mtime_ns]}
    assert isinstance(evaluate(settings, result.cursor, instance), SkipReason)
    export.write_text("id,name\nT1,East\nT2,West\n", encoding="utf-8")
    again = evaluate(settings, result.cursor, instance)
    assert again.run_requests[0].tags["scorecard/landing_changes"] == "1 changed"
