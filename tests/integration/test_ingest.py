"""Ingestion of a hand-made landing folder with bad rows of every kind CONTRACT.md lists."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract.spec import entity_specs, spec_for
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.ingest.ingest_error import IngestError

AS_OF = datetime(2026, 6, 30, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
TZ = "Asia/Shanghai"


def write(root: Path, rel: str, text: str, encoding: str = "utf-8") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode(encoding))


def base_folder(root: Path) -> None:
    write(root, "crm/teams/teams.csv", "team_id,team_name,region,business_stage\nT1,华东一组,East,Mature\n")
    # GB18030 (Chinese Excel export) with Chinese names
    write(
        root,
        "crm/reps/reps.csv",
        "rep_id,rep_name,team_id,email,hired_on,left_on\nR1,王伟,T1,,2024-01-01,\nR2,李娜,T1,,2024-01-01,\n",
        encoding="gb18030",
    )
    # UTF-8 with BOM, upper-case and padded header
    write(
        root,
        "crm/customers/customers.csv",
        "\ufeffCustomer_ID , customer_name,region,segment,industry,acquired_on,acquisition_channel,"
        "referred_by_customer_id,owner_rep_id\n"
        "C1,上海某某科技有限公司,East,KEY_ACCOUNT,,2026-01-05,referral,C2,R1\n"
        "C2,Acme,East,standard,,2025-12-01,inbound,,R2\n",
    )


def ingest_all(con, root: Path, run_id: str = "run-1") -> dict:
    run = IngestRun(run_id, AS_OF, TZ, "CNY", ("USD",))
    return {s.entity: ingest_entity(con, s, root, run) for s in entity_specs()}


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    base_folder(root)
    deals_header = (
        "deal_id,customer_id,rep_id,product_line,stage,amount,currency,closed_on,collected_amount,updated_at\n"
    )
    write(
        root,
        "crm/deals/2026-03-31.csv",
        deals_header
        + "D1,C1,R1,软件,won,100,,2026-03-31,100,2026-03-31T10:00:00+08:00\n"  # superseded later
        + "D2,C1,R1,软件,won,200,,2026-03-01,,2026-03-01 09:00:00\n"  # exact duplicate below
        + "D3,C1,R1,软件,won,,,2026-03-01,,\n"  # missing amount
        + "D4,C1,R1,软件,won,-5,,2026-03-01,,\n"  # negative amount
        + "D5,C1,R1,软件,won,50,,2026-03-01,60,\n"  # collected > amount
        + "D6,C1,R1,软件,signed,50,,2026-03-01,,\n"  # unknown enum
        + "D7,C1,R1,软件,lost,50,,,,\n"  # lost without closed_on
        + "D8,C1,R1,软件,won,50,EUR,2026-03-01,,\n"  # no rate for EUR
        + "D9,C1,R1,软件,won,50,usd,2026-07-05,,\n"  # future (as-of + 1 day)
        + 'D10,C1,R1,"硬件, 含\n安装",open,abc,,,,\n',
    )  # not a number
    write(
        root,
        "crm/deals/2026-04-30.csv",
        deals_header
        + "D1,C1,R1,软件,won,150,,2026-03-31,120,2026-04-02T10:00:00+08:00\n"  # later updated_at wins
        + "D2,C1,R1,软件,won,200,,2026-03-01,,2026-03-01 09:00:00\n"
        + "D11,C2,R2,服务,won,70,USD,2026-07-01,,\n",
    )  # as-of + 1 day: allowed
    write(
        root,
        "tickets/tickets/t.csv",
        "ticket_id,customer_id,rep_id,type,category,severity,opened_at,first_response_at,resolved_at,description\n"
        "K1,C1,,complaint,service,high,2026-03-01 10:00:00,2026-03-01 09:00:00,,\n"  # response before open
        "K2,C1,,complaint,service,high,2026-03-01 10:00:00,,2026-03-01 09:59:59,\n"  # resolved before open
        "K3,C1,,complaint,weather,high,2026-03-01 10:00:00,,,\n"  # unknown category
        'K4,C1,R1,complaint,service,high,2026-03-01 10:00:00,2026-03-01T02:30:00Z,2026-03-02 10:00:00,"慢, 很慢"\n',
    )
    (root / "survey" / "responses").mkdir(parents=True)
    pq.write_table(
        pa.table(
            {
                "response_id": ["S1", "S2", "S3", "S4"],
                "invitation_id": ["I1", "I1", "I1", "I1"],
                "responded_at": ["2026-02-01 10:00:00"] * 4,
                "nps": ["11", "7.5", "9", "10"],
                "csat": ["5", "5", "0", None],
            }
        ),
        root / "survey" / "responses" / "r.parquet",
    )
    write(
        root,
        "crm/interactions/i.jsonl",
        '{"interaction_id": "X1", "rep_id": "R1", "customer_id": "C1", "channel": "Phone", '
        '"customer_contacted_at": "2026-02-01T10:00:00+08:00", "rep_responded_at": "2026-02-01T09:00:00+08:00"}\n'
        '{"interaction_id": "X2", "rep_id": "R1", "customer_id": "C1", "channel": "im", '
        '"customer_contacted_at": "2026-02-01T10:00:00+08:00", "rep_responded_at": null, "mood": "ok"}\n',
    )
    write(
        root,
        "crm/feedback_self_reported/f.csv",
        "record_id,rep_id,customer_id,contact_on,reported_on,kind,claimed_satisfaction,complaint_resolved,note\n"
        'F1,R1,C1,2026-02-01,2026-02-02,complaint,2,Y,"客户说: 价格高, 交付慢\n下次改进"\n'
        "F2,R1,C1,2026-02-01,2026-02-02,praise,6,maybe,\n",
    )
    write(root, "crm/targets/t.csv", "period,rep_id,sales_target\n2026-Q1,R1,1000\n2026-Q5,R1,5\n2026-01,R1,0\n")
    return root


def test_bad_rows_are_quarantined_with_their_reasons(tmp_path, bad_folder):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    counts = ingest_all(con, bad_folder)
    reasons = dict(con.execute("select source || ':' || row_key, reason from audit.quarantine").fetchall())
    assert reasons == {
        "crm/deals:D3": "missing required value: amount",
        "crm/deals:D4": "out of range: amount=-5 (allowed >= 0)",
        "crm/deals:D5": "broken rule: collected_amount_not_above_amount",
        "crm/deals:D6": "unknown value for stage: 'signed' (allowed: open, won, lost)",
        "crm/deals:D7": "broken rule: closed_on_required_when_won_or_lost",
        "crm/deals:D8": "no exchange rate for currency 'EUR' (configured: CNY, USD)",
        "crm/deals:D9": "in the future: closed_on=2026-07-05 is more than one day after as-of",
        "crm/deals:D10": "wrong type: amount='abc' is not a number",
        "tickets/tickets:K1": "broken rule: first_response_not_before_opened",
        "tickets/tickets:K2": "broken rule: resolved_not_before_opened",
        "tickets/tickets:K3": "unknown value for category: 'weather' (allowed: communication, service, "
        "solution, product, billing, delivery, other)",
        "survey/responses:S1": "out of range: nps=11 (allowed >= 0 and <= 10)",
        "survey/responses:S2": "wrong type: nps='7.5' is not an integer",
        "survey/responses:S3": "out of range: csat=0 (allowed >= 1 and <= 5)",
        "crm/interactions:X1": "broken rule: rep_responded_not_before_contact",
        "crm/feedback_self_reported:F2": "out of range: claimed_satisfaction=6 (allowed >= 1 and <= 5); "
        "wrong type: complaint_resolved='maybe' is not a boolean (true/false, "
        "1/0, yes/no, y/n)",
        "crm/targets:2026-Q5|R1": "wrong format: period='2026-Q5' (expected YYYY-MM, YYYY-Qn or YYYY)",
        "crm/targets:2026-01|R1": "out of range: sales_target=0 (allowed > 0)",
    }
    # the raw row survives as JSON text, Chinese and embedded newline included
    raw = con.execute("select raw_row from audit.quarantine where row_key = 'D10'").fetchone()[0]
    assert '"product_line":"硬件, 含\\n安装"' in raw
    d = counts["crm/deals"]
    assert (d.rows_in, d.accepted, d.quarantined, d.exact_duplicates, d.superseded) == (13, 3, 8, 1, 1)
    for c in counts.values():  # counts in = accepted + quarantined + duplicates + superseded
        assert c.rows_in == c.accepted + c.quarantined + c.exact_duplicates + c.superseded
    stored = {
        r[0]: r[1:]
        for r in con.execute(
            "select entity, rows_in, accepted, quarantined, exact_duplicates, superseded from audit.run_counts"
        ).fetchall()
    }
    assert stored["crm/deals"] == (13, 3, 8, 1, 1)
    assert stored["crm/adjustments"] == (0, 0, 0, 0, 0)  # absent entity: empty input, not an error
    # the contract is a (non-blocking) check in the audit ledger, with the quarantined rows' keys
    results = {
        r[0]: r[1:]
        for r in con.execute(
            "select source, passed, failing_rows from audit.check_results where check_kind = 'pandera'"
        ).fetchall()
    }
    assert results["crm/deals"] == (False, 8)
    assert results["crm/teams"] == (True, 0)
    ledger = con.execute(
        "select row_key, message from audit.validation_failures where source = 'crm/deals' order by row_key"
    ).fetchall()
    assert [r[0] for r in ledger] == ["D10", "D3", "D4", "D5", "D6", "D7", "D8", "D9"]
    # the file and the line where the record starts (the header is line 1)
    assert ledger[1][1] == "missing required value: amount (crm/deals/2026-03-31.csv line 4)"
    # one ledger row per broken rule, with the column and the offending value
    assert con.execute(
        "select column_name, bad_value, message from audit.validation_failures where row_key = 'F2' "
        "order by column_name"
    ).fetchall() == [
        (
            "claimed_satisfaction",
            "6",
            # F1 takes lines 2-3 (a quoted newline): F2 starts on line 4
            "out of range: claimed_satisfaction=6 (allowed >= 1 and <= 5) (crm/feedback_self_reported/f.csv line 4)",
        ),
        (
            "complaint_resolved",
            "maybe",
            "wrong type: complaint_resolved='maybe' is not a boolean "
            "(true/false, 1/0, yes/no, y/n) (crm/feedback_self_reported/f.csv line 4)",
        ),
    ]
    assert con.execute(
        "select column_name, bad_value from audit.validation_failures where row_key = 'D5'"
    ).fetchall() == [(None, None)]  # a rule across columns names no single column


def test_typed_values_versions_and_text(tmp_path, bad_folder):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_all(con, bad_folder)
    # the later updated_at wins; the superseded version stays in the raw layer
    assert con.execute(
        "select amount, _file, _is_current from raw.crm__deals where deal_id = 'D1' order by _is_current"
    ).fetchall() == [(100, "crm/deals/2026-03-31.csv", False), (150, "crm/deals/2026-04-30.csv", True)]
    # D11: USD upper-cased; no-offset timestamps are Asia/Shanghai, stored as UTC
    assert con.execute("select currency from raw.crm__deals where deal_id = 'D11'").fetchone() == ("USD",)
    assert con.execute("select updated_at from raw.crm__deals where deal_id = 'D2'").fetchone() == (
        datetime(2026, 3, 1, 1, 0),
    )
    assert con.execute("select first_response_at from raw.tickets__tickets where ticket_id = 'K4'").fetchone() == (
        datetime(2026, 3, 1, 2, 30),
    )
    assert con.execute("select rep_name from raw.crm__reps order by rep_id").fetchall() == [("王伟",), ("李娜",)]
    assert con.execute("select segment, customer_name from raw.crm__customers where customer_id = 'C1'").fetchone() == (
        "key_account",
        "上海某某科技有限公司",
    )
    assert con.execute("select business_stage from raw.crm__teams").fetchone() == ("mature",)
    assert con.execute("select note, complaint_resolved from raw.crm__feedback_self_reported").fetchone() == (
        "客户说: 价格高, 交付慢\n下次改进",
        True,
    )
    assert con.execute("select channel, _extra from raw.crm__interactions").fetchone() == ("im", '{"mood":"ok"}')
    assert con.execute("select response_id, nps, csat from raw.survey__responses").fetchall() == [("S4", 10, None)]


def test_rerun_replaces_instead_of_appending(tmp_path, bad_folder):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_all(con, bad_folder, "run-1")
    ingest_all(con, bad_folder, "run-1")
    assert con.execute("select count(*) from audit.quarantine").fetchone()[0] == 18
    assert con.execute("select count(*) from raw.crm__deals").fetchone()[0] == 4
    ingest_all(con, bad_folder, "run-2")  # the quarantine is kept per run
    assert con.execute("select count(distinct run_id), count(*) from audit.quarantine").fetchone() == (2, 36)


def test_missing_required_column_stops_with_file_and_column(tmp_path):
    root = tmp_path / "landing"
    base_folder(root)
    write(root, "crm/deals/x.csv", "deal_id,customer_id,rep_id,product_line,stage\nD1,C1,R1,p,open\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(IngestError, match=r"^crm/deals/x.csv: missing required column\(s\) amount for crm/deals$"):
        ingest_entity(con, spec_for("crm/deals"), root, IngestRun("r", AS_OF, TZ, "CNY", ()))


def test_unreadable_file_and_missing_required_entity_stop_the_run(tmp_path):
    root = tmp_path / "landing"
    base_folder(root)
    write(root, "survey/responses/broken.parquet", "this is not parquet")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    with pytest.raises(IngestError, match="broken.parquet: cannot be read as Parquet"):
        ingest_entity(con, spec_for("survey/responses"), root, IngestRun("r", AS_OF, TZ, "CNY", ()))
    (root / "crm/teams/teams.csv").unlink()
    with pytest.raises(IngestError, match="required entity crm/teams has no file"):
        ingest_entity(con, spec_for("crm/teams"), root, IngestRun("r", AS_OF, TZ, "CNY", ()))
