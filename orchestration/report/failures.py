"""A report that cannot be rendered is a failed non-blocking check of the run, never a lost run.

It goes to the run's build copy (audit.check_results, check_kind `report`, severity `warn`, and one row
in audit.validation_failures with the message), so it is published with the run's audit rows; the marts
are published all the same (docs/decisions.md, "Reports and publication")."""

from __future__ import annotations

NOW_UTC = "timezone('UTC', current_timestamp)"
MAX_MESSAGE = 2000


def report_failure_text(what: str, exc: BaseException) -> str:
    """One bounded line: what could not be rendered and the error (its first line)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    text = f"{what} could not be rendered: {type(exc).__name__}: {first}"
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def record_report_failure(con, run_id: str, check_name: str, message: str) -> None:
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'report', ?, ?, 'warn', false, null, ?)",
        [run_id, check_name, check_name, message],
    )
    con.execute(
        f"insert into audit.validation_failures values (?, {NOW_UTC}, ?, ?, 'warn', null, null, null, ?, 'report')",
        [run_id, check_name, check_name, message],
    )


def record_report_success(con, run_id: str, check_name: str, message: str) -> None:
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'report', ?, ?, 'warn', true, 0, ?)",
        [run_id, check_name, check_name, message],
    )
