"""A mapping's expressions compiled to SQL over a staged export file (docs/mapping.md).

The staged rows hold the whole source row as a JSON object text (`_extra`, keys as the file's header
wrote them). `FileCompiler` resolves the mapping's column names against one file's header (names
are matched case-insensitively after trimming, as the contract does) and builds one SELECT:

    src     the source columns the mapping reads, trimmed, empty -> NULL (`s0`, `s1`, ...)
    keyed   the match value of every lookup (`k0`, ...)
    joined  each lookup's table joined on its key (`lv0` value, `ln0` how many different values)
    out     every contract column as text, and `_map_error`: the failed steps, `; `-separated

Every operator gives a value and an error (NULL when the step went right): a row whose step fails
goes to quarantine as `mapping_failed: <column>: <what failed>` with its original row. The SQL is
written through `MapDialect` (DuckDB; `SparkMapDialect` spells the same steps in Spark SQL).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestration.contract.sql import MAPPING_FAILED, Dialect, SparkDialect
from orchestration.mapping.model import EntityMapping, scalar_text, value_map

# numbers the steps accept, before and after the separators are dealt with
PLAIN_NUMBER = r"[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)"
FACTOR = r"[+-]?[0-9]{1,20}([.][0-9]{1,8})?"  # multiply: DECIMAL(28,8) factors, an exact DECIMAL(38,16) product
MAX_PRODUCT = "1e22"  # below DECIMAL(38,16)'s integer digits
_JAVA_DIRECTIVES = {
    "Y": "yyyy",
    "y": "yy",
    "m": "M",
    "d": "d",
    "H": "H",
    "I": "h",
    "M": "m",
    "S": "s",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "z": "XX",
    "%": "%",
}


class MapDialect(Dialect):
    """DuckDB's spelling of the mapping steps (literals, names and regular expressions as the contract's SQL)."""

    def json_get(self, obj: str, key: str) -> str:
        pointer = "/" + key.replace("~", "~0").replace("/", "~1")  # JSON pointer: any key, spelled safely
        return f"json_extract_string({obj}, {self.s(pointer)})"

    def parse_time(self, t: str, fmt: str) -> str:
        """The text read with the strptime format; NULL when it does not match."""
        return f"try_strptime({t}, {self.s(fmt)})"

    def date_text(self, ts: str) -> str:
        return f"strftime({ts}, '%Y-%m-%d')"

    def local_text(self, ts: str) -> str:
        """A naive timestamp as ISO 8601 text without an offset (read in the scheme's time zone)."""
        return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S.%f')"

    def utc_text(self, ts: str, tz: str | None) -> str:
        """ISO 8601 text in UTC, with +00:00: `ts` is wall-clock time in `tz`, or carries its offset (tz None)."""
        instant = f"timezone({self.s(tz)}, {ts})" if tz else ts
        return f"strftime(timezone('UTC', {instant}), '%Y-%m-%dT%H:%M:%S.%f') || '+00:00'"

    def product(self, a: str, b: str) -> str:
        return f"cast(cast({a} as decimal(28,8)) * cast({b} as decimal(28,8)) as varchar)"

    def product_too_large(self, a: str, b: str) -> str:
        return f"abs(cast({a} as double) * cast({b} as double)) >= {MAX_PRODUCT}"

    def replace(self, t: str, old: str, new: str) -> str:
        return f"replace({t}, {self.s(old)}, {self.s(new)})"


class SparkMapDialect(SparkDialect, MapDialect):
    """Spark SQL (ANSI off): Java date patterns, get_json_object; literals and regular expressions as the
    contract's Spark SQL."""

    def json_get(self, obj: str, key: str) -> str:
        if "'" in key:  # get_json_object's $['...'] has no escape for it
            raise ValueError(f"column {key!r}: a header with a single quote cannot be read on Spark")
        return f"get_json_object({obj}, {self.s('$[' + chr(39) + key + chr(39) + ']')})"

    def parse_time(self, t: str, fmt: str) -> str:
        return f"to_timestamp({t}, {self.s(java_format(fmt))})"

    def date_text(self, ts: str) -> str:
        return f"date_format({ts}, 'yyyy-MM-dd')"

    def local_text(self, ts: str) -> str:
        return f"date_format({ts}, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS\")"

    def utc_text(self, ts: str, tz: str | None) -> str:
        instant = f"to_utc_timestamp({ts}, {self.s(tz)})" if tz else f"to_utc_timestamp({ts}, current_timezone())"
        return f"date_format({instant}, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS\") || '+00:00'"

    def product(self, a: str, b: str) -> str:
        return f"cast(cast({a} as decimal(28,8)) * cast({b} as decimal(28,8)) as string)"


def java_format(fmt: str) -> str:
    """A strptime format as a Java DateTimeFormatter pattern (literal text quoted)."""
    out, literal, i = [], "", 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            if literal:
                out.append("'" + literal.replace("'", "''") + "'" if any(c.isalpha() for c in literal) else literal)
                literal = ""
            out.append(_JAVA_DIRECTIVES[fmt[i + 1]])
            i += 2
        else:
            literal += fmt[i]
            i += 1
    if literal:
        out.append("'" + literal.replace("'", "''") + "'" if any(c.isalpha() for c in literal) else literal)
    return "".join(out)


DUCKDB_MAP = MapDialect()
SPARK_MAP = SparkMapDialect()


@dataclass
class Step:
    value: str  # SQL text (or NULL)
    error: str | None = None  # SQL text: what failed, NULL when the step went right


@dataclass
class Lookup:
    index: int
    input: str
    node: dict
    match: Step


@dataclass
class MapUse:
    """A value map, kept for `scorecard map --dry-run`'s misses: the column it serves and its input."""

    column: str
    input_sql: str
    keys: tuple[str, ...]
    fallback: str  # 'fail', 'default', 'keep'


@dataclass
class FileCompiler:
    mapping: EntityMapping
    names: list[str]  # the file's header, as written
    d: MapDialect = DUCKDB_MAP
    sources: list[str] = field(default_factory=list)  # original names of the source columns read (s0, s1, ...)
    lookups: list[Lookup] = field(default_factory=list)
    maps: list[MapUse] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # "<column>: no column 'X'" problems
    _column: str = ""

    def __post_init__(self) -> None:
        self._by_norm = {n.strip().lower(): n for n in self.names}

    # --- source columns ---------------------------------------------------------------------------

    def _source(self, original: str) -> str:
        if original not in self.sources:
            self.sources.append(original)
        return f"s{self.sources.index(original)}"

    def _resolve(self, name: str) -> str:
        found = self._by_norm.get(name.strip().lower())
        if found is None:
            self.missing.append(f"{self._column}: no column {name!r} in the file")
            return "null"
        return self._source(found)

    def _question(self, text: str) -> str:
        hits = [n for n in self.names if text.strip().lower() in n.lower()]
        if len(hits) != 1:
            what = "no column header" if not hits else f"{len(hits)} column headers ({', '.join(hits[:4])})"
            self.missing.append(f"{self._column}: {what} contain(s) {text!r}; one must")
            return "null"
        return self._source(hits[0])

    # --- expressions ------------------------------------------------------------------------------

    def column(self, name: str, node: Any) -> Step:
        self._column = name
        return self.expr(node)

    def expr(self, node: Any) -> Step:
        d = self.d
        if isinstance(node, str):
            return Step(self._resolve(node))
        op = next(k for k in node if k in _OPS)
        return getattr(self, f"_op_{op}")(node[op], node, d)

    def _err(self, *parts: str | tuple) -> str:
        """A message: str parts are literal text, a 1-tuple holds SQL text of a value (shown quoted), a
        2-tuple ("raw", SQL text) a value shown as it is."""

        def part(p) -> str:
            if not isinstance(p, tuple):
                return self.d.s(p)
            return p[1] if len(p) == 2 else f"{self.d.s(chr(39))} || {p[0]} || {self.d.s(chr(39))}"

        return " || ".join(part(p) for p in parts)

    @staticmethod
    def _first_error(*errors: str | None) -> str | None:
        errs = [e for e in errors if e]
        if not errs:
            return None
        return errs[0] if len(errs) == 1 else f"coalesce({', '.join(errs)})"

    def _op_column(self, v, node, d) -> Step:
        return Step(self._resolve(v))

    def _op_question(self, v, node, d) -> Step:
        return Step(self._question(v))

    def _op_const(self, v, node, d) -> Step:
        return Step(d.s(scalar_text(v)))

    def _unary(self, v, fn: str) -> Step:
        inner = self.expr(v)
        return Step(f"nullif({fn}({inner.value}), '')", inner.error)

    def _op_trim(self, v, node, d) -> Step:
        return self._unary(v, "trim")

    def _op_lower(self, v, node, d) -> Step:
        return self._unary(v, "lower")

    def _op_upper(self, v, node, d) -> Step:
        return self._unary(v, "upper")

    def _op_concat(self, v, node, d) -> Step:
        parts = [self.expr(x) for x in v]
        sep = d.s(node.get("sep", ""))
        return Step(
            f"nullif(concat_ws({sep}, {', '.join(p.value for p in parts)}), '')",
            self._first_error(*(p.error for p in parts)),
        )

    def _op_coalesce(self, v, node, d) -> Step:
        parts = [self.expr(x) for x in v]
        if len(parts) == 1:
            return parts[0]
        # the first part with a value wins; a part that fails fails the row only when no earlier part has a value
        arms = "".join(
            f"when {p.value} is not null then null "
            + (f"when {p.error} is not null then {p.error} " if p.error else "")
            for p in parts
        )
        err = f"case {arms}end" if any(p.error for p in parts) else None
        return Step(f"coalesce({', '.join(p.value for p in parts)})", err)

    def _time(self, v, node, d, kind: str) -> Step:
        inner = self.expr(v)
        fmt = node["format"]
        parsed = d.parse_time(inner.value, fmt)
        if kind == "date":
            value = d.date_text(parsed)
        elif "%z" in fmt:
            value = d.utc_text(parsed, None)
        elif node.get("tz"):
            value = d.utc_text(parsed, node["tz"])
        else:
            value = d.local_text(parsed)
        err = (
            f"case when {inner.value} is not null and {parsed} is null then "
            + self._err(f"{kind} ", (f"{inner.value}",), f" does not match format '{fmt}'")
            + " end"
        )
        return Step(value, self._first_error(inner.error, err))

    def _op_date(self, v, node, d) -> Step:
        return self._time(v, node, d, "date")

    def _op_timestamp(self, v, node, d) -> Step:
        return self._time(v, node, d, "timestamp")

    def _op_number(self, v, node, d) -> Step:
        inner = self.expr(v)
        t = inner.value
        for s in node.get("strip", []):
            t = d.replace(t, s, "")
        t = f"trim({t})"
        dec, thou = node.get("decimal", "."), node.get("thousands", "")
        esc = {".": "[.]", ",": ",", " ": " ", "'": "'", "": ""}
        grouped = rf"[+-]?[0-9]{{1,3}}({esc[thou]}[0-9]{{3}})*({esc[dec]}[0-9]+)?" if thou else None
        plain = rf"[+-]?([0-9]+({esc[dec]}[0-9]*)?|{esc[dec]}[0-9]+)"
        ok = d.full_match(t, plain) + (f" or {d.full_match(t, grouped)}" if grouped else "")
        normal = d.replace(t, thou, "") if thou else t
        if dec != ".":
            normal = d.replace(normal, dec, ".")
        seps = f"decimal '{dec}'" + (f", thousands '{thou}'" if thou else ", no thousands separator")
        err = (
            f"case when {inner.value} is not null and not ({ok}) then "
            + self._err("number ", (inner.value,), f" is not a number ({seps})")
            + " end"
        )
        return Step(f"case when {ok} then {normal} end", self._first_error(inner.error, err))

    def _op_multiply(self, v, node, d) -> Step:
        factors = [
            Step(d.s(scalar_text(x))) if isinstance(x, int | float) and not isinstance(x, bool) else self.expr(x)
            for x in v
        ]
        (a, b) = factors
        bad = [
            f"case when {f.value} is not null and not {d.full_match(f.value, FACTOR)} then "
            + self._err("multiply: ", (f.value,), " is not a number with at most 20 digits and 8 decimals")
            + " end"
            for f in factors
        ]
        fits = f"{d.full_match(a.value, FACTOR)} and {d.full_match(b.value, FACTOR)}"
        too_large = (
            f"case when {fits} and {d.product_too_large(a.value, b.value)} then "
            + self._err("multiply: ", (a.value,), " x ", (b.value,), " is 1e22 or more")
            + " end"
        )
        value = (
            f"case when {fits} and not {d.product_too_large(a.value, b.value)} then {d.product(a.value, b.value)} end"
        )
        return Step(value, self._first_error(a.error, b.error, *bad, too_large))

    def _op_map(self, v, node, d) -> Step:
        inner = self.expr(v)
        x = inner.value
        values = value_map(node)
        keys = tuple(values)
        arms = " ".join(
            f"when lower({x}) = {d.s(k)} then {'null' if to is None else d.s(to)}" for k, to in values.items()
        )
        if "default" in node:
            other, fallback = d.s(scalar_text(node["default"])), "default"
        elif node.get("keep_others"):
            other, fallback = x, "keep"
        else:
            other, fallback = "null", "fail"
        value = f"case when {x} is null then null {arms} else {other} end"
        self.maps.append(MapUse(self._column, x, keys, fallback))
        err = None
        if fallback == "fail":
            listed = ", ".join(str(k) for k in node["values"])[:200]
            err = (
                f"case when {x} is not null and lower({x}) not in ({', '.join(d.s(k) for k in keys)}) then "
                + self._err("map: ", (x,), f" has no entry in values ({listed})")
                + " end"
            )
        return Step(value, self._first_error(inner.error, err))

    def _op_lookup(self, v, node, d) -> Step:
        match = self.expr(v)
        i = len(self.lookups)
        self.lookups.append(Lookup(i, node["in"], node, match))
        err = (
            f"case when ln{i} > 1 then "
            + self._err(
                "lookup: ",
                ("raw", f"cast(ln{i} as {'string' if d.name == 'spark' else 'varchar'})"),
                f" different values of {node['in']} for key ",
                (f"k{i}",),
                " (give first_by to pick one)",
            )
            + " end"
        )
        return Step(f"case when ln{i} = 1 then lv{i} end", self._first_error(f"ke{i}" if match.error else None, err))


_OPS = (
    "column",
    "const",
    "question",
    "trim",
    "lower",
    "upper",
    "concat",
    "coalesce",
    "date",
    "timestamp",
    "number",
    "multiply",
    "lookup",
    "map",
)


@dataclass
class CompiledFile:
    sql: str  # SELECT of the contract columns (text), _map_error and the staged technical columns
    missing: list[str]  # mapping columns the file lacks: the run stops, naming them
    maps: list[MapUse]
    lookups: list[Lookup]


def compile_file(
    mapping: EntityMapping,
    names: list[str],
    contract_columns: list[str],
    staged: str,
    where: str,
    lookup_tables: dict[int, str],
    d: MapDialect = DUCKDB_MAP,
) -> CompiledFile:
    """The SELECT mapping the staged rows `where` holds (one file) to contract columns.
    `lookup_tables`: index of a lookup -> the table build_lookup filled for it."""
    c = FileCompiler(mapping, names, d)
    steps = {col: c.column(col, node) for col, node in mapping.columns.items()}
    srcs = (
        ", ".join(f"nullif(trim({d.json_get('_extra', n)}), '') as s{i}" for i, n in enumerate(c.sources))
        or "null as _no_source"
    )
    keyed = ", ".join(
        f"{lk.match.value} as k{lk.index}" + (f", {lk.match.error} as ke{lk.index}" if lk.match.error else "")
        for lk in c.lookups
    )
    joins = " ".join(
        f"left join {lookup_tables.get(lk.index, '_missing_lookup')} l{lk.index} on l{lk.index}.key = keyed.k{lk.index}"
        for lk in c.lookups
    )
    joined_cols = "".join(f", l{lk.index}.val as lv{lk.index}, l{lk.index}.n as ln{lk.index}" for lk in c.lookups)
    outs = []
    errs = []
    for col in contract_columns:
        st = steps.get(col)
        outs.append(f"{st.value if st else d.null_text()} as {d.ident(col)}")
        if st and st.error:
            errs.append(f"{d.s(col + ': ')} || {st.error}")
    map_error = f"nullif(concat_ws('; ', {', '.join(errs)}), '')" if errs else "null"
    sql = f"""
with src as (select *, {srcs} from {staged} where {where}),
keyed as (select *{", " + keyed if keyed else ""} from src),
joined as (select keyed.*{joined_cols} from keyed {joins})
select {", ".join(outs)}, {map_error} as _map_error, joined.*
from joined"""
    return CompiledFile(sql, c.missing, c.maps, c.lookups)


def lookup_select(
    node: dict, names: list[str], staged: str, where: str, d: MapDialect = DUCKDB_MAP
) -> tuple[str, list[str]]:
    """The (key, take, first_by) rows of one file of a lookup's input, and the problems (missing columns).
    Rows whose take or first_by step fails are left out."""
    from orchestration.mapping.model import EntityMapping

    holder = EntityMapping("lookup", node["in"], {})
    c = FileCompiler(holder, names, d)
    key = c.column(f"lookup in {node['in']}: key", node["key"])
    take = c.column(f"lookup in {node['in']}: take", node["take"])
    first = c.column(f"lookup in {node['in']}: first_by", node["first_by"]) if "first_by" in node else Step("null")
    srcs = ", ".join(f"nullif(trim({d.json_get('_extra', n)}), '') as s{i}" for i, n in enumerate(c.sources))
    ok = " and ".join(f"({e}) is null" for e in (take.error, first.error) if e) or "true"
    sql = (
        f"select {key.value} as key, {take.value} as val, {first.value} as first_by, _file, _row "
        f"from (select *, {srcs or 'null as _no_source'} from {staged} where {where}) s "
        f"where _parse_error is null and {key.value} is not null and {ok}"
    )
    return sql, c.missing


def lookups_of(mapping: EntityMapping, d: MapDialect = DUCKDB_MAP) -> list[Lookup]:
    """The mapping's lookups, numbered as compile_file numbers them (the header does not change them)."""
    return compile_file(mapping, [], [], "_none", "true", {}, d).lookups


def lookup_table(
    lk: Lookup, files: list[str], header: Callable[[str], list[str]], staged: str, d: MapDialect = DUCKDB_MAP
) -> tuple[str, list[str]]:
    """The SQL of one lookup's table (key, val, n) over the staged `files` of its input, and the problems
    of the files that lack a column it reads (those files are left out). `header(file)`: its columns."""
    parts, problems = [], []
    for rel in files:
        sql, missing = lookup_select(lk.node, header(rel), staged, f"_file = {d.s(rel)}", d)
        if missing:
            problems += [f"{rel} (input {lk.input}): {m}" for m in missing]
        else:
            parts.append(sql)
    return lookup_table_sql(parts, "first_by" in lk.node), problems


def lookup_table_sql(parts: list[str], first_by: bool) -> str:
    """The lookup's table (key, val, n) from the lookup_select of each file: n is how many different
    values the key has; with first_by, the value of the key's row with the smallest first_by (rows
    without one last, then the earlier file and row), n = 1."""
    rows = " union all ".join(parts) or "select null as key, null as val, null as first_by, null as _file, 0 as _row"
    if first_by:
        return f"""select key, val, 1 as n from (
            select key, val, row_number() over (partition by key order by first_by nulls last, _file, _row) as rn
            from ({rows}) r
        ) x where rn = 1"""
    return f"select key, min(val) as val, count(distinct val) as n from ({rows}) r group by key"


def landing_select(compiled_sql: str, contract: list[str], d: MapDialect, detail: str) -> str:
    """The entity's landing rows from a file's compiled mapping (both engines): the contract's columns;
    a row that maps keeps its export row in `_extra` as `{"_source": ...}`; a row whose step failed
    becomes a row with a parse error `mapping_failed: ...` (detail: `detail`); `_raw_text` holds the
    export row (the contract's typing shows it under `_source` in a quarantined row)."""
    cols = ", ".join(d.ident(c) for c in contract)
    return f"""select {cols},
    case when _parse_error is null and _map_error is null then concat('{{"_source":', _extra, '}}') end as _extra,
    _file, _row, _span, _swallowed, _swallowed_col, _swallowed_text,
    case when _parse_error is not null then _parse_error
         when _map_error is not null then concat({d.s(MAPPING_FAILED)}, _map_error) end as _parse_error,
    case when _parse_error is not null then _parse_detail when _map_error is not null then {d.s(detail)} end
        as _parse_detail,
    case when _parse_error is not null then _raw_text else _extra end as _raw_text
from {compiled_sql} m"""
