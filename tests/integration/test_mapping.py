"""Source mappings (docs/mapping.md) on hand-made exports: every operator's value and failure, lookups,
encodings, unparsable rows, the count identity per file, incremental reads and the errors that stop a run.
Expected values are worked out by hand in the comments."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml

from orchestration.ingest.ingest_error import IngestError
from orchestration.mapping.ingest import ingest_sources
from orchestration.mapping.model import parse_sources
from orchestration.scheme.model import parse_scheme
from orchestration.settings import PROJECT_ROOT

AS_OF = datetime(2026, 6, 30, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def scheme():
    data = yaml.safe_load((PROJECT_ROOT / "config" / "scorecard.yml").read_text())
    data["currency"]["rates"]["EUR"] = 7.8
    return parse_scheme(data)


DEALS = """Deal Ref,Client,Owner Email,Product,Stage,Value,Curr,Closed,Modified,Paid (k)
 d-1 ,ACME,  Alice@Example.com ,gtx,Closed Won,"1.234,50",eur,31/03/2026,2026-03-31 09:15:00,1.2345
d-2,,bob@example.com,gtx,Lost,"0,00",,15/02/2026,2026-02-15 18:00:00,
d-3,BETA,alice@example.com,gtx,Negotiation,"12,5",USD,,2026-01-10 08:00:00,
d-4,ACME,carol@example.com,xx,Closed Won,"1.234.5",EUR,31/03/2026,2026-03-31 09:15:00,
d-5,BETA,bob@example.com,gtx,Closed Won,"100,00",EUR,2026-03-31,2026-03-31 09:15:00,
d-6,GAMMA,bob@example.com,mg,Weird,5,EUR,01/01/2026,2026-01-01 00:00:00,
d-7,ACME,carol@example.com,gtx,Closed Won,"10,00",EUR,01/03/2026,2026-03-01 10:00:00,
"""
PEOPLE = """email,rep_id,since
alice@example.com,R9,2024-01-01
alice@example.com,R1,2020-01-01
bob@example.com,R2,2021-05-01
"""
PRODUCTS = "code,line\ngtx,GTX\nmg,MG\nmg,MG2\n"
MAPPING = {
    "source_folder": "export",
    "inputs": {
        "deals": {"files": ["deals*.csv"]},
        "people": {"files": ["people.csv"]},
        "products": {"files": ["products.csv"]},
    },
    "entities": {
        "crm/deals": {
            "from": "deals",
            "columns": {
                "deal_id": {"upper": {"trim": "deal ref"}},  # names match case-insensitively
                "customer_id": {"coalesce": ["Client", {"const": "UNKNOWN"}]},
                "rep_id": {
                    "lookup": {"lower": "Owner Email"},
                    "in": "people",
                    "key": "email",
                    "take": "rep_id",
                    "first_by": "since",
                },
                "product_line": {"lookup": "Product", "in": "products", "key": "code", "take": "line"},
                "stage": {"map": "Stage", "values": {"closed won": "won", "Lost": "lost", "Negotiation": "open"}},
                "amount": {"number": "Value", "decimal": ",", "thousands": "."},
                "currency": {"upper": "Curr"},
                "closed_on": {"date": "Closed", "format": "%d/%m/%Y"},
                "updated_at": {"timestamp": "Modified", "format": "%Y-%m-%d %H:%M:%S", "tz": "Europe/Berlin"},
                "collected_amount": {"multiply": ["Paid (k)", 1000]},
            },
        }
    },
}


def make(root: Path, mapping=MAPPING, deals=DEALS):
    export = root / "export"
    export.mkdir(parents=True, exist_ok=True)
    (export / "deals.csv").write_text(deals)
    (export / "people.csv").write_text(PEOPLE)
    (export / "products.csv").write_text(PRODUCTS)
    return parse_sources(mapping, "sources.yml", root)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory, scheme):
    root = tmp_path_factory.mktemp("mapping")
    sources = make(root)
    con = duckdb.connect(str(root / "w.duckdb"))
    counts = ingest_sources(con, sources, scheme, AS_OF, run_id="r1")
    yield con, counts, root
    con.close()


def test_every_operator_gives_the_value_worked_out_by_hand(mapped):
    con, _, _ = mapped
    rows = con.execute(
        "select deal_id, customer_id, rep_id, product_line, stage, amount, currency, closed_on, "
        "cast(updated_at as varchar), collected_amount, _row from raw.crm__deals order by deal_id"
    ).fetchall()
    assert rows == [
        # trim+upper; first_by picks R1 (since 2020 < 2024) for ALICE@ lower-cased; 1.234,50 -> 1234.50;
        # eur upper-cased; 31/03/2026; 09:15 Berlin summer time (CEST since 2026-03-29) = 07:15 UTC; 1.2345 x 1000
        ("D-1", "ACME", "R1", "GTX", "won", Decimal("1234.5000"), "EUR", datetime(2026, 3, 31).date(),
         "2026-03-31 07:15:00", Decimal("1234.5000"), 2),
        # empty client -> the constant; empty currency -> the base currency CNY; 18:00 CET = 17:00 UTC
        ("D-2", "UNKNOWN", "R2", "GTX", "lost", Decimal("0.0000"), "CNY", datetime(2026, 2, 15).date(),
         "2026-02-15 17:00:00", None, 3),
        # an open deal: no close date; 12,5 -> 12.5; 08:00 CET = 07:00 UTC
        ("D-3", "BETA", "R1", "GTX", "open", Decimal("12.5000"), "USD", None, "2026-01-10 07:00:00", None, 4),
    ]  # fmt: skip


def test_failed_steps_quarantine_the_row_with_its_original_and_every_failed_step(mapped):
    con, _, _ = mapped
    rows = con.execute(
        "select file, row_number, reason from audit.quarantine where source = 'crm/deals' order by row_number"
    ).fetchall()
    assert rows == [
        # 1.234.5: the group after the first dot has one digit, not three
        ("deals.csv", 5, "mapping_failed: amount: number '1.234.5' is not a number (decimal ',', thousands '.')"),
        ("deals.csv", 6, "mapping_failed: closed_on: date '2026-03-31' does not match format '%d/%m/%Y'"),
        # mg has two lines in products.csv (MG, MG2) and no first_by; Weird is in no value map
        (
            "deals.csv",
            7,
            "mapping_failed: product_line: lookup: 2 different values of products for key 'mg' (give first_by to "
            "pick one); stage: map: 'Weird' has no entry in values (closed won, Lost, Negotiation)",
        ),
        # carol is in no row of people.csv: no rep, which the contract requires
        ("deals.csv", 8, "missing required value: rep_id"),
    ]
    raw = con.execute("select raw_row from audit.quarantine where row_number = 7").fetchall()[0][0]
    assert '"Stage":"Weird"' in raw and '"Client":"GAMMA"' in raw  # the original row, as the file wrote it
    raw = con.execute("select raw_row from audit.quarantine where row_number = 8").fetchall()[0][0]
    assert '"rep_id":null' in raw and '"_source":{"Deal Ref":"d-7"' in raw  # mapped values and the original row
    assert raw.endswith('"Paid (k)":null}}')  # an empty field of the export is kept, as null
    # a row whose mapping failed keeps its mapped key: it joins back to its record
    keys = con.execute("select row_number, row_key from audit.quarantine order by row_number").fetchall()
    assert keys == [(5, "D-4"), (6, "D-5"), (7, "D-6"), (8, "D-7")]


def test_count_identity_per_file_and_entity(mapped):
    con, counts, _ = mapped
    c = counts["crm/deals"]
    assert (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded) == (7, 3, 4, 0, 0)
    manifest = con.execute("select path, rows_read from audit.file_manifest where entity = 'crm/deals'").fetchall()
    assert manifest == [("deals.csv", 7)]
    # the lookups' inputs are read, not ingested
    assert set(counts) == {"crm/deals"}


def test_an_unchanged_export_is_not_read_again_and_a_changed_mapping_reads_it_again(tmp_path, scheme):
    sources = make(tmp_path)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    from orchestration.mapping.ingest import ingest_run

    ingest_sources(con, sources, scheme, AS_OF, run_id="r1")
    con.execute("insert into audit.runs (run_id, status) values ('r1', 'success')")
    run = ingest_run(scheme, AS_OF, "r2", sources)
    from dataclasses import replace

    from orchestration.contract.spec import spec_for
    from orchestration.ingest.entity import ingest_entity

    again = ingest_entity(con, spec_for("crm/deals"), tmp_path / "landing", replace(run, incremental=True))
    assert (again.files, again.rows_in, again.files_unchanged) == (0, 0, 1)
    # the same file under a changed mapping (the deals' currency now a constant): read again
    changed = yaml.safe_load(yaml.safe_dump(MAPPING))
    changed["entities"]["crm/deals"]["columns"]["currency"] = {"const": "EUR"}
    run3 = replace(ingest_run(scheme, AS_OF, "r3", make(tmp_path, changed)), incremental=True)
    third = ingest_entity(con, spec_for("crm/deals"), tmp_path / "landing", run3)
    assert (third.files, third.files_changed, third.rows_in, third.accepted) == (1, 1, 7, 3)
    assert con.execute("select currency from raw.crm__deals where deal_id = 'D-2'").fetchall() == [("EUR",)]


def test_a_file_without_a_mapped_column_stops_the_run_naming_file_and_column(tmp_path, scheme):
    sources = make(tmp_path, deals=DEALS.replace("Modified", "Changed"))
    with pytest.raises(IngestError) as exc:
        ingest_sources(duckdb.connect(), sources, scheme, AS_OF)
    assert str(exc.value) == (
        "crm/deals mapped by sources.yml (input deals): deals.csv: updated_at: no column 'Modified' in the file"
    )


def test_a_mapped_entity_with_landing_files_too_stops(tmp_path, scheme):
    sources = make(tmp_path)
    (tmp_path / "landing" / "crm" / "deals").mkdir(parents=True)
    (tmp_path / "landing" / "crm" / "deals" / "d.csv").write_text("deal_id\n")
    with pytest.raises(IngestError, match="crm/deals is mapped by sources.yml and has files in the landing folder"):
        ingest_sources(duckdb.connect(), sources, scheme, AS_OF, landing=tmp_path / "landing")


def test_gb18030_survey_export_with_one_column_per_question_and_an_unparsable_row(tmp_path, scheme):
    export = tmp_path / "export"
    export.mkdir()
    text = (
        "序号,提交答卷时间,所用时间,邀请码,1、您向朋友推荐我们的可能性有多大？,2、您对本次服务的满意度,3、其他建议\n"
        '1,2026/3/5 14:03:22,125秒,INV-1,9,非常满意,"很好，谢谢"\n'
        "2,2026/3/6 9:00:00,1.234秒,INV-2,3,一般,\n"  # 1.234 seconds: 1.234, not 1234 (no thousands separator)
        "3,2026/3/7 10:00:00,80秒,INV-3,10,满意,多,一个字段\n"  # one field too many: unparsable
        "4,2026/3/8 10:00:00,60秒,INV-4,11,满意,\n"  # nps 11: the contract's range 0..10
    )
    (export / "wjx.csv").write_bytes(text.encode("gb18030"))
    sources = parse_sources(
        {
            "source_folder": "export",
            "inputs": {"wjx": {"files": ["wjx.csv"], "encoding": "GB18030"}},
            "entities": {
                "survey/responses": {
                    "from": "wjx",
                    "questions": {"nps": "推荐", "csat": "满意度"},
                    "columns": {
                        "response_id": {"concat": [{"const": "WJX-"}, "序号"]},
                        "invitation_id": "邀请码",
                        "responded_at": {"timestamp": "提交答卷时间", "format": "%Y/%m/%d %H:%M:%S"},
                        "duration_seconds": {"number": "所用时间", "strip": ["秒"]},
                        "comment": "3、其他建议",
                    },
                }
            },
        },
        "s.yml",
        tmp_path,
    )
    # csat's column holds option labels: mapped by a value map around the question
    sources.entities["survey/responses"].columns["csat"] = {
        "map": {"question": "满意度"},
        "values": {"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1},
    }
    con = duckdb.connect()
    counts = ingest_sources(con, sources, scheme, AS_OF)
    c = counts["survey/responses"]
    assert (c.rows_in, c.accepted, c.quarantined) == (4, 2, 2)
    rows = con.execute(
        "select response_id, invitation_id, cast(responded_at as varchar), nps, csat, comment, duration_seconds "
        "from raw.survey__responses order by response_id"
    ).fetchall()
    # 14:03:22 in the scheme's zone (Asia/Shanghai, +08:00) = 06:03:22 UTC
    assert rows == [
        ("WJX-1", "INV-1", "2026-03-05 06:03:22", 9, 5, "很好，谢谢", 125.0),
        ("WJX-2", "INV-2", "2026-03-06 01:00:00", 3, 3, None, 1.234),
    ]
    q = con.execute("select row_number, reason from audit.quarantine order by row_number").fetchall()
    assert q == [
        (4, "unparsable_row: more fields than the header"),
        (5, "out of range: nps=11 (allowed >= 0 and <= 10)"),
    ]


def test_hostile_headers_and_values_are_read_as_written(tmp_path, scheme):
    # headers with a quote, an apostrophe, a slash, a tilde, a dot and Chinese; values with SQL in them
    export = tmp_path / "export"
    export.mkdir()
    (export / "t.csv").write_text(
        '"id ""x""",team\'s name,a/b~c.d,区域\nT1,"\'); drop table raw.crm__teams; --",mature,华东\n',
        encoding="utf-8",
    )
    sources = parse_sources(
        {
            "source_folder": "export",
            "inputs": {"t": {"files": ["t.csv"]}},
            "entities": {
                "crm/teams": {
                    "from": "t",
                    "columns": {
                        "team_id": 'id "x"',
                        "team_name": "team's name",
                        "business_stage": {"map": "a/b~c.d", "values": {"mature": "mature", "x'y": "new_business"}},
                        "region": "区域",
                    },
                }
            },
        },
        "s.yml",
        tmp_path,
    )
    con = duckdb.connect()
    ingest_sources(con, sources, scheme, AS_OF)
    assert con.execute("select team_id, team_name, business_stage, region from raw.crm__teams").fetchall() == [
        ("T1", "'); drop table raw.crm__teams; --", "mature", "华东")
    ]


