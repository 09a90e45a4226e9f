"""The `anomalies:` section of the scheme file: each rule's settings and its review policy
(SCORING.md "Anomaly rules", "From flag to decision"). The rules, their settings with defaults and their
default policy are the catalogue's (orchestration/catalogue.py); this module validates the section and
resolves the policy the run writes as raw.cfg_anomaly_policy.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orchestration.catalogue import ANOMALY_RULE_BY_ID, POLICY_DEFAULTS, RESPONSE_RULES
from orchestration.scheme.errors import _k, _q

# Review policy per rule (SCORING.md "From flag to decision"): what an open flag does to its subject's
# grade (`hold`: published with grade_status 'held' and no bonus coefficient; `note`: nothing) and what a
# confirmed one does (`exclude_responses`: its responses leave the survey figures; `penalty`: minus
# `penalty_points` on the final score; `note`: nothing).
POLICY_ON_OPEN = ("hold", "note")
POLICY_ON_CONFIRM = ("exclude_responses", "penalty", "note")
POLICY_KEYS = ("on_open", "on_confirm", "penalty_points")


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


def anomaly_errors(anomalies: dict[str, Any]) -> list[str]:
    """One message per wrong key of the scheme's `anomalies:` mapping (rules, settings, policy)."""
    known = {rule: list(r.settings) for rule, r in ANOMALY_RULE_BY_ID.items()}
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
