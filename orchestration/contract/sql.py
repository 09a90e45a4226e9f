"""Compile an entity's pandera model into the SQL that types and checks landed text rows, in the
dialect of the engine that ingests: DuckDB (the default) or Spark SQL (`SPARK`, the Spark engine's
ingestion). One compiler, two dialects: every rule, message and bound is written once below; a
`Dialect` only spells the few functions the engines name differently (regular expressions, casts,
structs and lists, JSON, date arithmetic).

Input: a landing table with one text column per contract column (NULL when the file lacked an
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

Timestamps without an offset are read in the session's time zone, which ingestion sets to the
configured zone (DuckDB `TimeZone`, Spark `spark.sql.session.timeZone`); DuckDB stores the UTC wall
clock (naive TIMESTAMP), Spark the instant (TIMESTAMP, read back in UTC by the models).
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
MAPPING_FAILED = "mapping_failed: "  # the parse error of a row whose mapping step failed (docs/mapping.md)
TECH_NAMES = (
    "_extra",
    "_file",
    "_row",
    "_parse_error",
    "_parse_detail",
    "_raw_text",
    "_swallowed",
    "_swallowed_col",
    "_swallowed_text",
    "_span",
)
TECH_COLUMNS = ", ".join(TECH_NAMES)
# the struct of a `_rounded` entry: (field, type kind)
ROUNDED_FIELDS = ("kind", "column_name", "bad_value", "stored")


class Dialect:
    """DuckDB's spelling. Subclasses override what their engine names differently."""

    name = "duckdb"
    text_type = "varchar"

    def s(self, value: str) -> str:
        """A string literal."""
        return sql_str(value)

    def ident(self, name: str) -> str:
        return ident(name)

    def sql_type(self, c: ColumnSpec) -> str:
        return c.sql_type

    def full_match(self, t: str, regex: str) -> str:
        """The whole text matches the regular expression."""
        return f"regexp_full_match({t}, {self.s(regex)})"

    def starts_with_match(self, t: str, regex: str) -> str:
        return f"regexp_matches({t}, {self.s('^' + regex)})"

    def is_inf(self, x: str) -> str:
        return f"isinf({x})"

    def rtrim_zeros(self, x: str) -> str:
        return f"rtrim({x}, '0')"

    def null_text(self) -> str:
        return "null::varchar"

    def to_text(self, x: str) -> str:
        return f"cast({x} as varchar)"

    def parse_timestamp(self, t: str) -> str:
        """The text as a timestamp (offset as given, else the session zone), NULL when it is none."""
        return f"timezone('UTC', try_cast({t} as timestamptz))"

    def local_midnight(self, day: str) -> str:
        """Midnight of the day `day` (YYYY-MM-DD) in the session zone, comparable with parse_timestamp."""
        return f"timezone('UTC', cast({sql_str(day)} as timestamptz))"

    def utc_timestamp_plus_day(self, utc: str) -> str:
        """The UTC time `utc` (YYYY-MM-DD HH:MM:SS[.ffffff]) plus one day."""
        return f"timestamp {sql_str(utc)} + interval 1 day"

    def date_plus_day(self, day: str) -> str:
        return f"date {sql_str(day)} + interval 1 day"

    def naive_timestamp(self, x: str, kind: str) -> str:
        """A raw date or timestamp column as a naive UTC timestamp (what the GE suites compare with
        their as-of bounds): a date is its midnight; DuckDB's timestamps are naive UTC already."""
        return f"cast({x} as timestamp)" if kind == "date" else x

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f"{k} := {v}" for k, v in fields) + ")"

    def list(self, items: list[str]) -> str:
        return "[" + ", ".join(items) + "]"

    def non_null_list(self, items: list[str]) -> str:
        """A list of the items that are not NULL."""
        return "list_filter([" + ", ".join(items) + "], lambda f: f is not null)"

    def empty_rounded_list(self) -> str:
        return "cast([] as struct(kind varchar, column_name varchar, bad_value varchar, stored varchar)[])"

    def row_object(self, pairs: list[tuple[str, str]]) -> str:
        """The (key, text value) pairs as a JSON object text, in order, NULL values kept as null."""
        return "cast(json_object(" + ", ".join(f"{self.s(k)}, {v}" for k, v in pairs) + ") as varchar)"

    def row_json(self, pairs: list[tuple[str, str]], extra: str) -> str:
        """CASE arms (`when ... then ... else ...`) giving the row as a JSON object text: the (key, text
        value) pairs in order, NULL values kept as null, then the members of the JSON object text
        `extra` (the file's columns the contract does not know; NULL when there are none)."""
        obj = "json_object(" + ", ".join(f"{self.s(k)}, {v}" for k, v in pairs) + ")"
        return (
            f"when {extra} is null then cast({obj} as varchar)\n"
            f"             else cast(json_merge_patch({obj}, {extra}) as varchar)"
        )


