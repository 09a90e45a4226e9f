"""`scorecard what-if` on the hand-made warehouse of test_analysis_marts, with a hand-made alternative
scheme whose grades are worked out by hand; the published warehouse must be unchanged afterwards.

Published (test_analysis_marts.PUBLISHED_SCHEME): mature 0.8 sales_attainment (cap 120) + 0.2 nps,
new_business 1.0 sales_attainment (cap 120). Alternative (ALTERNATIVE): mature 0.5 sales_attainment +
0.5 response_sla_rate, new_business 1.0 sales_attainment capped at 100; the same bands 90 / 80.

  rep  sales  nps    sla  | published                       | alternative
  A1   120    hidden 100  | 96 / 0.8 = 120.00 excellent     | 60 + 50 = 110.00 excellent
  A2    50    hidden  80  | 50 (coverage 0.8) needs_impr.   | 25 + 40 = 65.00 needs_improvement
  A3   100    40      50  | 80 + 8 = 88.00 good             | 50 + 25 = 75.00 needs_improvement
  B1   150                | 120 (cap) excellent             | 100 (cap) excellent
  B2    50                | 50 needs_improvement            | 50 needs_improvement
  C1    80    25      -   | 64 + 5 = 69.00 needs_impr.      | coverage 0.5 < 0.7: insufficient_data
(A1's and T1's nps are hidden, complementary, and count in no composite: test_analysis_marts.)
Teams: T1 (90, nps hidden, sla 76.67) 90.00 excellent -> 45 + 38.33 = 83.33 good; T2 100 excellent -> 100
excellent; T3 (80, 25, no interactions) 69.00 needs_improvement -> insufficient_data.

Kendall's tau-b over the 5 reps graded under both, x = (120, 50, 88, 120, 50), y = (110, 65, 75, 100,
50): of the 10 pairs 8 concordant, none discordant, 2 tied in x only (A1-B1, A2-B2):
tau-b = (8 - 0) / sqrt((8 + 0 + 2) x (8 + 0 + 0)) = 8 / sqrt(80) = 0.8944.
Bonus: reps 1.2 + 0.8 + 1.0 + 1.2 + 0.8 + 0.8 = 5.8 -> 1.2 + 0.8 + 0.8 + 1.2 + 0.8 = 4.8 (-1.0);
teams 1.2 + 1.2 + 0.8 = 3.2 -> 1.0 + 1.2 = 2.2 (-1.0).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math

import duckdb
import pytest

from orchestration.cli import main
from orchestration.report.director import render_director_report
from orchestration.warehouse import reports_dir
from orchestration.whatif import WhatIfError, run_what_if

from .test_analysis_marts import BANDS, handmade_warehouse

ALTERNATIVE = (
    """timezone: Asia/Shanghai
grain: quarter
survey: {anonymity_k: 10}
schemes:
  mature:
    weights: {sales_attainment: 0.5, response_sla_rate: 0.5}
    scoring: {sales_attainment: {method: value, cap: 120}}
  new_business:
    weights: {sales_attainment: 1.0}
    scoring: {sales_attainment: {method: value, cap: 100}}
"""
    + BANDS
)


def fingerprint(warehouse) -> tuple[str, str]:
    """The file's bytes and the content of every mart."""
    file_hash = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        content = hashlib.sha256()
        for table in tables:
            for row in con.execute(f"select * from marts.{table} order by all").fetchall():
                content.update(repr(row).encode())
    return file_hash, content.hexdigest()


@pytest.fixture(scope="module")
def what_if(tmp_path_factory):
    warehouse = handmade_warehouse()
    config = tmp_path_factory.mktemp("whatif") / "sla_weighted.yml"
    config.write_text(ALTERNATIVE, encoding="utf-8")
    director = render_director_report(warehouse, "2026-Q1")  # the published report of the period, as a run writes it
    before = fingerprint(warehouse)
    director_before = director.read_bytes() if director.exists() else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["what-if", "--config", str(config), "--warehouse", str(warehouse), "--period", "2026-Q1"])
    after = fingerprint(warehouse)
    summary = json.loads((reports_dir(warehouse) / "whatif" / "2026-Q1__sla_weighted.json").read_text("utf-8"))
    director_after = director.read_bytes() if director.exists() else None
    return code, out.getvalue(), summary, before, after, warehouse, (director_before, director_after)


def test_published_warehouse_unchanged(what_if):
    code, _, _, before, after, *_ = what_if
    assert code == 0
    assert before == after


