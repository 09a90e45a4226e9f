"""docs/input_contract.md is what the contract in code renders (`python -m orchestration.contract.reference
--write` after a contract change), and it carries each entity's rules as ingestion enforces them."""

from orchestration.contract.reference import PAGE, render
from orchestration.contract.spec import entity_specs


def test_committed_page_is_the_rendered_contract():
    assert PAGE.read_text(encoding="utf-8") == render(), "run: python -m orchestration.contract.reference --write"


def test_page_names_every_entity_column_and_rule():
    text = render()
    for spec in entity_specs():
        assert f"## `{spec.entity}`" in text
        section = text.split(f"## `{spec.entity}`", 1)[1].split("\n## ", 1)[0]
        for column in spec.columns:
            assert f"| `{column.name}` | `{column.kind}` |" in section
        for name in spec.row_rules:
            assert f"- `{name}`:" in section
    # hand-checked facts of crm/deals (CONTRACT.md)
    deals = text.split("## `crm/deals`", 1)[1].split("\n## ", 1)[0]
    assert "Optional entity; key `deal_id`; period from `closed_on`." in deals
    assert "- `collected_amount_not_above_amount`: `collected_amount is null or collected_amount <= amount`" in deals
