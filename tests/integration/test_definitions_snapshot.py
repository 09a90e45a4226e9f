"""The code location's names, snapshotted (tests/snapshots/definitions.json): every asset key with its
group, every asset check, every job, schedule and sensor. The graph is the union over the engines (the
PostgreSQL step included), so one snapshot covers every shell: the graph no longer depends on the shell, the
code location's own graph is that union."""

from dagster import Definitions

from orchestration.definitions import defs
from tests.snapshots.snapshot import compare


def names_of(definitions: Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    return {
        "assets": sorted(f"{k.to_user_string()} [{graph.get(k).group_name}]" for k in graph.get_all_asset_keys()),
        "asset_checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys),
        "jobs": sorted(j.name for j in definitions.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted(
            f"{s.name} {s.cron_schedule} {s.execution_timezone}" for s in definitions.schedules or []
        ),
        "sensors": sorted(s.name for s in definitions.sensors or []),
    }


def test_code_location_names_match_the_snapshot():
    compare("definitions", names_of(defs))
