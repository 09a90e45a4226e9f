"""A whole run on the standalone cluster, twice, against DuckDB on the same inputs (DuckDB is the
independent second engine): the tiny sample; then the same folder with a nightly drop of 1 % new
interactions and a row the contract rejects, with 2026-Q1 closed. Every mart equal cell for cell
after each run, the closed period's rows as the first run published them, the bad row quarantined with
the same reason, and a run that dies after dbt leaving the published marts as they were.

Slow (every dbt test is a Spark job): `make test-engines`."""

from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import MARTS
from orchestration.cli import main
from orchestration.engines.compare import Table, compare_tables, read_duckdb, summarise
from orchestration.engines.spark_flow import run_on_spark, spark_warehouse_dir
from orchestration.scheme.file import load_scheme
from orchestration.settings import parse_as_of
from orchestration.warehouse.writer_lock import WarehouseBusy, acquire, release
from tools.bench import make_delta_landing

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-12-31T23:59:59+08:00"
RUN_TIME_COLUMNS = {"anomaly_flags": {"first_seen_at"}}
BAD_ROW = (
    "interaction_id,rep_id,customer_id,channel,customer_contacted_at,rep_responded_at\n"
    "BAD1,R1,C1,pigeon,2026-03-01 10:00:00,2026-03-01 11:00:00\n"
)


class Killed(Exception):
    pass


def _sorted(rows) -> list[tuple]:
    """Rows in a stable order whatever their NULLs (None does not compare with a value)."""
    return sorted(rows, key=repr)


def _drop(table: Table, columns: set[str]) -> Table:
    keep = [i for i, c in enumerate(table.columns) if c.lower() not in columns]
    return Table([table.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in table.rows])


def spark_mart(spark, table: str) -> Table:
    frame = spark.table(f"marts.{table}")
    return Table(frame.columns, [tuple(r) for r in frame.collect()])


def compare_marts(spark, warehouse: Path) -> str | None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        results = [
            compare_tables(
                t,
                _drop(read_duckdb(con, "marts", t), RUN_TIME_COLUMNS.get(t, set())),
                _drop(spark_mart(spark, t), RUN_TIME_COLUMNS.get(t, set())),
            )
            for t in MARTS
        ]
    return None if all(r.equal for r in results) else summarise(results)


