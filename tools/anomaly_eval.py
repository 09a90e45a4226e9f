"""Precision and recall of the anomaly rules against the sample generator's ground truth.

    python -m tools.anomaly_eval --seeds 1 2 3 --out docs/anomalies.md

For each seed: generate a sample landing folder (``tools.sample.generator``) in a temporary
folder, run the whole pipeline on it (``scorecard run`` in a subprocess: one fresh Dagster instance and
DuckDB writer per seed), read ``marts.anomaly_flags`` and compare the distinct (rep_id, period,
rule_id) of the flags with ``ground_truth.csv``. Per rule: TP, FP, FN, precision, recall, and the share
of honest reps (reps with no planted pattern of any rule) that the rule flags at least once. With
``--out`` the table replaces the section between the markers of that file (the rest is left alone).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.cli import SCALES
from orchestration.transform.dbt_cli import dbt_args, run_dbt
from tools.sample.generator import RULES, generate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-31T23:59:59+08:00"
BEGIN = "<!-- anomaly-eval:begin (written by python -m tools.anomaly_eval; do not edit by hand) -->"
END = "<!-- anomaly-eval:end -->"
TARGETS = {"precision": 0.9, "recall": 0.8, "honest_share": 0.02}


@dataclass
class RuleScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    honest_flagged: int = 0
    honest_reps: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    false_negatives: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def honest_share(self) -> float | None:
        return self.honest_flagged / self.honest_reps if self.honest_reps else None

    def add(self, other: RuleScore) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.honest_flagged += other.honest_flagged
        self.honest_reps += other.honest_reps

    def misses(self) -> list[str]:
        out = []
        if self.precision is not None and self.precision < TARGETS["precision"]:
            out.append("precision")
        if self.recall is not None and self.recall < TARGETS["recall"]:
            out.append("recall")
        if self.honest_share is not None and self.honest_share > TARGETS["honest_share"]:
            out.append("honest share")
        return out


def score(flags: pd.DataFrame, truth: pd.DataFrame, reps: list[str]) -> dict[str, RuleScore]:
    """Per rule, compare the distinct (rep_id, period) flagged with the planted ones."""
    honest = set(reps) - set(truth["rep_id"])
    out = {}
    for rule in RULES:
        predicted = set(map(tuple, flags.loc[flags["rule_id"] == rule, ["rep_id", "period"]].drop_duplicates().values))
        planted = set(map(tuple, truth.loc[truth["rule_id"] == rule, ["rep_id", "period"]].values))
        out[rule] = RuleScore(
            tp=len(predicted & planted),
            fp=len(predicted - planted),
            fn=len(planted - predicted),
            honest_flagged=len({rep for rep, _ in predicted if rep in honest}),
            honest_reps=len(honest),
            false_positives=sorted(predicted - planted),
            false_negatives=sorted(planted - predicted),
        )
    return out


def prepare_manifest() -> None:
    """`dbt parse` (what `make setup` does), so that the run uses the manifest of the current models."""
    proc = run_dbt(dbt_args("parse", target_path="target", extra=["--quiet"]))
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
    proc.check_returncode()


def run_seed(seed: int, workdir: Path, scale: str, as_of: str) -> dict[str, RuleScore]:
    reps, rows_scale = SCALES[scale]
    folder = workdir / f"seed{seed}"
    generate(folder, seed=seed, reps=reps, rows_scale=rows_scale)
    warehouse = folder / "warehouse.duckdb"
    command = [
        sys.executable, "-m", "orchestration.cli", "run",
        "--landing", str(folder / "landing"),
        "--config", str(PROJECT_ROOT / "config" / "scorecard.yml"),
        "--warehouse", str(warehouse),
        "--as-of", as_of,
        "--log-level", "WARNING",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"seed {seed}: pipeline failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        flags = con.execute("select rep_id, period, rule_id from marts.anomaly_flags").df()
        reps = [r for (r,) in con.execute("select rep_id from staging.stg_crm__reps").fetchall()]
    truth = pd.read_csv(folder / "ground_truth.csv", dtype=str)
    return score(flags, truth, reps)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _share(s: RuleScore) -> str:
    return "-" if s.honest_share is None else f"{100 * s.honest_share:.1f} % ({s.honest_flagged}/{s.honest_reps})"


def markdown(results: dict[int, dict[str, RuleScore]], scale: str) -> str:
    seeds = sorted(results)
    overall = {rule: RuleScore() for rule in RULES}
    for seed in seeds:
        for rule in RULES:
            overall[rule].add(results[seed][rule])
    lines = [
        f"Sample scale `{scale}`, seeds {', '.join(map(str, seeds))}; a hit is a distinct (rep_id, period, "
        "rule_id) of `marts.anomaly_flags` that is in `ground_truth.csv`. Honest reps: reps with no planted "
        "pattern of any rule; their share is the share flagged at least once by the rule. Targets: precision >= "
        f"{TARGETS['precision']}, recall >= {TARGETS['recall']}, "
        f"honest share <= {100 * TARGETS['honest_share']:.0f} %.",
        "",
        "| rule | seed | TP | FP | FN | precision | recall | honest reps flagged |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rule in RULES:
        for seed in seeds:
            s = results[seed][rule]
            lines.append(
                f"| {rule} | {seed} | {s.tp} | {s.fp} | {s.fn} | {_fmt(s.precision)} | {_fmt(s.recall)} | {_share(s)} |"
            )
        s = overall[rule]
        lines.append(
            f"| **{rule}** | **all** | **{s.tp}** | **{s.fp}** | **{s.fn}** | **{_fmt(s.precision)}** | "
            f"**{_fmt(s.recall)}** | **{_share(s)}** |"
        )
    missed = [f"`{rule}` ({', '.join(overall[rule].misses())})" for rule in RULES if overall[rule].misses()]
    lines.append("")
    lines.append("Targets missed overall: " + (", ".join(missed) if missed else "none") + ".")
    details = []
    for seed in seeds:
        for rule in RULES:
            s = results[seed][rule]
            for rep, period in s.false_positives:
                details.append(f"- seed {seed}, `{rule}`: false positive {rep} {period}")
            for rep, period in s.false_negatives:
                details.append(f"- seed {seed}, `{rule}`: missed {rep} {period}")
    if details:
        lines += ["", "Misses and false alarms:", "", *details]
    return "\n".join(lines) + "\n"


def write_section(doc: Path, table: str) -> None:
    """Replace the text between the markers (append the markers when the file has none)."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    block = f"{BEGIN}\n{table}{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    doc.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.anomaly_eval", description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--scale", choices=sorted(SCALES), default="default")
    p.add_argument("--as-of", dest="as_of", default=AS_OF)
    p.add_argument("--out", type=Path, help="markdown file whose evaluation section is replaced")
    p.add_argument("--workdir", type=Path, help="keep samples and warehouses here (default: a temporary folder)")
    args = p.parse_args(argv)

    prepare_manifest()
    results = {}
    with tempfile.TemporaryDirectory(prefix="anomaly_eval_") as tmp:
        workdir = args.workdir or Path(tmp)
        for seed in args.seeds:
            print(f"seed {seed}: sample + pipeline ...", flush=True)
            results[seed] = run_seed(seed, workdir, args.scale, args.as_of)
    table = markdown(results, args.scale)
    print(table)
    if args.out:
        write_section(args.out, table)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
