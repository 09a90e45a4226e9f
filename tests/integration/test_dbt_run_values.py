"""The values that change with every run (run id, as-of, refresh window) reach dbt as environment
variables read while it executes (macros/run_values.sql), so dbt's partial-parse state holds from one
run to the next; and the DuckDB file is named to dbt by its bare name in its own folder, so that a new
warehouse of the same name elsewhere starts from that state. Real dbt: two `dbt compile` in one target
folder, a third in another folder."""

from pathlib import Path

import pytest

from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.file import load_scheme
from orchestration.settings import PROJECT_ROOT
from orchestration.transform import dbt_cli
from orchestration.transform.dbt_cli import dbt_args, keep_parse_state, run_dbt, seed_parse_state, split_run_values

MODELS = ("int_tickets_assigned", "audit_excluded_responses")
COMPILED = {
    "int_tickets_assigned": "models/intermediate/assignment/int_tickets_assigned.sql",
    "audit_excluded_responses": "models/audit/audit_excluded_responses.sql",
}
SKIPPED_PARSE = "Partial parsing enabled, no changes found, skipping parsing"


def _compile(tmp: Path, stable: dict, env: dict) -> tuple[dict[str, str], str]:
    """`dbt compile` of MODELS with `stable` as --vars and `env` in its environment: (compiled SQL per
    model, this invocation's log)."""
    log = tmp / "dbt.log"
    before = log.stat().st_size if log.exists() else 0
    args = dbt_args("compile", select=MODELS, run_vars=stable, target_path=tmp, log_path=tmp, extra=["--no-use-colors"])
    # as the Dagster step starts dbt (transform/defs.py): the file by its bare name, dbt in its folder
    result = run_dbt(args, database=tmp / "empty.duckdb", env=env, relative=True)
    assert result.returncode == 0, result.stdout[-3000:]
    with log.open(encoding="utf-8") as f:
        f.seek(before)
        text = f.read()
    return {m: (tmp / "compiled" / "scorecard" / p).read_text(encoding="utf-8") for m, p in COMPILED.items()}, text


@pytest.fixture(scope="module")
def two_compiles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbt_state")
    scheme_vars = dbt_vars(load_scheme(PROJECT_ROOT / "config" / "scorecard.yml"), "2000-01-01 00:00:00")
    # as the Dagster step starts dbt (transform/defs.py)
    first = _compile(tmp, *split_run_values(scheme_vars | {"as_of": "2026-06-30 16:00:00", "run_id": "run-a"}))
    second = _compile(tmp, *split_run_values(scheme_vars | {"as_of": "2026-09-30 16:00:00", "run_id": "run-b"}))
    # standalone dbt with the run values as --vars (no SCORECARD_RUN_*) is what the dbt model tests do
    # (test_dbt_models, test_analysis_marts, ...): they fail if the macro's fallback to var() breaks
    return first, second, tmp


def test_each_run_compiles_with_its_own_values(two_compiles):
    (first, _), (second, _), _ = two_compiles
    assert "cast('2026-06-30 16:00:00' as timestamp)" in first["int_tickets_assigned"]
    assert "'run-a' as run_id" in first["audit_excluded_responses"]
    assert "cast('2026-09-30 16:00:00' as timestamp)" in second["int_tickets_assigned"]
    assert "2026-06-30" not in second["int_tickets_assigned"]
    assert "'run-b' as run_id" in second["audit_excluded_responses"]


def test_the_second_run_skips_parsing(two_compiles):
    (_, first_log), (_, second_log), tmp = two_compiles
    assert SKIPPED_PARSE not in first_log  # a new target folder: a full parse, and its state written
    assert SKIPPED_PARSE in second_log  # another as-of and run id: nothing to parse again
    assert (tmp / "partial_parse.msgpack").exists()


def test_a_new_warehouse_of_the_same_name_starts_from_the_last_ones_parse(two_compiles, tmp_path, monkeypatch):
    _, _, first = two_compiles
    monkeypatch.setattr(dbt_cli, "PARSE_SEEDS", tmp_path / "seeds")
    elsewhere = tmp_path / "elsewhere"
    assert not seed_parse_state(elsewhere, elsewhere / "empty.duckdb")  # no seed yet: a full parse
    assert keep_parse_state(first, tmp_path / "anywhere" / "empty.duckdb")  # the seed of the name
    assert not seed_parse_state(first, first / "empty.duckdb")  # a folder that has its own state keeps it
    assert seed_parse_state(elsewhere, elsewhere / "empty.duckdb")
    assert not seed_parse_state(tmp_path / "other", tmp_path / "other" / "other.duckdb")  # another name
    scheme_vars = dbt_vars(load_scheme(PROJECT_ROOT / "config" / "scorecard.yml"), "2000-01-01 00:00:00")
    compiled, log = _compile(
        elsewhere, *split_run_values(scheme_vars | {"as_of": "2026-12-31 16:00:00", "run_id": "run-c"})
    )
    assert SKIPPED_PARSE in log  # the state of another folder's warehouse of that name: nothing to parse
    assert "'run-c' as run_id" in compiled["audit_excluded_responses"]
    assert "cast('2026-12-31 16:00:00' as timestamp)" in compiled["int_tickets_assigned"]
    assert (elsewhere / "empty.duckdb").exists() and not (first / "elsewhere").exists()  # built in its own folder
