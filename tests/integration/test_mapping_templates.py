"""The vendor templates in mappings/ (docs/mapping_templates.md): each template's hand-made export,
ingested through its sources.yml, gives the values computed by hand below.

Every expected value is worked out in a comment from the export's text, not read back from the
engine. Conventions of the raw layer (orchestration/contract/spec.py): money is DECIMAL(18,4);
timestamps are stored as naive UTC wall clock; dates as they were written. The scheme is
config/scorecard.yml (time zone Asia/Shanghai = UTC+8, no DST; base currency CNY; a rate for USD
only). As-of is pinned to 2026-12-31 23:59:59+08:00, after every date in the files.

audit.quarantine.row_number is the file line where the record starts (the header is line 1).
Every quarantined row of a mapped export has raw_row = the mapped contract values, then the original
row under "_source" (keyed by the export's headers, empty fields as null), whether its mapping failed
or the contract refused it.
"""

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.mapping.ingest import ingest_sources
from orchestration.scheme.file import load_scheme

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"
AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
RUN = "t1"


@pytest.fixture(scope="module")
def scheme():
    return load_scheme(ROOT / "config" / "scorecard.yml")


def ingest(tmp_path: Path, scheme, template: str):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    counts = ingest_sources(con, MAPPINGS / template / "sources.yml", scheme, AS_OF, run_id=RUN)
    return con, counts


def data_records(path: Path, encoding: str = "utf-8") -> int:
    """The export's records counted independently of the engine (Python's csv module), header aside."""
    return len(list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))) - 1


def run_counts(con, entity: str) -> tuple:
    return con.execute(
        "select rows_in, accepted, quarantined, exact_duplicates, superseded from audit.run_counts "
        "where run_id = ? and entity = ?",
        [RUN, entity],
    ).fetchone()


def assert_count_identity(con, counts, entity: str, export: Path, encoding: str = "utf-8") -> tuple:
    """rows read = accepted + quarantined + exact duplicates + superseded, for the file (each template
    has one export file, so the entity's counts are the file's), and what ingest_sources returned is
    what audit.run_counts holds."""
    c = counts[entity]
    row = run_counts(con, entity)
    assert row == (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded)
    rows_in, accepted, quarantined, dups, superseded = row
    assert rows_in == data_records(export, encoding) == accepted + quarantined + dups + superseded
    manifest = con.execute(
        "select path, rows_read from audit.file_manifest where entity = ? and last_seen_run_id = ?", [entity, RUN]
    ).fetchall()
    assert manifest == [(export.name, rows_in)]
    return row


def quarantined(con, entity: str) -> dict[int, tuple]:
    """line -> (row_key, reason, raw_row as a dict, file)."""
    rows = con.execute(
        "select row_number, row_key, reason, raw_row, file from audit.quarantine where run_id = ? and source = ?",
        [RUN, entity],
    ).fetchall()
    return {line: (key, reason, json.loads(raw), f) for line, key, reason, raw, f in rows}