def duckdb_run(landing: Path, config: Path, warehouse: Path) -> str:
    assert main(["run", "--landing", str(landing), "--config", str(config), "--warehouse", str(warehouse),
                 "--as-of", AS_OF, "--log-level", "WARNING"]) == 0  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select run_id from audit.runs where published order by finished_at desc").fetchone()[0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cluster_spark, monkeypatch_module):
    for env in ("SCORECARD_LANDING", "SCORECARD_CONFIG", "SCORECARD_WAREHOUSE", "SCORECARD_AS_OF", "DAGSTER_HOME"):
        monkeypatch_module.delenv(env, raising=False)
    tmp = tmp_path_factory.mktemp("flow")
    spark = cluster_spark
    for db in ("raw", "audit", "marts", "build_staging", "build_intermediate", "build_marts", "build_audit"):
        spark.sql(f"drop database if exists {db} cascade")
    assert main(["sample", "--out", str(tmp / "sample"), "--seed", "3", "--scale", "tiny"]) == 0
    first = tmp / "sample" / "landing"
    config = ROOT / "config" / "scorecard.yml"
    warehouse = tmp / "w.duckdb"
    scheme = load_scheme(config)
    as_of = parse_as_of(AS_OF, scheme.timezone)
    out = {}

    # run 1: the sample as it is
    run_id = duckdb_run(first, config, warehouse)
    out["run1"] = run_on_spark(
        spark, landing=str(first), scheme=scheme, config=str(config), warehouse=str(tmp / "spark_side.duckdb"),
        run_id=run_id, as_of=as_of,
    )  # fmt: skip
    print(f"\nSpark run 1 seconds per stage: {out['run1'].seconds}")
    scratch = spark_warehouse_dir(spark) / "_scratch"
    out["scratch_left"] = sorted(p.name for p in scratch.iterdir()) if scratch.exists() else []
    out["diff1"] = compare_marts(spark, warehouse)
    dbt_checks = (
        "select check_kind, source, check_name, severity, passed, failing_rows from audit.check_results "
        f"where run_id = '{run_id}' and check_kind in ('dbt', 'cross_source')"
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out["duck_dbt_checks"] = _sorted(con.execute(dbt_checks).fetchall())
    out["spark_dbt_checks"] = _sorted(tuple(r) for r in spark.sql(dbt_checks).collect())
    out["q1_before"] = {t: _sorted(map(tuple, spark.sql(f"select * from marts.{t} where period = '2026-Q1'").collect()))
                        for t in ("scorecard", "indicator_values")}  # fmt: skip

    # run 2: + 1 % new interactions and one bad row, 2026-Q1 closed
    second = tmp / "landing2"
    out["added"] = make_delta_landing(first, second)
    (second / "crm" / "interactions" / "bad.csv").write_text(BAD_ROW)
    config2 = tmp / "scorecard_closed.yml"
    config2.write_text(config.read_text() + '\nclosed_periods: ["2026-Q1"]\n')
    scheme2 = load_scheme(config2)
    run_id2 = duckdb_run(second, config2, warehouse)
    out["run2"] = run_on_spark(
        spark, landing=str(second), scheme=scheme2, config=str(config2), warehouse=str(tmp / "spark_side.duckdb"),
        run_id=run_id2, as_of=as_of,
    )  # fmt: skip
    print(f"\nSpark run 2 seconds per stage: {out['run2'].seconds}")
    out["diff2"] = compare_marts(spark, warehouse)
    out["q1_after"] = {t: _sorted(map(tuple, spark.sql(f"select * from marts.{t} where period = '2026-Q1'").collect()))
                       for t in ("scorecard", "indicator_values")}  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out["duck_bad"] = con.execute(
            "select reason, file, row_number from audit.quarantine where row_key = 'BAD1'"
        ).fetchall()
    bad = "select reason, file, row_number from audit.quarantine where row_key = 'BAD1'"
    out["spark_bad"] = [tuple(r) for r in spark.sql(bad).collect()]

    # run 3 dies after dbt rebuilt its tables, before publishing: nothing analysts see changes
    before = {t: _sorted(map(tuple, spark.table(f"marts.{t}").collect())) for t in MARTS}

    def kill(point: str) -> None:
        if point == "after_dbt":
            raise Killed(point)

    with pytest.raises(Killed):
        run_on_spark(
            spark, landing=str(first), scheme=scheme, config=str(config), warehouse=str(tmp / "spark_side.duckdb"),
            run_id="killed-run", as_of=as_of, fault=kill,
        )  # fmt: skip
    out["after_kill"] = {t: _sorted(map(tuple, spark.table(f"marts.{t}").collect())) for t in MARTS} == before
    out["runs"] = [tuple(r) for r in spark.sql("select run_id, status, published from audit.runs").collect()]
    # run 4, on run 2's inputs: it starts from the published state, not from the killed run's half
    out["run4"] = run_on_spark(
        spark, landing=str(second), scheme=scheme2, config=str(config2), warehouse=str(tmp / "spark_side.duckdb"),
        run_id=run_id2 + "-again", as_of=as_of,
    )  # fmt: skip
    out["diff4"] = compare_marts(spark, warehouse)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_a_second_writer_is_refused_before_it_touches_anything(cluster_spark, tmp_path):
    folder = spark_warehouse_dir(cluster_spark)
    lock = acquire(folder, "the-other-run")
    try:
        with pytest.raises(WarehouseBusy, match="another run .run id the-other-run"):
            run_on_spark(
                cluster_spark, landing=str(tmp_path), scheme=load_scheme(ROOT / "config" / "scorecard.yml"),
                config="", warehouse=str(tmp_path / "w.duckdb"), run_id="second", as_of=parse_as_of(AS_OF, "UTC"),
            )  # fmt: skip
    finally:
        release(folder, lock.holder.run_id, force=True)


def test_first_run_equals_duckdb_cell_for_cell(runs):
    assert runs["run1"].status == "succeeded", runs["run1"].failure
    assert runs["run1"].restored == "dropped"  # nothing published before: every period built
    assert runs["diff1"] is None, runs["diff1"]
    assert runs["scratch_left"] == []  # the ingestion's intermediate Parquet is removed after the copy


def test_dbt_test_results_reach_the_spark_ledger_as_on_duckdb(runs):
    tests = runs["run1"].dbt_tests
    assert (tests.failed, tests.errored, tests.passed + tests.warned) == (0, 0, 298)
    assert runs["spark_dbt_checks"] == runs["duck_dbt_checks"]
    assert len(runs["spark_dbt_checks"]) == 298


def test_second_run_with_a_nightly_drop_and_a_closed_period(runs):
    assert runs["run2"].status == "succeeded", runs["run2"].failure
    assert runs["run2"].restored == "kept"
    assert runs["added"] > 0
    assert runs["diff2"] is None, runs["diff2"]
    # the closed period keeps the rows the first run published
    assert runs["q1_after"] == runs["q1_before"]
    assert len(runs["q1_before"]["scorecard"]) > 0


def test_the_bad_row_is_quarantined_with_the_same_reason(runs):
    assert runs["spark_bad"] == runs["duck_bad"]
    assert runs["spark_bad"] == [
        (
            "unknown value for channel: 'pigeon' (allowed: email, phone, im, visit)",
            "crm/interactions/bad.csv",
            2,
        )
    ]


def test_a_run_killed_after_dbt_leaves_the_published_marts_whole(runs):
    assert runs["after_kill"] is True
    assert "killed-run" not in {r[0] for r in runs["runs"]}
    assert runs["run4"].status == "succeeded"
    assert runs["run4"].restored == "restored"  # the killed run's build tables were replaced
    assert runs["diff4"] is None, runs["diff4"]
