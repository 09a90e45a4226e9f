"""`scorecard run --target spark`: the Dagster asset graph doing its work on the standalone cluster, run
by the CLI in its own process (its own Spark driver), against `scorecard run` on DuckDB on the same
inputs (the independent second engine). Read through the DuckDB reader file of the Spark warehouse
(engines/spark_catalog.py), so the Parquet is also proved readable by a second engine.

1. the tiny sample: every mart equal cell for cell, the same dbt, cross-source and GE check results, the
   directors' reports of the four quarters and the auditor's report beside the reader file;
2. a run killed with SIGKILL while dbt writes (SCORECARD_KILL_AT=during_dbt): the published marts stay
   those of run 1, whole;
3. the next run, on the folder with 1 % new interactions and a row the contract rejects, 2026-Q1 closed:
   the build tables restored from the published copy, the killed run recorded as abandoned, every mart
   equal to DuckDB's, the bad row quarantined with DuckDB's reason.

Slow (about 15 minutes): `make test-engines`."""

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import MARTS
from orchestration.cli import main
from orchestration.engines.compare import Table, compare_tables, read_duckdb, summarise
from tools.bench import make_delta_landing

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
# columns that name the run or the time it ran, compared apart
RUN_COLUMNS = {"first_seen_at", "first_run_id"}
BAD_ROW = (
    "interaction_id,rep_id,customer_id,channel,customer_contacted_at,rep_responded_at\n"
    "BAD1,R1,C1,pigeon,2026-03-01 10:00:00,2026-03-01 11:00:00\n"
)
CHECKS = (
    "select check_kind, source, check_name, severity, passed, failing_rows from audit.check_results "
    "where run_id = ? and check_kind in ('dbt', 'cross_source', 'great_expectations')"
)


def _drop(table: Table) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c.lower() not in RUN_COLUMNS]
    return Table([table.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in table.rows])


def compare_marts(duck: Path, reader: Path) -> str | None:
    with duckdb.connect(str(duck), read_only=True) as a, duckdb.connect(str(reader), read_only=True) as b:
        results = [
            compare_tables(t, _drop(read_duckdb(a, "marts", t)), _drop(read_duckdb(b, "marts", t))) for t in MARTS
        ]
    return None if all(r.equal for r in results) else summarise(results)


def duckdb_run(landing: Path, config: Path, warehouse: Path) -> str:
    assert main(["run", "--landing", str(landing), "--config", str(config), "--warehouse", str(warehouse),
                 "--as-of", AS_OF, "--log-level", "WARNING", "--no-data-docs"]) == 0  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select run_id from audit.runs where published order by finished_at desc").fetchone()[0]


