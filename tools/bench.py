"""`scorecard bench`: the cost curve of the nightly run (issue 5, docs/benchmarks.md).

For each scale (about 10 thousand to 10 million input rows across all entities) the harness, in
fresh child processes so that one scale's memory does not weigh on the next:

1. generates the sample landing folder (stage `generation`);
2. runs the hand-written reference script `benchmarks/reference_indicators.sql` over the landing
   files (the floor the pipeline's time is compared with);
3. runs the whole pipeline exactly as `scorecard run` does (`runner.run_pipeline`, Dagster job
   in-process, dbt as a subprocess), then reads the step windows back from the Dagster event log and
   dbt's per-node timing from run_results.json;
4. optionally (`--incremental`) adds a nightly drop of 1 % new rows and runs the pipeline again on
   the same warehouse, over the nightly window as the schedule runs it; then (unless
   `--no-rebuild-check`) builds the same landing folder from scratch in another warehouse and compares
   the two, mart by mart and period by period (content hashes, `compare_marts`).

Memory is the resident set (VmRSS) of the child and all its descendants, summed, sampled from /proc
every 50 ms by the parent with wall-clock stamps; a stage's peak is the highest sample inside its
window. Steps are grouped by name, never from a fixed list, so steps that other work adds are timed:
ingestion = scheme_config and raw__* assets, validation = *great_expectations* / *check* steps plus
dbt tests, dbt models, anomaly rules = dbt nodes and steps named *anomal*, publish = *publish*,
report = *report*, other = whatever matches nothing; `orchestration` is the run's wall time outside
any step (imports, Dagster start-up, event storage, the runner's summary and audit.runs record).
The dbt build is one Dagster step: its wall time is split between dbt models, dbt tests (validation)
and anomaly models in proportion to their execution times in run_results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path

from orchestration.periods import nightly_window
from orchestration.scheme.file import load_scheme
from orchestration.settings import PROJECT_ROOT, parse_as_of

REFERENCE_SQL = PROJECT_ROOT / "benchmarks" / "reference_indicators.sql"
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "scorecard.yml"
AS_OF = "2026-12-31T23:59:59+08:00"
# name -> (reps, rows_scale) of tools.sample.generator.generate; ~1,290 rows per rep and
# unit of rows_scale (plus customers, per rep): tuned to land near the nominal totals
SCALES: dict[str, tuple[int, float]] = {
    "10k": (26, 0.3),
    "100k": (62, 1.25),
    "1m": (200, 4.0),
    "10m": (2000, 4.0),
    # about 10 M rows over 12 quarters (with --years 3; the scales above grow with the years)
    "10m-12q": (660, 4.0),
}
STAGES = (
    "generation",
    "ingestion",
    "validation",
    "dbt_models",
    "anomaly_rules",
    "publish",
    "report",
    "other",
    "orchestration",
)
SAMPLE_SECONDS = 0.05
LOAD_SECONDS = 5.0


# --------------------------------------------------------------------------------------------
# memory of a process tree, from /proc (no psutil)
def _tree_rss_kb(root: int) -> int:
    parents: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            with open(f"/proc/{pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmRSS:"):
                        rss[pid] = int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
        parents.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(parents.get(pid, []))
    return total


class RssSampler(threading.Thread):
    """Samples the RSS of a process tree into [(wall time, kB)] until stopped, and the machine's
    1-minute load average every LOAD_SECONDS (others share the CPU: every figure says how loaded)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self._stop_event = pid, [], threading.Event()
        self.loads: list[float] = []

    def run(self) -> None:
        last_load = 0.0
        while not self._stop_event.is_set():
            now = time.time()
            self.samples.append((now, _tree_rss_kb(self.pid)))
            if now - last_load >= LOAD_SECONDS:
                self.loads.append(os.getloadavg()[0])
                last_load = now
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> list[tuple[float, int]]:
        self._stop_event.set()
        self.join()
        return self.samples

    @staticmethod
    def peak_mb(samples: list[tuple[float, int]], start: float = 0.0, end: float = float("inf")) -> float:
        inside = [kb for t, kb in samples if start <= t <= end]
        return round(max(inside, default=0) / 1024, 1)


def load_summary(loads: list[float]) -> dict:
    """The 1-minute load average while a child ran: min, mean, max of the samples (2 cores here)."""
    if not loads:
        loads = [os.getloadavg()[0]]
    return {"min": round(min(loads), 2), "mean": round(sum(loads) / len(loads), 2), "max": round(max(loads), 2)}


