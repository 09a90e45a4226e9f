"""The console's progress filter (orchestration/run_logging.py): a line per finished step at INFO."""

import logging
from types import SimpleNamespace

from orchestration.run_logging import StepProgress


def _record(level: int, msg: str, event=None, created: float = 100.0) -> logging.LogRecord:
    record = logging.makeLogRecord({"levelno": level, "levelname": logging.getLevelName(level), "msg": msg})
    record.created = created
    if event is not None:
        record.dagster_meta = {"dagster_event": event}
    return record


def _step_end(kind: str, step: str, took: str):
    return SimpleNamespace(
        event_type_value=kind, step_key=step, message=f'Finished execution of step "{step}" in {took}.'
    )


def test_a_finished_step_is_one_info_line_with_its_time_and_the_runs():
    f = StepProgress(logging.INFO)
    assert not f.filter(_record(logging.DEBUG, "RUN_START", SimpleNamespace(event_type_value="RUN_START",
                                                                             step_key=None, message="")))
    done = _record(logging.DEBUG, "raw", _step_end("STEP_SUCCESS", "raw__crm__deals", "322ms"), created=104.25)
    assert f.filter(done)
    assert (done.levelname, done.getMessage()) == ("INFO", "raw__crm__deals: done in 322ms (run 4.2 s)")
    failed = _record(logging.DEBUG, "dbt", _step_end("STEP_FAILURE", "scorecard_dbt_models", "1m3s"), created=170.0)
    assert f.filter(failed) and failed.getMessage() == "scorecard_dbt_models: failed in 1m3s (run 70.0 s)"
    assert not f.filter(_record(logging.DEBUG, "an engine event"))  # other DEBUG lines stay off screen
    info = _record(logging.INFO, "crm/deals: 7 rows")
    assert f.filter(info) and info.getMessage() == "crm/deals: 7 rows"


def test_log_level_warning_keeps_the_screen_quiet():
    f = StepProgress(logging.WARNING)
    assert not f.filter(_record(logging.DEBUG, "raw", _step_end("STEP_SUCCESS", "raw__crm__deals", "322ms")))
    assert not f.filter(_record(logging.INFO, "crm/deals: 7 rows"))
    assert f.filter(_record(logging.WARNING, "2 rows quarantined"))
