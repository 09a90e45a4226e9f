"""dbt's sources (dbt_project/models/staging/__sources.yml), generated from the input contract.

One place for each fact: the entity tables, their columns, types and descriptions come from the
pandera models (orchestration/contract/models.py, read through `entity_specs()`), the technical
columns from `TECHNICAL_COLUMNS`, the config tables' columns from `CFG_TABLES`
(orchestration/ingest/scheme_tables.py). What dbt shows of a column is its contract description
followed by the facts the contract's checks state (key, required, enumeration, range, plan date,
event column), so the two cannot drift apart. Only the descriptions of the config tables live here.

    python -m orchestration.contract.dbt_sources --write   # or: make sources
    python -m orchestration.contract.dbt_sources --check   # exit 1 when the committed file differs

The output is deterministic (contract order, no timestamps); tests/unit/test_dbt_sources.py fails
when the committed file is not what `render()` returns.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from orchestration.contract.spec import TECHNICAL_COLUMNS, ColumnSpec, EntitySpec, entity_specs

SOURCES_YML = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "__sources.yml"
COMMAND = "python -m orchestration.contract.dbt_sources --write"
SOURCE_NAME = "raw"
SOURCE_DESCRIPTION = (
    "Raw layer written by the Python ingestion: one table per entity named <source>__<entity>,",
    "always present (empty when the source is absent). Only rows with _is_current are the current",
    "version of a key; the others are superseded versions kept for audit. *_at columns hold UTC.",
)
# config table -> (description, {column: description}); written by orchestration.ingest.scheme_tables
CFG_DESCRIPTIONS: dict[str, tuple[str, dict[str, str]]] = {
    "cfg_scheme_weights": (
        "Scheme x catalogue indicator: weight (0 when not weighted), scoring method and its parameters.",
        {
            "scheme_id": "Scheme name; a team is graded with the scheme named by its business_stage.",
            "indicator": "Catalogue indicator id.",
            "weight": "Weight of the indicator in the scheme (0 when not weighted).",
            "method": "Scoring method: value, ratio_to_target, penalty_above, penalty_below or piecewise.",
            "target": "Target of ratio_to_target.",
            "cap": "Highest score of value and ratio_to_target (no cap when empty).",
            "threshold": "Threshold of penalty_above and penalty_below (0 when empty).",
            "per_unit": "Points taken per unit beyond the threshold (1 when empty).",
            "max_score": "Highest score of the penalty methods (100 when empty).",
            "min_score": "Lowest score of the penalty methods (0 when empty).",
        },
    ),
    "cfg_scoring_points": (
        "Points (x ascending, y) of piecewise scoring methods.",
        {
            "scheme_id": "Scheme name.",
            "indicator": "Catalogue indicator id.",
            "seq": "Order of the point (1 = first).",
            "x": "Indicator value of the point (ascending).",
            "y": "Score at that value.",
        },
    ),
    "cfg_grade_bands": (
        "Grade bands, seq 1 = highest; the last band has min_score NULL.",
        {
            "seq": "Order of the band (1 = highest).",
            "label": "Grade label.",
            "min_score": "Lowest score of the band (NULL for the last band).",
            "bonus_coefficient": "Bonus coefficient of the grade.",
        },
    ),
    "cfg_anomaly_policy": (
        "Review policy per anomaly rule (on_open hold|note, on_confirm exclude_responses|penalty|note, "
        "penalty_points), the scheme's anomalies.policy over the documented defaults. A rule without a row is "
        "note / note.",
        {
            "rule_id": "Anomaly rule id.",
            "on_open": "While a flag of the rule is open: hold or note.",
            "on_confirm": "Once a flag of the rule is confirmed: exclude_responses, penalty or note.",
            "penalty_points": "Points of a penalty (on_confirm = penalty).",
        },
    ),
    "cfg_closed_periods": (
        "Closed periods (scheme file + close-period ledger): kept out of the refresh window, their published "
        "rows frozen.",
        {"period": "A closed period label."},
    ),
}


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def column_description(spec: EntitySpec, c: ColumnSpec) -> str:
    """The contract description of the column and the facts its checks state."""
    if not c.description.strip():
        raise ValueError(f"{spec.entity}.{c.name}: no description in orchestration/contract/models.py")
    facts = []
    if c.name in spec.key:
        facts.append("Primary key." if len(spec.key) == 1 else f"Part of the primary key ({', '.join(spec.key)}).")
    elif c.required:
        facts.append("Required.")
    if c.allowed:
        facts.append(f"One of: {', '.join(c.allowed)}.")
    bounds = [f">= {_number(c.ge)}" if c.ge is not None else "", f"> {_number(c.gt)}" if c.gt is not None else ""]
    bounds += [f"<= {_number(c.le)}" if c.le is not None else ""]
    if any(bounds):
        facts.append(f"Allowed: {' and '.join(b for b in bounds if b)}.")
    if c.plan:
        facts.append("A plan date: may lie in the future.")
    if c.name == spec.event_column:
        facts.append("Places the row in its period.")
    return " ".join([c.description.strip(), *facts])


def cfg_columns(ddl: str) -> list[tuple[str, str]]:
    """(name, type) of a column list `a varchar, b decimal(9,2)` (commas inside parentheses kept)."""
    parts = [p.strip() for p in re.split(r",(?![^()]*\))", ddl) if p.strip()]
    return [tuple(p.split(None, 1)) for p in parts]  # type: ignore[misc]


def _columns(lines: list[str], columns: list[tuple[str, str, str]]) -> None:
    lines.append("        columns:")
    for name, data_type, description in columns:
        lines.append(f"          - name: {name}")
        lines.append(f"            description: {_q(description)}")
        lines.append(f"            data_type: {data_type.lower()}")


def render() -> str:
    """The text of __sources.yml."""
    from orchestration.ingest.scheme_tables import CFG_TABLES  # the scheme file's tables, written by ingestion

    lines = [
        "# Generated from the input contract by orchestration/contract/dbt_sources.py: do not edit.",
        f"# After a contract change run `{COMMAND}` (make sources).",
        "version: 2",
        "",
        "sources:",
        f"  - name: {SOURCE_NAME}",
        f"    schema: {SOURCE_NAME}",
        "    description: >",
        *(f"      {line}" for line in SOURCE_DESCRIPTION),
        "    tables:",
    ]
    for spec in entity_specs():
        if not spec.description.strip():
            raise ValueError(f"{spec.entity}: no Config.description in orchestration/contract/models.py")
        lines.append(f"      - name: {spec.table}")
        lines.append(f"        description: {_q(spec.description)}")
        contract = [(c.name, c.sql_type, column_description(spec, c)) for c in spec.columns]
        _columns(lines, contract + list(TECHNICAL_COLUMNS))
    if set(CFG_TABLES) != set(CFG_DESCRIPTIONS):
        raise ValueError(f"config tables without a description: {sorted(set(CFG_TABLES) ^ set(CFG_DESCRIPTIONS))}")
    for table, ddl in CFG_TABLES.items():
        description, column_docs = CFG_DESCRIPTIONS[table]
        columns = cfg_columns(ddl)
        undocumented = [n for n, _ in columns if n not in column_docs] + [
            n for n in column_docs if n not in dict(columns)
        ]
        if undocumented:
            raise ValueError(f"{table}: columns and descriptions differ: {undocumented}")
        lines.append(f"      - name: {table}")
        lines.append(f"        description: {_q(description)}")
        _columns(lines, [(n, t, column_docs[n]) for n, t in columns])
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        SOURCES_YML.write_text(render(), encoding="utf-8")
        print(SOURCES_YML)
        return 0
    if argv == ["--check"]:
        if SOURCES_YML.read_text(encoding="utf-8") != render():
            print(f"{SOURCES_YML} is not what the contract generates: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    print("usage: python -m orchestration.contract.dbt_sources --write | --check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
