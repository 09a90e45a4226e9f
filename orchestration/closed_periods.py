"""Closed periods: once a period is closed its published grades are frozen.

A period is closed by the scheme file (`closed_periods: [2026-Q1]`) or by `scorecard close-period P`,
and reopened by `scorecard reopen-period P` (which overrides the scheme file). The commands append
to a small ledger beside the warehouse, `<warehouse dir>/period_status.jsonl`, not to the warehouse
itself: a command never races a run's build copy (write-audit-publish), and it takes effect from
the next run, which copies the ledger into `audit.period_status`.

How the freeze works: the per-period marts and audit tables are incremental dbt models that, in each
run, delete and rebuild only the periods of the run's refresh window (macros/refresh_window.sql):
the periods of the run's partition range (all periods when the run has none) minus the closed
periods, which the run writes to raw.cfg_closed_periods before dbt. Rows of a closed period are
therefore never rewritten: they stay what was published. Reopen the period and the next run whose
window covers it recomputes it.

Late rows (rows of new or changed landing files whose event falls in a closed period) are kept in
raw and reported in `audit.validation_failures` / `audit.check_results` with check
`late_row_for_closed_period`.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contract.spec import EntitySpec
from orchestration.periods import label_error, period_bounds
from orchestration.warehouse import ident, sql_str

CLOSED_PERIODS_DDL = "period varchar"
PERIOD_STATUS_DDL = """
create table if not exists audit.period_status (
    period varchar, status varchar, source varchar, changed_at timestamp, changed_by varchar, reason varchar
)"""


def ledger_path(warehouse: str | Path) -> Path:
    return Path(warehouse).resolve().parent / "period_status.jsonl"


def ledger(warehouse: str | Path) -> list[dict]:
    p = ledger_path(warehouse)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def record_status(warehouse: str | Path, period: str, status: str, reason: str | None = None) -> dict:
    entry = {
        "period": period,
        "status": status,
        "source": "command",
        "changed_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "changed_by": getpass.getuser(),
        "reason": reason,
    }
    p = ledger_path(warehouse)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def closed_periods(configured: list[str], warehouse: str | Path) -> list[str]:
    """The closed periods: the last command about a period decides; the scheme file's list otherwise."""
    state = {p: "closed" for p in configured}
    for entry in ledger(warehouse):
        state[entry["period"]] = entry["status"]
    return sorted(p for p, s in state.items() if s == "closed")


def write_period_status(con, configured: list[str], warehouse: str | Path) -> list[str]:
    """In the build copy, before dbt: audit.period_status (every status change, from the scheme file
    and the ledger) and raw.cfg_closed_periods, the closed periods dbt keeps out of the refresh window
    (macros/refresh_window.sql). Returns the closed periods."""
    periods = closed_periods(configured, warehouse)
    con.execute(PERIOD_STATUS_DDL)
    con.execute("delete from audit.period_status")
    for p in configured:
        con.execute("insert into audit.period_status values (?, 'closed', 'scheme file', null, null, null)", [p])
    for e in ledger(warehouse):
        con.execute(
            "insert into audit.period_status values (?, ?, ?, ?, ?, ?)",
            [e["period"], e["status"], e["source"], e["changed_at"], e["changed_by"], e["reason"]],
        )
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table raw.cfg_closed_periods ({CLOSED_PERIODS_DDL})")
    if periods:
        con.executemany("insert into raw.cfg_closed_periods values (?)", [[p] for p in periods])
    return periods


def closed_period_sql(expr: str, periods: list[str], grain: str) -> str:
    """SQL: which of the closed `periods` (labels of `grain`) the local date of `expr` falls in, null
    for none. Date comparisons with each period's bounds from orchestration/periods.py, so that labels
    are made in one place in Python (and in the dbt macros)."""
    d = f"cast({expr} as date)"
    whens = [
        f"when {d} >= date '{start}' and {d} < date '{end}' then {sql_str(p)}"
        for p in periods
        if label_error(p, grain) is None
        for start, end in [period_bounds(p)]
    ]
    return f"(case {' '.join(whens)} end)" if whens else "cast(null as varchar)"


def report_late_rows(con, spec: EntitySpec, run_id: str, periods: list[str], grain: str) -> int:
    """Rows of this run's new or changed files that fall in a closed period: kept in raw, reported to
    auditors (audit.validation_failures + audit.check_results, check late_row_for_closed_period).
    Uses the connection's TimeZone (the scheme's) to place timestamps in local periods."""
    column = spec.event_column
    for table in ("validation_failures", "check_results"):
        con.execute(
            f"delete from audit.{table} where run_id = ? and source = ? and check_name = 'late_row_for_closed_period'",
            [run_id, spec.entity],
        )
    if not periods or column is None:
        return 0
    label = (
        f"cast({ident(column)} as varchar)" if column == "period" else closed_period_sql(ident(column), periods, grain)
    )
    key = " || '|' || ".join(f"coalesce(cast({ident(k)} as varchar), '')" for k in spec.key)
    late = f"""
        select {key} as row_key, {label} as period, _file, _row from raw.{spec.table}
        where _file in (select path from audit.file_manifest where entity = {sql_str(spec.entity)}
                        and checked_run_id = {sql_str(run_id)} and status in ('new', 'changed'))
          and {label} in ({", ".join(sql_str(p) for p in periods)})"""
    n = con.execute(f"select count(*) from ({late})").fetchone()[0]
    con.execute(
        "insert into audit.check_results values (?, timezone('UTC', current_timestamp), 'closed_period', ?, "
        "'late_row_for_closed_period', 'warn', ?, ?, ?)",
        [
            run_id,
            spec.entity,
            n == 0,
            n,
            f"{n} late row(s) for closed period(s) kept in raw; the frozen grades do not change until reopened"
            if n
            else "no late row for a closed period",
        ],
    )
    con.execute(
        f"""insert into audit.validation_failures
        select ?, timezone('UTC', current_timestamp), ?, 'late_row_for_closed_period', 'warn', row_key,
               {sql_str(column)}, period,
               'late row for closed period ' || period || ' (' || _file || ' line ' || _row || '): kept in raw, '
               || 'grades of the period stay frozen until it is reopened', 'closed_period'
        from ({late}) order by _file, _row""",
        [run_id, spec.entity],
    )
    return n