def test_dry_run_says_what_would_stop_a_run(tmp_path, scheme):
    from orchestration.mapping.dry_run import dry_run, render

    mapping = yaml.safe_load(yaml.safe_dump(MAPPING))
    del mapping["entities"]["crm/deals"]["columns"]["amount"]  # a required column left out
    mapping["entities"]["crm/deals"]["columns"]["currency"] = "Currency Code"  # no such column
    make(tmp_path)  # the exports
    sources = parse_sources(mapping, "sources.yml", tmp_path, strict=False)
    reports = dry_run(sources, scheme, AS_OF)
    lines = render(sources, reports)
    assert [r.ok for r in reports] == [False]
    assert lines[1:] == [
        "crm/deals from deals: 1 file(s), 7 rows read, 0 would pass, 0 quarantined",
        "  required columns left unmapped: amount",
        "  the file cannot be mapped: deals.csv: currency: no column 'Currency Code' in the file",
        "the run would stop: fix crm/deals",
    ]
    # the same mapping with the column fixed: the value-map misses and the first failures are listed
    mapping["entities"]["crm/deals"]["columns"]["currency"] = {"upper": "Curr"}
    mapping["entities"]["crm/deals"]["columns"]["amount"] = {"number": "Value", "decimal": ",", "thousands": "."}
    sources = parse_sources(mapping, "sources.yml", tmp_path)
    lines = render(sources, dry_run(sources, scheme, AS_OF, first=2))
    assert lines[1:5] == [
        "crm/deals from deals: 1 file(s), 7 rows read, 3 would pass, 4 quarantined",
        "  first failures:",
        "    deals.csv line 5: mapping_failed: amount: number '1.234.5' is not a number (decimal ',', thousands '.')",
        "    deals.csv line 6: mapping_failed: closed_on: date '2026-03-31' does not match format '%d/%m/%Y'",
    ]
    assert "  value-map misses, stage (no entry: the row fails): 'Weird' x1" in lines


