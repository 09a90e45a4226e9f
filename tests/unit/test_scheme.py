"""Scheme file validation: every error names its key."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from orchestration.catalogue import INDICATOR_IDS
from orchestration.cli import main
from orchestration.contract.spec import entity_specs
from orchestration.scheme.dbt_vars import cfg_rows, dbt_vars
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.file import load_scheme
from orchestration.scheme.model import parse_scheme

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


def test_anomaly_policy_defaults_and_every_wrong_setting_named():
    # SCORING.md defaults: the response rules hold, then exclude; the contact rules hold, then note; the
    # statistical rules note, then note. cfg_anomaly_policy carries one row per rule.
    rows = {r[0]: r[1:] for r in cfg_rows(load_scheme(DEFAULT))["cfg_anomaly_policy"]}
    assert rows == {
        "hidden_complaint": ("hold", "note", Decimal(0)),
        "complaint_underreporting": ("note", "note", Decimal(0)),
        "inflated_self_report": ("note", "note", Decimal(0)),
        "channel_gap": ("note", "note", Decimal(0)),
        "self_filled_survey": ("hold", "exclude_responses", Decimal(0)),
        "speeder_burst": ("hold", "exclude_responses", Decimal(0)),
        "fabricated_contact": ("hold", "note", Decimal(0)),
    }
    d = _default()
    d["anomalies"] = {"policy": {"fabricated_contact": {"on_confirm": "penalty", "penalty_points": 2.5}}}
    rows = {r[0]: r[1:] for r in cfg_rows(parse_scheme(d, "test.yml"))["cfg_anomaly_policy"]}
    assert rows["fabricated_contact"] == ("hold", "penalty", Decimal("2.5"))  # on_open keeps its default
    d["anomalies"] = {
        "policy": {
            "nosuch": {"on_open": "hold"},
            "channel_gap": {"on_open": "wait", "on_confirm": "exclude_responses"},
            "speeder_burst": {"on_confirm": "penalty"},
            "self_filled_survey": {"on_confirm": "penalty", "penalty_points": 150},
            "hidden_complaint": {"penalty_points": 2, "colour": 1},
            "fabricated_contact": {"on_confirm": "penalty", "penalty_points": 1.234},
        }
    }
    assert _errors(d) == [
        "anomalies.policy.nosuch: unknown rule (rules: hidden_complaint, complaint_underreporting, "
        "inflated_self_report, channel_gap, self_filled_survey, speeder_burst, fabricated_contact)",
        "anomalies.policy.channel_gap.on_open: must be one of hold, note, got 'wait'",
        "anomalies.policy.channel_gap.on_confirm: exclude_responses applies only to the rules whose flags are about "
        "given responses (self_filled_survey, speeder_burst); channel_gap flags a rep's period: use penalty or note",
        "anomalies.policy.speeder_burst.penalty_points: required with on_confirm: penalty (points taken off)",
        "anomalies.policy.self_filled_survey.penalty_points: must lie in (0, 100], got 150",
        "anomalies.policy.hidden_complaint.colour: unknown setting (settings: on_open, on_confirm, penalty_points)",
        "anomalies.policy.hidden_complaint.penalty_points: only with on_confirm: penalty (on_confirm is note)",
        "anomalies.policy.fabricated_contact.penalty_points: at most 2 decimals (scores are kept to 2), got 1.234",
    ]
    # the policy is the run's (cfg table), not a dbt variable
    assert "policy" not in dbt_vars(parse_scheme(_default() | {"anomalies": {"policy": {}}}, "t.yml"), "")["anomalies"]


def test_piecewise_points_must_increase():
    d = _default()
    d["schemes"]["mature"]["scoring"]["nps"] = {"method": "piecewise", "points": [[0, 10], [0, 20]]}
    assert _errors(d) == ["schemes.mature.scoring.nps: piecewise points must have strictly increasing values"]


def test_cfg_rows_cover_every_indicator_per_scheme():
    rows = cfg_rows(load_scheme(DEFAULT))
    weights = rows["cfg_scheme_weights"]
    assert len(weights) == 2 * len(INDICATOR_IDS) == 28
    by_key = {(r[0], r[1]): r for r in weights}
    assert by_key[("new_business", "complaint_rate")][2:4] == (Decimal("0.15"), "penalty_above")
    assert by_key[("mature", "csat")][2:4] == (Decimal(0), "value")
    assert [r[3] for r in rows["cfg_scoring_points"] if r[0] == "mature"] == [Decimal(-100), 0, 50, 100]
    assert rows["cfg_grade_bands"][2] == (3, "needs_improvement", None, Decimal("0.8"))
    v = dbt_vars(load_scheme(DEFAULT), "2026-12-31 15:59:59")
    assert v["min_sample"] == {"default": 5, "nps": 10} and v["currency_rates"] == {"USD": 7.1}


def test_check_config_command(tmp_path, capsys):
    assert main(["check-config", str(DEFAULT)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK {DEFAULT}: grain quarter") and out.rstrip().endswith("report language en")
    bad = tmp_path / "bad.yml"
    d = _default()
    d["coverage_min"] = 1.5
    bad.write_text(yaml.safe_dump(d), encoding="utf-8")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "coverage_min: Input should be less than or equal to 1" in err
    assert main(["check-config", str(tmp_path / "missing.yml")]) == 2
    assert "file not found" in capsys.readouterr().err


# --- time zone: one that both the warehouse (DuckDB `set TimeZone`) and Python's zoneinfo accept -------


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        (
            "posix/Asia/Shanghai",
            "timezone: 'posix/Asia/Shanghai' is not a time zone the warehouse accepts; "
            "use an IANA name such as Asia/Shanghai",
        ),
        ("right/UTC", "timezone: 'right/UTC' is not a time zone the warehouse accepts; use an IANA name such as UTC"),
        (
            "localtime",
            "timezone: 'localtime' is not a time zone the warehouse accepts; use an IANA name such as Asia/Shanghai",
        ),
        ("asia/shanghai", "timezone: unknown time zone 'asia/shanghai' (use an IANA name such as Asia/Shanghai)"),
        ("CST", "timezone: 'CST' is not a time zone Python's zoneinfo knows; use an IANA name such as Asia/Shanghai"),
        (
            "Asia/Shanghai'; drop table x; --",
            'timezone: unknown time zone "Asia/Shanghai\'; drop table x; --" (use an IANA name such as Asia/Shanghai)',
        ),
    ],
)
def test_timezone_must_be_accepted_by_the_warehouse_and_by_zoneinfo(zone, message):
    d = _default()
    d["timezone"] = zone
    assert _errors(d) == [message]


def test_the_zones_the_scheme_accepts_are_the_ones_duckdb_sets(tmp_path):
    import duckdb

    from orchestration.scheme.model import timezone_error, warehouse_time_zones

    con = duckdb.connect()
    with pytest.raises(duckdb.Error, match="Unknown TimeZone 'posix/Asia/Shanghai'"):
        con.execute("set TimeZone = 'posix/Asia/Shanghai'")  # why check-config must refuse it
    accepted = sorted(z for z in warehouse_time_zones() if timezone_error(z) is None)
    assert "Asia/Shanghai" in accepted and "UTC" in accepted and len(accepted) > 500
    for zone in accepted:
        con.execute(f"set TimeZone = '{zone}'")
    for zone in ("Asia/Shanghai", "UTC", "Europe/Berlin"):
        d = _default()
        d["timezone"] = zone
        assert parse_scheme(d).timezone == zone


# --- encodings: entity -> codec ------------------------------------------------------------------

ENTITIES = ", ".join(spec.entity for spec in entity_specs())  # the contract's, in its order


def test_encodings_unknown_entity_and_unknown_codec_are_named_by_key():
    d = _default()
    d["encodings"] = {"crm/repz": "gb18030", "crm/reps": "utf-9", "tickets/ticket": "latin-9", "crm/deals": "base64"}
    assert _errors(d) == [
        f"encodings.crm/repz: unknown entity (known: {ENTITIES})",
        "encodings.crm/reps: unknown codec 'utf-9'",
        f"encodings.tickets/ticket: unknown entity (known: {ENTITIES})",
        "encodings.tickets/ticket: unknown codec 'latin-9'",  # Python knows latin9 / iso8859-15, not latin-9
        "encodings.crm/deals: 'base64' is not a text encoding (bytes to bytes or str to str)",
    ]
    d["encodings"] = {"crm/reps": 936}
    assert _errors(d) == ["encodings.crm/reps: Input should be a valid string"]


def test_encodings_are_normalised_to_the_codec_name():
    d = _default()
    d["encodings"] = {"crm/reps": "GB18030", "crm/teams": "GBK", "crm/customers": "UTF8", "crm/deals": "UTF_8_SIG"}
    assert parse_scheme(d).encodings == {
        "crm/reps": "gb18030",
        "crm/teams": "gbk",
        "crm/customers": "utf-8",
        "crm/deals": "utf-8-sig",
    }
    assert parse_scheme(_default()).encodings == {}


# --- reading the file: one clear error line for every way it cannot be read ------------------------


def _load_errors(path) -> list[str]:
    with pytest.raises(SchemeError) as exc:
        load_scheme(path)
    return exc.value.errors


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    p = tmp_path / "scheme.yml"
    p.write_bytes(DEFAULT.read_bytes() + "# 备注\n".encode("gb18030"))
    line = DEFAULT.read_bytes().count(b"\n") + 1
    assert _load_errors(p) == [
        f"scheme.yml line {line}: not valid UTF-8 (byte 0xb1 at column 3); save the scheme file as UTF-8"
    ]
    p.write_text(DEFAULT.read_text(encoding="utf-8"), encoding="utf-16")
    assert _load_errors(p) == ["scheme.yml: the file is UTF-16; save the scheme file as UTF-8"]


def test_utf8_with_bom_and_chinese_text_loads(tmp_path):
    p = tmp_path / "scheme.yml"
    text = DEFAULT.read_text(encoding="utf-8").replace("label: excellent", "label: 优秀")
    p.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert [g.label for g in load_scheme(p).grades] == ["优秀", "good", "needs_improvement"]


@pytest.mark.parametrize("content", ["", "\n\n   \n", "# only a comment\n", "---\n...\n", "~\n"])
def test_an_empty_file(tmp_path, content):
    p = tmp_path / "scheme.yml"
    p.write_text(content, encoding="utf-8")
    assert _load_errors(p) == ["(top level): the scheme file is empty; it needs at least schemes and grades"]


@pytest.mark.parametrize(
    ("content", "kind"), [("- a\n- b\n", "list"), ("just words\n", "string"), ("42\n", "number"), ("true\n", "boolean")]
)
def test_a_top_level_that_is_not_a_mapping(tmp_path, content, kind):
    p = tmp_path / "scheme.yml"
    p.write_text(content, encoding="utf-8")
    assert _load_errors(p) == [f"(top level): the scheme file must be a YAML mapping (key: value lines), got a {kind}"]


def test_a_directory_a_missing_file_a_pipe_and_an_unreadable_file(tmp_path, monkeypatch):
    import os

    d = tmp_path / "scheme.yml"
    d.mkdir()
    assert _load_errors(d) == [f"{d} is a directory, not a scheme file"]
    missing = tmp_path / "missing.yml"
    assert _load_errors(missing) == [f"file not found: {missing}"]
    assert _load_errors(tmp_path / "missing" / "x.yml") == [f"file not found: {tmp_path / 'missing' / 'x.yml'}"]
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)
    assert _load_errors(fifo) == [f"{fifo} is not a regular file (a device, a pipe or a socket)"]
    assert _load_errors("/dev/zero") == ["/dev/zero is not a regular file (a device, a pipe or a socket)"]
    ok = tmp_path / "ok.yml"
    ok.write_bytes(DEFAULT.read_bytes())

    def refuse(self, *a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    assert _load_errors(ok) == [f"cannot read {ok}: Permission denied"]


def test_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path):
    p = tmp_path / "scheme.yml"
    p.write_text("timezone: Asia/Shanghai\ngrain: quarter\nfoo: bar: baz\n", encoding="utf-8")
    (err,) = _load_errors(p)
    assert (
        err.startswith("scheme.yml line 3, column 9: not valid YAML: mapping values are not allowed")
        and "\n" not in err
    )


def test_report_language_defaults_to_english_and_reaches_dbt():
    scheme = parse_scheme(_default(), "t.yml")
    assert scheme.report.language == "en"
    assert dbt_vars(scheme, "")["report_language"] == "en"
    chinese = parse_scheme(_default() | {"report": {"language": "zh-CN"}}, "t.yml")
    assert chinese.report.language == "zh-CN"
    assert dbt_vars(chinese, "")["report_language"] == "zh-CN"


def test_report_language_names_a_wrong_value():
    assert _errors(_default() | {"report": {"language": "zh"}}) == ["report.language: Input should be 'en' or 'zh-CN'"]
    assert _errors(_default() | {"report": {"lang": "en"}}) == ["report.lang: unknown key"]


def test_grades_may_carry_names_for_readers():
    d = _default()
    d["grades"] = [
        {"label": "gold", "min": 90, "bonus_coefficient": 1.2, "name_en": "Gold", "name_zh": "金牌"},
        {"label": "good", "min": 80, "bonus_coefficient": 1.0},
        {"label": "rest", "min": None, "name_zh": "其他"},
    ]
    scheme = parse_scheme(d, "t.yml")
    assert scheme.grade_names() == {"gold": {"en": "Gold", "zh-CN": "金牌"}, "rest": {"zh-CN": "其他"}}
    d["grades"][0]["name_zh"] = ""
    assert _errors(d) == ["grades[0].name_zh: String should have at least 1 character"]


def test_anonymity_k_defaults_to_5_reaches_dbt_and_a_wrong_one_is_named():
    s = load_scheme(DEFAULT)
    assert s.survey.anonymity_k == 5 and dbt_vars(s, "2026-12-31 15:59:59")["anonymity_k"] == 5
    d = _default()
    del d["survey"]["anonymity_k"]
    assert parse_scheme(d, "test.yml").survey.anonymity_k == 5  # the spec's default
    d["survey"]["anonymity_k"] = 0
    assert [e.split(":")[0] for e in _errors(d)] == ["survey.anonymity_k"]
    d["survey"]["anonymity_k"] = "five"
    assert [e.split(":")[0] for e in _errors(d)] == ["survey.anonymity_k"]
    d["survey"]["anonimity_k"] = 5
    del d["survey"]["anonymity_k"]
    assert _errors(d) == ["survey.anonimity_k: unknown key"]


def test_a_what_if_with_another_anonymity_k_rebuilds_the_disclosure():
    from orchestration.whatif import FULL_SELECTION, MINIMAL_SELECTION, _selection

    published = dbt_vars(load_scheme(DEFAULT), "2026-12-31 15:59:59")
    assert _selection(dict(published), published) == MINIMAL_SELECTION
    assert _selection({**published, "anonymity_k": 10}, published) == FULL_SELECTION == "+scorecard"