def current(con, table: str, key: str) -> dict[str, dict]:
    cur = con.execute(f"select * from raw.{table} where _is_current")
    names = [d[0] for d in cur.description]
    return {r[names.index(key)]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


# --- Salesforce opportunity report ----------------------------------------------------------------


def test_salesforce_opportunities(tmp_path, scheme):
    export = MAPPINGS / "salesforce_opportunities" / "export" / "opportunities.csv"
    con, counts = ingest(tmp_path, scheme, "salesforce_opportunities")
    assert set(counts) == {"crm/deals"}

    # 11 records (lines 2-12):
    #   quarantined 4: line 6 stage "On Hold" (no value-map entry), line 7 Close Date "13/01/2026"
    #     (no month 13 in %m/%d/%Y), line 8 amount -2,000.00 (< 0), line 9 currency EUR (no rate);
    #   exact duplicate 1: line 12 repeats line 2 byte for byte;
    #   superseded 1: Op004 on line 5 (Last Modified 1/20/2026) loses to line 11 (3/2/2026);
    #   accepted 5: Op001, Op002, Op003, Op004 (line 11), Op009.  5 + 4 + 1 + 1 = 11.
    assert assert_count_identity(con, counts, "crm/deals", export) == (11, 5, 4, 1, 1)

    q = quarantined(con, "crm/deals")
    assert sorted(q) == [6, 7, 8, 9]
    assert {f for *_, f in q.values()} == {"opportunities.csv"}
    # mapping failures: the reason names the contract column and the step; _source is the export's row
    key, reason, raw, _ = q[6]
    assert key == "0065g00000Op005AAB"  # the mapped key: a mapping failure joins back to its record
    assert reason.startswith("mapping_failed: stage: map: 'On Hold' has no entry in values (Prospecting, ")
    assert raw["_source"]["Opportunity ID"] == "0065g00000Op005AAB" and raw["_source"]["Stage"] == "On Hold"
    _, reason, raw, _ = q[7]
    assert reason == "mapping_failed: closed_on: date '13/01/2026' does not match format '%m/%d/%Y'"
    assert raw["_source"]["Close Date"] == "13/01/2026" and raw["_source"]["Amount"] == "2,200.00"
    # contract failures after mapping: "-2,000.00" -> -2000.00 (thousands separator dropped)
    key, reason, raw, _ = q[8]
    assert key == "0065g00000Op007AAB"
    assert reason == "out of range: amount=-2000.00 (allowed >= 0)"
    assert raw["amount"] == "-2000.00" and raw["_source"]["Amount"] == "-2,000.00"
    key, reason, raw, _ = q[9]
    assert key == "0065g00000Op008AAB"
    assert reason.startswith("no exchange rate for currency 'EUR'")
    assert raw["_source"]["Opportunity Currency"] == "EUR"

    deals = current(con, "crm__deals", "deal_id")
    assert sorted(deals) == [f"0065g00000Op00{i}AAB" for i in (1, 2, 3, 4, 9)]
    # Op001 (line 2; its copy on line 12 dropped): "12,500.00" -> 12500.0000; "Closed Won" -> won;
    # "3/31/2026" (%m/%d/%Y) -> 2026-03-31; Last Modified "3/31/2026 4:05 PM" New York, EDT since
    # 2026-03-08 (UTC-4) -> 20:05 UTC.
    d = deals["0065g00000Op001AAB"]
    assert (d["customer_id"], d["rep_id"], d["product_line"], d["stage"]) == (
        "0015g00000AcmeQAAR",
        "Maria Chen",
        "Software",
        "won",
    )
    assert (d["amount"], d["currency"], d["closed_on"]) == (Decimal("12500.0000"), "USD", date(2026, 3, 31))
    assert d["updated_at"] == datetime(2026, 3, 31, 20, 5) and d["_row"] == 2
    # Op002: Chinese owner and account byte for byte; "USD 48,000.00" -> "USD " stripped -> 48000.0000;
    # Negotiation/Review -> open; "4/2/2026 9:30 AM" EDT -> 13:30 UTC.
    d = deals["0065g00000Op002AAB"]
    assert (d["customer_id"], d["rep_id"], d["stage"], d["amount"]) == (
        "0015g00000XingQAAR",
        "王芳",
        "open",
        Decimal("48000.0000"),
    )
    assert d["updated_at"] == datetime(2026, 4, 2, 13, 30)
    # Op003: Account ID empty -> coalesce falls back to the account's name, a quoted field with a
    # comma; "$950.00" -> 950.0000; Closed Lost -> lost on 2026-02-14; "2/14/2026 11:47 AM" EST
    # (UTC-5) -> 16:47 UTC.
    d = deals["0065g00000Op003AAB"]
    assert (d["customer_id"], d["stage"], d["amount"], d["closed_on"]) == (
        "Globex, Inc.",
        "lost",
        Decimal("950.0000"),
        date(2026, 2, 14),
    )
    assert d["updated_at"] == datetime(2026, 2, 14, 16, 47)
    # Op004: the later version (line 11): Proposal/Price Quote -> open, "3,600.00" -> 3600.0000,
    # "3/2/2026 3:15 PM" EST -> 20:15 UTC; the earlier one (line 5: 3000.0000, 1/20/2026 10:00 AM
    # EST = 15:00 UTC) stays in raw as not current.
    d = deals["0065g00000Op004AAB"]
    assert (d["stage"], d["amount"], d["updated_at"], d["_row"]) == (
        "open",
        Decimal("3600.0000"),
        datetime(2026, 3, 2, 20, 15),
        11,
    )
    old = con.execute(
        "select amount, updated_at, _row from raw.crm__deals where deal_id = '0065g00000Op004AAB' and not _is_current"
    ).fetchall()
    assert old == [(Decimal("3000.0000"), datetime(2026, 1, 20, 15, 0), 5)]
    # Op009: "1,250,000.00" CNY (two thousands separators) -> 1250000.0000 in the base currency;
    # "12/15/2026 6:20 PM" EST -> 23:20 UTC.
    d = deals["0065g00000Op009AAB"]
    assert (d["customer_id"], d["amount"], d["currency"], d["closed_on"]) == (
        "0015g00000BjmmQAAR",
        Decimal("1250000.0000"),
        "CNY",
        date(2026, 12, 15),
    )
    assert d["updated_at"] == datetime(2026, 12, 15, 23, 20)
    # 6 rows in raw: 5 current + the superseded version; the exact duplicate is not kept
    assert con.execute("select count(*) from raw.crm__deals").fetchone()[0] == 6


# --- HubSpot deals export -------------------------------------------------------------------------


def test_hubspot_deals(tmp_path, scheme):
    export = MAPPINGS / "hubspot_deals" / "export" / "deals.csv"
    con, counts = ingest(tmp_path, scheme, "hubspot_deals")

    # 9 records (lines 2-10): quarantined 4 (line 6 stage "Verbal commit", line 7 amount "12.000,00",
    # line 8 won without Close Date, line 9 no company); accepted 5; no duplicates, no versions.
    assert assert_count_identity(con, counts, "crm/deals", export) == (9, 5, 4, 0, 0)

    q = quarantined(con, "crm/deals")
    assert sorted(q) == [6, 7, 8, 9]
    assert {f for *_, f in q.values()} == {"deals.csv"}
    _, reason, raw, _ = q[6]
    assert reason.startswith("mapping_failed: stage: map: 'Verbal commit' has no entry in values (")
    assert raw["_source"]["Record ID"] == "18123456705"
    _, reason, raw, _ = q[7]
    # a decimal comma is not guessed: with decimal "." and no thousands separator it is no number
    assert reason == "mapping_failed: amount: number '12.000,00' is not a number (decimal '.', no thousands separator)"
    assert raw["_source"]["Amount"] == "12.000,00"
    key, reason, raw, _ = q[8]
    assert (key, reason) == ("18123456707", "broken rule: closed_on_required_when_won_or_lost")
    # (the original row under "_source" keeps its empty columns, as null)
    assert raw["stage"] == "won" and raw["closed_on"] is None and raw["_source"]["Close Date"] is None
    key, reason, raw, _ = q[9]
    # neither "Associated Company IDs (Primary)" nor "Associated Company (Primary)": coalesce gives null
    assert (key, reason) == ("18123456708", "missing required value: customer_id")

    deals = current(con, "crm__deals", "deal_id")
    assert sorted(deals) == ["18123456701", "18123456702", "18123456703", "18123456704", "18123456709"]
    # 701: "Closed won" -> won; 12500 -> 12500.0000 USD (constant); Close Date "2026-03-31 14:05" -> its
    # date 2026-03-31; Last Modified "2026-03-31 14:06" Asia/Shanghai (UTC+8) -> 06:06 UTC;
    # product line = the pipeline.
    d = deals["18123456701"]
    assert (d["customer_id"], d["rep_id"], d["product_line"], d["stage"]) == (
        "9876543201",
        "Maria Chen",
        "Sales Pipeline",
        "won",
    )
    assert (d["amount"], d["currency"], d["closed_on"], d["updated_at"]) == (
        Decimal("12500.0000"),
        "USD",
        date(2026, 3, 31),
        datetime(2026, 3, 31, 6, 6),
    )
    # 702: Chinese deal owner and pipeline; "Contract sent" -> open; 48000.50 -> 48000.5000;
    # "2026-04-02 09:31" +08:00 -> 01:31 UTC.
    d = deals["18123456702"]
    assert (d["rep_id"], d["product_line"], d["stage"], d["amount"], d["updated_at"]) == (
        "王芳",
        "新零售方案",
        "open",
        Decimal("48000.5000"),
        datetime(2026, 4, 2, 1, 31),
    )
    # 703: no company id -> the company's name (quoted, with a comma); "Closed lost" -> lost on 2026-02-14
    d = deals["18123456703"]
    assert (d["customer_id"], d["stage"], d["amount"], d["closed_on"]) == (
        "Globex, Inc.",
        "lost",
        Decimal("950.0000"),
        date(2026, 2, 14),
    )
    # 704: "Appointment scheduled" -> open, 3000.0000; 709: won 88000.0000 on 2026-11-30
    assert (deals["18123456704"]["stage"], deals["18123456704"]["amount"]) == ("open", Decimal("3000.0000"))
    assert (deals["18123456709"]["stage"], deals["18123456709"]["amount"], deals["18123456709"]["closed_on"]) == (
        "won",
        Decimal("88000.0000"),
        date(2026, 11, 30),
    )


# --- Zendesk ticket export ------------------------------------------------------------------------


def test_zendesk_tickets(tmp_path, scheme):
    export = MAPPINGS / "zendesk_tickets" / "export" / "tickets.csv"
    con, counts = ingest(tmp_path, scheme, "zendesk_tickets")

    # 9 records (lines 2-10): quarantined 3 (line 6 times re-saved by Excel as "3/9/2026 10:00",
    # line 7 solved before created, line 8 category "Refund request"); accepted 6.
    assert assert_count_identity(con, counts, "tickets/tickets", export) == (9, 6, 3, 0, 0)

    q = quarantined(con, "tickets/tickets")
    assert sorted(q) == [6, 7, 8]
    _, reason, raw, f = q[6]
    assert f == "tickets.csv"
    assert reason.startswith("mapping_failed: opened_at: timestamp '3/9/2026 10:00' does not match format")
    assert "; resolved_at: timestamp '3/10/2026 7:45' does not match format" in reason
    assert raw["_source"]["Id"] == "1005" and raw["_source"]["Created at"] == "3/9/2026 10:00"
    # 1006: created 2026-06-01 10:00 EDT = 14:00 UTC, solved 2026-05-31 09:00 EDT = 13:00 UTC: earlier
    key, reason, raw, _ = q[7]
    assert (key, reason) == ("1006", "broken rule: resolved_not_before_opened")
    assert (raw["opened_at"], raw["resolved_at"]) == (
        "2026-06-01T14:00:00.000000+00:00",
        "2026-05-31T13:00:00.000000+00:00",
    )
    # 1007: keep_others passes "Refund request" through; the contract does not know it
    key, reason, raw, _ = q[8]
    assert key == "1007"
    assert reason.startswith("unknown value for category: 'Refund request' (allowed:")
    assert raw["_source"]["Organization"] == "Globex, Inc."

    t = current(con, "tickets__tickets", "ticket_id")
    assert sorted(t) == ["1001", "1002", "1003", "1004", "1008", "1009"]
    # 1001: incident -> complaint; "Billing" kept by keep_others, lower-cased by the contract -> billing;
    # high -> high; created 2026-03-06 10:00:00 New York, EST (UTC-5) -> 15:00 UTC; solved
    # 2026-03-09 10:00:00, EDT since 2026-03-08 (UTC-4) -> 14:00 UTC; the Subject (quoted, with a
    # comma) is the description.
    d = t["1001"]
    assert (d["customer_id"], d["rep_id"], d["type"], d["category"], d["severity"]) == (
        "Acme Corporation",
        "Maria Chen",
        "complaint",
        "billing",
        "high",
    )
    assert (d["opened_at"], d["resolved_at"], d["first_response_at"]) == (
        datetime(2026, 3, 6, 15, 0),
        datetime(2026, 3, 9, 14, 0),
        None,
    )
    assert d["description"] == "Invoice shows the wrong amount, please fix"
    # 1002: problem -> complaint; urgent -> critical; Service -> service; open: no Solved at;
    # 2026-04-01 08:30 EDT -> 12:30 UTC; Chinese organization and subject byte for byte.
    d = t["1002"]
    assert (d["customer_id"], d["rep_id"], d["type"], d["category"], d["severity"]) == (
        "上海星辰科技有限公司",
        "王芳",
        "complaint",
        "service",
        "critical",
    )
    assert (d["opened_at"], d["resolved_at"], d["description"]) == (
        datetime(2026, 4, 1, 12, 30),
        None,
        "发票抬头错误, 请重新开具",
    )
    # 1003: no organization -> the requester's domain; question -> inquiry; normal -> medium;
    # 14:20 / 15:55 EDT -> 18:20 / 19:55 UTC
    d = t["1003"]
    assert (d["customer_id"], d["type"], d["severity"], d["opened_at"], d["resolved_at"]) == (
        "globex.example",
        "inquiry",
        "medium",
        datetime(2026, 4, 15, 18, 20),
        datetime(2026, 4, 15, 19, 55),
    )
    # 1004: task -> request; low -> low; Delivery -> delivery
    assert (t["1004"]["type"], t["1004"]["severity"], t["1004"]["category"]) == ("request", "low", "delivery")
    # 1008: after the end of DST (2026-11-01): 2026-11-02 09:15 EST -> 14:15 UTC, 2026-11-03 17:40 -> 22:40
    assert (t["1008"]["opened_at"], t["1008"]["resolved_at"]) == (
        datetime(2026, 11, 2, 14, 15),
        datetime(2026, 11, 3, 22, 40),
    )
    # 1009: pending, question -> inquiry, Communication -> communication; 13:05 EST -> 18:05 UTC
    assert (t["1009"]["type"], t["1009"]["category"], t["1009"]["opened_at"], t["1009"]["resolved_at"]) == (
        "inquiry",
        "communication",
        datetime(2026, 12, 1, 18, 5),
        None,
    )


# --- 问卷星 answer download (GB18030) ---------------------------------------------------------------


def test_wjx_survey(tmp_path, scheme):
    export = MAPPINGS / "wjx_survey" / "export" / "wjx_2468013_responses.csv"
    raw_bytes = export.read_bytes()
    with pytest.raises(UnicodeDecodeError):  # the fixture really is GB18030, not UTF-8
        raw_bytes.decode("utf-8")
    con, counts = ingest(tmp_path, scheme, "wjx_survey")

    # 8 answer sheets (lines 2-9): quarantined 2 (line 7 CSAT "很满意", an option label not in the
    # map; line 8 no custom parameter: invitation_id missing); accepted 6 (line 3's CSAT "(跳过)"
    # and comment "(空)" are mapped to "", i.e. empty: the answer counts without them).
    assert assert_count_identity(con, counts, "survey/responses", export, "gb18030") == (8, 6, 2, 0, 0)
    assert con.execute("select encoding from audit.file_manifest where entity = 'survey/responses'").fetchall() == [
        ("gb18030",)
    ]

    q = quarantined(con, "survey/responses")
    assert sorted(q) == [7, 8]
    _, reason, raw, f = q[7]
    assert f == "wjx_2468013_responses.csv"
    assert reason.startswith(
        "mapping_failed: csat: map: '很满意' has no entry in values (非常满意, 满意, 一般, 不满意, 非常不满意, (跳过))"
    )
    # the original row, decoded from GB18030: Chinese headers and values intact
    assert (
        raw["_source"]["序号"] == "6"
        and raw["_source"]["2、您对本次服务的满意度"] == "很满意"
        and raw["_source"]["所用时间"] == "77秒"
    )
    key, reason, raw, _ = q[8]
    assert (key, reason) == ("wjx-2468013-7", "missing required value: invitation_id")
    assert raw["_source"]["自定义字段"] is None and raw["_source"]["序号"] == "7" and raw["nps"] == "9"

    r = current(con, "survey__responses", "response_id")
    assert sorted(r) == [f"wjx-2468013-{i}" for i in (1, 2, 3, 4, 5, 8)]
    # 序号 1: id = "wjx-2468013-" || 序号; 提交答卷时间 "2026/3/5 14:03:22" China time (UTC+8) ->
    # 06:03:22 UTC; NPS 9 (found by "推荐"); CSAT 非常满意 -> 5; "125秒" -> 125.0 s; the comment
    # (quoted, with a comma) byte for byte.
    d = r["wjx-2468013-1"]
    assert (d["invitation_id"], d["responded_at"], d["nps"], d["csat"], d["duration_seconds"]) == (
        "INV-0001",
        datetime(2026, 3, 5, 6, 3, 22),
        9,
        5,
        125.0,
    )
    assert d["comment"] == "服务很好, 响应及时"
    # CSAT labels -> 5..1 across the accepted answers; NPS as answered
    assert {k: (v["nps"], v["csat"]) for k, v in r.items()} == {
        "wjx-2468013-1": (9, 5),  # 非常满意
        "wjx-2468013-2": (10, None),  # (跳过): skipped -> "" -> no CSAT
        "wjx-2468013-3": (6, 3),  # 一般
        "wjx-2468013-4": (3, 2),  # 不满意
        "wjx-2468013-5": (0, 1),  # 非常不满意
        "wjx-2468013-8": (10, 5),  # 非常满意
    }
    # "2026/3/6 9:15:07" (no zero padding) -> 01:15:07 UTC, "48秒" -> 48.0, comment "(空)" -> "" -> null
    d = r["wjx-2468013-2"]
    assert (d["responded_at"], d["duration_seconds"], d["comment"]) == (datetime(2026, 3, 6, 1, 15, 7), 48.0, None)
    # "2026/12/30 23:59:59" +08:00 -> 15:59:59 UTC, "210秒" -> 210.0
    d = r["wjx-2468013-8"]
    assert (d["responded_at"], d["duration_seconds"]) == (datetime(2026, 12, 30, 15, 59, 59), 210.0)
    # 来自IP is not mapped (no hash in the mapping language): no fingerprint
    assert {v["respondent_fingerprint"] for v in r.values()} == {None}
