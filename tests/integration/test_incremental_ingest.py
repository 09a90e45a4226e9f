"""Incremental ingestion with a file manifest: only new and changed files are read, deleted files
are reported and their rows removed, and the raw layer equals a full re-ingestion."""

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from orchestration.cli import main as cli_main
from orchestration.contract.spec import entity_specs
from orchestration.ingest.entity import IngestRun, ingest_entity

AS_OF = datetime(2026, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai"))


def ingest_all(con, landing: Path, run_id: str, incremental: bool) -> dict:
    run = IngestRun(run_id, AS_OF, "Asia/Shanghai", "CNY", ("USD",), incremental=incremental)
    return {s.entity: ingest_entity(con, s, landing, run) for s in entity_specs()}


def raw_hashes(con) -> dict[str, tuple]:
    """Content hash of every raw table, independent of row order and of the run that read a row."""
    out = {}
    for s in entity_specs():
        cols = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where schema_name = 'raw' and table_name = ? "
                "and column_name <> '_run_id' order by column_index",
                [s.table],
            ).fetchall()
        ]
        row = "concat_ws('\x1f', " + ", ".join(f"coalesce(cast(\"{c}\" as varchar), '\\N')" for c in cols) + ")"
        out[s.table] = con.execute(
            f"select count(*), bit_xor(hash({row})), sum(hash({row}) % 1000003) from raw.{s.table}"
        ).fetchone()
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    assert cli_main(["sample", "--out", str(out), "--seed", "3", "--scale", "tiny"]) == 0
    return out / "landing"


def test_incremental_equals_full_and_reports_every_file(tmp_path, landing):
    work = tmp_path / "landing"
    shutil.copytree(landing, work)
    header = (work / "crm/deals/2026-03-31.csv").read_text(encoding="utf-8").splitlines()[0]
    bad = ["" for _ in header.split(",")]
    bad[0], bad[header.split(",").index("amount")] = "D-BAD", "-5"
    (work / "crm/deals/2026-01-01.csv").write_text(header + "\n" + ",".join(bad) + "\n", encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "inc.duckdb"))
    ingest_all(con, work, "run-1", incremental=True)  # nothing published yet: everything is read

    # the next night: a new drop of deals (a new deal, a new version of an existing deal and an exact
    # copy of an existing row), a re-exported (changed) ticket file, a deleted ticket file
    deals = sorted((work / "crm/deals").glob("*.csv"))
    lines = (work / "crm/deals/2026-03-31.csv").read_text(encoding="utf-8").splitlines()
    header, first = lines[0], lines[1]
    cols = header.split(",")
    newer = first.split(",")
    newer[cols.index("updated_at")] = "2026-12-30T09:00:00+08:00"
    newer[cols.index("stage")] = "open"
    newer[cols.index("closed_on")] = ""
    newer[cols.index("collected_amount")] = ""
    brand_new = first.split(",")
    brand_new[cols.index("deal_id")] = "D-NEW-1"
    (work / "crm/deals/2026-12-31b.csv").write_text(
        "\n".join([header, ",".join(newer), ",".join(brand_new), first]) + "\n",
        encoding="utf-8",
    )
    tickets = sorted((work / "tickets/tickets").glob("*.csv"))
    t_lines = tickets[-1].read_text(encoding="utf-8").splitlines()
    tickets[-1].write_text("\n".join(t_lines[:-3]) + "\n", encoding="utf-8")  # re-exported with 3 rows fewer
    tickets[0].unlink()

    counts = ingest_all(con, work, "run-2", incremental=True)
    deal_counts = counts["crm/deals"]
    assert (deal_counts.files, deal_counts.files_new, deal_counts.files_unchanged) == (1, 1, len(deals))
    assert deal_counts.rows_in == 3
    assert deal_counts.exact_duplicates == 1 and deal_counts.accepted == 2 and deal_counts.superseded == 0
    tk = counts["tickets/tickets"]
    assert (tk.files_changed, tk.files_deleted) == (1, [tickets[0].relative_to(work).as_posix()])
    assert counts["crm/reps"].files == 0 and counts["crm/reps"].rows_in == 0  # unchanged: not read
    for c in counts.values():  # the identity holds for what the run read
        assert c.rows_in == c.accepted + c.quarantined + c.exact_duplicates + c.superseded
    assert (
        con.execute(
            "select count(*) from raw.tickets__tickets where _file = ?", [tickets[0].relative_to(work).as_posix()]
        ).fetchone()[0]
        == 0
    )
    manifest = dict(
        con.execute("select path, status from audit.file_manifest where checked_run_id = 'run-2'").fetchall()
    )
    assert manifest["crm/deals/2026-12-31b.csv"] == "new"
    assert manifest[tickets[-1].relative_to(work).as_posix()] == "changed"
    assert manifest[tickets[0].relative_to(work).as_posix()] == "deleted"
    assert manifest["crm/reps/reps.csv"] == "unchanged"
    first_seen = con.execute(
        "select first_seen_run_id, last_seen_run_id, sha256 from audit.file_manifest where path = 'crm/reps/reps.csv'"
    ).fetchone()
    assert first_seen[:2] == ("run-1", "run-2") and len(first_seen[2]) == 64
    # how each CSV was read (UTF-8, confidence 1.0) stays recorded for files the run did not read again
    assert (
        con.execute(
            "select count(*), count(*) filter (where encoding = 'utf-8' and encoding_confidence = 1.0) "
            "from audit.file_manifest where status <> 'deleted' and path like '%.csv'"
        ).fetchone()
        == (len(list(work.rglob("*.csv"))),) * 2
    )
    # the quarantine of the first run is kept; the unchanged file is not quarantined again
    assert con.execute(
        "select run_id, count(*) from audit.quarantine where row_key like 'D-BAD%' group by all"
    ).fetchall() == [("run-1", 1)]

    full = duckdb.connect(str(tmp_path / "full.duckdb"))
    ingest_all(full, work, "run-full", incremental=False)
    assert raw_hashes(con) == raw_hashes(full)

    # a run with nothing new reads nothing and changes nothing
    before = raw_hashes(con)
    again = ingest_all(con, work, "run-3", incremental=True)
    assert sum(c.rows_in for c in again.values()) == 0 and not any(c.files_deleted for c in again.values())
    assert raw_hashes(con) == before