LAST_LOADS: dict[str, list[float]] = {}


def run_child(args: list[str], log: Path, env: dict | None = None) -> tuple[float, list[tuple[float, int]], float]:
    """Run `python -m tools.bench <args>`; return (seconds, RSS samples, start time). The
    load averages sampled meanwhile are left in LAST_LOADS[args[0]]."""
    started = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tools.bench", *args],
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env or os.environ.copy(),
        )
        sampler = RssSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        samples = sampler.stop()
    LAST_LOADS[args[0]] = sampler.loads
    seconds = time.time() - started
    if code != 0:
        raise RuntimeError(f"bench child {args[0]} failed with exit code {code}; see {log}")
    return seconds, samples, started


# --------------------------------------------------------------------------------------------
# child: the reference script
def reference_sql(landing: Path, config: Path, as_of: str) -> str:
    from orchestration.scheme.dbt_vars import dbt_vars
    from orchestration.scheme.file import load_scheme
    from orchestration.settings import parse_as_of

    scheme = load_scheme(config)
    if scheme.grain != "quarter":
        raise ValueError("the reference script is written for the quarter grain")
    v = dbt_vars(scheme, "2000-01-01 00:00:00")
    local_date = parse_as_of(as_of, scheme.timezone).astimezone(__import__("zoneinfo").ZoneInfo(scheme.timezone))
    rates = " ".join(f"when '{c.upper()}' then cast({r} as decimal(18, 8))" for c, r in v["currency_rates"].items())
    minimum = v["min_sample"]
    min_nps = minimum.get("nps", minimum.get("default", 5))
    return REFERENCE_SQL.read_text().format(
        landing=str(landing.resolve()),
        timezone=scheme.timezone,
        as_of_local_date=local_date.date().isoformat(),
        as_of_utc=local_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        currency_base=v["currency_base"],
        currency_rates=f"when '{v['currency_base']}' then 1 {rates}",
        count_channels=", ".join(f"'{c}'" for c in v["count_channels"]),
        sla_response_hours=v["sla_response_hours"],
        complaint_resolution_hours=v["complaint_resolution_hours"],
        followup_grace_days=v["followup_grace_days"],
        min_sample_nps=min_nps,
        min_sample_default=minimum.get("default", 5),
    )


def _child_reference(a: argparse.Namespace) -> None:
    import duckdb

    sql = reference_sql(Path(a.landing), Path(a.config), a.as_of)
    out = Path(a.out)
    out.unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    con.execute(f"set temp_directory = '{out.parent / 'reference.tmp'}'")
    con.execute(sql)
    con.close()


# --------------------------------------------------------------------------------------------
# child: the pipeline, as `scorecard run` runs it
def _child_pipeline(a: argparse.Namespace) -> None:
    os.environ.update(
        SCORECARD_LANDING=str(Path(a.landing).resolve()),
        SCORECARD_CONFIG=str(Path(a.config).resolve()),
        SCORECARD_WAREHOUSE=str(Path(a.warehouse).resolve()),
        SCORECARD_AS_OF=a.as_of,
    )
    job_started = time.time()
    from dagster import DagsterInstance

    from orchestration.runner import run_pipeline
    from orchestration.transform.dbt_cli import state_dir
    from orchestration.warehouse import build_copy as publish

    copy_seconds: list[float] = []
    start_build = publish.start_build

    def timed_start_build(published, *args, **kwargs):  # the write-audit-publish copy of the published file
        t0 = time.time()
        try:
            return start_build(published, *args, **kwargs)
        finally:
            copy_seconds.append(time.time() - t0)

    publish.start_build = timed_start_build
    from orchestration.ingest import scheme_tables as config_assets  # it imported `start_build` by name

    config_assets.start_build = timed_start_build
    outcome = run_pipeline(echo=lambda _: None, log_level="WARNING", period_from=a.period_from, period_to=a.period_to)
    finished = time.time()
    steps: dict[str, dict] = {}
    for rec in DagsterInstance.get().all_logs(outcome.run_id):
        ev = rec.dagster_event
        if ev is None or not ev.step_key:
            continue
        s = steps.setdefault(ev.step_key, {})
        if ev.event_type_value == "STEP_START":
            s["start"] = rec.timestamp
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            s["end"], s["status"] = rec.timestamp, ev.event_type_value
    nodes = []
    # the dbt step's target folder is kept beside the warehouse (transform/dbt_cli.py state_dir); one run
    # at a time writes it, so results written after this job started are this run's
    path = state_dir(a.warehouse) / "run_results.json"
    if path.exists() and path.stat().st_mtime >= job_started:
        nodes = [
            {"unique_id": r["unique_id"], "status": r["status"], "seconds": r["execution_time"]}
            for r in json.loads(path.read_text())["results"]
        ]
    Path(a.events).write_text(
        json.dumps(
            {
                "run_id": outcome.run_id,
                "success": outcome.success,
                "failure": outcome.failure,
                "started": job_started,
                "finished": finished,
                "steps": steps,
                "dbt_nodes": nodes,
                "counts": [list(c) for c in outcome.counts],
                "build_copy_seconds": round(sum(copy_seconds), 3) if copy_seconds else None,
            }
        )
    )