def test_rep_migration_tau_and_bonus(what_if):
    _, _, summary, *_ = what_if
    assert summary["labels"] == ["excellent", "good", "needs_improvement", "insufficient_data"]
    reps = next(lv for lv in summary["levels"] if lv["level"] == "rep")
    assert (reps["subjects"], reps["grade_changes"], reps["up"], reps["down"]) == (6, 2, 0, 2)
    matrix = {row["label"]: row["counts"] for row in reps["matrix"]}
    assert matrix["excellent"] == {"excellent": 2, "good": 0, "needs_improvement": 0, "insufficient_data": 0}
    assert matrix["good"] == {"excellent": 0, "good": 0, "needs_improvement": 1, "insufficient_data": 0}  # A3
    assert matrix["needs_improvement"] == {
        "excellent": 0,
        "good": 0,
        "needs_improvement": 2,
        "insufficient_data": 1,
    }  # A2 B2 stay, C1 loses coverage
    assert sum(matrix["insufficient_data"].values()) == 0
    assert reps["tau_n"] == 5 and math.isclose(reps["tau"], 8 / math.sqrt(80), rel_tol=1e-12)
    assert (reps["bonus_published"], reps["bonus_alternative"], reps["bonus_delta"]) == ("5.80", "4.80", "-1.00")


def test_team_migration_tau_and_bonus(what_if):
    _, _, summary, *_ = what_if
    teams = next(lv for lv in summary["levels"] if lv["level"] == "team")
    assert (teams["subjects"], teams["grade_changes"], teams["up"], teams["down"]) == (3, 2, 0, 2)
    matrix = {row["label"]: row["counts"] for row in teams["matrix"]}
    assert matrix["needs_improvement"]["insufficient_data"] == 1  # T3
    assert matrix["excellent"]["good"] == 1 and matrix["excellent"]["excellent"] == 1  # T1, T2
    assert teams["tau_n"] == 2 and teams["tau"] == 1.0  # T1 below T2 under both
    assert (teams["bonus_published"], teams["bonus_alternative"], teams["bonus_delta"]) == ("3.20", "2.20", "-1.00")


def test_terminal_table(what_if):
    _, out, *_ = what_if
    assert "reps: 6 subjects, 2 change grade (0 up, 2 down)" in out
    # the grade changes, side by side
    assert "  A3       T1         88.00 good                     75.00 needs_improvement   -13.00" in out
    assert "  C1       T3         69.00 needs_improvement            — insufficient_data        —" in out
    assert "A1 " not in out.split("band migration")[0].split("reps:")[1]  # unchanged grades are not listed
    assert "  good                         0     0                  1                  0       1" in out
    assert "rank stability: Kendall's tau-b of the final scores over 5 reps graded under both schemes = 0.894" in out
    assert "total bonus coefficient: 5.80 published -> 4.80 alternative (-1.00)" in out
    assert "teams: 3 subjects, 2 change grade (0 up, 2 down)" in out
    assert "  T1       T1         90.00 excellent                83.33 good                 -6.67" in out
    assert "total bonus coefficient: 3.20 published -> 2.20 alternative (-1.00)" in out
    assert "dbt run --select int_indicator_scores int_adjustments_assigned scorecard" in out


def test_own_report_and_the_published_director_report_untouched(what_if):
    *_, warehouse, (director_before, director_after) = what_if
    page = (reports_dir(warehouse) / "whatif" / "2026-Q1__sla_weighted.html").read_text("utf-8")
    assert "What-if sla_weighted: grades of 2026-Q1 under another scheme" in page
    assert '<tr class="changed"><td>rep</td><td>A3</td><td>陈静</td>' in page
    assert "reps: 2 of 6 change grade (0 up, 2 down)" in page
    assert "<strong>0.894</strong>" in page and "<strong>-1.00</strong>" in page
    # the published directors' report is the one the run wrote, byte for byte
    assert director_before is not None and director_after == director_before
    # the index lists the what-if report
    index = (reports_dir(warehouse) / "index.html").read_text("utf-8")
    assert 'href="whatif/2026-Q1__sla_weighted.html"' in index


def test_invalid_scheme_other_grain_or_unknown_period_do_nothing(tmp_path, capsys):
    warehouse = handmade_warehouse()
    before = fingerprint(warehouse)
    bad = tmp_path / "bad.yml"
    bad.write_text(ALTERNATIVE.replace("response_sla_rate: 0.5", "response_sla_rate: 0.6"), encoding="utf-8")
    assert main(["what-if", "--config", str(bad), "--warehouse", str(warehouse)]) == 2
    assert "schemes.mature.weights: weights add up to 1.1, not 1" in capsys.readouterr().err
    (tmp_path / "ok.yml").write_text(ALTERNATIVE, encoding="utf-8")
    monthly = tmp_path / "monthly.yml"
    monthly.write_text(ALTERNATIVE.replace("grain: quarter", "grain: month"), encoding="utf-8")
    with pytest.raises(WhatIfError, match="grain"):
        run_what_if(monthly, warehouse)
    with pytest.raises(WhatIfError, match=r"period 2025-Q4 is not graded .* \(graded: 2026-Q1\)"):
        run_what_if(bad.with_name("ok.yml"), warehouse, "2025-Q4")
    assert fingerprint(warehouse) == before
