"""A standalone Spark cluster on 127.0.0.1 (master and worker JVMs, orchestration/engines/spark_cluster.py)
for the tests of this folder, and a Spark session connected to it."""

import time

import pytest


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """One master and one worker (2 cores, 2 GB) on free ports, state in a tmp dir; stopped at the end."""
    # pyspark comes with the spark extra (`make test-engines` installs it): without it this fails, not skips
    from orchestration.engines.spark_cluster import standalone_cluster

    started = time.perf_counter()
    with standalone_cluster(tmp_path_factory.mktemp("spark_cluster")) as cluster:
        print(f"\nstandalone Spark cluster {cluster.master_url} up in {time.perf_counter() - started:.1f} s")
        yield cluster


@pytest.fixture(scope="module")
def cluster_spark(spark_cluster, tmp_path_factory):
    """A SparkSession on the cluster, stopped after the module: the session is the process's only one
    (getOrCreate), so it must not outlive the module into tests that build a local[2] session."""
    from orchestration.engines.spark import spark_session

    spark = spark_session(tmp_path_factory.mktemp("spark_warehouse"), master=spark_cluster.master_url)
    try:
        yield spark
    finally:
        spark.stop()
