"""Compare the marts of two engines row for row: same columns, same rows (keys), numbers within a
tolerance, text and dates equal. Used by the engine tests and by anyone moving a warehouse."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Rows = list[tuple]


@dataclass
class Table:
    columns: list[str]
    rows: Rows


@dataclass
class Comparison:
    table: str
    rows_left: int = 0
    rows_right: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.problems


def _normal(value):
    """One representation per value across drivers: numbers as float, timestamps naive, text as is."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal | int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _sort_key(row: tuple) -> tuple:
    # numbers rounded for the order only (two engines may differ in the last bits); None first
    return tuple((0, "") if v is None else (1, f"{v:.6f}") if isinstance(v, float) else (1, str(v)) for v in row)


def _same(a, b, tolerance: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
    return a == b


def compare_tables(name: str, left: Table, right: Table, tolerance: float = 1e-9, show: int = 5) -> Comparison:
    result = Comparison(name, len(left.rows), len(right.rows))
    lcols = [c.lower() for c in left.columns]
    rcols = [c.lower() for c in right.columns]
    if sorted(lcols) != sorted(rcols):
        only_left, only_right = set(lcols) - set(rcols), set(rcols) - set(lcols)
        result.problems.append(f"columns differ: only left {only_left}, only right {only_right}")
        return result
    order = [rcols.index(c) for c in lcols]
    lrows = sorted((tuple(_normal(v) for v in r) for r in left.rows), key=_sort_key)
    rrows = sorted((tuple(_normal(r[i]) for i in order) for r in right.rows), key=_sort_key)
    if len(lrows) != len(rrows):
        result.problems.append(f"row count {len(lrows)} != {len(rrows)}")
    for lrow, rrow in zip(lrows, rrows, strict=False):
        for col, a, b in zip(lcols, lrow, rrow, strict=True):
            if not _same(a, b, tolerance):
                result.problems.append(f"{col}: {a!r} != {b!r} in row {lrow[:4]}")
                break
        if len(result.problems) >= show:
            break
    return result


def read_duckdb(con, schema: str, table: str) -> Table:
    cur = con.execute(f'select * from "{schema}"."{table}"')
    return Table([d[0] for d in cur.description], cur.fetchall())


def read_dbapi(con, schema: str, table: str) -> Table:
    """A table through any DB-API connection (psycopg2, ...)."""
    cur = con.cursor()
    cur.execute(f'select * from "{schema}"."{table}"')
    return Table([d[0] for d in cur.description], cur.fetchall())


def summarise(results: Sequence[Comparison]) -> str:
    return "\n".join(
        f"{r.table}: {'equal' if r.equal else 'DIFFERENT'} ({r.rows_left} / {r.rows_right} rows)"
        + "".join(f"\n    {p}" for p in r.problems)
        for r in results
    )
