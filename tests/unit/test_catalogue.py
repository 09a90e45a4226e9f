"""The catalogue (orchestration/catalogue.py) and what dbt receives of it (dbt_project/macros/catalogue.sql)."""

from pathlib import Path

import yaml

from orchestration import catalogue
from orchestration.scheme.anomalies import POLICY_ON_CONFIRM, POLICY_ON_OPEN

ROOT = Path(__file__).resolve().parents[2]


def test_committed_macro_file_is_the_generated_one():
    # regenerate with `make catalogue` (python -m orchestration.catalogue --write)
    assert catalogue.MACRO_FILE.read_text(encoding="utf-8") == catalogue.dbt_macros()
    assert catalogue.main(["--check"]) == 0


def test_committed_score_columns_of_scorecard_yml_are_the_generated_ones():
    # the <indicator>_score columns of marts/scorecard.yml, between the two marker lines (make catalogue)
    text = catalogue.SCORECARD_YML.read_text(encoding="utf-8")
    assert catalogue.scorecard_yml(text) == text
    block = text[text.index(catalogue.SCORE_COLUMNS_BEGIN) : text.index(catalogue.SCORE_COLUMNS_END)]
    names = [line.split(": ")[1] for line in block.splitlines() if line.startswith("      - name: ")]
    assert names == [f"{i}_score" for i in catalogue.INDICATOR_IDS]
    assert block.count("        data_type: decimal(38,10)\n") == 14
    # an indicator added to the catalogue without `make catalogue` is caught
    edited = catalogue.score_columns_yml().replace("      - name: referral_rate_score\n", "")
    assert catalogue.scorecard_yml(text.replace(catalogue.score_columns_yml(), edited)) == text
    assert text.replace(catalogue.score_columns_yml(), edited) != text


def test_indicators_are_whole():
    ids = catalogue.INDICATOR_IDS
    assert len(ids) == len(set(ids)) == 14
    assert set(catalogue.INDICATOR_GROUPS.values()) == {
        "performance",
        "customer_feedback",
        "process_quality",
        "relationship",
    }
    assert catalogue.LOWER_IS_BETTER == ("complaint_rate", "median_response_hours")
    assert catalogue.SURVEY_INDICATORS == ("nps", "csat", "key_account_nps")
    for i in catalogue.INDICATORS:
        assert i.label("en") == i.label_en and i.label("zh-CN") == i.label_zh and i.label_zh, i.id


def test_anomaly_rules_are_whole():
    for rule in catalogue.ANOMALY_RULES:
        assert rule.settings, rule.id
        assert rule.on_open in POLICY_ON_OPEN and rule.on_confirm in POLICY_ON_CONFIRM
        assert rule.on_confirm != "exclude_responses" or rule.about_responses
        assert set(rule.indicators) <= set(catalogue.INDICATOR_IDS)
        assert all(0 < v < 1 for k, v in rule.settings.items() if k == "confidence")


def _accepted_values(model: str, column: str) -> list[str]:
    spec = yaml.safe_load((ROOT / "dbt_project" / "models" / "marts" / f"{model}.yml").read_text(encoding="utf-8"))
    (columns,) = [m["columns"] for m in spec["models"] if m["name"] == model]
    (tests,) = [c["data_tests"] for c in columns if c["name"] == column]
    return next(t["accepted_values"]["arguments"]["values"] for t in tests if "accepted_values" in t)


def test_accepted_values_of_the_marts_are_the_catalogue():
    # listed in the YAML, not rendered from the catalogue macros: dbt names a generic test after its
    # arguments, and the Dagster asset check keeps that name (tests/snapshots/definitions.json)
    assert _accepted_values("indicator_values", "indicator") == list(catalogue.INDICATOR_IDS)
    assert _accepted_values("anomaly_flags", "rule_id") == list(catalogue.RULE_IDS)


def test_marts_are_the_models_of_the_marts_folder():
    folder = ROOT / "dbt_project" / "models" / "marts"
    assert sorted(catalogue.MARTS) == sorted(p.stem for p in folder.glob("*.sql"))


def test_sentences_name_the_same_figures_in_every_language():
    import string

    keys = {lang: set(s) for lang, s in catalogue.SENTENCES.items()}
    assert set(catalogue.SENTENCES) == set(catalogue.LANGUAGES) and keys["en"] == keys["zh-CN"]
    for key, text in catalogue.SENTENCES["en"].items():
        names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        zh = {f for _, f, _, _ in string.Formatter().parse(catalogue.SENTENCES["zh-CN"][key]) if f}
        # zh-CN counts ranks without ordinal suffixes: rank where English writes rank_ordinal
        assert names - {"rank_ordinal"} == zh - {"rank"}, key
    for lang in catalogue.LANGUAGES:
        assert set(catalogue.VALUE_UNITS[lang]) == set(catalogue.GAP_UNITS[lang]) == {"%", "points", "h", "count"}


def test_labels_of_ids_in_both_languages():
    assert catalogue.indicator_label("response_sla_rate", "zh-CN") == "响应及时率"
    assert catalogue.indicator_label("response_sla_rate") == "Response within SLA"
    assert catalogue.grade_label("needs_improvement", "zh-CN") == "待改进"
    assert catalogue.grade_label("needs_improvement", "en") == "Needs improvement"
    assert catalogue.grade_label("gold", "zh-CN") == "gold"  # unknown: the id as it is
    assert catalogue.grade_label("gold", "zh-CN", {"gold": {"zh-CN": "金牌"}}) == "金牌"
    assert catalogue.grade_label("good", "en", {"gold": {"zh-CN": "金牌"}}) == "Good"
    assert catalogue.id_label(catalogue.STAGE_LABELS, "new_business", "zh-CN") == "新业务"
    assert catalogue.id_label(catalogue.STAGE_LABELS, "mature", "en") == "Mature business"
    assert catalogue.rule_label("self_filled_survey", "zh-CN") == "代填问卷"
    for rule in catalogue.ANOMALY_RULES:
        assert rule.label_en and rule.label_zh, rule.id
    for kind in (
        catalogue.GRADE_LABELS,
        catalogue.STAGE_LABELS,
        catalogue.LEVEL_LABELS,
        catalogue.REVIEW_STATUS_LABELS,
        catalogue.POLICY_LABELS,
        catalogue.DISCLOSURE_LABELS,
        catalogue.FEEDBACK_TYPE_LABELS,
    ):
        assert all(en and zh and en != zh for en, zh in kind.values())
