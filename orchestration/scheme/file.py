"""The scheme file (SCORING.md "Scheme file"): loading, defaults and validation.

`load_scheme(path)` returns a validated `Scheme` or raises `SchemeError` whose `errors` list names
every offending key (dotted path) with a sentence a user can act on. Nothing is written before the
scheme validates: the run loads it first.
"""

from __future__ import annotations

import ast
import codecs
import reprlib
import stat
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

INDICATORS: tuple[str, ...] = (
    "sales_attainment",
    "collection_rate",
    "new_customers",
    "nps",
    "csat",
    "complaint_rate",
    "complaint_resolution_24h",
    "repeat_purchase_rate",
    "key_account_nps",
    "response_sla_rate",
    "median_response_hours",
    "requirement_accuracy",
    "followup_completion",
    "referral_rate",
)
# SCORING.md groups; an indicator needs these entities to have a value.
INDICATOR_GROUPS: dict[str, str] = {
    "sales_attainment": "performance",
    "collection_rate": "performance",
    "new_customers": "performance",
    "nps": "customer_feedback",
    "csat": "customer_feedback",
    "complaint_rate": "customer_feedback",
    "complaint_resolution_24h": "customer_feedback",
    "repeat_purchase_rate": "customer_feedback",
    "key_account_nps": "customer_feedback",
    "response_sla_rate": "process_quality",
    "median_response_hours": "process_quality",
    "requirement_accuracy": "process_quality",
    "followup_completion": "relationship",
    "referral_rate": "relationship",
}
SURVEY_CHANNELS = ("third_party", "rep_distributed", "crm_auto")
BUSINESS_STAGES = ("new_business", "mature")
METHODS = ("value", "ratio_to_target", "penalty_above", "penalty_below", "piecewise")
WEIGHT_TOLERANCE = Decimal("0.000001")


# Bounds on what a scheme file can make the product do (a hostile or broken file must fail fast, with
# a message of bounded size): file size, nesting depth, length of a quoted value, of one error line,
# and of the whole message.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_VALUE_CHARS = 80
MAX_ERROR_CHARS = 600
MAX_MESSAGE_CHARS = 4000
MAX_LISTED_ERRORS = 50
DEFAULT_ZONE = "Asia/Shanghai"

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 2, 6, 6, 4, 6
_REPR.maxstring = _REPR.maxother = MAX_VALUE_CHARS


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _q(value: Any) -> str:
    """A value from the file, quoted for a message: at most MAX_VALUE_CHARS characters of it, then '...'."""
    if isinstance(value, str):
        if len(value) <= MAX_VALUE_CHARS:
            return repr(value)
        return repr(value[:MAX_VALUE_CHARS] + "...")
    return _clip(_REPR.repr(value), MAX_VALUE_CHARS + 3)


def _k(key: Any) -> str:
    """A key from the file as one segment of a dotted path, at most MAX_VALUE_CHARS characters."""
    text = key if isinstance(key, str) else str(key)
    return _clip(text, MAX_VALUE_CHARS + 3)


class SchemeError(ValueError):
    """A scheme file that cannot be used; `errors` holds one message per problem.

    Every message is bounded: each error line to MAX_ERROR_CHARS characters, the whole message to
    about MAX_MESSAGE_CHARS (at most MAX_LISTED_ERRORS lines, then "... N more errors")."""

    def __init__(self, path: str, errors: list[str]):
        self.path = path
        self.errors = [_clip(str(e), MAX_ERROR_CHARS) for e in errors]
        head = f"{_clip(str(path), 300)}: {len(self.errors)} error(s) in the scheme file:"
        lines: list[str] = []
        size = len(head)
        for e in self.errors:
            if lines and (len(lines) >= MAX_LISTED_ERRORS or size + len(e) + 5 > MAX_MESSAGE_CHARS):
                break
            lines.append(e)
            size += len(e) + 5
        self.omitted = len(self.errors) - len(lines)
        if self.omitted:
            lines.append(f"... {self.omitted} more error{'s' if self.omitted > 1 else ''}")
        super().__init__(head + "\n  - " + "\n  - ".join(lines))


MAX_DECIMAL_DIGITS = 15  # numbers of the scheme file stay below 10**15 (Decimal arithmetic would overflow)