def spark_run(landing: Path, config: Path, warehouse: Path, master: str, kill_at: str = "") -> dict:
    """`scorecard run --target spark` in a process of its own: exit code, output, run id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCORECARD_", "DAGSTER_"))}
    env |= {"SCORECARD_SPARK_MASTER": master, "SCORECARD_KILL_AT": kill_at, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--target", "spark", "--landing", str(landing),
         "--config", str(config), "--warehouse", str(warehouse), "--as-of", AS_OF],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    run_id = re.search(r"run log\s+\S+/([0-9a-f-]{36})\.log", out)
    return {"code": proc.returncode, "out": out, "run_id": run_id.group(1) if run_id else None}


def reader(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, spark_cluster):
    tmp = tmp_path_factory.mktemp("dagster_spark")
    assert main(["sample", "--out", str(tmp / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    first = tmp / "sample" / "landing"
    config = ROOT / "config" / "scorecard.yml"
    duck, spark_reader = tmp / "duck" / "w.duckdb", tmp / "spark" / "w.duckdb"
    master = spark_cluster.master_url
    out: dict = {"tmp": tmp, "reader": spark_reader}

    # 1: the sample as it is
    out["duck1"] = duckdb_run(first, config, duck)
    out["run1"] = spark_run(first, config, spark_reader, master)
    print(f"\nSpark run 1 (exit {out['run1']['code']}):\n" + out["run1"]["out"][-3000:])
    out["diff1"] = compare_marts(duck, spark_reader)
    out["first_run_ids1"] = {
        engine: reader(path, "select distinct first_run_id from marts.anomaly_flags")
        for engine, path in (("duckdb", duck), ("spark", spark_reader))
    }
    out["duck_checks1"] = sorted(reader(duck, CHECKS, [out["duck1"]]), key=repr)
    out["spark_checks1"] = sorted(reader(spark_reader, CHECKS, [out["run1"]["run_id"]]), key=repr)
    out["reports"] = sorted(
        p.relative_to(tmp / "spark").as_posix() for p in (tmp / "spark" / "reports").rglob("*.html")
    )

    # 2: killed (SIGKILL) while dbt writes the build tables
    out["run2"] = spark_run(first, config, spark_reader, master, kill_at="during_dbt")
    out["published_after_kill"] = reader(
        spark_reader, "select value from main.spark_catalog where key = 'published_run_id'"
    )
    out["diff_after_kill"] = compare_marts(duck, spark_reader)

    # 3: + 1 % new interactions and one bad row, 2026-Q1 closed
    second = tmp / "landing2"
    out["added"] = make_delta_landing(first, second)
    (second / "crm" / "interactions" / "bad.csv").write_text(BAD_ROW)
    # review decisions: one confirms a 2026-Q2 flag (it must reach the grades), one is about a flag of
    # closed 2026-Q1 (kept, not applied), one names no flag (rejected and quarantined)
    q1, q2 = (reader(duck, f"select min(flag_id) from marts.anomaly_flags where period = '{p}'")[0][0]
              for p in ("2026-Q1", "2026-Q2"))  # fmt: skip
    decisions = second / "review" / "flag_decisions"
    decisions.mkdir(parents=True, exist_ok=True)
    (decisions / "decisions.csv").write_text(
        "flag_id,decision,reviewer,decided_at,reason\n"
        f"{q2},confirmed,Auditor Wang,2026-12-20 10:00:00,surveys filled from the rep's own device\n"
        f"{q1},dismissed,Auditor Wang,2026-12-20 10:05:00,explained by the customer\n"
        "NO_SUCH_FLAG,confirmed,Auditor Wang,2026-12-20 10:10:00,a typo in the id\n"
    )
    out["decided"] = {"q1": q1, "q2": q2}
    config2 = tmp / "scorecard_closed.yml"
    config2.write_text(config.read_text() + '\nclosed_periods: ["2026-Q1"]\n')
    out["duck3"] = duckdb_run(second, config2, duck)
    out["run3"] = spark_run(second, config2, spark_reader, master)
    print(f"\nSpark run 3 (exit {out['run3']['code']}):\n" + out["run3"]["out"][-3000:])
    out["diff3"] = compare_marts(duck, spark_reader)
    quarantine = "select source, reason, file, row_number, raw_row from audit.quarantine where run_id = ? order by all"
    out["duck_quarantine"] = reader(duck, quarantine, [out["duck3"]])
    out["spark_quarantine"] = reader(spark_reader, quarantine, [out["run3"]["run_id"]])
    review = CHECKS.replace("'great_expectations'", "'great_expectations', 'review'")
    out["duck_checks3"] = sorted(reader(duck, review, [out["duck3"]]), key=repr)
    out["spark_checks3"] = sorted(reader(spark_reader, review, [out["run3"]["run_id"]]), key=repr)
    out["confirmed_status"] = {
        engine: reader(path, "select review_status from marts.anomaly_flags where flag_id = ?", [q2])
        for engine, path in (("duckdb", duck), ("spark", spark_reader))
    }
    out["runs"] = reader(spark_reader, "select run_id, status, published from audit.runs order by started_at")
    return out


def test_first_run_succeeds_and_every_mart_equals_duckdb(runs):
    assert runs["run1"]["code"] == 0, runs["run1"]["out"][-4000:]
    assert f"run {runs['run1']['run_id']}: SUCCEEDED, published" in runs["run1"]["out"]
    assert runs["diff1"] is None, runs["diff1"]
    # each engine's flags name its own run as the one that first saw them
    assert runs["first_run_ids1"] == {"duckdb": [(runs["duck1"],)], "spark": [(runs["run1"]["run_id"],)]}


def test_first_run_checks_equal_duckdb(runs):
    kinds = {k for k, *_ in runs["duck_checks1"]}
    assert kinds == {"dbt", "cross_source", "great_expectations"}
    assert len(runs["spark_checks1"]) == len(runs["duck_checks1"]) > 400
    assert runs["spark_checks1"] == runs["duck_checks1"]


def test_reports_render_from_the_spark_marts(runs):
    run_id = runs["run1"]["run_id"]
    assert runs["reports"] == [
        f"reports/auditor/{run_id}.html",
        "reports/auditor/latest.html",
        "reports/director/2026-Q1.html",
        "reports/director/2026-Q2.html",
        "reports/director/2026-Q3.html",
        "reports/director/2026-Q4.html",
    ]


def test_killed_run_leaves_the_published_marts_whole(runs):
    assert runs["run2"]["code"] == -9, runs["run2"]["out"][-4000:]
    assert runs["published_after_kill"] == [(runs["run1"]["run_id"],)]
    assert runs["diff_after_kill"] is None, runs["diff_after_kill"]


def test_next_run_restores_records_the_killed_one_and_equals_duckdb(runs):
    assert runs["run3"]["code"] == 0, runs["run3"]["out"][-4000:]
    assert "restored from the published run's copy" in runs["run3"]["out"]
    assert runs["added"] > 0
    assert runs["diff3"] is None, runs["diff3"]
    assert runs["runs"] == [
        (runs["run1"]["run_id"], "succeeded", True),
        (runs["run2"]["run_id"], "abandoned", False),
        (runs["run3"]["run_id"], "succeeded", True),
    ]


def test_bad_row_and_rejected_decision_quarantined_as_on_duckdb(runs):
    assert runs["spark_quarantine"] == runs["duck_quarantine"]
    assert [(source, file, row) for source, _, file, row, _ in runs["spark_quarantine"]] == [
        ("crm/interactions", "crm/interactions/bad.csv", 2),
        ("review/flag_decisions", "review/flag_decisions/decisions.csv", 4),
    ]
    assert "channel" in runs["spark_quarantine"][0][1]
    assert runs["spark_quarantine"][1][1].startswith("review: unknown_flag_id")


def test_review_decisions_reach_the_grades_as_on_duckdb(runs):
    assert runs["confirmed_status"] == {"duckdb": [("confirmed",)], "spark": [("confirmed",)]}
    review = [r for r in runs["spark_checks3"] if r[0] == "review"]
    assert review == [
        ("review", "review/flag_decisions", "decision_for_closed_period", "warn", False, 1),
        ("review", "review/flag_decisions", "decision_rules", "warn", False, 1),
    ]
    assert runs["spark_checks3"] == runs["duck_checks3"]
