"""Compile an entity's pandera model into the DuckDB SQL that types and checks landed text rows.

Input: a landing table with one VARCHAR column per contract column (NULL when the file lacked an
optional column) plus `_extra`, `_file`, `_row` and the parse columns ingestion writes
(`_parse_error`, `_parse_detail`, `_raw_text`: set on a row the CSV reader could not parse;
`_swallowed`, `_swallowed_col`, `_swallowed_text`, `_span`: a quoted field that holds lines shaped
like records). Output: a SELECT returning the typed columns, the raw row as JSON text (`_raw`; the
raw line itself for an unparsable row), `_reason`: every broken rule of the row, `; `-separated, or
NULL, `_failures` (one struct per broken rule, for the ledger) and `_rounded` (money and points
values with more than MONEY_DECIMALS decimals, rounded half-up: a warning, not a reason).

Plausible values (CONTRACT.md): a date or timestamp before 1900-01-01 is out of range; special words
(`epoch`, `infinity`, `-infinity`, `now`, `today`) are not dates, because a date must be
`YYYY-MM-DD` and a timestamp must start with one (DuckDB's cast alone takes them); `NaN`,
infinities and numbers beyond the double range (`1e309`) are not numbers.
"""

from __future__ import annotations

from orchestration.contract.spec import MONEY_DECIMALS, ColumnSpec, EntitySpec
from orchestration.warehouse import ident, sql_str

INT_RE = "[+-]?[0-9]+"
NUM_RE = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
NAN_RE = "(?i)[+-]?(nan|inf|infinity)"  # what DuckDB's casts would take as a double
DATE_RE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
OLDEST_DATE = "1900-01-01"
NUMERIC_KINDS = ("money", "points", "float", "int")
DECIMAL_KINDS = ("money", "points")  # kept exactly to MONEY_DECIMALS places
TRUE_WORDS = ("true", "1", "yes", "y")
FALSE_WORDS = ("false", "0", "no", "n")
TECH_COLUMNS = (
    "_extra, _file, _row, _parse_error, _parse_detail, _raw_text, _swallowed, _swallowed_col, _swallowed_text, _span"
)


def _in_list(values) -> str:
    return ", ".join(sql_str(v) for v in values)


def not_a_number(t: str) -> str:
    """SQL: the text is NaN or an infinity, or a number that overflows a double (1e309 -> inf)."""
    return (
        f"(regexp_full_match({t}, '{NAN_RE}') or "
        f"(regexp_full_match({t}, '{NUM_RE}') and isinf(try_cast({t} as double))))"
    )


def decimals_written(t: str) -> str:
    """SQL: how many decimal places the number written in `t` (matching NUM_RE) really has, trailing
    zeros and the exponent accounted for (1.50 -> 1, 1.23456e2 -> 3, 5e-5 -> 5, 100e-5 -> 3)."""
    int_part = f"regexp_extract({t}, '^[+-]?([0-9]*)', 1)"
    frac_part = f"regexp_extract({t}, '^[+-]?[0-9]*[.]([0-9]*)', 1)"
    exponent = f"coalesce(try_cast(nullif(regexp_extract({t}, '[eE]([+-]?[0-9]+)$', 1), '') as bigint), 0)"
    digits = f"({int_part} || {frac_part})"
    zeros = f"(length({digits}) - length(rtrim({digits}, '0')))"
    return (
        f"(case when rtrim({digits}, '0') = '' then 0 else greatest(0, length({frac_part}) - {exponent} - {zeros}) end)"
    )


