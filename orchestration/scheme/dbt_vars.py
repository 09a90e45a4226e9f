"""What a run gives dbt from the scheme file: scalar dbt vars and the rows of the raw.cfg_* tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orchestration.catalogue import INDICATOR_IDS
from orchestration.scheme.anomalies import anomaly_policy
from orchestration.scheme.model import Scheme, Scoring


def dbt_vars(s: Scheme, as_of_utc: str) -> dict[str, Any]:
    """Scalars of the scheme as dbt vars (weights and methods travel as cfg_* tables)."""
    return {
        "timezone": s.timezone,
        "grain": s.grain,
        "as_of": as_of_utc,
        "count_channels": list(s.survey.count_channels),
        "anonymity_k": s.survey.anonymity_k,
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
        "report_language": s.report.language,  # the marts' sentences (macros/report_text.sql)
    }


def cfg_rows(s: Scheme) -> dict[str, list[tuple]]:
    """Rows of raw.cfg_scheme_weights, raw.cfg_scoring_points and raw.cfg_grade_bands."""
    weights, points = [], []
    for name in sorted(s.schemes):
        sch = s.schemes[name]
        for ind in INDICATOR_IDS:
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