# --------------------------------------------------------------------------------------------
# child: generation and the nightly delta
def _child_generate(a: argparse.Namespace) -> None:
    from tools.sample.generator import generate, years_of_history

    quarters, start = years_of_history(a.years)
    counts = generate(Path(a.out), seed=a.seed, reps=a.reps, rows_scale=a.rows_scale, quarters=quarters, start=start)
    Path(a.counts).write_text(json.dumps(counts))


def make_delta_landing(landing: Path, out: Path, fraction: float = 0.01) -> int:
    """A landing folder = every file of `landing` (symlinked) + one nightly drop of new interactions
    (copies of existing ones with new ids), `fraction` of all input rows. Returns the rows added."""
    import duckdb

    total = 0
    for src in sorted(landing.rglob("*")):
        if src.is_file():
            dst = out / src.relative_to(landing)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists() or dst.is_symlink():
                dst.unlink()
            dst.symlink_to(src.resolve())
    con = duckdb.connect()
    for src in landing.rglob("*.csv"):
        total += con.execute(f"select count(*) from read_csv('{src}', all_varchar = true, header = true)").fetchone()[0]
    for src in landing.rglob("*.jsonl"):
        total += con.execute(f"select count(*) from read_ndjson_objects('{src}')").fetchone()[0]
    for src in landing.rglob("*.parquet"):
        total += con.execute(f"select count(*) from read_parquet('{src}')").fetchone()[0]
    n = max(1, round(total * fraction))
    con.execute(
        f"""copy (
            select 'N' || interaction_id as interaction_id, rep_id, customer_id, channel,
                customer_contacted_at, rep_responded_at
            from read_csv('{landing / "crm/interactions/interactions.csv"}', all_varchar = true, header = true)
            order by interaction_id desc limit {n}
        ) to '{out / "crm/interactions/nightly_delta.csv"}' (header true)"""
    )
    con.close()
    return n


# --------------------------------------------------------------------------------------------
# parent: one scale
@dataclass
class StageFigure:
    seconds: float = 0.0
    peak_mb: float = 0.0


@dataclass
class ScaleResult:
    scale: str
    reps: int
    rows_scale: float
    years: int = 1  # calendar years of generated history (4 quarters each), ending in 2026
    rows: int = 0
    rows_per_entity: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)  # stage -> StageFigure as dict
    pipeline_seconds: float = 0.0
    pipeline_peak_mb: float = 0.0
    reference_seconds: float = 0.0
    reference_peak_mb: float = 0.0
    overhead: float = 0.0  # pipeline seconds / reference seconds
    success: bool = False
    failure: str | None = None
    steps: dict = field(default_factory=dict)  # step key -> seconds
    dbt_step: str | None = None
    reference_check: dict = field(default_factory=dict)
    incremental: dict = field(default_factory=dict)
    load: dict = field(default_factory=dict)  # child -> 1-minute load average {min, mean, max}
    dbt_top_nodes: list = field(default_factory=list)  # the slowest dbt nodes: [unique_id, seconds]
    build_copy_seconds: float | None = None  # publish.start_build: copy of the published file
    step_peak_mb: dict = field(default_factory=dict)  # step key -> peak RSS (MB) inside its window

    @property
    def stage_sum(self) -> float:
        return sum(v["seconds"] for k, v in self.stages.items() if k != "generation")


