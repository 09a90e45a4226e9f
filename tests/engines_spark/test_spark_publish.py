"""Write-audit-publish on Spark (orchestration/engines/spark_publish.py) with small tables standing for
dbt's: a published run's views, a failed run that changes nothing analysts see and whose half-built
state the next run does not inherit, a switch interrupted between two views and finished by the next
run, old copies dropped."""

import pytest

from orchestration.engines.spark_publish import SparkLayout, publish, published_run, recover, restore_state

STATE = [("marts", "scorecard"), ("marts", "anomaly_flags"), ("intermediate", "int_anomaly_flags")]


class Killed(Exception):
    pass


def build(spark, run: str, periods: dict[str, int]) -> None:
    """What dbt does to the state tables: rewrite the given periods (insert_overwrite by period)."""
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    for schema, table in STATE:
        spark.sql(f"create database if not exists build_{schema}")
        spark.sql(
            f"create table if not exists build_{schema}.{table} (subject string, score int, run string, "
            "period string) using parquet partitioned by (period)"
        )
        rows = ", ".join(f"('R1', {score}, '{run}', '{period}')" for period, score in periods.items())
        spark.sql(f"insert overwrite table build_{schema}.{table} partition (period) select * from values {rows}")


def published(spark, table: str = "scorecard") -> list[tuple]:
    return [tuple(r) for r in spark.sql(f"select period, score, run from marts.{table} order by period").collect()]


def built(spark) -> list[tuple]:
    return [
        tuple(r) for r in spark.sql("select period, score, run from build_marts.scorecard order by period").collect()
    ]


@pytest.fixture(scope="module")
def spark(cluster_spark):
    """The session on the standalone cluster (conftest.py), its catalog without the databases this test
    writes: the pytest process has one JVM, and with it one Derby metastore for every module (its home is
    fixed when the JVM starts), so an earlier module's `marts.scorecard` table would still be there."""
    for db in cluster_spark.catalog.listDatabases():
        if db.name in ("marts", "audit", "intermediate") or db.name.startswith(("build_", "scorecard_run_")):
            cluster_spark.sql(f"drop database if exists `{db.name}` cascade")
    return cluster_spark


def test_publish_fail_restore_interrupted_switch(spark):
    # run 1: nothing published yet, dbt builds every period
    assert restore_state(spark, STATE, "run-1") == "dropped"
    build(spark, "run-1", {"2026-Q1": 70, "2026-Q2": 80})
    assert publish(spark, "run-1", STATE) == "scorecard_run_run_1"
    assert published(spark) == [("2026-Q1", 70, "run-1"), ("2026-Q2", 80, "run-1")]
    assert published_run(spark) == ("run-1", "scorecard_run_run_1")
    # only marts and audit are views; the intermediate state table is not published
    assert not spark.catalog.tableExists("intermediate.int_anomaly_flags")

    # run 2 starts from the published state, rewrites Q2 and fails its checks: nothing is published
    assert restore_state(spark, STATE, "run-2") == "kept"
    build(spark, "run-2", {"2026-Q2": 10})
    assert built(spark) == [("2026-Q1", 70, "run-1"), ("2026-Q2", 10, "run-2")]
    assert published(spark) == [("2026-Q1", 70, "run-1"), ("2026-Q2", 80, "run-1")]

    # run 3 does not inherit run 2's half: its build state is the published run's again
    assert restore_state(spark, STATE, "run-3") == "restored"
    assert built(spark) == [("2026-Q1", 70, "run-1"), ("2026-Q2", 80, "run-1")]
    build(spark, "run-3", {"2026-Q2": 85})

    # killed after the first view was switched: one view on run 3, the other still on run 1, both whole
    def kill(point: str) -> None:
        if point == "during_switch":
            raise Killed(point)

    with pytest.raises(Killed):
        publish(spark, "run-3", STATE, fault=kill)
    assert published(spark, "scorecard") == [("2026-Q1", 70, "run-1"), ("2026-Q2", 85, "run-3")]
    assert published(spark, "anomaly_flags") == [("2026-Q1", 70, "run-1"), ("2026-Q2", 80, "run-1")]
    # the next run (or `recover`) finishes the switch before anything else
    assert recover(spark) == "run-3"
    assert published(spark, "anomaly_flags") == [("2026-Q1", 70, "run-1"), ("2026-Q2", 85, "run-3")]
    assert published_run(spark) == ("run-3", "scorecard_run_run_3")
    assert recover(spark) is None

    # two more published runs: only the latest two copies are kept
    for run in ("run-4", "run-5"):
        assert restore_state(spark, STATE, run) == "kept"
        build(spark, run, {"2026-Q2": 90})
        publish(spark, run, STATE, SparkLayout(keep=2))
    snapshots = sorted(d.name for d in spark.catalog.listDatabases() if d.name.startswith("scorecard_run_"))
    assert snapshots == ["scorecard_run_run_4", "scorecard_run_run_5"]
    assert published(spark) == [("2026-Q1", 70, "run-1"), ("2026-Q2", 90, "run-5")]
    log = spark.sql("select run_id, state from audit.publish_log order by logged_at, state").collect()
    assert [tuple(r) for r in log if r[1] != "build_started"] == [
        ("run-1", "switching"),
        ("run-1", "published"),
        ("run-3", "switching"),
        ("run-3", "published"),
        ("run-4", "switching"),
        ("run-4", "published"),
        ("run-5", "switching"),
        ("run-5", "published"),
    ]