class SparkDialect(Dialect):
    """Spark SQL (Spark 4, ANSI mode off). Java regular expressions anchored with ^ and \\z (Java's `$`
    also matches before a final line break); string literals escape backslashes and quotes."""

    name = "spark"
    text_type = "string"
    TYPES = {"VARCHAR": "string"}

    def s(self, value: str) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def sql_type(self, c: ColumnSpec) -> str:
        return self.TYPES.get(c.sql_type, c.sql_type)

    def full_match(self, t: str, regex: str) -> str:
        return f"({t} rlike {self.s('^(?:' + regex + ')' + chr(92) + 'z')})"

    def starts_with_match(self, t: str, regex: str) -> str:
        return f"({t} rlike {self.s('^' + regex)})"

    def is_inf(self, x: str) -> str:
        return f"(abs({x}) = double('infinity'))"

    def rtrim_zeros(self, x: str) -> str:
        return f"trim(trailing '0' from {x})"

    def null_text(self) -> str:
        return "cast(null as string)"

    def to_text(self, x: str) -> str:
        return f"cast({x} as string)"

    def parse_timestamp(self, t: str) -> str:
        return f"try_cast({t} as timestamp)"

    def local_midnight(self, day: str) -> str:
        return f"cast({self.s(day)} as timestamp)"

    def utc_timestamp_plus_day(self, utc: str) -> str:
        return f"(cast({self.s(utc.replace(' ', 'T') + 'Z')} as timestamp) + interval 1 day)"

    def date_plus_day(self, day: str) -> str:
        return f"date_add(date {self.s(day)}, 1)"

    def naive_timestamp(self, x: str, kind: str) -> str:
        # Spark's timestamps are instants: their wall clock in the session zone (UTC)
        return f"cast({x} as timestamp_ntz)"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "named_struct(" + ", ".join(f"{self.s(k)}, {v}" for k, v in fields) + ")"

    def list(self, items: list[str]) -> str:
        return "array(" + ", ".join(items) + ")"

    def non_null_list(self, items: list[str]) -> str:
        return "filter(array(" + ", ".join(items) + "), f -> f is not null)"

    def empty_rounded_list(self) -> str:
        fields = ", ".join(f"{f}: string" for f in ROUNDED_FIELDS)
        return f"cast(array() as array<struct<{fields}>>)"

    def row_object(self, pairs: list[tuple[str, str]]) -> str:
        return f"to_json({self.struct(pairs)}, map('ignoreNullFields', 'false'))"

    def row_json(self, pairs: list[tuple[str, str]], extra: str) -> str:
        # to_json drops NULL fields unless told not to (DuckDB's json_object keeps them). Spark has no
        # JSON merge: the extra members are spliced in (an extra column never has a contract
        # column's name: the landing read matched those to the contract).
        obj = f"to_json({self.struct(pairs)}, map('ignoreNullFields', 'false'))"
        return (
            f"when {extra} is null or trim({extra}) = '{{}}' then {obj} "
            f"else concat(substring({obj}, 1, length({obj}) - 1), ',', substring(trim({extra}), 2))"
        )


DUCKDB = Dialect()
SPARK = SparkDialect()


def _in_list(values, d: Dialect = DUCKDB) -> str:
    return ", ".join(d.s(v) for v in values)


def not_a_number(t: str, d: Dialect = DUCKDB) -> str:
    """SQL: the text is NaN or an infinity, or a number that overflows a double (1e309 -> inf)."""
    return f"({d.full_match(t, NAN_RE)} or ({d.full_match(t, NUM_RE)} and {d.is_inf(f'try_cast({t} as double)')}))"


def decimals_written(t: str, d: Dialect = DUCKDB) -> str:
    """SQL: how many decimal places the number written in `t` (matching NUM_RE) really has, trailing
    zeros and the exponent accounted for (1.50 -> 1, 1.23456e2 -> 3, 5e-5 -> 5, 100e-5 -> 3)."""
    int_part = f"regexp_extract({t}, {d.s('^[+-]?([0-9]*)')}, 1)"
    frac_part = f"regexp_extract({t}, {d.s('^[+-]?[0-9]*[.]([0-9]*)')}, 1)"
    exponent = f"coalesce(try_cast(nullif(regexp_extract({t}, {d.s('[eE]([+-]?[0-9]+)$')}, 1), '') as bigint), 0)"
    digits = f"({int_part} || {frac_part})"
    zeros = f"(length({digits}) - length({d.rtrim_zeros(digits)}))"
    return (
        f"(case when {d.rtrim_zeros(digits)} = '' then 0 "
        f"else greatest(0, length({frac_part}) - {exponent} - {zeros}) end)"
    )