def _out_of_range(value: Any) -> Decimal | None:
    """The first Decimal in `value` (a Decimal, or a dict, list or tuple of them) that is too large."""
    if isinstance(value, Decimal):
        return value if value.is_finite() and value != 0 and value.adjusted() >= MAX_DECIMAL_DIGITS else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        if (bad := _out_of_range(item)) is not None:
            return bad
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _decimal_range(cls, v: Any) -> Any:
        if (bad := _out_of_range(v)) is not None:
            raise ValueError(
                f"number out of range: {_k(bad)} (at most {MAX_DECIMAL_DIGITS} digits before the decimal point)"
            )
        return v


class Currency(_Strict):
    base: str = "CNY"
    rates: dict[str, Decimal] = Field(default_factory=lambda: {"USD": Decimal("7.1")})

    @field_validator("rates")
    @classmethod
    def _positive(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in v.items():
            if rate <= 0:
                raise ValueError(f"rate for {_k(code)} must be > 0, got {_k(rate)}")
        return {k.upper(): r for k, r in v.items()}


class Survey(_Strict):
    count_channels: list[Literal["third_party", "rep_distributed", "crm_auto"]] = Field(
        default_factory=lambda: ["third_party", "crm_auto"], min_length=1
    )


class Sla(_Strict):
    response_hours: Decimal = Field(default=Decimal(4), gt=0)
    complaint_resolution_hours: Decimal = Field(default=Decimal(24), gt=0)
    followup_grace_days: int = Field(default=7, ge=0)


class Scoring(_Strict):
    method: Literal["value", "ratio_to_target", "penalty_above", "penalty_below", "piecewise"] = "value"
    target: Decimal | None = None
    cap: Decimal | None = None
    threshold: Decimal | None = None
    per_unit: Decimal | None = None
    max: Decimal | None = None
    min: Decimal | None = None
    points: list[tuple[Decimal, Decimal]] | None = None

    @model_validator(mode="after")
    def _params(self) -> Scoring:
        need = {
            "ratio_to_target": ("target",),
            "penalty_above": ("threshold", "per_unit", "max"),
            "penalty_below": ("threshold", "per_unit", "max"),
            "piecewise": ("points",),
        }.get(self.method, ())
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"method {self.method} needs {', '.join(missing)}")
        if self.method == "ratio_to_target" and self.target is not None and self.target <= 0:
            raise ValueError("target must be > 0")
        if self.method == "piecewise":
            xs = [p[0] for p in self.points or []]
            if len(xs) < 2:
                raise ValueError("piecewise needs at least two [value, score] points")
            if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
                raise ValueError("piecewise points must have strictly increasing values")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class SchemeDef(_Strict):
    weights: dict[str, Decimal]
    scoring: dict[str, Scoring] = Field(default_factory=dict)


class GradeBand(_Strict):
    label: str = Field(min_length=1)
    min: Decimal | None
    bonus_coefficient: Decimal | None = None


class ProgressPoints(_Strict):
    per_points_improved: Decimal = Field(default=Decimal(5), gt=0)
    points: Decimal = Field(default=Decimal(1), ge=0)
    max: Decimal = Field(default=Decimal(5), ge=0)


class Adjustments(_Strict):
    max_abs_points: Decimal = Field(default=Decimal(5), ge=0)


class Scheme(_Strict):
    timezone: str = "Asia/Shanghai"
    grain: Literal["month", "quarter", "year"] = "quarter"
    currency: Currency = Field(default_factory=Currency)
    min_sample: dict[str, int] = Field(default_factory=lambda: {"default": 5, "nps": 10})
    survey: Survey = Field(default_factory=Survey)
    sla: Sla = Field(default_factory=Sla)
    schemes: dict[str, SchemeDef]
    grades: list[GradeBand] = Field(min_length=1)
    progress_points: ProgressPoints = Field(default_factory=ProgressPoints)
    adjustments: Adjustments = Field(default_factory=Adjustments)
    coverage_min: Decimal = Field(default=Decimal("0.7"), ge=0, le=1)
    anomalies: dict[str, Any] = Field(default_factory=dict)
    encodings: dict[str, str] = Field(default_factory=dict)  # per entity, e.g. {"crm/reps": "gb18030"}
    closed_periods: list[str] = Field(default_factory=list)  # e.g. [2026-Q1]: published grades frozen
    first_period: str | None = None  # first Dagster partition (label of the grain); default: first of 2020

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        if (err := timezone_error(v)) is not None:
            raise ValueError(err)
        return v

    @field_validator("encodings")
    @classmethod
    def _codec_names(cls, v: dict[str, str]) -> dict[str, str]:
        """Declared encodings under their canonical codec names (GBK -> gbk, UTF8 -> utf-8); unknown
        ones are left as written and reported by `_encoding_errors`."""
        return {entity: _codec_name(codec) or codec for entity, codec in v.items()}

    def min_sample_for(self, indicator: str) -> int:
        return self.min_sample.get(indicator, self.min_sample.get("default", 5))