def classify_step(step: str) -> str:
    s = step.lower()
    if "great_expectations" in s or "check" in s:
        return "validation"
    # before the name tests below: raw__crm__feedback_self_reported is ingestion, not a report
    if s.startswith("raw__") or s == "scheme_config" or "ingest" in s:
        return "ingestion"
    if "anomal" in s:
        return "anomaly_rules"
    if "publish" in s:
        return "publish"
    if "report" in s:
        return "report"
    if "dbt" in s:
        return "dbt_models"
    return "other"


def classify_dbt_node(unique_id: str) -> str:
    kind, name = unique_id.split(".")[0], unique_id.split(".")[-1]
    if kind in ("test", "unit_test"):
        return "validation"
    return "anomaly_rules" if "anomal" in name else "dbt_models"


def top_dbt_nodes(events: dict, n: int = 12) -> list[list]:
    """The n slowest dbt nodes of a run (models, tests, unit tests): [unique_id, seconds]."""
    nodes = sorted(events.get("dbt_nodes", []), key=lambda x: -x["seconds"])[:n]
    return [[x["unique_id"], round(x["seconds"], 2)] for x in nodes]


def stage_breakdown(events: dict, samples: list[tuple[float, int]]) -> tuple[dict, dict, str | None]:
    """(stage -> {seconds, peak_mb}, step -> seconds, the dbt step's key) of one pipeline run."""
    stages = {k: {"seconds": 0.0, "peak_mb": 0.0} for k in STAGES if k != "generation"}
    windows: dict[str, list[tuple[float, float]]] = {k: [] for k in stages}
    steps: dict[str, float] = {}
    in_steps = 0.0
    dbt_step = None
    for key, s in events["steps"].items():
        if "start" not in s or "end" not in s:
            continue
        sec = s["end"] - s["start"]
        steps[key] = round(sec, 3)
        in_steps += sec
        stage = classify_step(key)
        if stage == "dbt_models":
            dbt_step = key
            node_time: dict[str, float] = {"dbt_models": 0.0, "validation": 0.0, "anomaly_rules": 0.0}
            for n in events.get("dbt_nodes", []):
                node_time[classify_dbt_node(n["unique_id"])] += n["seconds"]
            total = sum(node_time.values()) or 1.0
            share = node_time if sum(node_time.values()) else {"dbt_models": 1.0}
            for st, t in share.items():
                stages[st]["seconds"] += sec * t / total
                windows[st].append((s["start"], s["end"]))
            continue
        stages[stage]["seconds"] += sec
        windows[stage].append((s["start"], s["end"]))
    wall = events["finished"] - events["started"]
    stages["orchestration"]["seconds"] = max(0.0, wall - in_steps)
    windows["orchestration"].append((events["started"], events["finished"]))
    for st, wins in windows.items():
        stages[st]["seconds"] = round(stages[st]["seconds"], 3)
        stages[st]["peak_mb"] = max((RssSampler.peak_mb(samples, a, b) for a, b in wins), default=0.0)
    return stages, steps, dbt_step


def step_peaks(events: dict, samples: list[tuple[float, int]]) -> dict[str, float]:
    """Peak RSS of the process tree (MB) inside each step's window: which step needs the memory."""
    return {
        key: RssSampler.peak_mb(samples, s["start"], s["end"])
        for key, s in events["steps"].items()
        if "start" in s and "end" in s
    }


def compare_with_reference(warehouse: Path, reference_db: Path) -> dict:
    """Cells of the reference that differ from the pipeline. Against audit.indicator_values (unmasked)
    on every level, and against the published marts.indicator_values where a cell is published."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{warehouse}' as w (read_only)")
    con.execute(f"attach '{reference_db}' as r (read_only)")
    cols = "numerator, denominator, value, sample_size, is_sufficient, nps_ci_low, nps_ci_high"
    key = "period, level, subject_id, indicator"
    out = {}
    for name, table, where in (
        ("audit_all_levels", "w.audit.indicator_values", "true"),
        ("marts_company", "w.marts.indicator_values", "level = 'company' and disclosure = 'published'"),
        (
            "marts_rep_published",
            "w.marts.indicator_values",
            "level = 'rep' and disclosure = 'published' and numerator is not null",
        ),
    ):
        level_filter = where.replace("disclosure = 'published'", "true").replace("numerator is not null", "true")
        cells = con.execute(f"select count(*) from {table} where {where}").fetchone()[0]
        diff = con.execute(
            f"""select count(*) from (
                (select {key}, {cols} from {table} where {where}
                 except all select {key}, {cols} from r.reference_indicator_values where {level_filter})
            )"""
        ).fetchone()[0]
        out[name] = {"cells": cells, "differing": diff}
    missing = con.execute(
        f"select count(*) from (select {key} from r.reference_indicator_values "
        f"except select {key} from w.audit.indicator_values)"
    ).fetchone()[0]
    out["reference_cells_not_in_pipeline"] = missing
    con.close()
    return out


# columns a run writes from its own clock and id, not computed from the data
RUN_COLUMNS = {"anomaly_flags": ("first_run_id", "first_seen_at")}


def mart_period_hashes(warehouse: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(mart, period) -> (rows, order-free content hash) of every published mart, run columns
    (RUN_COLUMNS) left out."""
    import duckdb

    from orchestration.catalogue import MARTS

    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in MARTS:
            drop = f" exclude ({', '.join(RUN_COLUMNS[table])})" if table in RUN_COLUMNS else ""
            for period, n, h in con.execute(
                f"select period, count(*), bit_xor(hash(t::varchar)) "
                f"from (select *{drop} from marts.{table}) as t group by period"
            ).fetchall():
                out[(table, period)] = (n, h)
    return out