def parse_expr(c: ColumnSpec, t: str, base_currency: str, d: Dialect = DUCKDB) -> str:
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
        return f"coalesce(upper({t}), {d.s(base_currency)})"
    if k == "timestamp":
        # ISO 8601: starts with a date (so not epoch, infinity, ...). With an offset: taken as given;
        # without: the session time zone (the configured zone).
        return f"case when {d.starts_with_match(t, DATE_RE)} then {d.parse_timestamp(t)} end"
    if k == "date":
        return f"case when {d.full_match(t, DATE_RE)} then try_cast({t} as date) end"
    if k in ("money", "points", "float"):
        # DECIMAL casts round half away from zero to the scale (0.00005 -> 0.0001): see `_rounded`
        return (
            f"case when {d.full_match(t, NUM_RE)} and not {d.is_inf(f'try_cast({t} as double)')} "
            f"then try_cast({t} as {d.sql_type(c)}) end"
        )
    if k == "int":
        return f"case when {d.full_match(t, INT_RE)} then try_cast({t} as integer) end"
    if k == "bool":
        return (
            f"case when lower({t}) in ({_in_list(TRUE_WORDS, d)}) then true "
            f"when lower({t}) in ({_in_list(FALSE_WORDS, d)}) then false end"
        )
    raise ValueError(f"unknown kind {k}")


def _msg(d: Dialect, *parts: str | tuple[str]) -> str:
    """A message expression: str parts are literal text, a 1-tuple holds a SQL expression."""
    return " || ".join(p[0] if isinstance(p, tuple) else d.s(p) for p in parts)


