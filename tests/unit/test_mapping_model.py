"""The mapping file's checks (docs/mapping.md): every wrong key, operator, option and reference is named
with its dotted path, all at once; a scheme file's `sources:` section is checked the same way."""

from pathlib import Path

import pytest
import yaml

from orchestration.cli import main
from orchestration.mapping.model import parse_sources
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.model import parse_scheme
from orchestration.settings import PROJECT_ROOT

BAD = {
    "source_folder": "x",
    "inputs": {"a": {"files": ["../up.csv"], "encodng": "utf-8"}, "b": {"files": "b.csv", "encoding": "klingon"}},
    "entities": {
        "crm/deal": {"from": "a"},
        "crm/deals": {
            "from": "c",
            "columns": {
                "deal_id": {"colum": "Id"},
                "stage": {"map": "Stage", "values": {"Won": "won", " won ": "lost", "Yes": True}, "defualt": "open"},
                "amount": {"number": "Amount", "decimal": ",", "thousands": ","},
                "closed_on": {"date": "Close", "format": "%d.%m.%Q"},
                "updated_at": {"timestamp": "Mod", "format": "%Y", "tz": "Mars/Olympus"},
                "rep_id": {"lookup": {"lookup": "x", "in": "a", "key": "k", "take": "t"}, "in": "zz", "key": "k"},
                "customer_id": {"multiply": ["a", "b", "c"]},
                "nope": "x",
                "product_line": 5,
            },
        },
        "survey/responses": {"from": "a", "questions": {"nps": "推荐", "ces": "x"}, "columns": {"nps": "N"}},
    },
}
OPS = "column, const, question, trim, lower, upper, concat, coalesce, date, timestamp, number, multiply, lookup, map"


def test_every_problem_is_named_with_its_path():
    with pytest.raises(SchemeError) as exc:
        parse_sources(BAD, "s.yml", Path("/tmp"))
    assert str(exc.value).splitlines()[0] == "s.yml: 21 error(s) in the mapping:"
    d = "entities.crm/deals.columns"
    assert exc.value.errors == [
        "inputs.a.encodng: unknown key (known: files, encoding)",
        "inputs.a.files[0]: '../up.csv' must stay under the source folder (relative, no ..)",
        "inputs.b.encoding: unknown codec 'klingon'",
        "entities.crm/deal: unknown entity (known: crm/teams, crm/reps, crm/customers, crm/deals, crm/targets, "
        "crm/proposals, crm/followups, crm/interactions, crm/feedback_self_reported, crm/adjustments, "
        "crm/improvement_actions, crm/rep_devices, survey/invitations, survey/responses, review/flag_decisions, "
        "tickets/tickets)",
        "entities.crm/deals.from: 'c' is not an input (inputs: a, b)",
        f"{d}.deal_id: no operator; an expression has exactly one of {OPS}",
        f"{d}.stage.defualt: not an option of map (options: values, default, keep_others)",
        f"{d}.stage.values: ' won ' and 'Won' are the same value (case and spaces aside)",
        f"{d}.stage.values: 'Yes': True: YAML reads an unquoted yes/no/on/off/true/false as a boolean; "
        "quote it ('Yes': ...)",
        f"{d}.amount: decimal and thousands separators must differ",
        f"{d}.closed_on.format: format '%d.%m.%Q' uses %Q; the directives are %Y %y %m %d %H %I %M %S %f %p %b %z %%",
        f"{d}.updated_at.tz: unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai)",
        f"{d}.rep_id: lookup needs take",
        f"{d}.rep_id.lookup.lookup: a lookup's match may not hold another lookup",
        f"{d}.rep_id.in: 'zz' is not an input (inputs: a, b)",
        f"{d}.customer_id.multiply: multiply takes exactly two factors",
        f"{d}.nope: not a column of crm/deals (columns: deal_id, customer_id, rep_id, product_line, stage, amount, "
        "currency, closed_on, collected_amount, updated_at)",
        f"{d}.product_line: 5 is not an expression: give a source column's name, or one operator ({OPS}); "
        "a number or a word like yes/no is a constant: {const: ...}",
        "entities.survey/responses.questions.nps: nps is given in columns too; give it once",
        "entities.survey/responses.questions.ces: unknown question (known: nps, csat)",
        "entities.survey/responses.columns: required column(s) response_id, invitation_id, responded_at not mapped "
        "(a constant will do: {const: ...})",
    ]


def test_the_scheme_files_sources_section_is_checked_with_its_prefix(tmp_path):
    data = yaml.safe_load((PROJECT_ROOT / "config" / "scorecard.yml").read_text())
    data["sources"] = {"inputs": {"t": {"files": ["t.csv"]}}, "entities": {"crm/teams": {"from": "t", "columns": {}}}}
    with pytest.raises(SchemeError) as exc:
        parse_scheme(data, str(tmp_path / "scorecard.yml"))
    assert exc.value.errors == [
        "sources.entities.crm/teams.columns: required column(s) team_id, team_name, region, business_stage not "
        "mapped (a constant will do: {const: ...})"
    ]
    data["sources"]["entities"]["crm/teams"]["columns"] = {
        "team_id": "id",
        "team_name": "name",
        "region": {"const": "East"},
        "business_stage": {"const": "mature"},
    }
    scheme = parse_scheme(data, str(tmp_path / "scorecard.yml"))
    assert scheme.mapping().folder == tmp_path  # relative to the scheme file
    assert list(scheme.mapping().entities) == ["crm/teams"]
    data["sources"] = "no/such/sources.yml"
    with pytest.raises(SchemeError) as exc:
        parse_scheme(data, str(tmp_path / "scorecard.yml"))
    assert exc.value.errors == [
        f"sources ({tmp_path}/no/such/sources.yml): file not found: {tmp_path}/no/such/sources.yml"
    ]


def test_check_config_reads_a_mapping_file(capsys, tmp_path):
    assert main(["check-config", str(PROJECT_ROOT / "mappings" / "maven_crm" / "sources.yml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK ") and "mapping of 4 entities (crm/teams, crm/reps, crm/customers, crm/deals)" in out
    assert "(teams: 1 file(s), accounts: 1 file(s), pipeline: 1 file(s), products: 1 file(s))" in out
    bad = tmp_path / "sources.yml"
    bad.write_text("inputs: {a: {files: [a.csv]}}\nentities: {crm/teams: {from: b, columns: {}}}\n")
    assert main(["check-config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "entities.crm/teams.from: 'b' is not an input (inputs: a)" in err