def parse_expr(c: ColumnSpec, t: str, base_currency: str) -> str:
    """SQL turning the trimmed text `t` (NULL when empty) into the column's typed value (NULL when it
    is none; the reasons say why)."""
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
        # ISO 8601: starts with a date (so not epoch, infinity, ...). With an offset: taken as given;
        # without: the session TimeZone (the configured zone).
        return f"case when regexp_matches({t}, '^{DATE_RE}') then timezone('UTC', try_cast({t} as timestamptz)) end"
    if k == "date":
        return f"case when regexp_full_match({t}, '{DATE_RE}') then try_cast({t} as date) end"
    if k in ("money", "points", "float"):
        # DECIMAL casts round half away from zero to the scale (0.00005 -> 0.0001): see `_rounded`
        return (
            f"case when regexp_full_match({t}, '{NUM_RE}') and not isinf(try_cast({t} as double)) "
            f"then try_cast({t} as {c.sql_type}) end"
        )
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
) -> list[tuple[str, str]]:
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
    # a value of the right shape that is no usable number (NaN, 1e309, 1e20 for DECIMAL(18,4)) is
    # said as such, not as a wrong type
    special: list[str] = []
    if c.kind in NUMERIC_KINDS:
        nan = not_a_number(t)
        special.append(nan)
        arms.append(
            (nan, f"'not a number: {name}=''' || {shown} || ''' (NaN, an infinity or beyond the double range)'")
        )
        shape = INT_RE if c.kind == "int" else NUM_RE
        too_big = f"(regexp_full_match({t}, '{shape}') and not {nan} and {v} is null)"
        special.append(too_big)
        limit = "INTEGER" if c.kind == "int" else c.sql_type
        arms.append((too_big, f"'out of range: {name}=' || {shown} || ' (too large for {limit})'"))
    if type_word:
        cond = f"{t} is not null and {v} is null" + "".join(f" and not {x}" for x in special)
        arms.append((cond, f"'wrong type: {name}=''' || {shown} || ''' is not {type_word}'"))
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
        # before 1900-01-01 in the configured zone (the session TimeZone), as the value was written
        arms.append(
            (
                f"{v} < timezone('UTC', cast({sql_str(OLDEST_DATE)} as timestamptz))",
                f"'out of range: {name}=' || {shown} || ' is before {OLDEST_DATE}'",
            )
        )
        if not c.plan:
            arms.append(
                (
                    f"{v} > timestamp {sql_str(as_of_utc)} + interval 1 day",
                    f"'in the future: {name}=' || {shown} || ' is more than one day after as-of'",
                )
            )
    if c.kind == "date":
        arms.append(
            (
                f"{v} < date {sql_str(OLDEST_DATE)}",
                f"'out of range: {name}=' || {shown} || ' is before {OLDEST_DATE}'",
            )
        )
        if not c.plan:  # plan dates (due_on, planned_on) may lie in the future
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
    rules_reason = (
        "nullif(concat_ws('; ', " + ", ".join(f"case when {c} then {m} end" for _, _, c, m in rules) + "), '')"
    )
    # an unparsable row has only its raw text: the parse error is its one reason
    reason_sql = f"case when _parse_error is not null then _parse_error else {rules_reason} end"
    # the same, one struct per broken rule, for the audit ledger (column, bad value, message)
    failures_sql = (
        "case when _parse_error is not null then [struct_pack(column_name := null::varchar, "
        "bad_value := left(_raw_text, 200), "
        "message := _parse_error || coalesce(' (' || _parse_detail || ')', ''))] "
        "else list_filter(["
        + ", ".join(
            f"case when {cond} then struct_pack(column_name := {col}, bad_value := {t}, message := {msg}) end"
            for col, t, cond, msg in rules
        )
        + "], lambda f: f is not null) end"
    )
    # money and points with more decimals than kept: rounded half-up by the cast, a warning (not a reason)
    rounded = [
        f"case when {ident(c.name)} is not null and {decimals_written(ident('t__' + c.name))} > {MONEY_DECIMALS} "
        f"then struct_pack(kind := {sql_str(c.kind)}, column_name := {sql_str(c.name)}, "
        f"bad_value := {ident('t__' + c.name)}, stored := cast({ident(c.name)} as varchar)) end"
        for c in cols
        if c.kind in DECIMAL_KINDS
    ]
    rounded_sql = (
        "list_filter([" + ", ".join(rounded) + "], lambda f: f is not null)"
        if rounded
        else "cast([] as struct(kind varchar, column_name varchar, bad_value varchar, stored varchar)[])"
    )
    out_cols = ", ".join(ident(c.name) for c in cols)
    row_key = (
        "case when _parse_error is null then concat_ws('|', "
        + ", ".join(f"coalesce({ident('t__' + k)}, '')" for k in spec.key)
        + ") end"
    )
    return f"""
with source as (
    select
        *,
        {trimmed},
        case when _parse_error is not null then _raw_text
             when _extra is null then cast({raw_json} as varchar)
             else cast(json_merge_patch({raw_json}, _extra) as varchar) end as _raw
    from {landing_table}
),
parsed as (
    select
        {parsed},
        {t_cols}, {TECH_COLUMNS}, _raw
    from source
)
select {out_cols}, {TECH_COLUMNS}, _raw, {row_key} as _row_key, {reason_sql} as _reason,
    {failures_sql} as _failures, {rounded_sql} as _rounded
from parsed
"""