def _reasons(
    c: ColumnSpec,
    t: str,
    v: str,
    allowed_currencies: list[str],
    as_of_utc: str,
    as_of_local_date: str,
    d: Dialect = DUCKDB,
) -> list[tuple[str, str]]:
    """(condition, message) pairs: the row breaks the rule when condition holds; message is a SQL
    string expression."""
    name = c.name
    shown = (f"coalesce({t}, '')",)
    arms: list[tuple[str, str]] = []
    if c.required:
        arms.append((f"{t} is null", d.s(f"missing required value: {name}")))
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
        nan = not_a_number(t, d)
        special.append(nan)
        arms.append(
            (
                nan,
                _msg(d, f"not a number: {name}='", shown, "' (NaN, an infinity or beyond the double range)"),
            )
        )
        shape = INT_RE if c.kind == "int" else NUM_RE
        too_big = f"({d.full_match(t, shape)} and not {nan} and {v} is null)"
        special.append(too_big)
        limit = "INTEGER" if c.kind == "int" else c.sql_type
        arms.append((too_big, _msg(d, f"out of range: {name}=", shown, f" (too large for {limit})")))
    if type_word:
        cond = f"{t} is not null and {v} is null" + "".join(f" and not {x}" for x in special)
        arms.append((cond, _msg(d, f"wrong type: {name}='", shown, f"' is not {type_word}")))
    if c.allowed:
        arms.append(
            (
                f"{v} not in ({_in_list(c.allowed, d)})",
                _msg(d, f"unknown value for {name}: '", shown, f"' (allowed: {', '.join(c.allowed)})"),
            )
        )
    if c.kind == "currency":
        arms.append(
            (
                f"{v} not in ({_in_list(allowed_currencies, d)})",
                _msg(d, "no exchange rate for currency '", (v,), f"' (configured: {', '.join(allowed_currencies)})"),
            )
        )
    if c.pattern:
        arms.append(
            (
                f"not {d.full_match(v, c.pattern.strip('^$'))}",
                _msg(d, f"wrong format: {name}='", shown, "' (expected YYYY-MM, YYYY-Qn or YYYY)"),
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
        arms.append((" or ".join(bounds), _msg(d, f"out of range: {name}=", shown, f" (allowed {rng})")))
    if c.kind == "timestamp":
        # before 1900-01-01 in the configured zone (the session time zone), as the value was written
        arms.append(
            (
                f"{v} < {d.local_midnight(OLDEST_DATE)}",
                _msg(d, f"out of range: {name}=", shown, f" is before {OLDEST_DATE}"),
            )
        )
        if not c.plan:
            arms.append(
                (
                    f"{v} > {d.utc_timestamp_plus_day(as_of_utc)}",
                    _msg(d, f"in the future: {name}=", shown, " is more than one day after as-of"),
                )
            )
    if c.kind == "date":
        arms.append(
            (
                f"{v} < date {d.s(OLDEST_DATE)}",
                _msg(d, f"out of range: {name}=", shown, f" is before {OLDEST_DATE}"),
            )
        )
        if not c.plan:  # plan dates (due_on, planned_on) may lie in the future
            arms.append(
                (
                    f"{v} > {d.date_plus_day(as_of_local_date)}",
                    _msg(d, f"in the future: {name}=", shown, " is more than one day after as-of"),
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
    dialect: Dialect = DUCKDB,
) -> str:
    d = dialect
    q = d.ident
    cols = spec.columns
    trimmed = ",\n        ".join(f"nullif(trim({q(c.name)}), '') as {q('t__' + c.name)}" for c in cols)
    raw_json = d.row_json([(c.name, q(c.name)) for c in cols], "_extra")
    # a mapped row (docs/mapping.md) carries its export row in _raw_text: the contract's values, then it as
    # `_source`, nulls kept, whether its mapping failed or not
    obj = d.row_object([(c.name, q(c.name)) for c in cols])
    mapped_json = f"concat(substring({obj}, 1, length({obj}) - 1), ',\"_source\":', _raw_text, '}}')"
    mapping_failed = f"_parse_error like {d.s(MAPPING_FAILED + '%')}"
    parsed = ",\n        ".join(f"{parse_expr(c, q('t__' + c.name), base_currency, d)} as {q(c.name)}" for c in cols)
    t_cols = ", ".join(q("t__" + c.name) for c in cols)
    # (column, raw text, condition, message) of every rule; row rules span columns: no single column
    rules: list[tuple[str, str, str, str]] = []
    for c in cols:
        t = q("t__" + c.name)
        for cond, msg in _reasons(c, t, q(c.name), allowed_currencies, as_of_utc, as_of_local_date, d):
            rules.append((d.s(c.name), t, cond, msg))
    for rule, predicate in spec.row_rules.items():
        rules.append((d.null_text(), d.null_text(), f"not ({predicate})", d.s("broken rule: " + rule)))
    rules_reason = (
        "nullif(concat_ws('; ', " + ", ".join(f"case when {c} then {m} end" for _, _, c, m in rules) + "), '')"
    )
    # an unparsable row has only its raw text: the parse error is its one reason
    reason_sql = f"case when _parse_error is not null then _parse_error else {rules_reason} end"
    # the same, one struct per broken rule, for the audit ledger (column, bad value, message)
    parse_failure = d.struct(
        [
            ("column_name", d.null_text()),
            ("bad_value", "left(_raw_text, 200)"),
            ("message", "_parse_error || coalesce(' (' || _parse_detail || ')', '')"),
        ]
    )
    failures_sql = (
        f"case when _parse_error is not null then {d.list([parse_failure])} else "
        + d.non_null_list(
            [
                f"case when {cond} then {d.struct([('column_name', col), ('bad_value', t), ('message', msg)])} end"
                for col, t, cond, msg in rules
            ]
        )
        + " end"
    )
    # money and points with more decimals than kept: rounded half-up by the cast, a warning (not a reason)
    rounded = [
        f"case when {q(c.name)} is not null and {decimals_written(q('t__' + c.name), d)} > {MONEY_DECIMALS} "
        "then "
        + d.struct(
            [
                ("kind", d.s(c.kind)),
                ("column_name", d.s(c.name)),
                ("bad_value", q("t__" + c.name)),
                ("stored", d.to_text(q(c.name))),
            ]
        )
        + " end"
        for c in cols
        if c.kind in DECIMAL_KINDS
    ]
    rounded_sql = d.non_null_list(rounded) if rounded else d.empty_rounded_list()
    out_cols = ", ".join(q(c.name) for c in cols)
    row_key = (
        f"case when _parse_error is null or {mapping_failed} then concat_ws('|', "
        + ", ".join(f"coalesce({q('t__' + k)}, '')" for k in spec.key)
        + ") end"
    )
    return f"""
with source as (
    select
        *,
        {trimmed},
        case when _parse_error is not null and not {mapping_failed} then _raw_text
             when _raw_text is not null then {mapped_json}
             {raw_json} end as _raw
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