# --- time zones and encodings -------------------------------------------------------------------


@cache
def warehouse_time_zones() -> frozenset[str] | None:
    """The time zone names the warehouse engine accepts in `set TimeZone` (DuckDB's own list), or None
    when the engine cannot list them."""
    import duckdb

    try:
        with duckdb.connect(":memory:") as con:
            return frozenset(r[0] for r in con.execute("select name from pg_timezone_names()").fetchall())
    except duckdb.Error:
        return None


def _python_accepts_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError (bad key), OSError (name too long), ...
        return False
    return True


def _suggested_zone(name: str, zones: frozenset[str] | None) -> str:
    """The IANA name the user probably meant: posix/ and right/ prefixes dropped, case and spaces fixed."""
    if zones:
        by_lower = {z.lower(): z for z in zones}
        candidate = name.strip()
        for prefix in ("posix/", "right/"):
            if candidate.lower().startswith(prefix):
                candidate = candidate[len(prefix) :]
        found = by_lower.get(candidate.lower())
        if found is not None and _python_accepts_zone(found):
            return found
    return DEFAULT_ZONE


def timezone_error(name: str) -> str | None:
    """Why `name` cannot be the scheme's time zone, or None. It must be a name both engines accept: the
    warehouse (DuckDB `set TimeZone`, checked against its own list) and Python's zoneinfo."""
    zones = warehouse_time_zones()
    in_warehouse = zones is None or name in zones
    in_python = _python_accepts_zone(name) if len(name) <= 255 else False
    if in_warehouse and in_python:
        return None
    hint = f"use an IANA name such as {_suggested_zone(name, zones)}"
    machine_only = name == "localtime" or name.startswith(("posix/", "right/"))  # files of this machine's tzdata
    if in_python or machine_only:
        return f"{_q(name)} is not a time zone the warehouse accepts; {hint}"
    if in_warehouse:
        return f"{_q(name)} is not a time zone Python's zoneinfo knows; {hint}"
    return f"unknown time zone {_q(name)} ({hint})"


def _codec_name(name: str) -> str | None:
    """Canonical name of a text codec Python knows, or None."""
    try:
        info = codecs.lookup(name)
    except Exception:  # LookupError; TypeError, ValueError for odd names
        return None
    return info.name


def _encoding_errors(encodings: dict[str, str]) -> list[str]:
    if not encodings:
        return []
    from orchestration.contract.spec import entity_specs  # pandera models: imported only when encodings are declared

    known = [s.entity for s in entity_specs()]
    errors = []
    for entity, codec in encodings.items():
        if entity not in known:
            errors.append(f"encodings.{_k(entity)}: unknown entity (known: {', '.join(known)})")
        if _codec_name(codec) is None:
            errors.append(f"encodings.{_k(entity)}: unknown codec {_q(codec)}")
        elif not getattr(codecs.lookup(codec), "_is_text_encoding", True):
            errors.append(f"encodings.{_k(entity)}: {_q(codec)} is not a text encoding (bytes to bytes or str to str)")
    return errors


ANOMALY_MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "anomaly_settings.sql"


@cache
def anomaly_rule_settings() -> dict[str, list[str]]:
    """Rules and settings of the anomaly rules, read from the dbt macro that owns them
    (`anomaly_rules()` in dbt_project/macros/anomaly_settings.sql), so the two cannot drift."""
    text = ANOMALY_MACROS.read_text(encoding="utf-8")
    body = text[text.index("macro anomaly_rules()") :]
    literal = body[body.index("return(") + len("return(") : body.index(") }}")]
    return ast.literal_eval(literal.strip())