def compare_marts(warehouse: Path, rebuilt: Path) -> dict:
    """Every published mart of `warehouse` against the same mart of `rebuilt`, period by period
    (mart_period_hashes). Returns the number of (mart, period) compared and those that differ, as
    "mart period"."""
    a, b = mart_period_hashes(warehouse), mart_period_hashes(rebuilt)
    keys = set(a) | set(b)
    return {"mart_periods": len(keys), "differing": sorted(" ".join(k) for k in keys if a.get(k) != b.get(k))}


def bench_scale(
    name: str,
    reps: int,
    rows_scale: float,
    work: Path,
    config: Path = DEFAULT_CONFIG,
    as_of: str = AS_OF,
    seed: int = 1,
    incremental: bool = False,
    years: int = 1,
    rebuild_check: bool = True,
    echo=print,
) -> ScaleResult:
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    res = ScaleResult(name, reps, rows_scale, years=years)
    env = os.environ.copy()
    env["DAGSTER_HOME"] = str(d / "dagster_home")
    Path(env["DAGSTER_HOME"]).mkdir(exist_ok=True)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"

    sample = d / "sample"
    counts_file = d / "counts.json"
    sec, samples, _ = run_child(
        [
            "generate",
            "--out",
            str(sample),
            "--seed",
            str(seed),
            "--reps",
            str(reps),
            "--rows-scale",
            str(rows_scale),
            "--years",
            str(years),
            "--counts",
            str(counts_file),
        ],
        d / "generate.log",
        env,
    )
    res.rows_per_entity = json.loads(counts_file.read_text())
    res.rows = sum(res.rows_per_entity.values())
    res.stages["generation"] = {"seconds": round(sec, 3), "peak_mb": RssSampler.peak_mb(samples)}
    res.load["generation"] = load_summary(LAST_LOADS["generate"])
    echo(f"[{name}] generated {res.rows:,} rows in {sec:.1f} s")
    landing = sample / "landing"

    ref_db = d / "reference.duckdb"
    sec, samples, _ = run_child(
        ["reference", "--landing", str(landing), "--config", str(config), "--as-of", as_of, "--out", str(ref_db)],
        d / "reference.log",
        env,
    )
    res.reference_seconds, res.reference_peak_mb = round(sec, 3), RssSampler.peak_mb(samples)
    res.load["reference"] = load_summary(LAST_LOADS["reference"])
    echo(f"[{name}] reference script {sec:.1f} s")

    warehouse = d / "warehouse" / "scorecard.duckdb"
    for stale in warehouse.parent.glob("**/*.duckdb*"):
        stale.unlink()
    events_file = d / "events.json"
    sec, samples, _ = run_child(
        [
            "pipeline",
            "--landing",
            str(landing),
            "--config",
            str(config),
            "--as-of",
            as_of,
            "--warehouse",
            str(warehouse),
            "--events",
            str(events_file),
        ],
        d / "pipeline.log",
        env,
    )
    events = json.loads(events_file.read_text())
    res.load["pipeline"] = load_summary(LAST_LOADS["pipeline"])
    res.success, res.failure = events["success"], events["failure"]
    res.dbt_top_nodes = top_dbt_nodes(events)
    res.pipeline_seconds, res.pipeline_peak_mb = round(sec, 3), RssSampler.peak_mb(samples)
    stages, res.steps, res.dbt_step = stage_breakdown(events, samples)
    res.step_peak_mb = step_peaks(events, samples)
    # the child's interpreter start-up before the job started counts as orchestration too
    startup = max(0.0, sec - (events["finished"] - events["started"]))
    stages["orchestration"]["seconds"] = round(stages["orchestration"]["seconds"] + startup, 3)
    stages["orchestration"]["peak_mb"] = res.pipeline_peak_mb
    res.stages.update(stages)
    res.overhead = round(res.pipeline_seconds / res.reference_seconds, 2) if res.reference_seconds else 0.0
    res.build_copy_seconds = events.get("build_copy_seconds")
    echo(f"[{name}] pipeline {sec:.1f} s, peak {res.pipeline_peak_mb:,.0f} MB, success={res.success}")
    if res.success:
        res.reference_check = compare_with_reference(warehouse, ref_db)
        echo(f"[{name}] reference vs pipeline: {res.reference_check}")

    if incremental and res.success:
        delta = d / "landing_plus_1pct"
        added = make_delta_landing(landing, delta)
        scheme = load_scheme(config)
        nightly = nightly_window(parse_as_of(as_of, scheme.timezone), scheme.timezone, scheme.grain)
        sec, samples, _ = run_child(
            [
                "pipeline",
                "--landing",
                str(delta),
                "--config",
                str(config),
                "--as-of",
                as_of,
                "--warehouse",
                str(warehouse),
                "--events",
                str(d / "events_incremental.json"),
                # the nightly job's window, as the schedule runs it: the open and the previous period
                "--period-from",
                nightly[0],
                "--period-to",
                nightly[1],
            ],
            d / "pipeline_incremental.log",
            env,
        )
        ev2 = json.loads((d / "events_incremental.json").read_text())
        st2, steps2, _ = stage_breakdown(ev2, samples)
        startup = max(0.0, sec - (ev2["finished"] - ev2["started"]))
        st2["orchestration"]["seconds"] = round(st2["orchestration"]["seconds"] + startup, 3)
        res.incremental = {
            "rows_added": added,
            "seconds": round(sec, 3),
            "peak_mb": RssSampler.peak_mb(samples),
            "success": ev2["success"],
            "failure": ev2["failure"],
            "share_of_full_run": round(sec / res.pipeline_seconds, 3),
            "window": list(nightly),
            "stages": st2,
            "steps": steps2,
            "step_peak_mb": step_peaks(ev2, samples),
            "dbt_top_nodes": top_dbt_nodes(ev2),
            "build_copy_seconds": ev2.get("build_copy_seconds"),
            "load": load_summary(LAST_LOADS["pipeline"]),
        }
        echo(f"[{name}] re-run with {added:,} new rows: {sec:.1f} s ({sec / res.pipeline_seconds:.0%} of the full run)")
        if rebuild_check and ev2["success"]:
            rebuilt = d / "rebuilt" / warehouse.name  # the same file name: the same dbt parse state
            rebuilt.parent.mkdir(exist_ok=True)
            child = ["pipeline", "--landing", str(delta), "--config", str(config), "--as-of", as_of]
            child += ["--warehouse", str(rebuilt), "--events", str(d / "events_rebuilt.json")]
            sec3, _, _ = run_child(child, d / "pipeline_rebuilt.log", env)
            check = compare_marts(warehouse, rebuilt) | {"rebuild_seconds": round(sec3, 3)}
            res.incremental["same_as_full_rebuild"] = check
            echo(
                f"[{name}] nightly re-run vs a full build of the same folder ({sec3:.1f} s): "
                f"{len(check['differing'])} of {check['mart_periods']} (mart, period) differ"
            )
    (d / "result.json").write_text(json.dumps(asdict(res), indent=2))
    return res


