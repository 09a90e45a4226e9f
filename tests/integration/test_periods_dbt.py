"""Period labels and the refresh window are implemented twice, once per language: orchestration/periods.py
(Python) and the dbt macros (dbt_project/macros/periods.sql, refresh_window.sql). This checks that both
agree on boundary cases: dbt compiles the macros for every case in one `dbt compile --inline`, DuckDB runs
the compiled query, and each value equals periods.py's."""

import json
from datetime import date, datetime, timedelta

import duckdb
import pytest

from orchestration.periods import (
    GRAINS,
    in_refresh_window,
    label_at,
    label_grain,
    label_of,
    period_bounds,
    period_start,
)
from orchestration.transform.dbt_cli import dbt_args, run_dbt

TIMEZONE = "Asia/Shanghai"  # the project's default var('timezone'): UTC+8, no daylight saving
# naive UTC instants (the raw layer's convention) around local and UTC midnight at period ends
INSTANTS = [
    datetime(2025, 12, 31, 15, 59, 59),  # 23:59:59 local on the last day of the year
    datetime(2025, 12, 31, 16, 0, 0),  # local midnight: 2026-01-01, still 2025 in UTC
    datetime(2026, 1, 1, 0, 0, 0),  # UTC midnight: 08:00 local
    datetime(2026, 3, 31, 15, 59, 59, 999999),
    datetime(2026, 3, 31, 16, 0, 0),  # Q2 locally, Q1 in UTC
    datetime(2026, 3, 31, 23, 59, 59),
    datetime(2026, 4, 1, 0, 0, 0),
    datetime(2026, 6, 30, 16, 0, 0),
    datetime(2026, 9, 30, 15, 59, 59),
    datetime(2026, 12, 31, 16, 0, 0),
    datetime(2024, 2, 28, 16, 0, 0),  # leap day begins locally
    datetime(2024, 2, 29, 15, 59, 59),  # leap day ends locally
    datetime(2024, 2, 29, 16, 0, 0),  # 2024-03-01 locally
    datetime(2000, 2, 29, 16, 0, 0),  # a leap century: 2000-03-01 locally
    datetime(1999, 12, 31, 16, 0, 0),  # 2000-01-01 locally
]
# local calendar dates (dates of the raw layer: closed_on, planned_on, acquired_on)
DATES = [
    date(2023, 12, 31),
    date(2024, 1, 1),
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2026, 3, 31),
    date(2026, 4, 1),
    date(2026, 6, 30),
    date(2026, 9, 30),
    date(2026, 10, 1),
    date(2026, 12, 31),
]
# (period_from, period_to, closed periods) of a run, and the periods to place in or out of its window
WINDOWS = [
    (None, None, []),
    (None, None, ["2026-Q1"]),
    ("2026-Q2", None, []),
    (None, "2026-Q2", ["2025-Q4"]),
    ("2026-Q1", "2026-Q3", ["2026-Q2"]),
    ("2026-Q3", "2026-Q4", ["2026-Q3", "2026-Q4"]),
    ("2026-09", "2026-10", []),  # months sort as text: 2026-09 < 2026-10 < 2026-11
    ("2026-02", "2026-10", ["2026-09"]),
    ("2025", "2026", ["2025"]),
]
PERIODS = {
    "quarter": ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1"],
    "month": ["2026-01", "2026-02", "2026-09", "2026-10", "2026-11", "2026-12"],
    "year": ["2024", "2025", "2026", "2027"],
}


def _literal(value: str | None) -> str:
    return "none" if value is None else f"'{value}'"


def _closed_relation(closed: list[str]) -> str:
    if not closed:
        return "(select cast(null as varchar) as period where false)"
    return "(select * from (values " + ", ".join(f"('{p}')" for p in closed) + ") as closed(period))"


def _cases() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(case id, Jinja expression of a varchar) for dbt, and the value periods.py gives for each."""
    jinja: list[tuple[str, str]] = []
    expected: dict[str, str] = {}

    def add(expression: str, value: str) -> None:
        case = f"c{len(jinja):03d}"
        jinja.append((case, expression))
        expected[case] = value

    for instant in INSTANTS:
        local = f'"cast(" ~ to_local_timestamp("timestamp \'{instant.isoformat(sep=" ")}\'") ~ " as date)"'
        for grain in GRAINS:
            add(f"{{{{ period_label({local}, '{grain}') }}}}", label_at(instant, TIMEZONE, grain))
    for day in DATES:
        d = f"\"date '{day.isoformat()}'\""
        for grain in GRAINS:
            label = label_of(day, grain)
            start, next_start = period_bounds(label)
            add(f"{{{{ period_label({d}, '{grain}') }}}}", label)
            add(f"cast({{{{ period_start({d}, '{grain}') }}}} as varchar)", start.isoformat())
            add(f"cast({{{{ period_end({d}, '{grain}') }}}} as varchar)", (next_start - timedelta(days=1)).isoformat())
            add(f"cast({{{{ period_label_start(\"'{label}'\") }}}} as varchar)", period_start(label).isoformat())
    for period_from, period_to, closed in WINDOWS:
        grain = label_grain(period_from or period_to or "2026-Q1")
        for period in PERIODS[grain]:
            condition = (
                f"{{{{ refresh_window_condition(\"'{period}'\", {_literal(period_from)}, {_literal(period_to)}, "
                f'"{_closed_relation(closed)}") }}}}'
            )
            add(f"cast({condition} as varchar)", str(in_refresh_window(period, period_from, period_to, closed)).lower())
    return jinja, expected


@pytest.fixture(scope="module")
def dbt_values(tmp_path_factory) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    tmp = tmp_path_factory.mktemp("periods_dbt")
    jinja, expected = _cases()
    inline = "\nunion all\n".join(f"select '{case}' as case_id, {expression} as value" for case, expression in jinja)
    args = dbt_args(
        "compile",
        target_path=tmp / "target",
        log_path=tmp / "logs",
        extra=["--quiet", "--output", "json", "--inline", inline],
    )
    proc = run_dbt(args, database=tmp / "periods.duckdb")
    assert proc.returncode == 0, f"dbt compile failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    compiled = json.loads(proc.stdout[proc.stdout.index("{") :])["compiled"]
    with duckdb.connect() as con:
        values = dict(con.execute(compiled).fetchall())
    return values, expected, dict(jinja)


def test_labels_bounds_and_windows_of_python_and_dbt_agree(dbt_values):
    values, expected, jinja = dbt_values
    assert len(values) == len(expected)
    disagreements = [
        f"{jinja[c]}: dbt {values[c]}, periods.py {want}" for c, want in expected.items() if values[c] != want
    ]
    assert not disagreements, "dbt and orchestration/periods.py disagree:\n" + "\n".join(disagreements)


def test_the_cases_cover_the_boundaries(dbt_values):
    """The timezone boundary matters in the cases: some instants are in another period in UTC."""
    _, expected, _ = dbt_values
    shifted = [i for i in INSTANTS if label_at(i, TIMEZONE, "quarter") != label_of(i.date(), "quarter")]
    assert len(shifted) >= 4
    assert "true" in expected.values() and "false" in expected.values()
