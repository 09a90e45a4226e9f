"""The benchmark harness (tools/bench.py) at its smallest scale only: it runs, every stage is
timed, the stages add up to the run, and the hand-written reference script computes exactly the
indicator values the pipeline publishes. No assertion on how fast anything is."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import MARTS
from tools.bench import SCALES, STAGES, classify_step, compare_marts, incremental_table, make_delta_landing, run_bench
from tools.sample.generator import generate

# the 10k scale of the harness (seed 1, 26 reps, rows_scale 0.3): the generator is deterministic
ROWS_10K = {
    "crm/teams": 2,
    "crm/reps": 26,
    "crm/customers": 450,
    "crm/deals": 434,
    "crm/targets": 192,
    "crm/proposals": 247,
    "crm/followups": 1120,
    "crm/interactions": 3652,
    "crm/feedback_self_reported": 980,
    "crm/adjustments": 4,
    "crm/improvement_actions": 81,
    "crm/rep_devices": 40,
    "survey/invitations": 2496,
    "survey/responses": 1326,
    "tickets/tickets": 331,
}


def test_classify_step_groups_by_name_not_by_list():
    assert classify_step("raw__crm__deals") == "ingestion"
    assert classify_step("raw__crm__feedback_self_reported") == "ingestion"  # not a report
    assert classify_step("raw__crm__feedback_self_reported_great_expectations_suite") == "validation"
    assert classify_step("scheme_config") == "ingestion"
    assert classify_step("raw__crm__deals_great_expectations_suite") == "validation"
    assert classify_step("cross_source_checks") == "validation"
    assert classify_step("scorecard_dbt_models") == "dbt_models"
    assert classify_step("anomaly_flags_evaluation") == "anomaly_rules"
    assert classify_step("publish_warehouse") == "publish"
    assert classify_step("auditor_report") == "report"
    assert classify_step("something_new") == "other"


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[dict, Path, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    results_dir, doc = tmp / "results", tmp / "benchmarks.md"
    # the pipeline's Great Expectations HTML pages are checked in test_great_expectations; skipped here
    # (about a second per suite): every check still runs and is timed
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCORECARD_GE_DATA_DOCS", "0")
        results = run_bench(
            ["10k"], tmp / "work", results_dir, plot_path=tmp / "plot.png", doc=doc, echo=lambda _: None
        )
    return results[0], tmp, results_dir


def test_every_stage_is_timed(bench):
    r, _, _ = bench
    assert r["success"], r["failure"]
    assert r["rows_per_entity"] == ROWS_10K
    assert r["rows"] == sum(ROWS_10K.values()) == 11_381
    reps, rows_scale = SCALES["10k"]
    assert (r["reps"], r["rows_scale"]) == (reps, rows_scale)
    assert set(r["stages"]) == set(STAGES)
    has_step = {classify_step(k) for k in r["steps"]}
    for stage in ("generation", "ingestion", "validation", "dbt_models", "anomaly_rules", "report", "orchestration"):
        assert r["stages"][stage]["seconds"] > 0, stage
        assert r["stages"][stage]["peak_mb"] > 0, stage
    if "publish" in has_step:
        assert r["stages"]["publish"]["seconds"] > 0
    assert r["reference_seconds"] > 0 and r["reference_peak_mb"] > 0
    # the machine's load is recorded beside every child's figures; the slowest dbt nodes are named
    assert set(r["load"]) == {"generation", "reference", "pipeline"}
    assert all(0 <= v["min"] <= v["mean"] <= v["max"] for v in r["load"].values())
    assert len(r["dbt_top_nodes"]) == 12 and r["dbt_top_nodes"][0][1] >= r["dbt_top_nodes"][-1][1]
    assert r["build_copy_seconds"] is not None and r["build_copy_seconds"] >= 0
    assert set(r["step_peak_mb"]) == set(r["steps"]) and max(r["step_peak_mb"].values()) <= r["pipeline_peak_mb"]
    assert r["pipeline_peak_mb"] >= max(v["peak_mb"] for k, v in r["stages"].items() if k != "generation")


def test_stages_add_up_to_the_run(bench):
    r, _, _ = bench
    stage_sum = sum(v["seconds"] for k, v in r["stages"].items() if k != "generation")
    assert stage_sum == pytest.approx(r["pipeline_seconds"], rel=0.01, abs=0.5)
    assert sum(r["steps"].values()) <= r["pipeline_seconds"]
    assert r["overhead"] == pytest.approx(r["pipeline_seconds"] / r["reference_seconds"], abs=0.01)


def test_reference_script_equals_the_published_values(bench):
    r, tmp, _ = bench
    check = r["reference_check"]
    assert check["audit_all_levels"]["cells"] > 0 and check["audit_all_levels"]["differing"] == 0
    assert check["marts_company"]["cells"] > 0 and check["marts_company"]["differing"] == 0
    assert check["marts_rep_published"]["cells"] > 0 and check["marts_rep_published"]["differing"] == 0
    assert check["reference_cells_not_in_pipeline"] == 0

    # and directly, value by value, for the company and a few reps
    con = duckdb.connect()
    con.execute(f"attach '{tmp / 'work' / '10k' / 'warehouse' / 'scorecard.duckdb'}' as w (read_only)")
    con.execute(f"attach '{tmp / 'work' / '10k' / 'reference.duckdb'}' as r (read_only)")
    rows = con.execute(
        """
        select m.level, m.subject_id, m.period, m.indicator, m.value, ref.value, m.numerator, ref.numerator,
            m.sample_size, ref.sample_size
        from w.marts.indicator_values m
        join r.reference_indicator_values ref using (period, level, subject_id, indicator)
        where m.level = 'company'
            or (m.level = 'rep' and m.subject_id in ('R001', 'R002', 'R003') and m.value is not null)
        """
    ).fetchall()
    companies = [x for x in rows if x[0] == "company"]
    assert len(companies) == 14 * len({x[2] for x in companies})  # the whole catalogue, every period
    assert len([x for x in rows if x[0] == "rep"]) > 20
    for level, subject, period, indicator, value, ref_value, num, ref_num, n, ref_n in rows:
        assert (value, num, n) == (ref_value, ref_num, ref_n), (level, subject, period, indicator)


def test_results_table_and_plot_written(bench):
    r, tmp, results_dir = bench
    saved = json.loads((results_dir / "results.json").read_text())
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["duckdb"]
    assert [s["scale"] for s in saved["scales"]] == ["10k"]
    table = (results_dir / "table.md").read_text()
    assert table.startswith("| scale | input rows |")
    assert f"| 10k | {r['rows']:,} |" in table
    doc = (tmp / "benchmarks.md").read_text()
    assert "<!-- bench:table:start -->" in doc and f"| 10k | {r['rows']:,} |" in doc
    assert "<!-- bench:incremental:start -->" in doc  # no re-run at 10k: the table has its head only
    assert (results_dir / "incremental.md").read_text().count("\n") == 2
    assert (tmp / "plot.png").read_bytes()[:4] == b"\x89PNG"


def test_nightly_delta_adds_one_percent_of_interactions(tmp_path):
    counts = generate(tmp_path / "s", seed=1, reps=26, rows_scale=0.3)
    assert counts == ROWS_10K
    landing, delta = tmp_path / "s" / "landing", tmp_path / "delta"
    added = make_delta_landing(landing, delta)
    assert added == round(11_381 * 0.01) == 114
    originals = sorted(p.relative_to(landing) for p in landing.rglob("*") if p.is_file())
    assert all((delta / p).is_symlink() and (delta / p).resolve() == (landing / p).resolve() for p in originals)
    drop = delta / "crm/interactions/nightly_delta.csv"
    con = duckdb.connect()
    rows = con.execute(f"select interaction_id, rep_id from read_csv('{drop}', all_varchar = true)").fetchall()
    assert len(rows) == 114 and all(i.startswith("N") for i, _ in rows)
    assert len({i for i, _ in rows}) == 114


def test_incremental_table_from_results():
    stages = {s: {"seconds": 1.0, "peak_mb": 100.0} for s in STAGES if s != "generation"}
    result = {
        "scale": "1m",
        "pipeline_seconds": 200.0,
        "incremental": {
            "rows_added": 10_291,
            "seconds": 50.0,
            "peak_mb": 900.0,
            "share_of_full_run": 0.25,
            "stages": stages,
            "build_copy_seconds": 0.4,
            "load": {"min": 1.0, "mean": 2.0, "max": 3.0},
        },
    }
    table = incremental_table([result, {"scale": "10k", "incremental": {}}]).splitlines()
    assert len(table) == 3  # head, rule, one scale (the one without a re-run is left out)
    assert table[2].startswith("| 1m | 10,291 | 1.0 s / 100 MB |")
    assert table[2].endswith("| 50.0 s | 200.0 s | 25% | 900 MB | 0.4 s | 2.0 (1.0-3.0) | not checked |")
    result["incremental"]["same_as_full_rebuild"] = {"mart_periods": 36, "differing": ["scorecard 2026-Q4"]}
    assert incremental_table([result]).splitlines()[2].endswith(
        "| 2.0 (1.0-3.0) | 1 of 36 (mart, period) differ: scorecard 2026-Q4 |"
    )


def test_marts_compared_period_by_period_without_run_columns(tmp_path):
    # two warehouses with every mart of the catalogue: equal, except one period of one mart and the
    # run's own columns of anomaly_flags (left out)
    for name, q2_value, run in (("a", 1, "run-1"), ("b", 2, "run-2")):
        with duckdb.connect(str(tmp_path / f"{name}.duckdb")) as con:
            con.execute("create schema marts")
            for table in MARTS:
                con.execute(
                    f"create table marts.{table} (period varchar, v integer, first_run_id varchar, first_seen_at date)"
                )
                rows = "('2026-Q1', 1, ?, null), ('2026-Q1', 7, ?, null)"
                con.execute(f"insert into marts.{table} values {rows}", [run, run])
                if table == "scorecard":
                    con.execute("insert into marts.scorecard values ('2026-Q2', ?, null, null)", [q2_value])
    check = compare_marts(tmp_path / "a.duckdb", tmp_path / "b.duckdb")
    assert check["mart_periods"] == len(MARTS) + 1
    # the run id differs everywhere: left out of anomaly_flags only, a data column of the other marts
    differing = {f"{t} 2026-Q1" for t in MARTS if t != "anomaly_flags"}
    assert check["differing"] == sorted(differing | {"scorecard 2026-Q2"})


def test_scorecard_bench_passes_its_options_on():
    from orchestration.cli import bench_argv
    from orchestration.cli import build_parser as cli_parser
    from tools.bench import build_parser

    args = cli_parser().parse_args(
        ["bench", "--scales", "1m", "--years", "3", "--no-rebuild-check", "--doc", "", "--results", "/r"]
    )
    got = build_parser().parse_args(bench_argv(args))
    assert (got.scales, got.years, got.rebuild_check, got.doc, got.results) == ("1m", 3, False, "", "/r")
    assert got.plot == build_parser().parse_args([]).plot  # not given: the default
    defaults = build_parser().parse_args(bench_argv(cli_parser().parse_args(["bench"])))
    assert (defaults.rebuild_check, defaults.incremental, defaults.years) == (True, "1m,10m", 1)
