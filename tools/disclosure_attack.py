"""Try to recover hidden survey figures from what a run publishes: the attacker of the small-cell
protection (docs/analysis.md "Small-cell protection").

    python -m tools.disclosure_attack --warehouse warehouse/scorecard.duckdb --config config/scorecard.yml

It reads only what an analyst can read, the schema `marts` of the warehouse, and the scheme file, and
tries two attacks on every hidden cell (a survey figure whose `disclosure` is not `published`):

- **subtraction**: published numerators add up (a team's is the sum of its reps', the company's the sum
  of its teams'). Per period and indicator the hidden numerators are unknowns of that linear system; a
  hidden numerator is recovered when the system determines it (exact Gaussian elimination over
  fractions: e_i lies in the row space). The equations whose terms are all published are checked first,
  so the attack stands on sums that really hold in the data.
- **composite inversion**: a subject's composite is the weighted mean of its counted scores. With the
  scheme's weights and the published scores and coverage, whatever weight and amount the published lines
  do not explain belongs to unpublished lines; when exactly one hidden weighted cell of that subject
  could carry it, its score is recovered.

Exit code 0 when nothing is recovered, 1 otherwise (the recovered cells are printed).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import duckdb

from orchestration.catalogue import INDICATOR_IDS, SURVEY_INDICATORS
from orchestration.scheme.file import load_scheme

# the composite is published with 10 decimals: a residual below this is rounding, not a hidden amount
COMPOSITE_TOLERANCE = Decimal("1e-8")


@dataclass(frozen=True)
class Cell:
    period: str
    indicator: str
    level: str
    subject_id: str


@dataclass
class AttackResult:
    hidden_cells: list[Cell] = field(default_factory=list)  # hidden cells with answers behind them
    equations_checked: int = 0  # published sums verified to hold
    equations_broken: list[str] = field(default_factory=list)  # published sums that do not hold
    recovered_by_subtraction: dict[Cell, Fraction] = field(default_factory=dict)  # cell -> numerator
    recovered_by_inversion: dict[Cell, Decimal] = field(default_factory=dict)  # cell -> score

    @property
    def hidden(self) -> int:
        return len(self.hidden_cells)

    @property
    def recovered(self) -> set[Cell]:
        return set(self.recovered_by_subtraction) | set(self.recovered_by_inversion)


Row = tuple[dict[int, Fraction], Fraction]  # coefficients by unknown, right-hand side


def reduced(rows: list[Row], n: int) -> dict[int, Row]:
    """Reduced row echelon form, over fractions, of the sparse linear system `rows` (coefficients by
    unknown, right-hand side) in n unknowns: pivot column -> (row, right-hand side). Unknown i is
    determined by the system exactly when its pivot row is e_i, and its value is then that row's
    right-hand side."""
    pending = [[dict(a), Fraction(b)] for a, b in rows if a]
    pivots: dict[int, list] = {}
    for col in range(n):
        found = next((r for r in pending if r[0].get(col)), None)
        if found is None:
            continue
        pending.remove(found)
        scale = found[0][col]
        found[0] = {c: v / scale for c, v in found[0].items()}
        found[1] /= scale
        for other in pending + list(pivots.values()):
            factor = other[0].get(col)
            if factor:
                for c, v in found[0].items():
                    other[0][c] = other[0].get(c, Fraction(0)) - factor * v
                    if not other[0][c]:
                        del other[0][c]
                other[1] -= factor * found[1]
        pivots[col] = found
    return {col: (row, rhs) for col, (row, rhs) in pivots.items()}


def subtraction_attack(con: duckdb.DuckDBPyConnection, result: AttackResult) -> None:
    cells = con.execute(
        "select iv.period, iv.indicator, iv.level, iv.subject_id, iv.numerator, iv.sample_size, iv.disclosure, "
        "sc.team_id from marts.indicator_values iv left join marts.scorecard sc on sc.period = iv.period "
        "and sc.level = iv.level and sc.subject_id = iv.subject_id "
        f"where iv.indicator in ({', '.join(repr(i) for i in SURVEY_INDICATORS)})"
    ).fetchall()
    groups: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in cells:
        groups[(row[0], row[1])].append(row)
    for (period, indicator), rows in sorted(groups.items()):
        known: dict[tuple[str, str], Fraction] = {}
        unknown: dict[tuple[str, str], int] = {}
        hidden: set[tuple[str, str]] = set()  # the unknowns that are hidden cells (not merely unshown)
        team_reps: dict[str, list[str]] = defaultdict(list)
        for _, _, level, subject, numerator, sample, disclosure, team_id in rows:
            key = (level, subject)
            if level == "rep" and team_id is not None:
                team_reps[team_id].append(subject)
            if disclosure == "published" and numerator is not None:
                known[key] = Fraction(numerator)
            elif sample:
                unknown[key] = len(unknown)
                if disclosure != "published":
                    hidden.add(key)
                    result.hidden_cells.append(Cell(period, indicator, level, subject))
            else:
                known[key] = Fraction(0)  # no answers: the numerator is 0 whatever is shown
        # equations: team = sum of its reps; company = sum of the teams
        equations: list[tuple[tuple[str, str], list[tuple[str, str]]]] = [
            (("team", team), [("rep", r) for r in reps]) for team, reps in team_reps.items()
        ]
        teams = sorted({subject for _, _, level, subject, *_ in rows if level == "team"})
        equations.append((("company", "company"), [("team", t) for t in teams]))
        system: list[Row] = []
        for total, parts in equations:
            terms = [total, *parts]
            if not all(t in known or t in unknown for t in terms):
                continue
            coeffs: dict[int, Fraction] = defaultdict(Fraction)
            rhs = Fraction(0)
            for sign, term in [(1, total)] + [(-1, p) for p in parts]:
                if term in unknown:
                    coeffs[unknown[term]] += sign
                else:
                    rhs -= sign * known[term]
            coeffs = {c: v for c, v in coeffs.items() if v}
            if not coeffs:
                result.equations_checked += 1
                if rhs != 0:
                    result.equations_broken.append(f"{period} {indicator} {total[0]} {total[1]}: off by {-rhs}")
                continue
            system.append((coeffs, rhs))
        reduced_system = reduced(system, len(unknown))
        for key in hidden:
            row = reduced_system.get(unknown[key])
            if row is not None and set(row[0]) == {unknown[key]}:
                result.recovered_by_subtraction[Cell(period, indicator, *key)] = row[1]


def inversion_attack(con: duckdb.DuckDBPyConnection, scheme_path: Path, result: AttackResult) -> None:
    scheme = load_scheme(scheme_path)
    score_columns = ", ".join(f"{i}_score" for i in INDICATOR_IDS)
    rows = con.execute(
        f"select period, level, subject_id, scheme_id, composite_score, coverage, {score_columns} "
        "from marts.scorecard where level in ('rep', 'team') and composite_score is not null"
    ).fetchall()
    hidden_by_subject: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in result.hidden_cells:
        hidden_by_subject[(c.period, c.level, c.subject_id)].append(c.indicator)
    for period, level, subject, scheme_id, composite, coverage, *scores in rows:
        weights = scheme.schemes[scheme_id].weights if scheme_id in scheme.schemes else {}
        known_amount, known_weight = Decimal(0), Decimal(0)
        for indicator, score in zip(INDICATOR_IDS, scores, strict=True):
            w = Decimal(weights.get(indicator, 0))
            if w and score is not None:
                known_amount += w * Decimal(score)
                known_weight += w
        missing_weight = Decimal(coverage) - known_weight
        missing_amount = Decimal(composite) * Decimal(coverage) - known_amount
        hidden = [i for i in hidden_by_subject[(period, level, subject)] if Decimal(weights.get(i, 0))]
        if abs(missing_weight) <= COMPOSITE_TOLERANCE and abs(missing_amount) <= COMPOSITE_TOLERANCE:
            continue  # the published lines explain the whole composite
        # something unpublished is in the composite: with one hidden weighted candidate, it is that one
        carriers = [i for i in hidden if abs(Decimal(weights[i]) - missing_weight) <= COMPOSITE_TOLERANCE]
        if len(carriers) == 1:
            result.recovered_by_inversion[Cell(period, carriers[0], level, subject)] = missing_amount / missing_weight


def attack(warehouse: Path, scheme_path: Path) -> AttackResult:
    result = AttackResult()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        subtraction_attack(con, result)
        inversion_attack(con, scheme_path, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.disclosure_attack", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", required=True, type=Path, help="a published DuckDB warehouse (schema marts)")
    parser.add_argument("--config", required=True, type=Path, help="the scheme file of its run")
    args = parser.parse_args(argv)
    r = attack(args.warehouse, args.config)
    print(
        f"hidden cells with answers: {r.hidden}; published sums checked: {r.equations_checked}, "
        f"broken: {len(r.equations_broken)}; recovered by subtraction: {len(r.recovered_by_subtraction)}, "
        f"by composite inversion: {len(r.recovered_by_inversion)}"
    )
    for line in r.equations_broken:
        print(f"  sum does not hold: {line}")
    for cell, numerator in sorted(r.recovered_by_subtraction.items(), key=lambda x: str(x[0])):
        print(f"  recovered {cell.period} {cell.level} {cell.subject_id} {cell.indicator}: numerator {numerator}")
    for cell, score in sorted(r.recovered_by_inversion.items(), key=lambda x: str(x[0])):
        print(f"  recovered {cell.period} {cell.level} {cell.subject_id} {cell.indicator}: score {score:.6f}")
    return 1 if r.recovered or r.equations_broken else 0


if __name__ == "__main__":
    sys.exit(main())
