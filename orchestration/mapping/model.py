"""The mapping file (`sources.yml`, or the `sources:` section of the scheme file): how a vendor's
exports become contract entities (docs/mapping.md). Read and checked here; compiled to SQL by
orchestration/mapping/compile.py.

    source_folder: export              # relative to the mapping file (default: its folder)
    inputs:                            # named sets of export files
      opportunities: {files: ["opps*.csv"], encoding: utf-8}
    entities:                          # contract entity -> where its rows come from
      crm/deals:
        from: opportunities
        columns: {deal_id: Opportunity ID, stage: {map: Stage, values: {Closed Won: won}, default: open}}

An expression (`columns` values) is a source column's name, or a one-operator mapping (OPERATORS):
every wrong key, operator, option and reference is named with its dotted path, all at once.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchestration.scheme.errors import SchemeError, _k, _q

# operator -> (what its own value is, {option: what it is}, required options)
#   expr: an expression; exprs: a list of expressions; name: a text naming a column; scalar: a constant
OPERATORS: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "column": ("name", {}, ()),
    "const": ("scalar", {}, ()),
    "question": ("name", {}, ()),
    "trim": ("expr", {}, ()),
    "lower": ("expr", {}, ()),
    "upper": ("expr", {}, ()),
    "concat": ("exprs", {"sep": "text"}, ()),
    "coalesce": ("exprs", {}, ()),
    "date": ("expr", {"format": "format"}, ("format",)),
    "timestamp": ("expr", {"format": "format", "tz": "zone"}, ("format",)),
    "number": ("expr", {"decimal": "separator", "thousands": "separator", "strip": "texts"}, ()),
    "multiply": ("exprs", {}, ()),
    "lookup": (
        "expr",
        {"in": "input", "key": "name", "take": "lookup_expr", "first_by": "lookup_expr"},
        ("in", "key", "take"),
    ),
    "map": ("expr", {"values": "values", "default": "scalar", "keep_others": "bool"}, ("values",)),
}
# strptime directives a date or timestamp format may use (the same meaning in DuckDB and Spark)
FORMAT_DIRECTIVES = set("YymdHIMSfpbz%")
DATA_SUFFIXES = (".csv", ".parquet", ".jsonl")
MAX_EXPR_DEPTH = 12
_SURVEY_QUESTIONS = ("nps", "csat")


@dataclass(frozen=True)
class Input:
    name: str
    files: tuple[str, ...]  # globs under the source folder
    encoding: str | None  # declared codec; None: UTF-8, or GB18030 when detected confidently


@dataclass(frozen=True)
class EntityMapping:
    entity: str
    input: str
    columns: dict[str, Any]  # contract column -> expression (questions already turned into columns)


@dataclass(frozen=True)
class Sources:
    path: str  # the mapping file, or "<scheme file>#sources"
    folder: Path  # the source folder
    inputs: dict[str, Input]
    entities: dict[str, EntityMapping] = field(default_factory=dict)

    def files(self, input_name: str) -> list[Path]:
        """The input's files: every glob's matches under the source folder, data files only, each
        once, in lexicographic order of the path (how dated drops sort)."""
        found: set[Path] = set()
        for pattern in self.inputs[input_name].files:
            for p in self.folder.glob(pattern):
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES:
                    found.add(p)
        return sorted(found, key=lambda p: p.relative_to(self.folder).as_posix())

    def lookups_of(self, entity: str) -> list[str]:
        """The inputs the entity's lookups read."""
        seen: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if "lookup" in node and node.get("in") not in seen:
                    seen.append(node["in"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(self.entities[entity].columns)
        return seen

    def fingerprint(self, entity: str) -> str:
        """What, besides a file's bytes, decides an entity's mapped rows: its mapping, its input's
        encoding, and the bytes of the files its lookups read. A change re-reads every file."""
        from orchestration.ingest.manifest import file_sha256

        m = self.entities[entity]
        parts = [json.dumps(m.columns, sort_keys=True, default=str), self.inputs[m.input].encoding or ""]
        for name in self.lookups_of(entity):
            for p in self.files(name):
                parts.append(f"{name}:{p.relative_to(self.folder).as_posix()}:{file_sha256(p)}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def required_columns(entity: str) -> list[str]:
    from orchestration.contract.spec import spec_for

    return [c.name for c in spec_for(entity).columns if c.required]


def unmapped_required(mapping: EntityMapping) -> list[str]:
    return [c for c in required_columns(mapping.entity) if c not in mapping.columns]


# --- reading ------------------------------------------------------------------------------------


def load_sources(path: str | Path, strict: bool = True) -> Sources:
    """The mapping file at `path`, checked; SchemeError naming every problem. Not `strict` (the dry run):
    required contract columns left unmapped are not errors (the dry run lists them)."""
    from orchestration.scheme.file import _read_scheme_text, read_scheme_yaml

    p = Path(path)
    text = _read_scheme_text(p)
    data = read_scheme_yaml(text, p.name or str(p), str(p))
    return parse_sources(data, str(p), p.resolve().parent, strict=strict)


def parse_sources(data: Any, where: str, base: Path, prefix: str = "", strict: bool = True) -> Sources:
    """The mapping in `data`; relative paths are under `base`. `prefix` is put before every key path
    of an error (`sources.` for the scheme file's section)."""
    errors: list[str] = []
    sources = _parse(data, base, prefix, errors)
    if strict:
        for m in sources[2].values():
            if missing := unmapped_required(m):
                errors.append(
                    f"{prefix}entities.{m.entity}.columns: required column(s) {', '.join(missing)} not mapped "
                    "(a constant will do: {const: ...})"
                )
    if errors:
        raise SchemeError(where, errors, what="mapping")
    return Sources(where, *sources)


def _parse(data: Any, base: Path, pre: str, errors: list[str]) -> tuple[Path, dict, dict]:
    from orchestration.contract.spec import entity_specs

    if not isinstance(data, dict):
        errors.append(f"{pre or '(top level)'}: the mapping must be a YAML mapping with inputs and entities")
        return base, {}, {}
    for key in data:
        if key not in ("source_folder", "inputs", "entities"):
            errors.append(f"{pre}{_k(key)}: unknown key (known: source_folder, inputs, entities)")
    folder = base
    if "source_folder" in data:
        if not isinstance(data["source_folder"], str) or not data["source_folder"].strip():
            errors.append(f"{pre}source_folder: must be a folder path")
        else:
            folder = (base / data["source_folder"]).resolve()
    inputs = _parse_inputs(data.get("inputs"), pre, errors)
    specs = {s.entity: s for s in entity_specs()}
    entities: dict[str, EntityMapping] = {}
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, dict) or not raw_entities:
        errors.append(f"{pre}entities: required: at least one contract entity (e.g. crm/deals) and its columns")
        raw_entities = {}
    for entity, body in raw_entities.items():
        path = f"{pre}entities.{_k(entity)}"
        if entity not in specs:
            errors.append(f"{path}: unknown entity (known: {', '.join(specs)})")
            continue
        m = _parse_entity(entity, body, path, inputs, specs[entity], errors)
        if m is not None:
            entities[entity] = m
    return folder, inputs, entities


def _parse_inputs(raw: Any, pre: str, errors: list[str]) -> dict[str, Input]:
    if not isinstance(raw, dict) or not raw:
        errors.append(f"{pre}inputs: required: at least one named set of files, e.g. deals: {{files: [deals*.csv]}}")
        return {}
    inputs: dict[str, Input] = {}
    for name, body in raw.items():
        path = f"{pre}inputs.{_k(name)}"
        if not isinstance(body, dict):
            errors.append(f"{path}: must be a mapping with files (and encoding)")
            continue
        for key in body:
            if key not in ("files", "encoding"):
                errors.append(f"{path}.{_k(key)}: unknown key (known: files, encoding)")
        files = body.get("files")
        if isinstance(files, str):
            files = [files]
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f.strip() for f in files):
            errors.append(f"{path}.files: required: a list of file patterns under the source folder")
            files = []
        for i, f in enumerate(files):
            if Path(f).is_absolute() or ".." in Path(f).parts:
                errors.append(f"{path}.files[{i}]: {_q(f)} must stay under the source folder (relative, no ..)")
        encoding = body.get("encoding")
        if encoding is not None:
            try:
                info = codecs.lookup(str(encoding))
                if not getattr(info, "_is_text_encoding", True):
                    raise LookupError
                encoding = info.name
            except (LookupError, TypeError, ValueError):
                errors.append(f"{path}.encoding: unknown codec {_q(encoding)}")
                encoding = None
        inputs[str(name)] = Input(str(name), tuple(files), encoding)
    return inputs


def _parse_entity(entity, body, path, inputs, spec, errors) -> EntityMapping | None:
    if not isinstance(body, dict):
        errors.append(f"{path}: must be a mapping with from and columns")
        return None
    allowed = ("from", "columns", "questions") if entity == "survey/responses" else ("from", "columns")
    for key in body:
        if key not in allowed:
            errors.append(f"{path}.{_k(key)}: unknown key (known: {', '.join(allowed)})")
    src = body.get("from")
    if src not in inputs:
        errors.append(f"{path}.from: {_q(src)} is not an input (inputs: {', '.join(inputs) or 'none'})")
    columns = body.get("columns") or {}
    if not isinstance(columns, dict):
        errors.append(f"{path}.columns: must be a mapping of contract column -> expression")
        columns = {}
    columns = dict(columns)
    questions = body.get("questions") or {}
    if not isinstance(questions, dict):
        errors.append(f"{path}.questions: must be a mapping, e.g. {{nps: '推荐', csat: '满意'}}")
        questions = {}
    for q, text in questions.items():
        if q not in _SURVEY_QUESTIONS:
            errors.append(f"{path}.questions.{_k(q)}: unknown question (known: nps, csat)")
        elif not isinstance(text, str) or not text.strip():
            errors.append(f"{path}.questions.{q}: the text the question's column header contains")
        elif q in columns:
            errors.append(f"{path}.questions.{q}: {q} is given in columns too; give it once")
        else:
            columns[q] = {"question": text}
    names = [c.name for c in spec.columns]
    for col, expr in columns.items():
        if col not in names:
            errors.append(f"{path}.columns.{_k(col)}: not a column of {entity} (columns: {', '.join(names)})")
            continue
        errors.extend(expr_errors(expr, f"{path}.columns.{col}", inputs))
    return EntityMapping(entity, str(src), columns)


def _format_errors(fmt: str, path: str) -> list[str]:
    bad = sorted({m for m in re.findall(r"%(.)", fmt) if m not in FORMAT_DIRECTIVES})
    if fmt.endswith("%") and not fmt.endswith("%%"):
        bad.append("(a lone % at the end)")
    if bad:
        return [
            f"{path}: format {_q(fmt)} uses %{', %'.join(bad)}; "
            "the directives are %Y %y %m %d %H %I %M %S %f %p %b %z %%"
        ]
    return []


def expr_errors(node: Any, path: str, inputs: dict[str, Input], depth: int = 0, in_match: bool = False) -> list[str]:
    """Every problem of one expression, with its dotted path."""
    if depth > MAX_EXPR_DEPTH:
        return [f"{path}: nested more than {MAX_EXPR_DEPTH} expressions deep"]
    if isinstance(node, str):
        return [] if node.strip() else [f"{path}: an empty column name"]
    if not isinstance(node, dict):
        return [
            f"{path}: {_q(node)} is not an expression: give a source column's name, or one operator "
            f"({', '.join(OPERATORS)}); a number or a word like yes/no is a constant: {{const: ...}}"
        ]
    ops = [k for k in node if k in OPERATORS]
    if len(ops) != 1:
        what = f"two operators ({', '.join(map(str, ops))})" if ops else "no operator"
        return [f"{path}: {what}; an expression has exactly one of {', '.join(OPERATORS)}"]
    op = ops[0]
    kind, options, required = OPERATORS[op]
    errors: list[str] = []
    here = f"{path}.{op}"
    for key in node:
        if key != op and key not in options:
            known = ", ".join(options) or "none"
            errors.append(f"{path}.{_k(key)}: not an option of {op} (options: {known})")
    for key in required:
        if key not in node:
            errors.append(f"{path}: {op} needs {key}")
    value = node[op]
    if kind == "name":
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{here}: must be a column name (text)")
    elif kind == "scalar":
        if not isinstance(value, str | int | float | Decimal | bool):
            errors.append(f"{here}: must be a constant (text or number)")
    elif kind == "expr":
        if op == "lookup" and in_match:
            errors.append(f"{here}: a lookup's match may not hold another lookup")
        errors += expr_errors(value, here, inputs, depth + 1, in_match or op == "lookup")
    elif kind == "exprs":
        if not isinstance(value, list) or not value:
            errors.append(f"{here}: must be a list of expressions")
        elif op == "multiply" and len(value) != 2:
            errors.append(f"{here}: multiply takes exactly two factors")
        else:
            for i, item in enumerate(value):
                if op == "multiply" and isinstance(item, int | float | Decimal) and not isinstance(item, bool):
                    continue  # a number is a constant factor
                errors += expr_errors(item, f"{here}[{i}]", inputs, depth + 1, in_match)
    for key, what in options.items():
        if key not in node:
            continue
        v, p = node[key], f"{path}.{key}"
        if what == "text" and not isinstance(v, str):
            errors.append(f"{p}: must be text")
        elif what == "format":
            errors += (
                [f"{p}: must be a format text such as '%m/%d/%Y'"] if not isinstance(v, str) else _format_errors(v, p)
            )
        elif what == "zone":
            from orchestration.scheme.model import timezone_error

            if not isinstance(v, str) or (err := timezone_error(v)) is not None:
                errors.append(f"{p}: {err if isinstance(v, str) else 'must be a time zone name'}")
        elif what == "separator" and v not in (".", ",", " ", "'", ""):
            errors.append(f"{p}: {_q(v)} is not a separator (one of '.', ',', ' ', \"'\", or '' for none)")
        elif what == "texts" and (not isinstance(v, list) or not all(isinstance(x, str) and x for x in v)):
            errors.append(f"{p}: must be a list of texts, e.g. ['$', 'USD']")
        elif what == "input" and v not in inputs:
            errors.append(f"{p}: {_q(v)} is not an input (inputs: {', '.join(inputs) or 'none'})")
        elif what == "name" and (not isinstance(v, str) or not v.strip()):
            errors.append(f"{p}: must be a column name of the lookup's input")
        elif what == "lookup_expr":
            if _has_lookup(v):
                errors.append(f"{p}: may not hold a lookup")
            else:
                errors += expr_errors(v, p, inputs, depth + 1, True)
        elif what == "bool" and not isinstance(v, bool):
            errors.append(f"{p}: must be true or false")
        elif what == "scalar" and not isinstance(v, str | int | float | Decimal):
            errors.append(f"{p}: must be a constant (text or number)")
        elif what == "values":
            errors += _values_errors(v, p)
    if op == "number" and node.get("decimal", ".") == node.get("thousands", ""):
        errors.append(f"{path}: decimal and thousands separators must differ")
    if op == "map" and "default" in node and node.get("keep_others"):
        errors.append(f"{path}: give default or keep_others, not both")
    return errors


def _has_lookup(node: Any) -> bool:
    if isinstance(node, dict):
        return "lookup" in node or any(_has_lookup(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_lookup(v) for v in node)
    return False


def _values_errors(v: Any, p: str) -> list[str]:
    if not isinstance(v, dict) or not v:
        return [f"{p}: must be a mapping of source value -> contract value, e.g. {{Closed Won: won}}"]
    errors, seen = [], {}
    for key, to in v.items():
        if isinstance(key, bool) or isinstance(to, bool):
            errors.append(
                f"{p}: {_q(key)}: {_q(to)}: YAML reads an unquoted yes/no/on/off/true/false as a boolean; "
                "quote it ('Yes': ...)"
            )
            continue
        if key is None or not (to is None or isinstance(to, str | int | float | Decimal)):
            errors.append(f"{p}.{_k(key)}: must map a value to a text, a number or null (no value)")
            continue
        norm = str(key).strip().lower()
        text = None if to is None else scalar_text(to)
        if norm in seen and seen[norm][1] != text:
            errors.append(f"{p}: {_q(key)} and {_q(seen[norm][0])} are the same value (case and spaces aside)")
        seen[norm] = (key, text)
    return errors


def value_map(node: dict) -> dict[str, str | None]:
    """A map operator's values, keys lower-cased and trimmed; None: the value maps to no value."""
    return {str(k).strip().lower(): None if v is None else scalar_text(v) for k, v in node["values"].items()}


def scalar_text(v: Any) -> str:
    if isinstance(v, float):
        v = Decimal(repr(v))
    if isinstance(v, Decimal):
        text = format(v, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(v)