# Review policy per rule (SCORING.md "From flag to decision"): what an open flag does to its subject's
# grade (`hold`: published with grade_status 'held' and no bonus coefficient; `note`: nothing) and what a
# confirmed one does (`exclude_responses`: its responses leave the survey figures; `penalty`: minus
# `penalty_points` on the final score; `note`: nothing).
POLICY_ON_OPEN = ("hold", "note")
POLICY_ON_CONFIRM = ("exclude_responses", "penalty", "note")
POLICY_KEYS = ("on_open", "on_confirm", "penalty_points")
# only the rules whose flags are about given responses have responses to exclude
RESPONSE_RULES = ("self_filled_survey", "speeder_burst")
POLICY_DEFAULTS: dict[str, dict[str, Any]] = {
    "hidden_complaint": {"on_open": "hold", "on_confirm": "note"},
    "complaint_underreporting": {"on_open": "note", "on_confirm": "note"},
    "inflated_self_report": {"on_open": "note", "on_confirm": "note"},
    "channel_gap": {"on_open": "note", "on_confirm": "note"},
    "self_filled_survey": {"on_open": "hold", "on_confirm": "exclude_responses"},
    "speeder_burst": {"on_open": "hold", "on_confirm": "exclude_responses"},
    "fabricated_contact": {"on_open": "hold", "on_confirm": "note"},
}


def anomaly_policy(anomalies: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """rule -> {on_open, on_confirm, penalty_points (Decimal, 0 unless on_confirm is penalty)}: the
    scheme's `anomalies.policy` over POLICY_DEFAULTS, key by key (a validated scheme)."""
    configured = (anomalies or {}).get("policy") or {}
    out = {}
    for rule, default in POLICY_DEFAULTS.items():
        values = default | (configured.get(rule) or {})
        points = Decimal(str(values.get("penalty_points", 0))) if values["on_confirm"] == "penalty" else Decimal(0)
        out[rule] = {"on_open": values["on_open"], "on_confirm": values["on_confirm"], "penalty_points": points}
    return out


def _policy_errors(policy: Any) -> list[str]:
    if policy is None:
        return []
    if not isinstance(policy, dict):
        return [
            f"anomalies.policy: must be a mapping of rule -> {{on_open, on_confirm, penalty_points}}, got {_q(policy)}"
        ]
    errors = []
    for rule, values in policy.items():
        where = f"anomalies.policy.{_k(rule)}"
        if rule not in POLICY_DEFAULTS:
            errors.append(f"{where}: unknown rule (rules: {', '.join(POLICY_DEFAULTS)})")
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            errors.append(f"{where}: must be a mapping with on_open, on_confirm, penalty_points")
            continue
        for key in values:
            if key not in POLICY_KEYS:
                errors.append(f"{where}.{_k(key)}: unknown setting (settings: {', '.join(POLICY_KEYS)})")
        on_open = values.get("on_open", POLICY_DEFAULTS[rule]["on_open"])
        on_confirm = values.get("on_confirm", POLICY_DEFAULTS[rule]["on_confirm"])
        if on_open not in POLICY_ON_OPEN:
            errors.append(f"{where}.on_open: must be one of {', '.join(POLICY_ON_OPEN)}, got {_q(on_open)}")
        if on_confirm not in POLICY_ON_CONFIRM:
            errors.append(f"{where}.on_confirm: must be one of {', '.join(POLICY_ON_CONFIRM)}, got {_q(on_confirm)}")
        elif on_confirm == "exclude_responses" and rule not in RESPONSE_RULES:
            errors.append(
                f"{where}.on_confirm: exclude_responses applies only to the rules whose flags are about given "
                f"responses ({', '.join(RESPONSE_RULES)}); {rule} flags a rep's period: use penalty or note"
            )
        points = values.get("penalty_points")
        if on_confirm == "penalty":
            if points is None:
                errors.append(f"{where}.penalty_points: required with on_confirm: penalty (points taken off)")
            elif isinstance(points, bool) or not isinstance(points, (int, float)):
                errors.append(f"{where}.penalty_points: must be a number, got {_q(points)}")
            elif not 0 < points <= 100:
                errors.append(f"{where}.penalty_points: must lie in (0, 100], got {_k(points)}")
            elif Decimal(str(points)) != Decimal(str(points)).quantize(Decimal("0.01")):
                errors.append(f"{where}.penalty_points: at most 2 decimals (scores are kept to 2), got {_k(points)}")
        elif points is not None and on_confirm in POLICY_ON_CONFIRM:
            errors.append(f"{where}.penalty_points: only with on_confirm: penalty (on_confirm is {on_confirm})")
    return errors


def _anomaly_errors(anomalies: dict[str, Any]) -> list[str]:
    known = anomaly_rule_settings()
    errors = []
    for rule, values in anomalies.items():
        if rule == "policy":
            errors += _policy_errors(values)
            continue
        if rule not in known:
            errors.append(f"anomalies.{_k(rule)}: unknown rule (rules: {', '.join(known)})")
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            errors.append(f"anomalies.{_k(rule)}: must be a mapping of setting -> value")
            continue
        for key, value in values.items():
            if key not in known[rule]:
                errors.append(f"anomalies.{rule}.{_k(key)}: unknown setting (settings: {', '.join(known[rule])})")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"anomalies.{rule}.{_k(key)}: must be a number, got {_q(value)}")
            elif key == "confidence" and not 0 < value < 1:
                errors.append(f"anomalies.{rule}.confidence: must lie strictly between 0 and 1, got {_k(value)}")
    return errors


