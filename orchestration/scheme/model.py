"""The scheme file's model (SCORING.md "Scheme file"): defaults and validation.

`parse_scheme(data)` returns a validated `Scheme` or raises `SchemeError` whose `errors` list names every
offending key (dotted path) with a sentence a user can act on. Reading the file is scheme/file.py; what
the run writes for dbt is scheme/dbt_vars.py.
"""

from __future__ import annotations

import codecs
from decimal import Decimal
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from orchestration.catalogue import INDICATOR_IDS
from orchestration.scheme.anomalies import anomaly_errors
from orchestration.scheme.errors import SchemeError, _k, _q

SURVEY_CHANNELS = ("third_party", "rep_distributed", "crm_auto")
BUSINESS_STAGES = ("new_business", "mature")
METHODS = ("value", "ratio_to_target", "penalty_above", "penalty_below", "piecewise")
WEIGHT_TOLERANCE = Decimal("0.000001")
DEFAULT_ZONE = "Asia/Shanghai"


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
    # a rep's or team's survey figure from fewer answers than this shows no value and no numerator in
    # any published mart or report (SCORING.md; docs/analysis.md "Small-cell protection")
    anonymity_k: int = Field(default=5, ge=1)


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
    label: str = Field(min_length=1)  # the grade's id (marts.scorecard.grade)
    min: Decimal | None
    bonus_coefficient: Decimal | None = None
    # what readers see instead of the id (docs/languages.md); default: the catalogue's name of a known
    # id (orchestration/catalogue.py GRADE_LABELS), else the id
    name_en: str | None = Field(default=None, min_length=1)
    name_zh: str | None = Field(default=None, min_length=1)


class Report(_Strict):
    language: Literal["en", "zh-CN"] = "en"  # of the reports and of the marts' text columns (SCORING.md "Reports")


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
    report: Report = Field(default_factory=Report)
    # the mapping of vendors' exports to the contract (docs/mapping.md): inline, or the path of a sources.yml
    # (relative to the scheme file); checked by parse_scheme, read with `mapping()`
    sources: dict[str, Any] | str | None = None
    _mapping: Any = PrivateAttr(default=None)

    def ingest_fields(self) -> dict:
        """What ingestion takes from the scheme (IngestRun and SparkIngestRun fields)."""
        return {
            "timezone": self.timezone,
            "base_currency": self.currency.base,
            "currencies": tuple(self.currency.rates),
            "encodings": dict(self.encodings),
        }

    def mapping(self):
        """The scheme file's source mapping (orchestration.mapping.model.Sources), or None."""
        return self._mapping

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

    def grade_names(self) -> dict[str, dict[str, str]]:
        """grade id -> {language: name} for the bands that give names (orchestration.catalogue.grade_label)."""
        names: dict[str, dict[str, str]] = {}
        for g in self.grades:
            own = {"en": g.name_en, "zh-CN": g.name_zh}
            if any(own.values()):
                names[g.label] = {k: v for k, v in own.items() if v}
        return names

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


def _semantic_errors(s: Scheme) -> list[str]:
    from orchestration.periods import label_error

    errors: list[str] = anomaly_errors(s.anomalies) + _encoding_errors(s.encodings)
    for i, label in enumerate(s.closed_periods):
        if (err := label_error(label, s.grain)) is not None:
            errors.append(f"closed_periods[{i}]: {err}")
    if s.first_period is not None and (err := label_error(s.first_period, s.grain)) is not None:
        errors.append(f"first_period: {err}")
    if len(set(s.closed_periods)) != len(s.closed_periods):
        errors.append("closed_periods: a period is listed twice")
    for key, n in s.min_sample.items():
        if key != "default" and key not in INDICATOR_IDS:
            errors.append(f"min_sample.{_k(key)}: unknown indicator (catalogue: {', '.join(INDICATOR_IDS)})")
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
            if ind not in INDICATOR_IDS:
                errors.append(
                    f"schemes.{_k(name)}.weights.{_k(ind)}: unknown indicator (catalogue: {', '.join(INDICATOR_IDS)})"
                )
            if w <= 0:
                errors.append(f"schemes.{_k(name)}.weights.{_k(ind)}: weight must be > 0, got {_k(w)}")
        total = sum(sch.weights.values(), Decimal(0))
        if sch.weights and abs(total - 1) > WEIGHT_TOLERANCE:
            errors.append(f"schemes.{_k(name)}.weights: weights add up to {_k(total)}, not 1")
        for ind in sch.scoring:
            if ind not in INDICATOR_IDS:
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
    if scheme.sources is not None:
        errors += _mapping_errors(scheme, path)
    if errors:
        raise SchemeError(path, errors)
    return scheme


def _mapping_errors(scheme: Scheme, path: str) -> list[str]:
    """The `sources` key: an inline mapping (checked as a sources.yml is, paths under the scheme file's
    folder) or a sources.yml's path. Sets the scheme's mapping."""
    from pathlib import Path

    from orchestration.mapping.model import load_sources, parse_sources

    base = Path(path).resolve().parent if not path.startswith("<") else Path.cwd()
    try:
        if isinstance(scheme.sources, str):
            mapping = load_sources(base / scheme.sources)
        else:
            mapping = parse_sources(scheme.sources, f"{path}#sources", base, prefix="sources.")
    except SchemeError as exc:
        where = "" if isinstance(scheme.sources, dict) else f"sources ({exc.path}): "
        return [where + e for e in exc.errors]
    scheme._mapping = mapping
    return []