# --------------------------------------------------------------------------------------------
# outputs: table, plot, machine
def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except OSError:
        mem_kb = 0
    import dagster
    import duckdb
    from dbt.version import __version__ as dbt_version

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "dbt_core": dbt_version,
        "dagster": dagster.__version__,
        "load_average_at_start": os.getloadavg()[0],
    }


def markdown_table(results: list[dict]) -> str:
    head = (
        "| scale | input rows | " + " | ".join(s.replace("_", " ") for s in STAGES) + " | pipeline total | "
        "peak RSS | reference | overhead | load (pipeline) |"
    )
    lines = [head, "|" + "---|" * (len(STAGES) + 7)]
    for r in results:
        cells = [
            f"{r['stages'].get(s, {}).get('seconds', 0):.1f} s / {r['stages'].get(s, {}).get('peak_mb', 0):,.0f} MB"
            for s in STAGES
        ]
        load = r.get("load", {}).get("pipeline")
        load_cell = f"{load['mean']:.1f} ({load['min']:.1f}-{load['max']:.1f})" if load else "n/a"
        lines.append(
            f"| {r['scale']} | {r['rows']:,} | " + " | ".join(cells) + f" | {r['pipeline_seconds']:.1f} s | "
            f"{r['pipeline_peak_mb']:,.0f} MB | {r['reference_seconds']:.1f} s / {r['reference_peak_mb']:,.0f} MB | "
            f"{r['overhead']:.1f}x | {load_cell} |"
        )
    return "\n".join(lines) + "\n"


