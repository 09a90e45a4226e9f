"""`scorecard sample` then `scorecard run` end to end, as a newcomer runs them (small scale)."""

import shutil
from fractions import Fraction
from pathlib import Path

import duckdb

from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.file import load_scheme
from orchestration.transform.dbt_cli import dbt_args, run_dbt
from tools.disclosure_attack import Cell, attack


def test_sample_then_run(tiny_sample_run):
    # `scorecard sample --scale tiny --seed 1` then `scorecard run` (conftest.py: made once per session)
    assert "(seed 1, 12 reps)" in tiny_sample_run.sample_out
    out, warehouse = tiny_sample_run.out, tiny_sample_run.warehouse
    assert tiny_sample_run.code == 0, out
    assert ": SUCCEEDED" in out and "checks: " in out and f"warehouse: {warehouse}" in out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # nothing lost: every landed row is accepted, quarantined, a duplicate or superseded
        bad = con.execute(
            "select entity from audit.run_counts "
            "where rows_in <> accepted + quarantined + exact_duplicates + superseded"
        ).fetchall()
        assert bad == []
        # the sample is valid: nothing quarantined; its planted duplicate deals are counted
        assert con.execute("select sum(quarantined) from audit.run_counts").fetchone() == (0,)
        assert con.execute(
            "select exact_duplicates > 0, superseded > 0 from audit.run_counts where entity = 'crm/deals'"
        ).fetchone() == (True, True)
        # four quarters, 12 reps + teams graded each quarter
        periods = con.execute(
            "select period, count(*) filter (where level = 'rep') from marts.scorecard group by period order by period"
        ).fetchall()
        assert periods == [("2026-Q1", 12), ("2026-Q2", 12), ("2026-Q3", 12), ("2026-Q4", 12)]
        # 14 indicators x (12 reps + teams + company) per period
        teams = con.execute("select count(*) from raw.crm__teams").fetchone()[0]
        assert con.execute("select count(*) from marts.indicator_values where period = '2026-Q1'").fetchone() == (
            14 * (12 + teams + 1),
        )
        # the flags of the run's planted patterns are first seen by this run: its Dagster run id reaches dbt
        # (var run_id, orchestration/transform/defs.py)
        run_ids = con.execute("select run_id from audit.runs").fetchall()
        flags = con.execute("select count(*) from marts.anomaly_flags").fetchone()[0]
        assert flags > 0
        assert con.execute("select first_run_id, count(*) from audit.anomaly_flag_history group by all").fetchall() == [
            (run_ids[0][0], flags)
        ]
        assert len(run_ids) == 1 and f"run {run_ids[0][0]}: SUCCEEDED" in out


# --- small-cell protection against an attacker (tools/disclosure_attack.py, docs/analysis.md) ------------

SURVEY = ("nps", "csat", "key_account_nps")


def _expected_disclosure(con, k: int, scheme_path: Path) -> dict[tuple, str]:
    """A second implementation of int_analysis_disclosure, in Python over the auditors' full figures:
    (period, indicator, level, subject_id) -> small_sample | complementary, for every hidden cell."""
    scheme = load_scheme(scheme_path)
    team_of = dict(
        ((p, s), (t, sch))
        for p, s, t, sch in con.execute("select period, subject_id, team_id, scheme_id from marts.scorecard").fetchall()
    )
    groups: dict[tuple, dict] = {}
    for period, indicator, level, subject, n, sufficient in con.execute(
        "select period, indicator, level, subject_id, sample_size, is_sufficient from audit.indicator_values "
        f"where indicator in {SURVEY}"
    ).fetchall():
        team, scheme_id = team_of.get((period, subject), (None, None))
        weight = scheme.schemes[scheme_id].weights.get(indicator, 0) if scheme_id else 0
        groups.setdefault((period, indicator), {})[(level, subject)] = (int(n), team, bool(sufficient and weight > 0))
    hidden: dict[tuple, str] = {}
    for (period, indicator), cells in groups.items():
        primary = {c for c, (n, _, _) in cells.items() if c[0] in ("rep", "team") and n < k}
        extra: set[tuple] = set()

        def order(c, cells=cells):
            n, _, counted = cells[c]
            return (counted, n, c[1])

        def open_reps(team, cells=cells, primary=primary):
            return [c for c, (n, t, _) in cells.items() if c[0] == "rep" and t == team and n > 0 and c not in primary]

        for team in {c[1] for c in cells if c[0] == "team"}:
            if ("team", team) in primary:
                continue
            lone = [c for c, (n, t, _) in cells.items() if c[0] == "rep" and t == team and n > 0 and c in primary]
            if len(lone) == 1:
                extra.add(min(open_reps(team), key=order))
        hidden_teams = [c for c in primary if c[0] == "team" and cells[c][0] > 0]
        if len(hidden_teams) == 1:
            holding = {cells[c][1] for c in primary | extra if c[0] == "rep" and cells[c][0] > 0}
            candidates = [c for c, (n, _, _) in cells.items() if c[0] == "team" and n > 0 and c not in primary]
            chosen = min(candidates, key=lambda c: (c[1] not in holding, *order(c)))
            extra.add(chosen)
            if chosen[1] not in holding:
                extra.add(min(open_reps(chosen[1]), key=order))
        hidden.update({(period, indicator, *c): "small_sample" for c in primary})
        hidden.update({(period, indicator, *c): "complementary" for c in extra})
    return hidden