def _semantic_errors(s: Scheme) -> list[str]:
    from orchestration.periods import label_error

    errors: list[str] = _anomaly_errors(s.anomalies) + _encoding_errors(s.encodings)
    for i, label in enumerate(s.closed_periods):
        if (err := label_error(label, s.grain)) is not None:
            errors.append(f"closed_periods[{i}]: {err}")
    if s.first_period is not None and (err := label_error(s.first_period, s.grain)) is not None:
        errors.append(f"first_period: {err}")
    if len(set(s.closed_periods)) != len(s.closed_periods):
        errors.append("closed_periods: a period is listed twice")
    for key, n in s.min_sample.items():
        if key != "default" and key not in INDICATORS:
            errors.append(f"min_sample.{_k(key)}: unknown indicator (catalogue: {', '.join(INDICATORS)})")
        if n < 1:
            errors.append(f"min_sample.{_k(key)}: must be >= 1, got {_k(n)}")
    for stage in BUSINESS_STAGES:
        if stage not in s.schemes:
            errors.append(f"schemes.{stage}: missing; every business_stage needs a scheme")
    for name, sch in s.schemes.items():
        if name not in BUSINESS_STAGES:
            errors.append(f"schemes.{_k(name)}: unknown scheme; names are the business stages {BUSINESS_STAGES}")
        if not sch.weights:
            errors.append(f"schemes.{_k(name)}.weights: empty")
        for ind, w in sch.weights.items():
            if ind not in INDICATORS:
                errors.append(
                    f"schemes.{_k(name)}.weights.{_k(ind)}: unknown indicator (catalogue: {', '.join(INDICATORS)})"
                )
            if w <= 0:
                errors.append(f"schemes.{_k(name)}.weights.{_k(ind)}: weight must be > 0, got {_k(w)}")
        total = sum(sch.weights.values(), Decimal(0))
        if sch.weights and abs(total - 1) > WEIGHT_TOLERANCE:
            errors.append(f"schemes.{_k(name)}.weights: weights add up to {_k(total)}, not 1")
        for ind in sch.scoring:
            if ind not in INDICATORS:
                errors.append(f"schemes.{_k(name)}.scoring.{_k(ind)}: unknown indicator")
    mins = [g.min for g in s.grades]
    if mins and mins[-1] is not None:
        errors.append(f"grades[{len(mins) - 1}].min: the last (lowest) band must have min: null")
    for i, m in enumerate(mins[:-1]):
        if m is None:
            errors.append(f"grades[{i}].min: only the last band may have min: null")
    numeric = [(i, m) for i, m in enumerate(mins) if m is not None]
    for (_i, a), (j, b) in zip(numeric, numeric[1:], strict=False):
        if b >= a:
            errors.append(f"grades[{j}].min: bands out of order ({_k(b)} after {_k(a)}); list the highest band first")
    labels = [g.label for g in s.grades]
    if len(set(labels)) != len(labels):
        errors.append("grades: band labels must be unique")
    if "insufficient_data" in labels:
        errors.append("grades: 'insufficient_data' is reserved for subjects below coverage_min")
    return errors


def _format_pydantic(exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(f"[{p}]" if isinstance(p, int) else _k(p) for p in e["loc"]).replace(".[", "[")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        out.append(f"{loc or '(top level)'}: {msg}")
    return out


_KINDS = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}