def incremental_table(results: list[dict]) -> str:
    """The nightly +1 % re-run on the same warehouse, per stage, against the scale's full run."""
    stages = [s for s in STAGES if s != "generation"]
    head = (
        "| scale | rows added | "
        + " | ".join(s.replace("_", " ") for s in stages)
        + " | re-run total | full run | share | peak RSS | build copy | load (re-run) | vs full rebuild |"
    )
    lines = [head, "|" + "---|" * (len(stages) + 9)]
    for r in results:
        inc = r.get("incremental") or {}
        if not inc:
            continue
        cells = [
            f"{inc['stages'].get(s, {}).get('seconds', 0):.1f} s / {inc['stages'].get(s, {}).get('peak_mb', 0):,.0f} MB"
            for s in stages
        ]
        load = inc.get("load")
        load_cell = f"{load['mean']:.1f} ({load['min']:.1f}-{load['max']:.1f})" if load else "n/a"
        copy = inc.get("build_copy_seconds")
        lines.append(
            f"| {r['scale']} | {inc['rows_added']:,} | "
            + " | ".join(cells)
            + f" | {inc['seconds']:.1f} s | {r['pipeline_seconds']:.1f} s | {inc['share_of_full_run']:.0%} | "
            f"{inc['peak_mb']:,.0f} MB | {'n/a' if copy is None else f'{copy:.1f} s'} | {load_cell} | "
            f"{_rebuild_cell(inc.get('same_as_full_rebuild'))} |"
        )
    return "\n".join(lines) + "\n"


def _rebuild_cell(check: dict | None) -> str:
    if not check:
        return "not checked"
    differing = check["differing"]
    return f"{len(differing)} of {check['mart_periods']} (mart, period) differ" + (
        f": {', '.join(differing[:3])}" if differing else ""
    )


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r["rows"] for r in results]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax1.plot(rows, [r["pipeline_seconds"] for r in results], "o-", label="pipeline total")
    for st in ("ingestion", "validation", "dbt_models", "anomaly_rules", "report", "orchestration"):
        ax1.plot(rows, [max(r["stages"][st]["seconds"], 1e-2) for r in results], ".--", label=st.replace("_", " "))
    ax1.plot(rows, [r["stages"]["generation"]["seconds"] for r in results], "s:", label="generation")
    ax1.plot(rows, [r["reference_seconds"] for r in results], "^-", label="reference SQL")
    inc = [(r["rows"], r["incremental"]["seconds"]) for r in results if r.get("incremental")]
    if inc:
        ax1.plot([x for x, _ in inc], [y for _, y in inc], "x", ms=9, label="+1 % nightly re-run")
    lo, hi = min(rows), max(rows)
    base = results[0]["pipeline_seconds"]
    ax1.plot([lo, hi], [base, base * hi / lo], color="grey", lw=0.8, label="linear from smallest")
    ax1.set(xscale="log", yscale="log", xlabel="input rows", ylabel="wall time (s)", title="time")
    ax1.legend(fontsize=7)
    ax2.plot(rows, [r["pipeline_peak_mb"] for r in results], "o-", label="pipeline peak RSS")
    ax2.plot(rows, [r["stages"]["generation"]["peak_mb"] for r in results], "s:", label="generation")
    ax2.plot(rows, [r["reference_peak_mb"] for r in results], "^-", label="reference SQL")
    ax2.axhline(4096, color="red", lw=0.8, label="target 4 GB")
    ax2.set(xscale="log", yscale="log", xlabel="input rows", ylabel="peak RSS of the process tree (MB)", title="memory")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_doc(doc: Path, table: str, marker: str = "table") -> None:
    """Replace the text between the bench:<marker> markers of docs/benchmarks.md (the prose is
    hand-written)."""
    start, end = f"<!-- bench:{marker}:start -->", f"<!-- bench:{marker}:end -->"
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    doc.write_text(f"{head}{start}\n{table}{end}{tail}")