def _published_disclosure(con) -> dict[tuple, str]:
    return {
        (p, i, lvl, s): d
        for p, i, lvl, s, d in con.execute(
            "select period, indicator, level, subject_id, disclosure from marts.indicator_values "
            "where disclosure <> 'published'"
        ).fetchall()
    }


def _assert_no_mart_shows(warehouse: Path, hidden: dict[tuple, str]) -> None:
    """No published mart carries a hidden cell's figure: no value, numerator or interval, no score, no score
    statement amount, and no comparison or sentence about it."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("create temp table hidden (period varchar, indicator varchar, level varchar, subject_id varchar)")
        con.executemany("insert into hidden values (?, ?, ?, ?)", list(hidden))
        on = "using (period, level, subject_id, indicator)"
        score = " or ".join(f"(h.indicator = '{i}' and s.{i}_score is not null)" for i in SURVEY)
        shown = {
            "indicator_values": "select count(*) from marts.indicator_values join hidden "
            f"{on} where coalesce(value, numerator, nps_ci_low, nps_ci_high) is not null",
            "scorecard": "select count(*) from marts.scorecard s join hidden h on s.period = h.period "
            f"and s.level = h.level and s.subject_id = h.subject_id where {score}",
            "score_statement": "select count(*) from marts.score_statement join hidden "
            f"{on} where coalesce(value, score, amount) is not null or counts_in_composite",
            "rep_feedback": "select count(*) from marts.rep_feedback f join hidden h on f.period = h.period "
            "and h.level = 'rep' and f.rep_id = h.subject_id and f.indicator = h.indicator",
            "team_shortfalls": "select count(*) from marts.team_shortfalls t join hidden h on t.period = h.period "
            "and h.level = 'team' and t.team_id = h.subject_id and t.indicator = h.indicator",
        }
        assert {m: con.execute(sql).fetchone()[0] for m, sql in shown.items()} == dict.fromkeys(shown, 0)
        # and every one of them is hidden in the mart, as many as there are
        assert con.execute(
            f"select count(*) from marts.indicator_values join hidden {on} where disclosure <> 'published'"
        ).fetchone()[0] == len(hidden)


def _unmask_complementary(warehouse: Path) -> None:
    """What a careless publication would show: the complementary cells with their figures."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.indicator_values as iv set numerator = a.numerator, disclosure = 'published' "
            "from audit.indicator_values a where iv.disclosure = 'complementary' and a.period = iv.period "
            "and a.level = iv.level and a.subject_id = iv.subject_id and a.indicator = iv.indicator"
        )


def _audit_numerators(warehouse: Path) -> dict[Cell, Fraction]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            Cell(p, i, lvl, s): Fraction(n)
            for p, i, lvl, s, n in con.execute(
                "select period, indicator, level, subject_id, numerator from audit.indicator_values "
                f"where indicator in {SURVEY} and sample_size > 0"
            ).fetchall()
        }


