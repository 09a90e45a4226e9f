"""Ingestion of hostile landing files (one entity at a time on a tmp DuckDB): old dates and special
words, numbers that do not fit, legacy encodings, glob characters in file names, malformed CSV rows,
plan dates in the future. Every expected value is worked out by hand from the files written here."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandera.pandas as pdp
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.contract.spec import spec_for
from orchestration.ingest.entity import IngestRun, ingest_entity
from orchestration.ingest.ingest_error import IngestError
from orchestration.ingest.memory_limit import _under_ingest_memory_limit

AS_OF = datetime(2026, 6, 30, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
TZ = "Asia/Shanghai"
TICKETS = "ticket_id,customer_id,rep_id,type,category,severity,opened_at,first_response_at,resolved_at,description\n"
TEAMS = "team_id,team_name,region,business_stage\n"
REPS = "rep_id,rep_name,team_id,email,hired_on,left_on\n"
DEALS = "deal_id,customer_id,rep_id,product_line,stage,amount,currency,closed_on,collected_amount,updated_at\n"


def write(root: Path, rel: str, data: str | bytes, encoding: str = "utf-8") -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return p


def ingest(con, root: Path, entity: str, run_id: str = "run-1", encoding: str | None = None):
    run = IngestRun(run_id, AS_OF, TZ, "CNY", ("USD",), encodings={entity: encoding} if encoding else {})
    return ingest_entity(con, spec_for(entity), root, run)


def reasons(con, entity: str) -> dict[str, str]:
    return dict(con.execute("select row_key, reason from audit.quarantine where source = ?", [entity]).fetchall())


def identity(c) -> tuple:
    assert c.rows_in == c.accepted + c.quarantined + c.exact_duplicates + c.superseded
    return (c.rows_in, c.accepted, c.quarantined, c.exact_duplicates, c.superseded)


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


# --- 5. old dates, special words --------------------------------------------------------------


def test_old_dates_and_special_words_are_quarantined_with_their_reason(tmp_path, con):
    root = tmp_path / "landing"
    t = "C1,,complaint,service,high"
    write(
        root,
        "tickets/tickets/t.csv",
        TICKETS
        + f"K1,{t},1600-01-01 10:00:00,,,\n"
        + f"K2,{t},0001-01-01T00:00:00Z,,,\n"
        + f"K3,{t},-infinity,,,\n"
        + f"K4,{t},epoch,,,\n"
        + f"K5,{t},infinity,,,\n"
        + f"K6,{t},now,,,\n"
        + f"K7,{t},today,,,\n"
        + f"K8,{t},1900-01-01 00:00:00,,,\n"  # the first moment allowed (local time)
        + f"K9,{t},2026-03-01 10:00:00,,epoch,\n",
    )
    write(
        root,
        "crm/reps/r.csv",
        REPS
        + "R3,A,T1,,1600-01-01,\n"
        + "R4,B,T1,,0001-01-01,\n"
        + "R5,C,T1,,epoch,\n"
        + "R6,D,T1,,1899-12-31,\n"
        + "R7,E,T1,,1900-01-01,today\n"
        + "R8,F,T1,,1900-01-01,\n",
    )
    tickets = ingest(con, root, "tickets/tickets")  # before: ResourceInUseException, nothing named
    reps = ingest(con, root, "crm/reps")
    assert reasons(con, "tickets/tickets") == {
        "K1": "out of range: opened_at=1600-01-01 10:00:00 is before 1900-01-01",
        "K2": "out of range: opened_at=0001-01-01T00:00:00Z is before 1900-01-01",
        "K3": "wrong type: opened_at='-infinity' is not an ISO 8601 timestamp",
        "K4": "wrong type: opened_at='epoch' is not an ISO 8601 timestamp",
        "K5": "wrong type: opened_at='infinity' is not an ISO 8601 timestamp",
        "K6": "wrong type: opened_at='now' is not an ISO 8601 timestamp",
        "K7": "wrong type: opened_at='today' is not an ISO 8601 timestamp",
        "K9": "wrong type: resolved_at='epoch' is not an ISO 8601 timestamp",
    }
    assert reasons(con, "crm/reps") == {
        "R3": "out of range: hired_on=1600-01-01 is before 1900-01-01",
        "R4": "out of range: hired_on=0001-01-01 is before 1900-01-01",
        "R5": "wrong type: hired_on='epoch' is not a YYYY-MM-DD date",
        "R6": "out of range: hired_on=1899-12-31 is before 1900-01-01",
        "R7": "wrong type: left_on='today' is not a YYYY-MM-DD date",
    }
    assert identity(tickets) == (9, 1, 8, 0, 0)
    assert identity(reps) == (6, 1, 5, 0, 0)
    # 1900-01-01 00:00 in Asia/Shanghai, whose offset was then its local mean time (+08:05:43), in UTC
    assert con.execute("select opened_at from raw.tickets__tickets").fetchall() == [
        (datetime(1899, 12, 31, 15, 54, 17),)
    ]
    assert con.execute("select hired_on from raw.crm__reps").fetchall() == [(date(1900, 1, 1),)]


def test_a_failed_ingestion_raises_its_own_error_not_the_memory_limit_reset(tmp_path, caplog):
    """DuckDB refuses `set memory_limit` while a result is open; the original error must win (before:
    ResourceInUseException from the reset hid it)."""
    con = duckdb.connect(str(tmp_path / "m.duckdb"))

    @_under_ingest_memory_limit
    def fails_with_an_open_result(c):
        reader = c.sql("select * from range(1000000)").to_arrow_reader(1000)
        next(iter(reader))
        raise ValueError("the real problem")

    with pytest.raises(ValueError, match="^the real problem$"):
        fails_with_an_open_result(con)
    assert [r.getMessage() for r in caplog.records] == [
        "memory_limit not restored after a failed ingestion: Resource In Use Error: connection has an open "
        "result; drain or destroy it before starting a new query"
    ]
    con.close()

    con = duckdb.connect(str(tmp_path / "n.duckdb"))
    default = con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    @_under_ingest_memory_limit
    def succeeds(c):
        return c.execute("select current_setting('memory_limit')").fetchall()[0][0]

    for _ in range(3):  # put back exactly each time (setting its rounded text back lowered it)
        assert succeeds(con) == "1.3 GiB"  # INGEST_MEMORY_LIMIT 1500MB, as DuckDB shows it
        assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == default
    con.execute("set memory_limit = '2GiB'")
    assert succeeds(con) == "1.3 GiB"
    assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == "2.0 GiB"
    con.close()


def test_an_unexpected_pandera_error_names_the_entity_and_the_file(tmp_path, con, monkeypatch, caplog):
    root = tmp_path / "landing"
    write(root, "crm/teams/teams.csv", TEAMS + "T1,华东一组,East,mature\n")
    before = con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(pdp.DataFrameSchema, "validate", broken)
    with pytest.raises(IngestError) as err:
        ingest(con, root, "crm/teams")
    assert str(err.value) == "crm/teams: pandera could not validate the rows of crm/teams/teams.csv: RuntimeError: boom"
    # the arrow reader was closed: the memory limit was put back, no warning
    assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == before
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == []


# --- 6. numbers altered silently ---------------------------------------------------------------


def test_money_is_kept_to_4_decimals_and_more_decimals_are_a_warning(tmp_path, con):
    root = tmp_path / "landing"
    write(
        root,
        "crm/deals/d.csv",
        DEALS
        + "D1,C1,R1,p,open,0.004,,,,\n"  # line 2: kept exactly (was 0.00)
        + "D2,C1,R1,p,open,0.00005,,,,\n"  # line 3: rounded half-up to 0.0001, a warning
        + "D3,C1,R1,p,won,12.34565,,2026-03-01,12.34564,\n"  # line 4: two warnings, one row
        + "D4,C1,R1,p,open,NaN,,,,\n"
        + "D5,C1,R1,p,open,inf,,,,\n"
        + "D6,C1,R1,p,open,-Infinity,,,,\n"
        + "D7,C1,R1,p,won,100,,2026-03-01,1e309,\n"  # overflows a double: was stored as inf
        + "D8,C1,R1,p,open,1e20,,,,\n"
        + "D9,C1,R1,p,open,1.5e-5,,,,\n",  # line 10: 0.000015 -> 0.0000, a warning
    )
    counts = ingest(con, root, "crm/deals")
    assert reasons(con, "crm/deals") == {
        "D4": "not a number: amount='NaN' (NaN, an infinity or beyond the double range)",
        "D5": "not a number: amount='inf' (NaN, an infinity or beyond the double range)",
        "D6": "not a number: amount='-Infinity' (NaN, an infinity or beyond the double range)",
        "D7": "not a number: collected_amount='1e309' (NaN, an infinity or beyond the double range)",
        "D8": "out of range: amount=1e20 (too large for DECIMAL(18,4))",
    }
    assert identity(counts) == (9, 4, 5, 0, 0)
    assert counts.rounded_rows == 3
    assert con.execute("select deal_id, amount, collected_amount from raw.crm__deals order by deal_id").fetchall() == [
        ("D1", Decimal("0.0040"), None),
        ("D2", Decimal("0.0001"), None),
        ("D3", Decimal("12.3457"), Decimal("12.3456")),
        ("D9", Decimal("0.0000"), None),
    ]
    assert con.execute(
        "select check_name, severity, passed, failing_rows from audit.check_results "
        "where source = 'crm/deals' and check_kind = 'pandera' order by check_name"
    ).fetchall() == [
        ("contract_row_rules", "warn", False, 5),
        ("money_rounded_to_4_decimals", "warn", False, 3),
    ]
    assert con.execute(
        "select row_key, column_name, bad_value, message from audit.validation_failures "
        "where check_name = 'money_rounded_to_4_decimals' order by row_key, column_name"
    ).fetchall() == [
        (
            "D2",
            "amount",
            "0.00005",
            "amount=0.00005 has more than 4 decimals: kept as 0.0001 (rounded half-up) (crm/deals/d.csv line 3)",
        ),
        (
            "D3",
            "amount",
            "12.34565",
            "amount=12.34565 has more than 4 decimals: kept as 12.3457 (rounded half-up) (crm/deals/d.csv line 4)",
        ),
        (
            "D3",
            "collected_amount",
            "12.34564",
            "collected_amount=12.34564 has more than 4 decimals: kept as 12.3456 "
            "(rounded half-up) (crm/deals/d.csv line 4)",
        ),
        (
            "D9",
            "amount",
            "1.5e-5",
            "amount=1.5e-5 has more than 4 decimals: kept as 0.0000 (rounded half-up) (crm/deals/d.csv line 10)",
        ),
    ]


def test_nan_and_infinities_are_not_numbers_in_every_numeric_kind(tmp_path, con):
    root = tmp_path / "landing"
    write(
        root,
        "survey/responses/r.csv",
        "response_id,invitation_id,responded_at,nps,csat,comment,respondent_fingerprint,duration_seconds\n"
        "S1,I1,2026-02-01 10:00:00,9,5,,,12.5\n"
        "S2,I1,2026-02-01 10:00:00,9,5,,,1e309\n"  # float: was stored as inf
        "S3,I1,2026-02-01 10:00:00,9,5,,,NaN\n"
        "S4,I1,2026-02-01 10:00:00,NaN,5,,,\n"  # int
        "S5,I1,2026-02-01 10:00:00,1e309,5,,,\n"
        "S6,I1,2026-02-01 10:00:00,9,5,,,-inf\n",
    )
    write(
        root,
        "crm/adjustments/a.csv",
        "adjustment_id,period,level,subject_id,points,reason,approved_by\n"
        "A1,2026-Q1,rep,R1,2.5,r,M\n"
        "A2,2026-Q1,rep,R1,NaN,r,M\n"
        "A3,2026-Q1,rep,R1,1e309,r,M\n"
        "A4,2026-Q1,rep,R1,-1.23456,r,M\n"  # line 5: -1.2346 (half away from zero), a warning
        "A5,2026-Q1,rep,R1,Infinity,r,M\n",
    )
    write(root, "crm/targets/t.csv", "period,rep_id,sales_target\n2026-Q1,R1,Infinity\n2026-Q2,R1,1000.5\n")
    responses = ingest(con, root, "survey/responses")
    adjustments = ingest(con, root, "crm/adjustments")
    targets = ingest(con, root, "crm/targets")
    nan = "(NaN, an infinity or beyond the double range)"
    assert reasons(con, "survey/responses") == {
        "S2": f"not a number: duration_seconds='1e309' {nan}",
        "S3": f"not a number: duration_seconds='NaN' {nan}",
        "S4": f"not a number: nps='NaN' {nan}",
        "S5": f"not a number: nps='1e309' {nan}",
        "S6": f"not a number: duration_seconds='-inf' {nan}",
    }
    assert reasons(con, "crm/adjustments") == {
        "A2": f"not a number: points='NaN' {nan}",
        "A3": f"not a number: points='1e309' {nan}",
        "A5": f"not a number: points='Infinity' {nan}",
    }
    assert reasons(con, "crm/targets") == {"2026-Q1|R1": f"not a number: sales_target='Infinity' {nan}"}
    assert (identity(responses), identity(adjustments), identity(targets)) == (
        (6, 1, 5, 0, 0),
        (5, 2, 3, 0, 0),
        (2, 1, 1, 0, 0),
    )
    assert con.execute("select response_id, duration_seconds from raw.survey__responses").fetchall() == [("S1", 12.5)]
    assert con.execute("select adjustment_id, points from raw.crm__adjustments order by 1").fetchall() == [
        ("A1", Decimal("2.5000")),
        ("A4", Decimal("-1.2346")),
    ]
    assert con.execute(
        "select check_name, failing_rows, message from audit.check_results where source = 'crm/adjustments' "
        "and check_name like '%rounded%'"
    ).fetchall() == [
        (
            "points_rounded_to_4_decimals",
            1,
            "1 accepted row(s) had points with more than 4 decimals: rounded half-up to 4, kept",
        )
    ]


# --- 7. encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "header", "text", "codec", "message"),
    [
        (
            "crm/teams",
            TEAMS,
            "T1,華東九組,East,mature\nT2,華南三組,South,new_business\n",
            "big5",
            "crm/teams/export.csv: not UTF-8 and not confidently GB18030 (detector: big5, 1.00; "
            "GB18030 confidence 0.40); set its encoding in the scheme file: encodings: {crm/teams: <codec>}",
        ),
        (
            "crm/teams",
            TEAMS,
            "T1,東京営業部,関東,mature\nT2,大阪支店,関西,new_business\nT3,名古屋営業所,中部,mature\n",
            "shift_jis",
            "crm/teams/export.csv: not UTF-8 and not confidently GB18030 (detector: cp932, 1.00; "
            "GB18030 confidence 0.00); set its encoding in the scheme file: encodings: {crm/teams: <codec>}",
        ),
        (
            "crm/reps",
            REPS,
            "R1,Jürgen Müller,T1,,2024-01-01,\nR2,Françoise Dupré,T1,,2024-01-01,\nR3,José Peña,T1,,2024-01-01,\n",
            "cp1252",
            "crm/reps/export.csv: not UTF-8 and not confidently GB18030 (detector: cp1250, 1.00; "
            "not valid GB18030); set its encoding in the scheme file: encodings: {crm/reps: <codec>}",
        ),
        (
            "crm/reps",
            REPS,
            "R1,Müller,T1,,2024-01-01,\n",  # valid GB18030 bytes (M黮ler), yet no Chinese text
            "cp1252",
            "crm/reps/export.csv: not UTF-8 and not confidently GB18030 (detector: cp1250, 1.00; "
            "GB18030 confidence 0.00); set its encoding in the scheme file: encodings: {crm/reps: <codec>}",
        ),
    ],
    ids=["big5", "shift_jis", "cp1252", "cp1252-decodes-as-gb18030"],
)
def test_legacy_encodings_stop_the_run_naming_file_guess_and_key(tmp_path, con, entity, header, text, codec, message):
    root = tmp_path / "landing"
    write(root, f"{entity}/export.csv", header + text, encoding=codec)
    with pytest.raises(IngestError) as err:
        ingest(con, root, entity)
    assert str(err.value) == message


def test_gb18030_is_read_byte_for_byte_and_the_confidence_is_kept(tmp_path, con):
    root = tmp_path / "landing"
    teams = TEAMS + "T1,华东一组,华东,mature\nT2,华南二组,华南,new_business\nT3,华北三组,华北,mature\n"
    write(root, "crm/teams/teams.csv", teams, encoding="gb18030")
    # short Chinese Excel export: two names only (the detector's own best guess here is cp949)
    write(root, "crm/reps/reps.csv", REPS + "R1,王伟,T1,,2024-01-01,\nR2,李娜,T1,,2024-01-01,\n", encoding="gb18030")
    write(root, "crm/reps/utf8.csv", "\ufeff" + REPS + "R3,张敏,T1,,2024-01-01,\n")
    ingest(con, root, "crm/teams")
    ingest(con, root, "crm/reps")
    names = con.execute("select team_name, region from raw.crm__teams order by team_id").fetchall()
    assert names == [("华东一组", "华东"), ("华南二组", "华南"), ("华北三组", "华北")]
    original = teams.encode("gb18030")
    assert all(n.encode("gb18030") in original for row in names for n in row)  # the same bytes back
    assert con.execute("select rep_name from raw.crm__reps order by rep_id").fetchall() == [
        ("王伟",),
        ("李娜",),
        ("张敏",),
    ]
    assert con.execute(
        "select path, encoding, encoding_confidence from audit.file_manifest order by path"
    ).fetchall() == [
        ("crm/reps/reps.csv", "gb18030", 0.975),  # 4 of 4 characters in GB2312 x (1 - mess 0.025)
        ("crm/reps/utf8.csv", "utf-8", 1.0),
        ("crm/teams/teams.csv", "gb18030", 1.0),
    ]


def test_a_declared_encoding_is_used_as_given(tmp_path, con):
    root = tmp_path / "landing"
    write(root, "crm/teams/teams.csv", TEAMS + "T1,華東九組,華東,mature\n", encoding="big5")
    write(root, "crm/reps/reps.csv", REPS + "R1,Müller,T1,,2024-01-01,\n", encoding="cp1252")
    ingest(con, root, "crm/teams", encoding="big5")
    ingest(con, root, "crm/reps", encoding="cp1252")
    assert con.execute("select team_name, region from raw.crm__teams").fetchall() == [("華東九組", "華東")]
    assert con.execute("select rep_name from raw.crm__reps").fetchall() == [("Müller",)]
    assert con.execute(
        "select path, encoding, encoding_confidence from audit.file_manifest order by path"
    ).fetchall() == [
        ("crm/reps/reps.csv", "cp1252", None),
        ("crm/teams/teams.csv", "big5", None),
    ]


def test_a_manifest_from_before_the_encoding_columns_is_extended(tmp_path, con):
    root = tmp_path / "landing"
    write(root, "crm/teams/teams.csv", TEAMS + "T1,East team,East,mature\n")
    con.execute("create schema audit")
    con.execute(
        "create table audit.file_manifest (path varchar, entity varchar, size_bytes bigint, sha256 varchar, "
        "read_settings varchar, rows_read bigint, first_seen_run_id varchar, first_seen_at timestamp, "
        "last_seen_run_id varchar, status varchar, checked_run_id varchar, checked_at timestamp)"
    )
    con.execute(
        "insert into audit.file_manifest values ('crm/reps/old.csv', 'crm/reps', 1, 'x', 'y', 3, 'run-0', "
        "now(), 'run-0', 'new', 'run-0', now())"
    )
    ingest(con, root, "crm/teams")
    assert con.execute(
        "select path, rows_read, encoding, encoding_confidence from audit.file_manifest order by path"
    ).fetchall() == [("crm/reps/old.csv", 3, None, None), ("crm/teams/teams.csv", 1, "utf-8", 1.0)]


# --- 8. file names are literal -------------------------------------------------------------------


def test_glob_characters_in_file_names_are_characters(tmp_path, con):
    root = tmp_path / "landing"
    t = "C1,,complaint,service,high,2026-03-01 10:00:00,,,"
    files = {
        "2026-0?-30.csv": ["K1", "K2"],
        "2026-01-30.csv": ["K3"],
        "2026-02-30.csv": ["K4"],
        "a[1].csv": ["K5"],
        "a1.csv": ["K6"],
        "*.csv": ["K7"],
    }
    for name, ids in files.items():
        write(root, f"tickets/tickets/{name}", TICKETS + "".join(f"{k},{t}\n" for k in ids))
    counts = ingest(con, root, "tickets/tickets")  # before: 64 rows counted as exact duplicates
    assert identity(counts) == (7, 7, 0, 0, 0)
    assert con.execute("select ticket_id, _file from raw.tickets__tickets order by ticket_id").fetchall() == [
        ("K1", "tickets/tickets/2026-0?-30.csv"),
        ("K2", "tickets/tickets/2026-0?-30.csv"),
        ("K3", "tickets/tickets/2026-01-30.csv"),
        ("K4", "tickets/tickets/2026-02-30.csv"),
        ("K5", "tickets/tickets/a[1].csv"),
        ("K6", "tickets/tickets/a1.csv"),
        ("K7", "tickets/tickets/*.csv"),
    ]
    folder = root / "survey/responses"
    folder.mkdir(parents=True)
    for name, rid in (("r[1].parquet", "S1"), ("r1.parquet", "S2"), ("r?.parquet", "S3")):
        pq.write_table(
            pa.table(
                {"response_id": [rid], "invitation_id": ["I1"], "responded_at": ["2026-02-01 10:00:00"], "nps": ["9"]}
            ),
            folder / name,
        )
    line = (
        '{{"interaction_id": "{}", "rep_id": "R1", "customer_id": "C1", "channel": "im", '
        '"customer_contacted_at": "2026-02-01T10:00:00+08:00"}}\n'
    )
    write(root, "crm/interactions/i?.jsonl", line.format("X1"))
    write(root, "crm/interactions/i1.jsonl", line.format("X2"))
    write(root, "crm/interactions/i*.jsonl", line.format("X3"))
    responses = ingest(con, root, "survey/responses")
    interactions = ingest(con, root, "crm/interactions")
    assert (identity(responses), identity(interactions)) == ((3, 3, 0, 0, 0), (3, 3, 0, 0, 0))
    assert con.execute("select response_id, _file, _row from raw.survey__responses order by 1").fetchall() == [
        ("S1", "survey/responses/r[1].parquet", 1),
        ("S2", "survey/responses/r1.parquet", 1),
        ("S3", "survey/responses/r?.parquet", 1),
    ]
    assert con.execute("select interaction_id, _file from raw.crm__interactions order by 1").fetchall() == [
        ("X1", "crm/interactions/i?.jsonl"),
        ("X2", "crm/interactions/i1.jsonl"),
        ("X3", "crm/interactions/i*.jsonl"),
    ]


# --- 9. malformed rows ---------------------------------------------------------------------------

T = "C1,,complaint,service,high,2026-03-01 10:00:00"
MALFORMED = [
    TICKETS.rstrip("\n"),  # line 1
    f"K1,{T},,,ok",  # 2
    f"K2,{T},,,too,many",  # 3: 11 fields
    f'K3,{T},,,"two',  # 4: a quoted newline, lines 4-5
    'lines"',  # 5
    f"K4,{T}",  # 6: 7 fields
    "",  # 7: blank
    f"K5,{T},,,ok",  # 8
    f'K6,{T},,,"unterminated',  # 9: the quote never closes
    f"K7,{T},,,ok",  # 10
    f"K8,{T},,,ok",  # 11
]
SWALLOWING = [
    TICKETS.rstrip("\n"),  # line 1
    f'K10,{T},,,"said ""slow"", twice"',  # 2: escaped quotes, fine
    f'K11,{T},,,"stray quote',  # 3: opens a quote that closes on line 7
    "K12,C1,,complaint,service,high,2026-03-01 11:00:00,,,a",  # 4
    "K13,C1,,complaint,service,high,2026-03-01 12:00:00,,,b",  # 5
    "K14,C1,,complaint,service,high,2026-03-01 13:00:00,,,c",  # 6
    'K15,C1,,complaint,service,high,2026-03-01 14:00:00,,,end"',  # 7
    "K16,C1,,complaint,service,high,2026-03-01 15:00:00,,,ok",  # 8
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_unparsable_rows_are_quarantined_with_line_and_text_and_the_file_goes_on(tmp_path, con, newline):
    root = tmp_path / "landing"
    write(root, "tickets/tickets/m.csv", newline.join(MALFORMED) + newline)
    write(root, "tickets/tickets/s.csv", newline.join(SWALLOWING) + newline)
    counts = ingest(con, root, "tickets/tickets")  # before: the entity failed with DuckDB's sniffer text
    # rows in = 8 records of m.csv (3 unparsable) + 3 of s.csv (K11 swallowed K12-K15)
    assert identity(counts) == (11, 8, 3, 0, 0)
    assert con.execute(
        "select file, row_number, row_key, reason, raw_row from audit.quarantine order by file, row_number"
    ).fetchall() == [
        ("tickets/tickets/m.csv", 3, None, "unparsable_row: more fields than the header", f"K2,{T},,,too,many"),
        ("tickets/tickets/m.csv", 6, None, "unparsable_row: fewer fields than the header", f"K4,{T}"),
        ("tickets/tickets/m.csv", 9, None, "unparsable_row: unbalanced quote", f'K6,{T},,,"unterminated'),
    ]
    assert (
        con.execute(
            "select ticket_id, _file, _row, description from raw.tickets__tickets order by _file, _row"
        ).fetchall()
        == [
            ("K1", "tickets/tickets/m.csv", 2, "ok"),
            ("K3", "tickets/tickets/m.csv", 4, f"two{newline}lines"),
            ("K5", "tickets/tickets/m.csv", 8, "ok"),
            ("K7", "tickets/tickets/m.csv", 10, "ok"),  # read again after the unbalanced quote
            ("K8", "tickets/tickets/m.csv", 11, "ok"),
            ("K10", "tickets/tickets/s.csv", 2, 'said "slow", twice'),
            ("K11", "tickets/tickets/s.csv", 3, newline.join(["stray quote", *SWALLOWING[3:6], SWALLOWING[6][:-1]])),
            ("K16", "tickets/tickets/s.csv", 8, "ok"),
        ]
    )
    # per file: rows read = accepted + quarantined
    assert dict(con.execute("select path, rows_read from audit.file_manifest").fetchall()) == {
        "tickets/tickets/m.csv": 8,
        "tickets/tickets/s.csv": 3,
    }
    assert con.execute(
        "select message from audit.validation_failures where check_name = 'contract_row_rules' order by message"
    ).fetchall() == [
        (
            "unparsable_row: fewer fields than the header (Expected Number of Columns: 10 Found: 7) "
            "(tickets/tickets/m.csv line 6)",
        ),
        (
            "unparsable_row: more fields than the header (Expected Number of Columns: 10 Found: 11) "
            "(tickets/tickets/m.csv line 3)",
        ),
        (
            "unparsable_row: unbalanced quote (Value with unterminated quote found. The file is read again from "
            "line 10.) (tickets/tickets/m.csv line 9)",
        ),
    ]
    # the swallowed lines are not lost unseen: a warning with the line range
    assert con.execute(
        "select check_name, severity, passed, failing_rows from audit.check_results "
        "where check_name = 'quoted_field_swallows_records'"
    ).fetchall() == [("quoted_field_swallows_records", "warn", False, 1)]
    assert con.execute(
        "select row_key, column_name, message from audit.validation_failures "
        "where check_name = 'quoted_field_swallows_records'"
    ).fetchall() == [
        (
            "K11",
            "description",
            "quoted field description holds 4 line(s) shaped like records: tickets/tickets/s.csv lines 3-7 "
            "were read as one row (is a quote unbalanced?)",
        )
    ]
    assert counts.swallowing_rows == 1


def test_an_unbalanced_quote_in_a_large_file_loses_no_row(tmp_path, con):
    """DuckDB reads a large file in parallel blocks: after an unbalanced quote it resumed at a block
    boundary and 121 052 rows of this file vanished into one rejected row."""
    root = tmp_path / "landing"
    lines = ["rep_id,fingerprint"] + [f"R{i:07d},fp{i:07d}" for i in range(1, 600_001)]
    lines[300_000] = 'R0300000,"never closed'  # line 300 001
    write(root, "crm/rep_devices/dev.csv", "\n".join(lines) + "\n")
    counts = ingest(con, root, "crm/rep_devices")
    assert identity(counts) == (600_000, 599_999, 1, 0, 0)
    assert con.execute("select reason, raw_row, row_number from audit.quarantine").fetchall() == [
        ("unparsable_row: unbalanced quote", 'R0300000,"never closed', 300_001)
    ]
    # every row's line: R<i> is on line i + 1
    assert con.execute(
        "select count(*), count(*) filter (where _row = cast(substr(rep_id, 2) as integer) + 1), max(_row) "
        "from raw.crm__rep_devices"
    ).fetchall() == [(599_999, 599_999, 600_001)]


def test_more_unbalanced_quotes_than_max_resyncs_stop_the_run_naming_the_line(tmp_path, con):
    """Each unbalanced quote means reading the rest of the file again: 20 are read past, the 21st stops."""
    root = tmp_path / "landing"
    bad = [f'R{i:02d},"open' for i in range(2, 23)]  # lines 2-22
    write(root, "crm/rep_devices/d.csv", "\n".join(["rep_id,fingerprint", *bad, "R99,fp"]) + "\n")
    with pytest.raises(IngestError) as err:
        ingest(con, root, "crm/rep_devices")
    assert str(err.value) == (
        "crm/rep_devices/d.csv: cannot be read as CSV: more than 20 unbalanced quotes (the last on line 22); "
        "check how the file was exported"
    )
    write(root, "crm/rep_devices/d.csv", "\n".join(["rep_id,fingerprint", *bad[:20], "R99,fp"]) + "\n")
    assert identity(ingest(con, root, "crm/rep_devices")) == (21, 1, 20, 0, 0)
    assert con.execute("select rep_id, _row from raw.crm__rep_devices").fetchall() == [("R99", 22)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "crm/teams/t.csv: cannot be read as CSV: binary content (NUL bytes)",
        ),
        (b"", "crm/teams/t.csv: cannot be read as CSV: no header row (the file is empty)"),
        (b"\n\nT1,East team,East,mature\n", "crm/teams/t.csv: cannot be read as CSV: the header row is empty"),
        (b",,,\nT1,East team,East,mature\n", "crm/teams/t.csv: cannot be read as CSV: the header row is empty"),
    ],
    ids=["binary", "empty", "blank-first-line", "empty-names"],
)
def test_a_file_that_is_not_csv_at_all_stops_the_run_in_one_line(tmp_path, con, data, message):
    root = tmp_path / "landing"
    write(root, "crm/teams/t.csv", data)
    with pytest.raises(IngestError) as err:
        ingest(con, root, "crm/teams")
    assert str(err.value) == message


def test_a_header_only_file_is_an_empty_input(tmp_path, con):
    root = tmp_path / "landing"
    write(root, "crm/teams/t.csv", TEAMS + "T1,East team,East,mature\n")
    write(root, "crm/teams/u.csv", TEAMS)
    assert identity(ingest(con, root, "crm/teams")) == (1, 1, 0, 0, 0)


# --- 14. plan dates ------------------------------------------------------------------------------


def test_plan_dates_may_lie_in_the_future(tmp_path, con):
    root = tmp_path / "landing"
    write(
        root,
        "crm/improvement_actions/a.csv",
        "action_id,rep_id,customer_id,ticket_id,issue_type,measure,due_on,completed_on,customer_confirmed,"
        "confirmed_via\n"
        "M1,R1,C1,,service,call back,2026-09-30,,,\n"  # planned after as-of: valid
        "M2,R1,C1,,service,call back,9999-12-31,,,\n"  # far, but a plan (beyond pandas' nanoseconds)
        "M3,R1,C1,,service,call back,2026-06-01,2026-07-05,,\n"  # done in the future: not possible
        "M4,R1,C1,,service,call back,1899-12-31,,,\n",
    )
    write(
        root,
        "crm/followups/f.csv",
        "followup_id,rep_id,customer_id,planned_on,completed_at,channel\n"
        "F1,R1,C1,2026-12-01,,phone\n"
        "F2,R1,C1,2026-06-01,2026-07-05 10:00:00,phone\n",
    )
    actions = ingest(con, root, "crm/improvement_actions")  # before: M1 quarantined as in the future
    followups = ingest(con, root, "crm/followups")
    assert reasons(con, "crm/improvement_actions") == {
        "M3": "in the future: completed_on=2026-07-05 is more than one day after as-of",
        "M4": "out of range: due_on=1899-12-31 is before 1900-01-01",
    }
    assert reasons(con, "crm/followups") == {
        "F2": "in the future: completed_at=2026-07-05 10:00:00 is more than one day after as-of"
    }
    assert (identity(actions), identity(followups)) == ((4, 2, 2, 0, 0), (2, 1, 1, 0, 0))
    assert con.execute("select action_id, due_on from raw.crm__improvement_actions order by 1").fetchall() == [
        ("M1", date(2026, 9, 30)),
        ("M2", date(9999, 12, 31)),
    ]
    assert spec_for("crm/improvement_actions").column("due_on").plan
    assert spec_for("crm/followups").column("planned_on").plan
    assert not spec_for("crm/improvement_actions").column("completed_on").plan
