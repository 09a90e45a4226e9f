"""Scheme file validation: every error names its key."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from orchestration.cli import main
from orchestration.config.scheme import INDICATORS, SchemeError, cfg_rows, dbt_vars, load_scheme, parse_scheme

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "config" / "scorecard.yml"


def _default() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def _errors(data: dict) -> list[str]:
    with pytest.raises(SchemeError) as exc:
        parse_scheme(data, "test.yml")
    return exc.value.errors


def test_default_scheme_loads_with_documented_defaults():
    s = load_scheme(DEFAULT)
    assert s.grain == "quarter"
    assert s.timezone == "Asia/Shanghai"
    assert s.min_sample_for("nps") == 10 and s.min_sample_for("csat") == 5
    assert s.schemes["mature"].weights["sales_attainment"] == Decimal("0.30")
    assert sum(s.schemes["new_business"].weights.values()) == Decimal("1.00")
    assert [g.label for g in s.grades] == ["excellent", "good", "needs_improvement"]
    assert s.coverage_min == Decimal("0.7")


def test_weights_not_adding_up_names_the_scheme():
    d = _default()
    d["schemes"]["mature"]["weights"]["nps"] = 0.25
    assert _errors(d) == ["schemes.mature.weights: weights add up to 1.05, not 1"]


def test_unknown_indicator_and_method_are_named():
    d = _default()
    d["schemes"]["new_business"]["weights"] = {"sales_attainment": 0.5, "happiness": 0.5}
    d["schemes"]["mature"]["scoring"]["nps"] = {"method": "vibes"}
    errs = _errors(d)
    assert any(e.startswith("schemes.mature.scoring.nps.method:") for e in errs), errs
    d["schemes"]["mature"]["scoring"]["nps"] = {"method": "value"}
    errs = _errors(d)
    assert errs[0].startswith("schemes.new_business.weights.happiness: unknown indicator")


def test_bands_out_of_order():
    d = _default()
    d["grades"] = [
        {"label": "good", "min": 80, "bonus_coefficient": 1.0},
        {"label": "excellent", "min": 90, "bonus_coefficient": 1.2},
        {"label": "low", "min": None, "bonus_coefficient": 0.8},
    ]
    assert _errors(d) == ["grades[1].min: bands out of order (90 after 80); list the highest band first"]


def test_missing_scheme_unknown_key_bad_zone_and_method_params():
    d = _default()
    del d["schemes"]["new_business"]
    d["colour"] = "blue"
    d["timezone"] = "Mars/Olympus"
    d["schemes"]["mature"]["scoring"]["referral_rate"] = {"method": "penalty_above", "threshold": 5}
    errs = _errors(d)
    assert "colour: unknown key" in errs
    assert any(e.startswith("timezone: unknown time zone 'Mars/Olympus'") for e in errs)
    assert "schemes.mature.scoring.referral_rate: method penalty_above needs per_unit, max" in errs


def test_anomaly_thresholds_are_checked_against_the_rules():
    d = _default()
    d["anomalies"] = {
        "channel_gap": {"confidence": 1.5, "min_responses": 12},
        "vibes": {},
        "speeder_burst": {"burst_minutes": "soon", "window": 3},
    }
    assert _errors(d) == [
        "anomalies.channel_gap.confidence: must lie strictly between 0 and 1, got 1.5",
        "anomalies.vibes: unknown rule (rules: hidden_complaint, complaint_underreporting, inflated_self_report, "
        "channel_gap, self_filled_survey, speeder_burst, fabricated_contact)",
        "anomalies.speeder_burst.burst_minutes: must be a number, got 'soon'",
        "anomalies.speeder_burst.window: unknown setting (settings: top_nps, speeder_share_of_median, "
        "min_responses, burst_minutes, confidence)",
    ]
    d["anomalies"] = {"channel_gap": {"confidence": 0.99}}
    assert parse_scheme(d).anomalies == {"channel_gap": {"confidence": 0.99}}


def test_piecewise_points_must_increase():
    d = _default()
    d["schemes"]["mature"]["scoring"]["nps"] = {"method": "piecewise", "points": [[0, 10], [0, 20]]}
    assert _errors(d) == ["schemes.mature.scoring.nps: piecewise points must have strictly increasing values"]


def test_cfg_rows_cover_every_indicator_per_scheme():
    rows = cfg_rows(load_scheme(DEFAULT))
    weights = rows["cfg_scheme_weights"]
    assert len(weights) == 2 * len(INDICATORS) == 28
    by_key = {(r[0], r[1]): r for r in weights}
    assert by_key[("new_business", "complaint_rate")][2:4] == (Decimal("0.15"), "penalty_above")
    assert by_key[("mature", "csat")][2:4] == (Decimal(0), "value")
    assert [r[3] for r in rows["cfg_scoring_points"] if r[0] == "mature"] == [Decimal(-100), 0, 50, 100]
    assert rows["cfg_grade_bands"][2] == (3, "needs_improvement", None, Decimal("0.8"))
    v = dbt_vars(load_scheme(DEFAULT), "2026-12-31 15:59:59")
    assert v["min_sample"] == {"default": 5, "nps": 10} and v["currency_rates"] == {"USD": 7.1}


def test_check_config_command(tmp_path, capsys):
    assert main(["check-config", str(DEFAULT)]) == 0
    assert capsys.readouterr().out.startswith(f"OK {DEFAULT}: grain quarter")
    bad = tmp_path / "bad.yml"
    d = _default()
    d["coverage_min"] = 1.5
    bad.write_text(yaml.safe_dump(d), encoding="utf-8")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "coverage_min: Input should be less than or equal to 1" in err
    assert main(["check-config", str(tmp_path / "missing.yml")]) == 2
    assert "file not found" in capsys.readouterr().err
