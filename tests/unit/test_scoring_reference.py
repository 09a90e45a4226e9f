"""docs/scoring.md is the reference of the scheme file: every key of the scheme's model
(orchestration/scheme/model.py) is named in the section of its top-level key, every scoring method has its
row and a worked number, every indicator of the catalogue its row, every anomaly rule its settings. A key
added to the model without a word in the page fails here."""

import typing

from pydantic import BaseModel

from orchestration.catalogue import ANOMALY_RULES, INDICATOR_IDS
from orchestration.scheme.model import METHODS, Scheme
from orchestration.settings import PROJECT_ROOT

PAGE = PROJECT_ROOT / "docs" / "scoring.md"


def _models(annotation) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation: X, list[X], dict[str, X], X | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _keys(model: type[BaseModel]) -> dict[str, list[str]]:
    """Top-level key -> the names of the keys nested under it, at any depth."""

    def nested(m: type[BaseModel]) -> list[str]:
        names = []
        for name, field in m.model_fields.items():
            names.append(name)
            for sub in _models(field.annotation):
                names += nested(sub)
        return names

    return {name: [n for sub in _models(f.annotation) for n in nested(sub)] for name, f in model.model_fields.items()}


def _sections() -> dict[str, str]:
    """Heading -> text of each `### ...` section of "The scheme file, key by key"."""
    text = PAGE.read_text(encoding="utf-8")
    reference = text.split("## The scheme file, key by key", 1)[1].split("\n## ", 1)[0]
    parts = reference.split("\n### ")[1:]
    return {p.split("\n", 1)[0].strip(): p.split("\n", 1)[1] for p in parts}


def test_the_walk_finds_the_nested_keys():
    # the walk itself, on keys that are known to be nested (a check that the test checks something)
    keys = _keys(Scheme)
    assert {"base", "rates"} <= set(keys["currency"])
    assert {"weights", "scoring", "method", "per_unit", "points"} <= set(keys["schemes"])
    assert {"label", "min", "bonus_coefficient"} <= set(keys["grades"])
    assert keys["timezone"] == []


def test_every_key_of_the_scheme_model_is_described():
    sections = _sections()
    other = sections["Other keys"]
    for key, nested in _keys(Scheme).items():
        heading = f"`{key}`"
        if heading in sections:
            for name in nested:
                assert f"`{name}`" in sections[heading], f"{key}.{name} is not described in docs/scoring.md"
        else:
            assert not nested, f"{key} has nested keys: it needs its own section '### `{key}`'"
            assert f"- `{key}`:" in other, f"{key} is not described in docs/scoring.md"


def test_every_method_indicator_and_rule_is_described():
    text = PAGE.read_text(encoding="utf-8")
    schemes = _sections()["`schemes`"]
    for method in METHODS:
        assert f"| `{method}` |" in schemes and f"- `{method}`, e.g." in schemes, method
    for indicator in INDICATOR_IDS:
        assert f"| `{indicator}` |" in text, indicator
    anomalies = _sections()["`anomalies`"]
    for rule in ANOMALY_RULES:
        assert f"`{rule.id}`" in anomalies, rule.id
        for setting, default in rule.settings.items():
            assert f"{setting}: {default}" in anomalies, (rule.id, setting)
