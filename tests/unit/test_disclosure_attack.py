"""The attacker of the small-cell protection (tools/disclosure_attack.py) on hand-made marts: it must
find what a careless publication gives away, with the exact hidden figure, and nothing more."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest

from orchestration.catalogue import INDICATOR_IDS
from tools.disclosure_attack import Cell, attack, main, reduced

SCHEME = """timezone: Asia/Shanghai
grain: quarter
schemes:
  mature:
    weights: {sales_attainment: 0.8, nps: 0.2}
  new_business:
    weights: {sales_attainment: 1.0}
grades:
  - {label: good, min: 80, bonus_coefficient: 1.0}
  - {label: needs_improvement, min: null, bonus_coefficient: 0.8}
"""


def _marts(path: Path, cells: list[tuple], scorecard: list[tuple]) -> Path:
    """cells: (level, subject_id, team_id, numerator or None, sample, disclosure), nps, 2026-Q1;
    scorecard: (level, subject_id, team_id, composite, coverage, {indicator: score})."""
    score_columns = ", ".join(f"{i}_score decimal(38, 10)" for i in INDICATOR_IDS)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.indicator_values (period varchar, level varchar, subject_id varchar, "
            "indicator varchar, numerator decimal(18, 6), sample_size integer, disclosure varchar)"
        )
        con.execute(
            "create table marts.scorecard (period varchar, level varchar, subject_id varchar, team_id varchar, "
            f"scheme_id varchar, composite_score decimal(38, 10), coverage decimal(38, 10), {score_columns})"
        )
        teams = {}
        for level, subject, team, numerator, sample, disclosure in cells:
            con.execute(
                "insert into marts.indicator_values values ('2026-Q1', ?, ?, 'nps', ?, ?, ?)",
                [level, subject, numerator, sample, disclosure],
            )
            teams[(level, subject)] = team
        rows = {(lvl, s): (None, None, {}) for lvl, s in teams if lvl != "company"}
        for level, subject, _, composite, coverage, scores in scorecard:
            rows[(level, subject)] = (composite, coverage, scores)
        for (level, subject), (composite, coverage, scores) in rows.items():
            con.execute(
                "insert into marts.scorecard values ('2026-Q1', ?, ?, ?, 'mature', ?, ?, "
                + ", ".join("?" for _ in INDICATOR_IDS)
                + ")",
                [level, subject, teams[(level, subject)], composite, coverage, *(scores.get(i) for i in INDICATOR_IDS)],
            )
    return path


@pytest.fixture
def scheme(tmp_path) -> Path:
    p = tmp_path / "scheme.yml"
    p.write_text(SCHEME, encoding="utf-8")
    return p


def test_reduced_system_determines_only_isolated_unknowns():
    # x0 + x1 = 5, x1 = 2: both determined (x0 = 3); x2 + x3 = 7 alone: neither
    rows = [({0: Fraction(1), 1: Fraction(1)}, Fraction(5)), ({1: Fraction(1)}, Fraction(2))]
    rows.append(({2: Fraction(1), 3: Fraction(1)}, Fraction(7)))
    got = reduced(rows, 4)
    determined = {col: rhs for col, (row, rhs) in got.items() if set(row) == {col}}
    assert determined == {0: Fraction(3), 1: Fraction(2)}


def test_subtraction_recovers_a_lone_hidden_rep_and_a_lone_hidden_team(tmp_path, scheme):
    # T1 = 10 published: A1 4 published, A2 hidden (6 by subtraction). T2 hidden with its only rep B1; the
    # company 16 minus T1 gives T2 = 6, and B1 = T2. T3 = 0 + C1 + C2 with C1, C2 hidden: only their sum.
    cells = [
        ("rep", "A1", "T1", 4, 12, "published"),
        ("rep", "A2", "T1", None, 3, "small_sample"),
        ("team", "T1", "T1", 10, 15, "published"),
        ("rep", "B1", "T2", None, 4, "small_sample"),
        ("rep", "B2", "T2", None, 0, "small_sample"),  # no answers: hides nothing
        ("team", "T2", "T2", None, 4, "small_sample"),
        ("rep", "C1", "T3", None, 3, "small_sample"),
        ("rep", "C2", "T3", None, 2, "small_sample"),
        ("team", "T3", "T3", 0, 5, "published"),
        ("company", "company", None, 16, 24, "published"),
    ]
    r = attack(_marts(tmp_path / "w.duckdb", cells, []), scheme)
    assert r.hidden == 5  # A2, B1, T2, C1, C2 (B2 has no answers)
    assert r.recovered_by_subtraction == {
        Cell("2026-Q1", "nps", "rep", "A2"): Fraction(6),
        Cell("2026-Q1", "nps", "team", "T2"): Fraction(6),
        Cell("2026-Q1", "nps", "rep", "B1"): Fraction(6),
    }
    assert r.equations_broken == [] and r.recovered_by_inversion == {}


def test_protected_cells_are_not_recovered_and_broken_sums_are_reported(tmp_path, scheme):
    # the same figures with A1 hidden too (T1 - nothing = A1 + A2) and T1 hidden with T2 (company = T1 + T2
    # + T3, T1 itself = A1 + A2): nothing can be isolated. T3's published reps do not add up to T3: reported.
    cells = [
        ("rep", "A1", "T1", None, 12, "complementary"),
        ("rep", "A2", "T1", None, 3, "small_sample"),
        ("team", "T1", "T1", None, 15, "complementary"),
        ("rep", "B1", "T2", None, 4, "small_sample"),
        ("team", "T2", "T2", None, 4, "small_sample"),
        ("rep", "C1", "T3", 5, 8, "published"),
        ("team", "T3", "T3", 6, 8, "published"),
        ("company", "company", None, 16, 27, "published"),
    ]
    r = attack(_marts(tmp_path / "w.duckdb", cells, []), scheme)
    assert r.hidden == 5 and r.recovered == set()
    assert r.equations_broken == ["2026-Q1 nps team T3: off by 1"]


def test_inversion_recovers_a_hidden_score_inside_a_composite(tmp_path, scheme, capsys):
    # A1's nps is hidden but counted: composite 90 = 0.8 x 100 + 0.2 x 50 over coverage 1: the score 50 is
    # (90 x 1 - 0.8 x 100) / 0.2. A3's composite leaves its hidden nps out (coverage 0.8): nothing to find.
    cells = [
        ("rep", "A1", "T1", None, 12, "complementary"),
        ("rep", "A2", "T1", None, 3, "small_sample"),
        ("rep", "A3", "T1", None, 11, "complementary"),
        ("team", "T1", "T1", None, 26, "complementary"),
        ("team", "T2", "T2", None, 4, "small_sample"),
        ("company", "company", None, 16, 30, "published"),
    ]
    scorecard = [
        ("rep", "A1", "T1", Decimal("90"), Decimal("1.0"), {"sales_attainment": Decimal("100")}),
        ("rep", "A3", "T1", Decimal("70"), Decimal("0.8"), {"sales_attainment": Decimal("70")}),
    ]
    path = _marts(tmp_path / "w.duckdb", cells, scorecard)
    r = attack(path, scheme)
    assert r.recovered_by_inversion == {Cell("2026-Q1", "nps", "rep", "A1"): Decimal("50")}
    assert r.recovered_by_subtraction == {}
    assert main(["--warehouse", str(path), "--config", str(scheme)]) == 1
    out = capsys.readouterr().out
    assert "recovered by subtraction: 0, by composite inversion: 1" in out
    assert "recovered 2026-Q1 rep A1 nps: score 50.000000" in out
