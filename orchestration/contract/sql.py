"""Compile an entity's pandera model into the DuckDB SQL that types and checks landed text rows.

Input: a landing table with one VARCHAR column per contract column (NULL when the file lacked an
optional column) plus `_extra`, `_file`, `_row`. Output: a SELECT returning the typed columns, the
raw row as JSON text (`_raw`) and `_reason`: every broken rule of the row, `; `-separated, or NULL.
"""

from __future__ import annotations

from ..warehouse import ident, sql_str
from .spec import ColumnSpec, EntitySpec

INT_RE = "[+-]?[0-9]+"
NUM_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
TRUE_WORDS = ("true", "1", "yes", "y")
FALSE_WORDS = ("false", "0", "no", "n")


def _in_list(values) -> str:
    return ", ".join(sql_str(v) for v in values)


def parse_expr(c: ColumnSpec, t: str, base_currency: str) -> str:
    """SQL turning the trimmed text `t` (NULL when empty) into the column's typed value."""
    k = c.kind
    if k in ("id", "period"):
        return t
    if k == "text":
        return t  # free text: trimmed, otherwise byte for byte
    if k == "enum":
        return f"lower({t})"
    if k == "currency":
        return f"coalesce(upper({t}), {sql_str(base_currency)})"
    if k == "timestamp":
        # With an offset: taken as given; without: the session TimeZone (the configured zone).
        return f"timezone('UTC', try_cast({t} as timestamptz))"
    if k == "date":
        return f"case when regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') then try_cast({t} as date) end"
    if k in ("money", "points", "float"):
        typ = c.sql_type
        return f"case when regexp_full_match({t}, '{NUM_RE}') then try_cast({t} as {typ}) end"
    if k == "int":
        return f"case when regexp_full_match({t}, '{INT_RE}') then try_cast({t} as integer) end"
    if k == "bool":
        return (
            f"case when lower({t}) in ({_in_list(TRUE_WORDS)}) then true "
            f"when lower({t}) in ({_in_list(FALSE_WORDS)}) then false end"
        )
    raise ValueError(f"unknown kind {k}")


def _reasons(
    c: ColumnSpec, t: str, v: str, allowed_currencies: list[str], as_of_utc: str, as_of_local_date: str
) -> list[str]:
    """(condition, message) pairs: the row breaks the rule when condition holds; message is a SQL
    string expression."""
    name = c.name
    shown = f"coalesce({t}, '')"
    arms: list[tuple[str, str]] = []
    if c.required:
        arms.append((f"{t} is null", sql_str(f"missing required value: {name}")))
    type_word = {
        "timestamp": "an ISO 8601 timestamp",
        "date": "a YYYY-MM-DD date",
        "money": "a number",
        "points": "a number",
        "float": "a number",
        "int": "an integer",
        "bool": "a boolean (true/false, 1/0, yes/no, y/n)",
    }.get(c.kind)
    if type_word:
        arms.append(
            (f"{t} is not null and {v} is null", f"'wrong type: {name}=''' || {shown} || ''' is not {type_word}'")
        )
    if c.allowed:
        arms.append(
            (
                f"{v} not in ({_in_list(c.allowed)})",
                f"'unknown value for {name}: ''' || {shown} || ''' (allowed: {', '.join(c.allowed)})'",
            )
        )
    if c.kind == "currency":
        arms.append(
            (
                f"{v} not in ({_in_list(allowed_currencies)})",
                f"'no exchange rate for currency ''' || {v} || ''' (configured: {', '.join(allowed_currencies)})'",
            )
        )
    if c.pattern:
        arms.append(
            (
                f"not regexp_full_match({v}, {sql_str(c.pattern.strip('^$'))})",
                f"'wrong format: {name}=''' || {shown} || ''' (expected YYYY-MM, YYYY-Qn or YYYY)'",
            )
        )
    bounds = []
    if c.ge is not None:
        bounds.append(f"{v} < {c.ge}")
    if c.gt is not None:
        bounds.append(f"{v} <= {c.gt}")
    if c.le is not None:
        bounds.append(f"{v} > {c.le}")
    if bounds:
        lo = f">= {c.ge}" if c.ge is not None else (f"> {c.gt}" if c.gt is not None else "")
        hi = f"<= {c.le}" if c.le is not None else ""
        rng = " and ".join(x for x in (lo, hi) if x)
        arms.append((" or ".join(bounds), f"'out of range: {name}=' || {shown} || ' (allowed {rng})'"))
    if c.kind == "timestamp":
        arms.append(
            (
                f"{v} > timestamp {sql_str(as_of_utc)} + interval 1 day",
                f"'in the future: {name}=' || {shown} || ' is more than one day after as-of'",
            )
        )
    if c.kind == "date":
        arms.append(
            (
                f"{v} > date {sql_str(as_of_local_date)} + interval 1 day",
                f"'in the future: {name}=' || {shown} || ' is more than one day after as-of'",
            )
        )
    return arms


def typed_select(
    spec: EntitySpec,
    landing_table: str,
    *,
    base_currency: str,
    allowed_currencies: list[str],
    as_of_utc: str,
    as_of_local_date: str,
) -> str:
    cols = spec.columns
    trimmed = ",\n        ".join(f"nullif(trim({ident(c.name)}), '') as {ident('t__' + c.name)}" for c in cols)
    raw_json = "json_object(" + ", ".join(f"{sql_str(c.name)}, {ident(c.name)}" for c in cols) + ")"
    parsed = ",\n        ".join(
        f"{parse_expr(c, ident('t__' + c.name), base_currency)} as {ident(c.name)}" for c in cols
    )
    t_cols = ", ".join(ident("t__" + c.name) for c in cols)
    # (column, raw text, condition, message) of every rule; row rules span columns: no single column
    rules: list[tuple[str, str, str, str]] = []
    for c in cols:
        t = ident("t__" + c.name)
        for cond, msg in _reasons(c, t, ident(c.name), allowed_currencies, as_of_utc, as_of_local_date):
            rules.append((sql_str(c.name), t, cond, msg))
    for rule, predicate in spec.row_rules.items():
        rules.append(("null::varchar", "null::varchar", f"not ({predicate})", sql_str("broken rule: " + rule)))
    reason_sql = "nullif(concat_ws('; ', " + ", ".join(f"case when {c} then {m} end" for _, _, c, m in rules) + "), '')"
    # the same, one struct per broken rule, for the audit ledger (column, bad value, message)
    failures_sql = (
        "list_filter(["
        + ", ".join(
            f"case when {cond} then struct_pack(column_name := {col}, bad_value := {t}, message := {msg}) end"
            for col, t, cond, msg in rules
        )
        + "], lambda f: f is not null)"
    )
    out_cols = ", ".join(ident(c.name) for c in cols)
    row_key = "concat_ws('|', " + ", ".join(f"coalesce({ident('t__' + k)}, '')" for k in spec.key) + ")"
    return f"""
with source as (
    select
        *,
        {trimmed},
        case when _extra is null then {raw_json}
             else json_merge_patch({raw_json}, _extra) end as _raw
    from {landing_table}
),
parsed as (
    select
        {parsed},
        {t_cols}, _extra, _file, _row, _raw
    from source
)
select {out_cols}, _extra, _file, _row, _raw, {row_key} as _row_key, {reason_sql} as _reason,
    {failures_sql} as _failures
from parsed
"""
