"""The scheme file (SCORING.md "Scheme file"): loading, defaults and validation.

`load_scheme(path)` returns a validated `Scheme` or raises `SchemeError` whose `errors` list names
every offending key (dotted path) with a sentence a user can act on. Nothing is written before the
scheme validates: the run loads it first.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


class SchemeError(ValueError):
    """A scheme file that cannot be used; `errors` holds one message per problem."""

    def __init__(self, path: str, errors: list[str]):
        self.path = path
        self.errors = errors
        super().__init__(f"{path}: {len(errors)} error(s) in the scheme file:\n  - " + "\n  - ".join(errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Currency(_Strict):
    base: str = "CNY"
    rates: dict[str, Decimal] = Field(default_factory=lambda: {"USD": Decimal("7.1")})

    @field_validator("rates")
    @classmethod
    def _positive(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in v.items():
            if rate <= 0:
                raise ValueError(f"rate for {code} must be > 0, got {rate}")
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
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from exc
        return v

    def min_sample_for(self, indicator: str) -> int:
        return self.min_sample.get(indicator, self.min_sample.get("default", 5))


ANOMALY_MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "anomaly_settings.sql"


@cache
def anomaly_rule_settings() -> dict[str, list[str]]:
    """Rules and settings of the anomaly rules, read from the dbt macro that owns them
    (`anomaly_rules()` in dbt_project/macros/anomaly_settings.sql), so the two cannot drift."""
    text = ANOMALY_MACROS.read_text(encoding="utf-8")
    body = text[text.index("macro anomaly_rules()") :]
    literal = body[body.index("return(") + len("return(") : body.index(") }}")]
    return ast.literal_eval(literal.strip())


def _anomaly_errors(anomalies: dict[str, Any]) -> list[str]:
    known = anomaly_rule_settings()
    errors = []
    for rule, values in anomalies.items():
        if rule not in known:
            errors.append(f"anomalies.{rule}: unknown rule (rules: {', '.join(known)})")
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            errors.append(f"anomalies.{rule}: must be a mapping of setting -> value")
            continue
        for key, value in values.items():
            if key not in known[rule]:
                errors.append(f"anomalies.{rule}.{key}: unknown setting (settings: {', '.join(known[rule])})")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"anomalies.{rule}.{key}: must be a number, got {value!r}")
            elif key == "confidence" and not 0 < value < 1:
                errors.append(f"anomalies.{rule}.confidence: must lie strictly between 0 and 1, got {value}")
    return errors


def _semantic_errors(s: Scheme) -> list[str]:
    from ..periods import label_error

    errors: list[str] = _anomaly_errors(s.anomalies)
    for i, label in enumerate(s.closed_periods):
        if (err := label_error(label, s.grain)) is not None:
            errors.append(f"closed_periods[{i}]: {err}")
    if s.first_period is not None and (err := label_error(s.first_period, s.grain)) is not None:
        errors.append(f"first_period: {err}")
    if len(set(s.closed_periods)) != len(s.closed_periods):
        errors.append("closed_periods: a period is listed twice")
    for key, n in s.min_sample.items():
        if key != "default" and key not in INDICATORS:
            errors.append(f"min_sample.{key}: unknown indicator (catalogue: {', '.join(INDICATORS)})")
        if n < 1:
            errors.append(f"min_sample.{key}: must be >= 1, got {n}")
    for stage in BUSINESS_STAGES:
        if stage not in s.schemes:
            errors.append(f"schemes.{stage}: missing; every business_stage needs a scheme")
    for name, sch in s.schemes.items():
        if name not in BUSINESS_STAGES:
            errors.append(f"schemes.{name}: unknown scheme; names are the business stages {BUSINESS_STAGES}")
        if not sch.weights:
            errors.append(f"schemes.{name}.weights: empty")
        for ind, w in sch.weights.items():
            if ind not in INDICATORS:
                errors.append(f"schemes.{name}.weights.{ind}: unknown indicator (catalogue: {', '.join(INDICATORS)})")
            if w <= 0:
                errors.append(f"schemes.{name}.weights.{ind}: weight must be > 0, got {w}")
        total = sum(sch.weights.values(), Decimal(0))
        if sch.weights and abs(total - 1) > WEIGHT_TOLERANCE:
            errors.append(f"schemes.{name}.weights: weights add up to {total}, not 1")
        for ind in sch.scoring:
            if ind not in INDICATORS:
                errors.append(f"schemes.{name}.scoring.{ind}: unknown indicator")
    mins = [g.min for g in s.grades]
    if mins and mins[-1] is not None:
        errors.append(f"grades[{len(mins) - 1}].min: the last (lowest) band must have min: null")
    for i, m in enumerate(mins[:-1]):
        if m is None:
            errors.append(f"grades[{i}].min: only the last band may have min: null")
    numeric = [(i, m) for i, m in enumerate(mins) if m is not None]
    for (_i, a), (j, b) in zip(numeric, numeric[1:], strict=False):
        if b >= a:
            errors.append(f"grades[{j}].min: bands out of order ({b} after {a}); list the highest band first")
    labels = [g.label for g in s.grades]
    if len(set(labels)) != len(labels):
        errors.append("grades: band labels must be unique")
    if "insufficient_data" in labels:
        errors.append("grades: 'insufficient_data' is reserved for subjects below coverage_min")
    return errors


def _format_pydantic(exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e["loc"]).replace(".[", "[")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        out.append(f"{loc or '(top level)'}: {msg}")
    return out


def parse_scheme(data: Any, path: str = "<scheme>") -> Scheme:
    if not isinstance(data, dict):
        raise SchemeError(path, ["(top level): the scheme file must be a YAML mapping"])
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as exc:
        raise SchemeError(path, _format_pydantic(exc)) from None
    errors = _semantic_errors(scheme)
    if errors:
        raise SchemeError(path, errors)
    return scheme


def load_scheme(path: str | Path) -> Scheme:
    p = Path(path)
    if not p.is_file():
        raise SchemeError(str(p), [f"file not found: {p}"])
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SchemeError(str(p), [f"not valid YAML: {exc}"]) from None
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
        "anomalies": dict(s.anomalies),
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
    return {"cfg_scheme_weights": weights, "cfg_scoring_points": points, "cfg_grade_bands": bands}