def run_bench(
    scales: list[str],
    work: Path,
    results_dir: Path,
    plot_path: Path | None = None,
    doc: Path | None = None,
    incremental_on: tuple[str, ...] = (),
    config: Path = DEFAULT_CONFIG,
    years: int = 1,
    rebuild_check: bool = True,
    echo=print,
) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    results_dir.mkdir(parents=True, exist_ok=True)
    results_file = results_dir / "results.json"
    # scales measured earlier are kept, so the 10 M scale can be run alone
    previous = json.loads(results_file.read_text())["scales"] if results_file.exists() else []
    by_scale = {r["scale"]: r for r in previous}
    for name in scales:
        reps, rows_scale = SCALES[name]
        res = bench_scale(
            name,
            reps,
            rows_scale,
            work,
            config=config,
            incremental=name in incremental_on,
            years=years,
            rebuild_check=rebuild_check,
            echo=echo,
        )
        by_scale[name] = asdict(res) | {"stage_sum": res.stage_sum}
    ordered = [by_scale[k] for k in SCALES if k in by_scale]
    results_file.write_text(json.dumps({"machine": machine(), "scales": ordered}, indent=2))
    table = markdown_table(ordered)
    (results_dir / "table.md").write_text(table)
    inc_table = incremental_table(ordered)
    (results_dir / "incremental.md").write_text(inc_table)
    if plot_path:
        plot(ordered, plot_path)
    if doc:
        update_doc(doc, table)
        update_doc(doc, inc_table, "incremental")
    return ordered


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scorecard bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scales", default="10k,100k,1m,10m", help="comma-separated, of " + ", ".join(SCALES))
    p.add_argument("--work", default="/tmp/bench", help="where data and warehouses go (large!)")
    p.add_argument("--results", default=str(PROJECT_ROOT / "benchmarks" / "results"))
    p.add_argument("--plot", default=str(PROJECT_ROOT / "docs" / "benchmarks.png"))
    p.add_argument("--doc", default=str(PROJECT_ROOT / "docs" / "benchmarks.md"), help="'' to leave it alone")
    p.add_argument("--incremental", default="1m,10m", help="scales that also re-run with 1%% new rows")
    p.add_argument("--config", default=str(DEFAULT_CONFIG))
    p.add_argument("--years", type=int, default=1, help="calendar years of generated history ending in 2026")
    p.add_argument(
        "--no-rebuild-check",
        dest="rebuild_check",
        action="store_false",
        help="skip the full build that the nightly re-run's marts are compared with (one full run per scale)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    run_bench(
        [s for s in a.scales.split(",") if s],
        Path(a.work),
        Path(a.results),
        plot_path=Path(a.plot) if a.plot else None,
        doc=Path(a.doc) if a.doc else None,
        incremental_on=tuple(s for s in a.incremental.split(",") if s),
        config=Path(a.config),
        years=a.years,
        rebuild_check=a.rebuild_check,
    )
    return 0


def _child_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.bench")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--reps", type=int, required=True)
    g.add_argument("--rows-scale", dest="rows_scale", type=float, required=True)
    g.add_argument("--years", type=int, default=1)
    g.add_argument("--counts", required=True)
    g.set_defaults(func=_child_generate)
    for name, fn in (("reference", _child_reference), ("pipeline", _child_pipeline)):
        c = sub.add_parser(name)
        c.add_argument("--landing", required=True)
        c.add_argument("--config", required=True)
        c.add_argument("--as-of", dest="as_of", required=True)
        if name == "reference":
            c.add_argument("--out", required=True)
        else:
            c.add_argument("--warehouse", required=True)
            c.add_argument("--events", required=True)
            c.add_argument("--period-from", dest="period_from", help="refresh window (default: every period)")
            c.add_argument("--period-to", dest="period_to")
        c.set_defaults(func=fn)
    a = p.parse_args(argv)
    a.func(a)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("generate", "reference", "pipeline"):
        sys.exit(_child_main(sys.argv[1:]))
    sys.exit(main())
