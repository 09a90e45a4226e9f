"""`scorecard run --target spark` on a standalone Spark cluster against `scorecard run` on DuckDB, same
sample, same as-of: wall time, peak memory, seconds per stage (from the run's step lines), and every
mart compared cell for cell (the Spark marts read through the run's DuckDB reader file).

    python -m tools.bench_spark --scales tiny,default,large [--work /tmp/bench_spark] [--doc docs/benchmarks.md]

A cluster (a master and a worker, orchestration/engines/spark_cluster.py) is started on free ports for
the measurement and stopped after it. Memory: the peak RSS of the run's process tree (DuckDB: the
`scorecard run` process and its dbt; Spark: the `scorecard run` process, its driver JVM and its Python
workers) and, for Spark, of the worker's tree (the executor JVM and its Python workers) sampled at the
same time; the master and worker daemons themselves are not counted (about 2 x 0.3 GB, idle). The results
go to `<work>/results.json` and to the `spark` table of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tools.bench import RssSampler, machine, update_doc

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-31T23:59:59+08:00"
CONFIG = PROJECT_ROOT / "config" / "scorecard.yml"


def _sampled(cmd: list[str], log: Path, extra_pids: tuple[int, ...] = (), env: dict | None = None) -> dict:
    """Run `cmd`; its wall time and the peak RSS of its tree (and of each extra pid's tree)."""
    started = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
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
    reader = d / "spark" / "w.duckdb"
    env = os.environ | {"SCORECARD_SPARK_MASTER": cluster.master_url, "PYTHONUNBUFFERED": "1"}
    spark = _sampled(
        [sys.executable, "-m", "orchestration.cli", "run", "--target", "spark", "--landing", str(landing),
         "--config", str(CONFIG), "--warehouse", str(reader), "--as-of", AS_OF],
        d / "spark.log",
        extra_pids=(cluster.worker_pid,),
        env=env,
    )  # fmt: skip
    unequal = compare_marts(warehouse, reader)
    stages = stage_seconds((d / "spark.log").read_text())
    print(f"[{scale}] Spark {spark['seconds']} s, driver peak {spark['peak_mb'][0]} MB, "
          f"worker peak {spark['peak_mb'][1]} MB, marts equal: {not unequal}", flush=True)  # fmt: skip
    return {"scale": scale, "rows": rows, "duckdb": duck, "spark": spark, "stage_seconds": stages,
            "marts_equal": not unequal, "marts_unequal": unequal}  # fmt: skip


STEP_DONE = re.compile(r"INFO (\S+): done in (?:(\d+)m)?([\d.]+)(ms|s)\b")


def stage_seconds(log_text: str) -> dict[str, float]:
    """Seconds per stage from the run's `<step>: done in 1m2.3s` lines: scheme, ingestion (the 16 entity
    steps), great_expectations (their checks), dbt_build, reports, publish."""
    out: dict[str, float] = {}
    for step, minutes, value, unit in STEP_DONE.findall(log_text):
        seconds = int(minutes or 0) * 60 + float(value) / (1000 if unit == "ms" else 1)
        if step == "scheme_config":
            stage = "scheme"
        elif step.endswith("_great_expectations_suite"):
            stage = "great_expectations"
        elif step.startswith("raw__"):
            stage = "ingestion"
        else:
            stage = {"scorecard_dbt_models": "dbt_build", "director_report": "reports",
                     "published_warehouse": "publish"}.get(step)  # fmt: skip
        if stage:
            out[stage] = round(out.get(stage, 0.0) + seconds, 1)
    return out


def compare_marts(duck: Path, reader: Path) -> list[str]:
    """The marts that differ between the DuckDB warehouse and the Spark run's reader file (the columns
    that name the run or its time left out)."""
    import duckdb

    from orchestration.catalogue import MARTS
    from orchestration.engines.compare import Table, compare_tables, read_duckdb

    def drop(t: Table) -> Table:
        keep = [i for i, c in enumerate(t.columns) if c not in ("first_seen_at", "first_run_id")]
        return Table([t.columns[i] for i in keep], [tuple(r[i] for i in keep) for r in t.rows])

    with duckdb.connect(str(duck), read_only=True) as a, duckdb.connect(str(reader), read_only=True) as b:
        return [t for t in MARTS if not compare_tables(t, drop(read_duckdb(a, "marts", t)),
                                                       drop(read_duckdb(b, "marts", t))).equal]  # fmt: skip


def table(results: list[dict]) -> str:
    lines = [
        "| sample | input rows | DuckDB run | DuckDB peak | Spark run | Spark driver peak | Spark worker peak "
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
            f"| {stages} | {equal} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="python -m tools.bench_spark", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="tiny,default", help="sample scales (scorecard sample --scale)")
    p.add_argument("--work", type=Path, default=Path("/tmp/bench_spark"))
    p.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "benchmarks.md")
    a = p.parse_args(argv)
    from orchestration.engines.spark_cluster import standalone_cluster

    a.work.mkdir(parents=True, exist_ok=True)
    # scales measured earlier in this work folder are kept (one scale can be measured again alone)
    previous = a.work / "results.json"
    by_scale = {r["scale"]: r for r in json.loads(previous.read_text())["results"]} if previous.exists() else {}
    with standalone_cluster(a.work / "cluster") as cluster:
        print(f"cluster {cluster.master_url}", flush=True)
        for scale in a.scales.split(","):
            by_scale[scale] = bench_scale(scale, a.work, cluster) | {"measured_at": datetime.now(UTC).isoformat()}
    results = sorted(by_scale.values(), key=lambda r: r["rows"])
    out = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), "results": results}
    (a.work / "results.json").write_text(json.dumps(out, indent=1))
    update_doc(a.doc, table(results), "spark")
    print(table(results))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
