"""`docs/input_contract.md`: the input contract as a user reads it, rendered from the contract itself
(orchestration/contract/models.py through spec.py), so the page cannot drift from what ingestion
enforces. `python -m orchestration.contract.reference --write` rewrites it; tests/unit/test_contract_reference.py
fails when the committed page differs from what this renders.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.contract.layout import EXTENSIONS, REQUIRED_ENTITIES
from orchestration.contract.spec import MONEY_DECIMALS, TECHNICAL_COLUMNS, ColumnSpec, EntitySpec, entity_specs

PAGE = Path(__file__).resolve().parents[2] / "docs" / "input_contract.md"

KINDS = {
    "id": "identifier (text, trimmed)",
    "text": "text",
    "enum": "one of the listed values (matched case-insensitively, stored in lower case)",
    "currency": "ISO 4217 code (upper-cased; empty: the scheme's base currency); needs a rate in the scheme file",
    "period": "period label: `YYYY-MM`, `YYYY-Qn` or `YYYY`",
    "timestamp": "date and time; without an offset it is local time in the scheme's time zone",
    "date": "local date `YYYY-MM-DD`",
    "money": f"exact decimal, {MONEY_DECIMALS} places kept (more are rounded half-up and counted as a warning)",
    "points": f"exact decimal, {MONEY_DECIMALS} places kept (more are rounded half-up and counted as a warning)",
    "int": "whole number",
    "float": "number",
    "bool": "true / false (also 1 / 0, yes / no, y / n)",
}

INTRO = (
    f"""# The input contract

What a landing folder must hold for a run to read it, entity by entity. This page is generated from the
contract in code (`orchestration/contract/models.py`; `python -m orchestration.contract.reference
--write`), so it says exactly what ingestion enforces; `docs/contract.md` says which layer checks which
rule, `docs/decisions.md` why some rules are as they are.

## The folder

- One folder per entity, `<source>/<entity>/` (for example `crm/deals/`), searched recursively, or a
  single file `<source>/<entity>.<ext>`. Files: {", ".join(f"`{e}`" for e in EXTENSIONS)}. Files of one
  entity are read in the order of their path (dated drops sort by name).
- Required entities: {", ".join(f"`{e}`" for e in REQUIRED_ENTITIES)}. Without a file for each, a run
  stops before it starts and says which is missing. The other entities may be absent (their indicators
  then have no data).
- CSV files: a header row naming the columns (any order, names matched case-insensitively); UTF-8 with
  or without a byte-order mark, or another encoding declared per entity in the scheme file
  (`encodings:`); a file that is not UTF-8 is read as GB18030 when detection says so, and the run
  records the detection and its confidence. A file that cannot be read at all (binary, no header, a
  required column missing) stops the run with a message naming the file and the problem.
- Columns the contract does not know are kept in `_extra` (JSON) and ignored.

## Rows

- A row that breaks a rule is not loaded: it goes to `audit.quarantine` with every reason, its file and
  line, and its raw text; the rest of the file is read. Rows in = accepted + superseded + exact
  duplicates + quarantined, per entity and run (`audit.run_counts`).
- A row that cannot be parsed (more fields than the header, an unbalanced quote) is quarantined as
  `unparsable_row`.
- Several rows with the same key: exact copies are dropped and counted; otherwise the current version is
  the one with the latest `updated_at` (when the entity has it), then the later file, then the later
  row. Older versions stay in raw with `_is_current = false`.
- Dates before 1900-01-01 are refused; so are dates and times more than one day after the run's as-of
  time, except plan dates (marked below), which may lie in the future.
- Amounts in another currency than the scheme's base currency are converted to it with the scheme's
  rates; a row whose currency has no rate is quarantined (`no exchange rate`).

## Types

| type | what a value must be |
|---|---|
"""
    + "".join(f"| `{kind}` | {what} |\n" for kind, what in KINDS.items())
    + """
Every raw table also has the columns ingestion adds:

| column | what it holds |
|---|---|
"""
    + "".join(f"| `{name}` | {what} |\n" for name, _, what in TECHNICAL_COLUMNS)
)


def _rule(c: ColumnSpec) -> str:
    parts = []
    if c.allowed:
        parts.append(", ".join(f"`{v}`" for v in c.allowed))
    bounds = []
    if c.ge is not None:
        bounds.append(f">= {c.ge:g}")
    if c.gt is not None:
        bounds.append(f"> {c.gt:g}")
    if c.le is not None:
        bounds.append(f"<= {c.le:g}")
    if bounds:
        parts.append(" and ".join(bounds))
    if c.pattern:
        parts.append(f"matches `{c.pattern}`")
    if c.plan:
        parts.append("plan date: may lie in the future")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def entity_section(spec: EntitySpec) -> str:
    lines = [f"## `{spec.entity}`", ""]
    if spec.description:
        lines += [spec.description, ""]
    facts = [
        "Required entity" if spec.required else "Optional entity",
        "key " + ", ".join(f"`{k}`" for k in spec.key),
    ]
    if spec.event_column:
        facts.append(f"period from `{spec.event_column}`")
    lines += ["; ".join(facts) + ".", ""]
    lines += ["| column | type | required | allowed values | what it holds |", "|---|---|---|---|---|"]
    for c in spec.columns:
        lines.append(
            f"| `{c.name}` | `{c.kind}` | {'yes' if c.required else ''} | {_cell(_rule(c))} | {_cell(c.description)} |"
        )
    if spec.row_rules:
        lines += [
            "",
            "Rules across the columns of a row (a row that breaks one is quarantined as `broken rule: <name>`):",
            "",
        ]
        lines += [f"- `{name}`: `{_cell(sql)}`" for name, sql in spec.row_rules.items()]
    return "\n".join(lines) + "\n"


def render() -> str:
    return INTRO + "\n" + "\n".join(entity_section(s) for s in entity_specs())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestration.contract.reference", description=__doc__)
    p.add_argument("--write", action="store_true", help=f"rewrite {PAGE.name}")
    a = p.parse_args(argv)
    text = render()
    if a.write:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote {PAGE}")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
