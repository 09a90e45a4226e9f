"""The standalone Spark cluster (orchestration/engines/spark_cluster.py) on one host: a session on it runs
its tasks in an executor JVM that the worker started, not in the driver, and `down` leaves no process
of the cluster behind. Single host only: nothing here checks a worker on another machine."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.engines.spark_cluster import (
    MASTER_CLASS,
    WORKER_CLASS,
    alive,
    descendants,
    down,
    free_port,
    master_json,
    up,
)

ROOT = Path(__file__).resolve().parents[2]


def _ppid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2 :].split()[1])


def test_tasks_run_in_the_workers_executor(spark_cluster, cluster_spark):
    def _ancestry() -> list[tuple[int, str]]:
        """(pid, command line) of this process and every ancestor up to init, read from /proc. Runs inside
        the Python worker of a task, while it is alive (nested: cloudpickle ships it by value)."""
        chain, pid = [], os.getpid()
        while pid > 1:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            chain.append((pid, cmd))
            pid = int(stat[stat.rfind(")") + 2 :].split()[1])
        return chain

    spark = cluster_spark
    sc = spark.sparkContext
    app_id = sc.applicationId
    driver_jvm = sc._jvm.java.lang.ProcessHandle.current().pid()
    assert sc.master == spark_cluster.master_url == f"spark://127.0.0.1:{spark_cluster.master_port}"
    assert _ppid(driver_jvm) == os.getpid()  # the driver JVM is this test process's child

    assert spark.range(1000).rdd.map(lambda r: r.id).sum() == 499500
    assert spark.range(1000).selectExpr("sum(id) as s").first().s == 499500
    chains = spark.range(1000).rdd.mapPartitions(lambda _: [_ancestry()]).collect()

    # the master: one ALIVE worker, this application running on it
    state = master_json(spark_cluster.ui_url)
    assert state["aliveworkers"] == 1
    assert [w["state"] for w in state["workers"]] == ["ALIVE"]
    assert [(a["id"], a["state"]) for a in state["activeapps"]] == [(app_id, "RUNNING")]

    # the driver's scheduler knows executors other than the driver (ids "0", ...; the driver is "driver")
    executor_ids = list(sc._jvm.scala.jdk.javaapi.CollectionConverters.asJava(sc._jsc.sc().getExecutorIds()))
    assert executor_ids and "driver" not in executor_ids

    # every Python worker: worker process -> pyspark daemon -> executor JVM -> the cluster's Worker JVM
    assert len(chains) == 2  # spark.range(1000) on 2 cores: 2 partitions
    executor_jvms = set()
    for chain in chains:
        pids = [pid for pid, _ in chain]
        (_, _), (_, daemon_cmd), (executor_jvm, executor_cmd), (worker, worker_cmd) = chain[:4]
        assert "pyspark.daemon" in daemon_cmd
        assert "CoarseGrainedExecutorBackend" in executor_cmd and f"--app-id {app_id}" in executor_cmd
        assert worker == spark_cluster.worker_pid and WORKER_CLASS in worker_cmd
        # the driver JVM is nowhere in the chain (this test process is, above the Worker: it started the cluster)
        assert driver_jvm not in pids and os.getpid() not in pids[:4]
        executor_jvms.add(executor_jvm)
    assert driver_jvm not in executor_jvms
    assert executor_jvms <= set(descendants(spark_cluster.worker_pid))
    assert driver_jvm not in descendants(spark_cluster.worker_pid)


DRIVER = textwrap.dedent(
    """
    import os, sys
    from orchestration.engines.spark import spark_session
    spark = spark_session(sys.argv[1], master=sys.argv[2])
    assert spark.range(100).rdd.map(lambda r: r.id).sum() == 4950
    pids = spark.range(10).rdd.mapPartitions(lambda _: [(os.getppid(), os.getpid())]).collect()
    print(" ".join(f"{a} {b}" for a, b in pids), flush=True)
    sys.stdin.readline()
    spark.stop()
    """
)


def test_down_stops_master_worker_and_executors(tmp_path):
    """`down` while an application runs: master, worker, the executor JVM and its pyspark daemon are all
    gone afterwards, and the pid files are removed."""
    state_dir = tmp_path / "cluster"
    cluster, started = up(state_dir, free_port(), free_port(), free_port(), worker_cores=1, worker_memory="1g")
    driver = None
    err = open(tmp_path / "driver.err", "w")
    try:
        assert started
        assert alive(cluster.master_pid) and alive(cluster.worker_pid)
        assert MASTER_CLASS in Path(f"/proc/{cluster.master_pid}/cmdline").read_text()
        assert (state_dir / "master.pid").read_text().strip() == str(cluster.master_pid)
        assert (state_dir / "worker.pid").read_text().strip() == str(cluster.worker_pid)
        assert up(state_dir) == (cluster, False)  # already running: nothing started

        driver = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(tmp_path / "wh"), cluster.master_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        line = driver.stdout.readline().split()
        assert line, f"the driver subprocess printed nothing: {err.name}"
        task_pids = {int(p) for p in line}  # pyspark daemon(s) and Python workers
        daemons = {int(p) for p in line[::2]}
        executor_jvms = {_ppid(d) for d in daemons}
        assert all(_ppid(e) == cluster.worker_pid for e in executor_jvms)
        cluster_pids = {cluster.master_pid, cluster.worker_pid} | executor_jvms | daemons
        assert all(alive(p) for p in cluster_pids)

        stopped = down(state_dir)
        assert {cluster.master_pid, cluster.worker_pid} | executor_jvms <= set(stopped)
        assert not [p for p in cluster_pids | task_pids if alive(p)]
        assert not (state_dir / "master.pid").exists() and not (state_dir / "worker.pid").exists()
        assert down(state_dir) == []  # nothing left to stop
    finally:
        down(state_dir)
        if driver is not None:
            driver.stdin.close()  # the driver stops its session and exits
            try:
                driver.wait(timeout=60)
            except subprocess.TimeoutExpired:
                driver.kill()
                driver.wait()
        err.close()