def parse_scheme(data: Any, path: str = "<scheme>") -> Scheme:
    if data is None:
        raise SchemeError(path, ["(top level): the scheme file is empty; it needs at least schemes and grades"])
    if not isinstance(data, dict):
        kind = _KINDS.get(type(data), type(data).__name__)
        raise SchemeError(
            path, [f"(top level): the scheme file must be a YAML mapping (key: value lines), got a {kind}"]
        )
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(path, _format_pydantic(exc)) from None
    errors = _semantic_errors(scheme)
    if errors:
        raise SchemeError(path, errors)
    return scheme


# --- reading the file --------------------------------------------------------------------------


class _Refused(yaml.YAMLError):
    """Something the scheme loader refuses before building anything (anchors, aliases, deep nesting)."""

    def __init__(self, mark: yaml.Mark, message: str):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Guards:
    """Refuses YAML anchors and aliases while composing, so nothing is ever expanded ("billion laughs":
    a few KB of aliases stand for billions of values), and nesting deeper than MAX_DEPTH (the composer
    recurses). Values that cannot be built (a date like 2026-13-45, an integer of more than 4300
    digits) become YAML errors naming their line instead of a bare ValueError."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "YAML anchors and aliases (&a / *a) are not allowed in a scheme file")
        if self._depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, ArithmeticError, TypeError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else None
            if node.tag == "tag:yaml.org,2002:timestamp":
                problem = f"{_q(value)} looks like a date but is not one ({exc}); quote it if it is text"
            elif node.tag == "tag:yaml.org,2002:int":
                problem = f"{_q(value)}: an integer with too many digits"
            else:
                problem = f"cannot read {_q(value) if value is not None else 'the value'}: {exc}"
            raise _Refused(node.start_mark, problem) from None


class PySchemeLoader(_Guards, yaml.SafeLoader):
    """yaml.SafeLoader with the _Guards checks (pure Python; used when PyYAML has no libyaml)."""

    BYTE_OFFSETS = False  # reader-error positions are character offsets


try:  # libyaml's event parser (C) under PyYAML's own composer, so that _Guards sees every event
    from yaml._yaml import CParser as _CParser
except ImportError:  # PyYAML built without libyaml
    _CParser = None

if _CParser is not None:

    class CSchemeLoader(
        _Guards, yaml.composer.Composer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """SafeLoader's constructor and resolver on libyaml's parser (about 6x faster than PySchemeLoader
        on a 1 MB file), composed in Python with the _Guards checks."""

        BYTE_OFFSETS = True  # libyaml reports reader-error positions in UTF-8 bytes

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)

    SchemeLoader: type = CSchemeLoader
else:
    SchemeLoader = PySchemeLoader


def _yaml_error_line(name: str, text: str, exc: yaml.YAMLError, byte_offsets: bool) -> str:
    """One line naming the file and line of a YAML error."""
    if isinstance(exc, _Refused):
        return f"{name} line {exc.mark.line + 1}: {exc.message}"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        if "exceeded maximum nesting depth" in (exc.problem or ""):  # libyaml's own limit (1000 flow levels)
            return f"{name} line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep"
        problem = exc.problem or "syntax error"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        return f"{name} line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}"
    if isinstance(exc, yaml.reader.ReaderError):
        pos = max(exc.position, 0)
        line = (text.encode("utf-8").count(b"\n", 0, pos) if byte_offsets else text.count("\n", 0, pos)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        return f"{name} line {line}: not valid YAML: character #x{char:04x} is not allowed ({exc.reason})"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{name}: not valid YAML: {first}"


def _read_scheme_text(p: Path) -> str:
    """The file's text, read as UTF-8 (a UTF-8 BOM is allowed), at most MAX_FILE_BYTES."""
    where, name = str(p), p.name or str(p)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError, ValueError):
        raise SchemeError(where, [f"file not found: {p}"]) from None
    except OSError as exc:
        raise SchemeError(where, [f"cannot read {p}: {exc.strerror or exc}"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise SchemeError(where, [f"{p} is a directory, not a scheme file"])
    if not stat.S_ISREG(st.st_mode):
        raise SchemeError(where, [f"{p} is not a regular file (a device, a pipe or a socket)"])
    too_big = f"{name}: the scheme file is larger than {MAX_FILE_BYTES:,} bytes (1 MB); a scheme file is a few KB"
    if st.st_size > MAX_FILE_BYTES:
        raise SchemeError(where, [f"{too_big} (this one: {st.st_size:,} bytes)"])
    try:
        with p.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # bounded even when the size on disk was wrong (/proc, growing)
    except OSError as exc:
        raise SchemeError(where, [f"cannot read {p}: {exc.strerror or exc}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise SchemeError(where, [too_big])
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SchemeError(where, [f"{name}: the file is UTF-16; save the scheme file as UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SchemeError(
            where,
            [
                f"{name} line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column}); "
                "save the scheme file as UTF-8"
            ],
        ) from None


def read_scheme_yaml(text: str, name: str = "<scheme>", where: str = "<scheme>", loader: type | None = None) -> Any:
    """The data of a scheme file's text; SchemeError naming the line when it is not acceptable YAML
    (syntax, anchors and aliases, nesting, values that cannot be built)."""
    loader = loader or SchemeLoader
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - SafeConstructor and Resolver only
    except yaml.YAMLError as exc:
        raise SchemeError(where, [_yaml_error_line(name, text, exc, loader.BYTE_OFFSETS)]) from None
    except RecursionError:
        raise SchemeError(where, [f"{name}: nested too deeply"]) from None


def load_scheme(path: str | Path) -> Scheme:
    """The validated scheme of the file at `path`; SchemeError (and nothing else) when it cannot be used."""
    p = Path(path)
    text = _read_scheme_text(p)
    data = read_scheme_yaml(text, p.name or str(p), str(p))
    return parse_scheme(data, str(p))


# --- what dbt receives -------------------------------------------------------------------------


def dbt_vars(s: Scheme, as_of_utc: str) -> dict[str, Any]:
    """Scalars of the scheme as dbt vars (weights and methods travel as cfg_* tables)."""
    return {
        "timezone": s.timezone,
        "grain": s.grain,
        "as_of": as_of_utc,
        "count_channels": list(s.survey.count_channels),
        "sla_response_hours": float(s.sla.response_hours),
        "complaint_resolution_hours": float(s.sla.complaint_resolution_hours),
        "followup_grace_days": s.sla.followup_grace_days,
        "min_sample": dict(s.min_sample),
        "coverage_min": float(s.coverage_min),
        "progress_per_points": float(s.progress_points.per_points_improved),
        "progress_points": float(s.progress_points.points),
        "progress_max": float(s.progress_points.max),
        "adjust_max_abs": float(s.adjustments.max_abs_points),
        "currency_base": s.currency.base.upper(),
        "currency_rates": {k: float(v) for k, v in s.currency.rates.items()},
        # the review policy travels as raw.cfg_anomaly_policy
        "anomalies": {k: v for k, v in s.anomalies.items() if k != "policy"},
    }


def cfg_rows(s: Scheme) -> dict[str, list[tuple]]:
    """Rows of raw.cfg_scheme_weights, raw.cfg_scoring_points and raw.cfg_grade_bands."""
    weights, points = [], []
    for name in sorted(s.schemes):
        sch = s.schemes[name]
        for ind in INDICATORS:
            sc = sch.scoring.get(ind, Scoring())
            weights.append(
                (
                    name,
                    ind,
                    sch.weights.get(ind, Decimal(0)),
                    sc.method,
                    sc.target,
                    sc.cap,
                    sc.threshold,
                    sc.per_unit,
                    sc.max,
                    sc.min,
                )
            )
            for seq, (x, y) in enumerate(sc.points or [], start=1):
                points.append((name, ind, seq, x, y))
    bands = [(i, g.label, g.min, g.bonus_coefficient) for i, g in enumerate(s.grades, start=1)]
    policy = [
        (rule, p["on_open"], p["on_confirm"], p["penalty_points"]) for rule, p in anomaly_policy(s.anomalies).items()
    ]
    return {
        "cfg_scheme_weights": weights,
        "cfg_scoring_points": points,
        "cfg_grade_bands": bands,
        "cfg_anomaly_policy": policy,
    }


def scheme_partitioning(path: str | Path) -> tuple[str, str | None]:
    """Grain and first period of the scheme file at `path`; quarterly from 2020 when it cannot be read
    (a run then stops at scheme_config with the file's errors)."""
    try:
        scheme = load_scheme(path)
    except (SchemeError, OSError):
        return "quarter", None
    return scheme.grain, scheme.first_period
