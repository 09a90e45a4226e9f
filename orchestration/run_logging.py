"""The run's log: one line per message on screen, everything (stack traces included) in the run's log file.

Two Dagster loggers, the defaults of every job of the code location (definitions.py):
- `console`: the progress output. Each message's first line only (a step failure's stack trace is in the
  log file), unless `verbose` (`scorecard run --verbose`) prints it whole.
- `run_file`: every message at DEBUG, whole, into `<warehouse dir>/logs/<run id>.log` (or `path`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from dagster import Field, InitLoggerContext, logger

from orchestration.settings import path_setting

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def log_dir(warehouse: str | Path) -> Path:
    return Path(warehouse).resolve().parent / "logs"


def run_log_path(warehouse: str | Path, run_id: str) -> Path:
    return log_dir(warehouse) / f"{run_id}.log"


class FirstLineFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL message` with the message cut to its first line (and to 400 characters)."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if self.verbose:
            return super().format(record)
        text = record.getMessage()
        lines = text.strip().splitlines() or [""]
        first = lines[0]
        if len(first) > 400:
            first = first[:397] + "..."
        if len(lines) > 1:
            first += " (details in the run's log file)"
        fields = {**record.__dict__, "msg": first, "args": None, "exc_info": None, "exc_text": None}
        copy = logging.makeLogRecord(fields)
        return super().format(copy)


@logger(
    config_schema={
        "log_level": Field(str, is_required=False, default_value="INFO"),
        "verbose": Field(bool, is_required=False, default_value=False),
    },
    description="Progress on screen: one line per message; --verbose prints whole messages.",
)
def console_logger(init_context: InitLoggerContext) -> logging.Logger:
    level = init_context.logger_config["log_level"].upper()
    level = level if level in LEVELS else "INFO"
    # DEBUG reaches the handler, whose filter lets through the configured level and each step's end
    log = logging.Logger("scorecard_console", level="DEBUG")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FirstLineFormatter(init_context.logger_config["verbose"]))
    handler.addFilter(StepProgress(logging.getLevelName(level)))
    log.addHandler(handler)
    return log


class StepProgress(logging.Filter):
    """The console's filter: messages at the configured level or above, and, at INFO, one line when a
    step ends (Dagster logs it at DEBUG), rewritten as `<step>: done in <duration> (run <elapsed>)`,
    so that the screen shows every stage's time: each entity's ingestion, each suite, dbt, the reports."""

    ENDS = {"STEP_SUCCESS": "done", "STEP_FAILURE": "failed"}

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level
        self.started: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.started is None:
            self.started = record.created
        if record.levelno >= self.level:
            return True
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        outcome = self.ENDS.get(getattr(event, "event_type_value", ""), None)
        if outcome is None or not event.step_key or self.level > logging.INFO:  # --log-level WARNING: quiet
            return False
        took = (event.message or "").rsplit(" in ", 1)[-1].rstrip(".") if " in " in (event.message or "") else ""
        record.msg = f"{event.step_key}: {outcome}" + (f" in {took}" if took else "")
        record.msg += f" (run {record.created - self.started:.1f} s)"
        record.args = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class QuietFileHandler(logging.FileHandler):
    """A log file that never prints Python's "--- Logging error ---" traceback on screen: on a full or
    read-only disk the run stops on its own error, which says so in one line."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        return None


@logger(
    config_schema={"path": Field(str, is_required=False, default_value="")},
    description="Every message of the run, whole, into <warehouse dir>/logs/<run id>.log.",
)
def run_file_logger(init_context: InitLoggerContext) -> logging.Logger:
    path = init_context.logger_config["path"] or str(
        run_log_path(path_setting("SCORECARD_WAREHOUSE"), init_context.run_id)
    )
    log = logging.Logger("scorecard_run_file", level="DEBUG")
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = QuietFileHandler(path, encoding="utf-8", delay=True)
    except OSError:  # a read-only or full disk: the run goes on (and stops on its own error, with a message)
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    return log


LOGGERS = {"console": console_logger, "run_file": run_file_logger}
