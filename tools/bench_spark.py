"""The whole run on a standalone Spark cluster against `scorecard run` on DuckDB, same sample, same
as-of: wall time, peak memory, seconds per Spark stage, and every mart compared cell for cell.

    python -m tools.bench_spark --scales tiny,default [--work /tmp/bench_spark] [--doc docs/benchmarks.md]

A cluster (a master and a worker, orchestration/engines/spark_cluster.py) is started on free ports for
the measurement and stopped after it. Memory: the peak RSS of the run's process tree (DuckDB: the
`scorecard run` process and its dbt; Spark: the driver process, its JVM and its Python workers) and, for
Spark, of the worker's tree (the executor JVM and its Python workers) sampled at the same time; the
master and worker daemons themselves are not counted (about 2 x 0.3 GB, idle). The results go to
`<work>/results.json` and to the `spark` table of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tools.bench import RssSampler, machine, update_doc

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-31T23:59:59+08:00"
CONFIG = PROJECT_ROOT / "config" / "scorecard.yml"


def _sampled(cmd: list[str], log: Path, extra_pids: tuple[int, ...] = ()) -> dict:
    """Run `cmd`; its wall time and the peak RSS of its tree (and of each extra pid's tree)."""
    started = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        samplers = [RssSampler(proc.pid), *(RssSampler(p) for p in extra_pids)]
        for s in samplers:
            s.start()
        code = proc.wait()
        samples = [s.stop() for s in samplers]
    if code != 0:
        raise RuntimeError(f"{cmd[2:4]} failed with exit code {code}; see {log}")
    return {
        "seconds": round(time.time() - started, 1),
        "peak_mb": [RssSampler.peak_mb(s) for s in samples],
        "load_1min": [round(x, 2) for x in samplers[0].loads],
    }


def bench_scale(scale: str, work: Path, cluster) -> dict:
    from orchestration.cli import main as scorecard

    d = work / scale
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "sample" / "landing").exists():
        assert scorecard(["sample", "--out", str(d / "sample"), "--seed", "7", "--scale", scale]) == 0
    landing = d / "sample" / "landing"
    warehouse = d / "w.duckdb"
    for stale in (warehouse, d / "spark"):
        subprocess.run(["rm", "-rf", str(stale)], check=True)
    print(f"[{scale}] DuckDB run ...", flush=True)
    duck = _sampled(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--config", str(CONFIG),
         "--warehouse", str(warehouse), "--as-of", AS_OF, "--log-level", "WARNING", "--no-data-docs"],
        d / "duckdb.log",
    )  # fmt: skip
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:  # rows in, every file of every entity
        rows = con.execute("select sum(rows_in) from audit.run_counts").fetchone()[0]
    peak = duck["peak_mb"][0]
    print(f"[{scale}] {rows:,} input rows; DuckDB {duck['seconds']} s, peak {peak} MB; Spark run ...", flush=True)
    spark = _sampled(
        [sys.executable, "-m", "tools.bench_spark", "--child", str(landing), str(d / "spark"), str(warehouse),
         cluster.master_url, str(d / "spark_result.json")],
        d / "spark.log",
        extra_pids=(cluster.worker_pid,),
    )  # fmt: skip
    child = json.loads((d / "spark_result.json").read_text())
    print(f"[{scale}] Spark {spark['seconds']} s, driver peak {spark['peak_mb'][0]} MB, "
          f"worker peak {spark['peak_mb'][1]} MB, marts equal: {child['marts_equal']}", flush=True)  # fmt: skip
    return {"scale": scale, "rows": rows, "duckdb": duck, "spark": spark} | child


def _child(landing: str, home: str, duck_warehouse: str, master: str, out: str) -> None:
    """The Spark run in its own process (a driver of its own): result and mart comparison to `out`."""
    import duckdb

    from orchestration.catalogue import MARTS
    from orchestration.engines.compare import Table, compare_tables, read_duckdb
    from orchestration.engines.spark import spark_session
    from orchestration.engines.spark_flow import run_on_spark
    from orchestration.scheme.file import load_scheme
    from orchestration.settings import parse_as_of

    started = time.perf_counter()
    spark = spark_session(home, master=master)
    session_seconds = round(time.perf_counter() - started, 1)
    scheme = load_scheme(CONFIG)
    with duckdb.connect(duck_warehouse, read_only=True) as con:
        run_id = con.execute("select run_id from audit.runs where published").fetchone()[0]
    result = run_on_spark(
        spark, landing=landing, scheme=scheme, config=str(CONFIG), warehouse=str(Path(home) / "ledger.duckdb"),
        run_id=run_id, as_of=parse_as_of(AS_OF, scheme.timezone),
    )  # fmt: skip
    unequal = []
    with duckdb.connect(duck_warehouse, read_only=True) as con:
        for t in MARTS:
            left = read_duckdb(con, "marts", t)
            frame = spark.table(f"marts.{t}")
            right = Table(frame.columns, [tuple(r) for r in frame.collect()])
            drop = {"first_seen_at"}
            keep_l = [i for i, c in enumerate(left.columns) if c not in drop]
            keep_r = [i for i, c in enumerate(right.columns) if c not in drop]
            cmp = compare_tables(
                t,
                Table([left.columns[i] for i in keep_l], [tuple(r[i] for i in keep_l) for r in left.rows]),
                Table([right.columns[i] for i in keep_r], [tuple(r[i] for i in keep_r) for r in right.rows]),
            )
            if not cmp.equal:
                unequal.append(t)
    spark.stop()
    Path(out).write_text(
        json.dumps(
            {
                "status": result.status,
                "failure": result.failure,
                "session_seconds": session_seconds,
                "stage_seconds": result.seconds,
                "dbt_tests": None if result.dbt_tests is None else result.dbt_tests.__dict__,
                "marts_equal": not unequal,
                "marts_unequal": unequal,
            },
            indent=1,
        )
    )


def table(results: list[dict]) -> str:
    lines = [
        "| sample | input rows | DuckDB run | DuckDB peak | Spark run | Spark driver peak | Spark executor peak "
        "| Spark stages (s) | marts equal |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        stages = ", ".join(f"{k} {v:.0f}" for k, v in r["stage_seconds"].items())
        duck, spark = r["duckdb"], r["spark"]
        equal = "yes" if r["marts_equal"] else "NO: " + ", ".join(r["marts_unequal"])
        lines.append(
            f"| {r['scale']} | {r['rows']:,} | {duck['seconds']:.0f} s | {duck['peak_mb'][0]:,.0f} MB "
            f"| {spark['seconds']:.0f} s | {spark['peak_mb'][0]:,.0f} MB | {spark['peak_mb'][1]:,.0f} MB "
            f"| session {r['session_seconds']:.0f}, {stages} | {equal} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        _child(*argv[1:6])
        return 0
    p = argparse.ArgumentParser(prog="python -m tools.bench_spark", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="tiny,default", help="sample scales (scorecard sample --scale)")
    p.add_argument("--work", type=Path, default=Path("/tmp/bench_spark"))
    p.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    a = p.parse_args(argv)
    from orchestration.engines.spark_cluster import standalone_cluster

    a.work.mkdir(parents=True, exist_ok=True)
    results = []
    with standalone_cluster(a.work / "cluster") as cluster:
        print(f"cluster {cluster.master_url}", flush=True)
        for scale in a.scales.split(","):
            results.append(bench_scale(scale, a.work, cluster))
    out = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "results": results}
    (a.work / "results.json").write_text(json.dumps(out, indent=1))
    update_doc(a.doc, table(results), "spark")
    print(table(results))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