def _rebuild_disclosure(warehouse: Path, scheme_path: Path, k: int) -> None:
    """The models from int_analysis_disclosure down, again, with another anonymity_k (as a run would)."""
    run_vars = {**dbt_vars(load_scheme(scheme_path), "2026-12-31 15:59:59"), "anonymity_k": k}
    result = run_dbt(
        dbt_args("run", run_vars=run_vars, select=["int_analysis_disclosure+"], target_path=warehouse.parent / "t"),
        database=warehouse,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_hidden_survey_figure_can_be_recovered(tiny_sample_run, tmp_path):
    scheme = Path(__file__).resolve().parents[2] / "config" / "scorecard.yml"
    warehouse = tmp_path / "x.duckdb"
    shutil.copy2(tiny_sample_run.warehouse, warehouse)

    # as published (anonymity_k 5): the hidden cells are those a second implementation finds, and the
    # attacker, with the marts and the scheme file only, recovers none of them
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = _expected_disclosure(con, 5, scheme)
        assert _published_disclosure(con) == expected
        answered = con.execute(
            f"select count(*) from audit.indicator_values where indicator in {SURVEY} and sample_size > 0"
        ).fetchone()[0]
        all_cells = con.execute("select count(*) from marts.indicator_values").fetchone()[0]
    complementary = [c for c, d in expected.items() if d == "complementary"]
    assert len(complementary) == 3  # this sample: three lone hidden reps, each with a teammate
    _assert_no_mart_shows(warehouse, expected)
    result = attack(warehouse, scheme)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        hidden_with_answers = con.execute(
            "select count(*) from marts.indicator_values where disclosure <> 'published' and sample_size > 0"
        ).fetchone()[0]
    assert result.hidden == hidden_with_answers == 57 and result.equations_checked > 0
    assert result.recovered == set() and result.equations_broken == []
    # the run summary gives the share (57 of the survey figures with answers, of all indicator cells)
    share = 100 * hidden_with_answers / answered
    assert (
        f"hidden survey cells: {hidden_with_answers} of {answered} survey figures with answers ({share:.1f} %; "
        f"{100 * hidden_with_answers / all_cells:.1f} % of all {all_cells} indicator cells): "
        f"{hidden_with_answers - len(complementary)} from fewer than anonymity_k answers, 3 complementary"
    ) in tiny_sample_run.out
    # and so does the auditor's report of the run
    auditor = (tiny_sample_run.warehouse.parent / "reports" / "auditor" / "latest.html").read_text(encoding="utf-8")
    assert f"Hidden survey cells: {hidden_with_answers} of {answered} survey figures with answers" in auditor
    assert f'id="hidden-share"><div class="label">Hidden survey cells</div><div class="value">{share:.1f} %' in auditor

    # without the complementary cells the attacker gets exactly the hidden teammates back, to the unit
    careless = tmp_path / "careless" / "x.duckdb"
    careless.parent.mkdir()
    shutil.copy2(warehouse, careless)
    _unmask_complementary(careless)
    result = attack(careless, scheme)
    truth = _audit_numerators(careless)
    with duckdb.connect(str(careless), read_only=True) as con:
        team_of = dict(con.execute("select period || subject_id, team_id from marts.scorecard").fetchall())
    # each complementary rep protected the one hidden rep with answers of its team, period and indicator
    partners = {
        Cell(p, i, "rep", s)
        for (p, i, lvl, s), d in expected.items()
        for (cp, ci, _, cs) in complementary
        if d == "small_sample"
        and lvl == "rep"
        and (p, i) == (cp, ci)
        and team_of[p + s] == team_of[cp + cs]
        and Cell(p, i, "rep", s) in truth  # with answers
    }
    assert len(partners) == 3 and set(result.recovered_by_subtraction) == partners
    assert all(result.recovered_by_subtraction[c] == truth[c] for c in result.recovered_by_subtraction)

    # a high threshold (45 answers) hides whole teams: with two teams, the one left would give the other
    # away through the company figure, so it is hidden too; still nothing is recovered
    _rebuild_disclosure(warehouse, scheme, 45)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = _expected_disclosure(con, 45, scheme)
        assert _published_disclosure(con) == expected
    _assert_no_mart_shows(warehouse, expected)
    teams = sorted(c for c, d in expected.items() if d == "complementary")
    assert teams == [
        ("2026-Q1", "csat", "team", "T01"),
        ("2026-Q1", "nps", "team", "T01"),
        ("2026-Q3", "csat", "team", "T01"),
        ("2026-Q3", "nps", "team", "T01"),
    ]
    result = attack(warehouse, scheme)
    assert result.recovered == set() and result.equations_broken == [] and result.hidden == 133
    _unmask_complementary(warehouse)
    result = attack(warehouse, scheme)
    truth = _audit_numerators(warehouse)
    # T01 shown: company - T01 = T02 in Q1 and Q3, for nps and csat, the exact numerators
    assert result.recovered_by_subtraction == {
        Cell(p, i, "team", "T02"): truth[Cell(p, i, "team", "T02")] for p, i, _, _ in teams
    }