def test_coalesce_fails_a_row_only_when_no_earlier_part_has_a_value(tmp_path, scheme):
    export = tmp_path / "export"
    export.mkdir()
    # row 2: the first date reads; row 3: the first is empty, the second reads; row 4: the first is
    # empty, the second does not read (the row fails); row 5: the first reads, the second would not
    (export / "t.csv").write_text(
        "id,a,b\nT1,2026-01-02,\nT2,,03/02/2026\nT3,,2026-02-03\nT4,2026-04-05,xx\n", encoding="utf-8"
    )
    sources = parse_sources(
        {
            "source_folder": "export",
            "inputs": {"t": {"files": ["t.csv"]}},
            "entities": {
                "crm/reps": {
                    "from": "t",
                    "columns": {
                        "rep_id": "id",
                        "rep_name": "id",
                        "team_id": {"const": "X"},
                        "hired_on": {
                            "coalesce": [
                                {"date": "a", "format": "%Y-%m-%d"},
                                {"date": "b", "format": "%d/%m/%Y"},
                            ]
                        },
                    },
                }
            },
        },
        "s.yml",
        tmp_path,
    )
    con = duckdb.connect()
    ingest_sources(con, sources, scheme, AS_OF)
    assert con.execute("select rep_id, cast(hired_on as varchar) from raw.crm__reps order by 1").fetchall() == [
        ("T1", "2026-01-02"),
        ("T2", "2026-02-03"),
        ("T4", "2026-04-05"),
    ]
    assert con.execute("select row_number, reason from audit.quarantine").fetchall() == [
        (4, "mapping_failed: hired_on: date '2026-02-03' does not match format '%d/%m/%Y'")
    ]
