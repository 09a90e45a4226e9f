"""Fault injection for recovery tests: `SCORECARD_KILL_AT=<point>` kills the run's process (SIGKILL, no
clean-up) when it reaches that point. Unset in production; the recovery tests set it."""

import os
import signal

# after_reports: the directors' reports are staged, publish has not started; after_publish: the rename
# is done, the staged reports are not yet moved into place
POINTS = ("after_ingest", "during_dbt", "after_reports", "during_publish", "after_publish")


def maybe_kill(point: str) -> None:
    if os.environ.get("SCORECARD_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
