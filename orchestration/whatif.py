"""Weight what-if: the grades of a period under another scheme file, side by side with the published ones,
without publishing anything.

`run_what_if(config, warehouse, period)`:
1. validates the alternative scheme file (SchemeError: nothing is done);
2. copies the published warehouse file into a temporary folder (same file name, so the catalog name dbt
   wrote into view definitions still resolves); the published file is only ever read;
3. writes the alternative scheme's cfg_* tables into the copy (`write_cfg_tables`) and runs `dbt run` on
   the copy with the alternative's --vars: `int_indicator_scores int_adjustments_assigned scorecard` when
   only weights, scoring methods, bands, progress, adjustment or coverage settings differ from the
   published run's scheme, or everything up to the scorecard (`+scorecard`) when a setting that changes
   the indicator values differs (time zone, counted survey channels, SLAs, minimum samples, currency) or the
   published scheme file cannot be read; a different grain is refused (the periods would not match);
4. compares the period's grades per level (rep, team): grade changes per subject, the band migration
   matrix, rank stability as Kendall's tau-b (scipy.stats.kendalltau, variant 'b', which corrects for
   ties) between the published and the alternative final scores of the subjects graded under both, and the
   change in the total bonus coefficient;
5. writes `reports_dir(warehouse)/whatif/<period>__<scheme file stem>.html` and `.json` (the director's report
   of the period shows the summary while the published grades are the ones compared), and removes the copy.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from scipy.stats import kendalltau

from orchestration.ingest.scheme_tables import write_cfg_tables
from orchestration.report.cjk_font import with_cjk_font
from orchestration.report.director import template_environment
from orchestration.report.director_reader import scorecard_fingerprint
from orchestration.report.files import file_name, write_atomic
from orchestration.scheme.dbt_vars import dbt_vars
from orchestration.scheme.errors import SchemeError
from orchestration.scheme.file import load_scheme
from orchestration.scheme.model import Scheme
from orchestration.transform.dbt_cli import dbt_args, run_dbt
from orchestration.warehouse import connect, reports_dir

MINIMAL_SELECTION = "int_indicator_scores int_adjustments_assigned scorecard"
FULL_SELECTION = "+scorecard"
# dbt vars that change indicator values (not only how they are scored): a difference rebuilds everything
UPSTREAM_VARS = (
    "timezone",
    "count_channels",
    "sla_response_hours",
    "complaint_resolution_hours",
    "followup_grace_days",
    "min_sample",
    "anonymity_k",  # which survey figures are hidden, and so left out of composites (int_analysis_disclosure)
    "currency_base",
    "currency_rates",
)
LEVELS = ("rep", "team")


class WhatIfError(RuntimeError):
    """The what-if could not be computed (no published grades, another grain, dbt failed)."""


@dataclass
class LevelComparison:
    level: str
    subjects: int
    grade_changes: int
    up: int
    down: int
    matrix: list[dict[str, Any]]
    column_totals: dict[str, int]
    tau: float | None
    tau_p: float | None
    tau_n: int
    bonus_published: Decimal
    bonus_alternative: Decimal

    @property
    def bonus_delta(self) -> Decimal:
        return self.bonus_alternative - self.bonus_published


@dataclass
class WhatIfResult:
    config: Path
    warehouse: Path
    period: str
    labels: list[str]
    levels: list[LevelComparison]
    subjects: list[dict[str, Any]]
    selection: str
    seconds: float
    fingerprint: str
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    html_path: Path | None = None
    json_path: Path | None = None

    def level(self, name: str) -> LevelComparison:
        return next(lv for lv in self.levels if lv.level == name)


# --- computing ---------------------------------------------------------------------------------------


def run_what_if(
    config: str | Path,
    warehouse: str | Path,
    period: str | None = None,
    *,
    out_dir: str | Path | None = None,
    echo: Callable[[str], None] | None = None,
) -> WhatIfResult:
    """Recompute the grades of `period` (default: the latest) under the scheme file `config`."""
    started = time.perf_counter()
    alternative = load_scheme(config)  # SchemeError when invalid: nothing is done
    published_path = Path(warehouse).resolve()
    if not published_path.exists():
        raise WhatIfError(f"no published warehouse at {published_path}")
    published_run = _published_run(published_path)
    as_of = published_run.get("as_of") or datetime.now(UTC).replace(tzinfo=None)
    published_scheme = _load_published_scheme(published_run.get("config"))
    if published_scheme is not None and published_scheme.grain != alternative.grain:
        raise WhatIfError(
            f"the alternative scheme's grain ({alternative.grain}) differs from the published grades' "
            f"({published_scheme.grain}): their periods cannot be compared"
        )
    period = _check_period(published_path, period)
    as_of_text = as_of.strftime("%Y-%m-%d %H:%M:%S")
    alt_vars = dbt_vars(alternative, as_of_text)
    selection = _selection(alt_vars, dbt_vars(published_scheme, as_of_text) if published_scheme else None)

    with tempfile.TemporaryDirectory(prefix="scorecard-whatif-") as tmp:
        copy = Path(tmp) / published_path.name
        shutil.copyfile(published_path, copy)
        wal = published_path.with_name(published_path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        with connect(copy) as con:
            # the published grades as copied (a run publishing meanwhile does not mix in)
            published_rows = _scorecard(con, period)
            published_labels = _labels(con)
            fingerprint = scorecard_fingerprint(con, period)
            write_cfg_tables(con, alternative)
            # every period is recomputed under the alternative scheme, closed ones too (a copy)
            con.execute("delete from raw.cfg_closed_periods")
        if echo:
            echo(f"recomputing grades in a copy of {published_path} (dbt run --select {selection}) ...")
        _run_dbt(copy, selection, alt_vars, Path(tmp))
        with connect(copy, read_only=True) as alt:
            alternative_rows = _scorecard(alt, period)
            new = [g for g in _labels(alt) if g not in published_labels]
            labels = published_labels[:-1] + new + ["insufficient_data"]
    result = _compare(
        Path(config).resolve(),
        published_path,
        period,
        labels,
        published_rows,
        alternative_rows,
        selection,
        time.perf_counter() - started,
        fingerprint,
    )
    # in the published scheme's report language, like the directors' report it sits beside
    language = published_scheme.report.language if published_scheme is not None else "en"
    grade_names = {**(published_scheme.grade_names() if published_scheme else {}), **alternative.grade_names()}
    _write_reports(result, Path(out_dir) if out_dir else reports_dir(published_path) / "whatif", language, grade_names)
    # its own report only: the published directors' report of the period is never rewritten by a what-if
    if out_dir is None:
        from orchestration.report.index import refresh_index

        refresh_index(published_path, echo)  # the index lists the what-if reports
    return result


def _published_run(warehouse: Path) -> dict[str, Any]:
    with connect(warehouse, read_only=True) as con:
        try:
            row = con.execute(
                "select as_of, config from audit.runs where published order by finished_at desc limit 1"
            ).fetchone()
        except Exception:  # no audit.runs: a warehouse built by dbt alone
            row = None
    return {"as_of": row[0], "config": row[1]} if row else {}


def _check_period(warehouse: Path, period: str | None) -> str:
    """The period to compare (default: the latest graded), checked before anything is rebuilt."""
    with connect(warehouse, read_only=True) as con:
        try:
            graded = [p for (p,) in con.execute("select distinct period from marts.scorecard order by 1").fetchall()]
        except Exception as exc:  # no marts.scorecard: nothing was published yet
            raise WhatIfError(f"{warehouse}: no published grades (marts.scorecard): {exc}") from None
    if not graded:
        raise WhatIfError(f"{warehouse}: marts.scorecard holds no graded period")
    if period is None:
        return graded[-1]
    if period not in graded:
        raise WhatIfError(f"period {period} is not graded in {warehouse} (graded: {', '.join(graded)})")
    return period


def _load_published_scheme(path: str | None) -> Scheme | None:
    if not path or not Path(path).is_file():
        return None
    try:
        return load_scheme(path)
    except SchemeError:
        return None


def _selection(alt_vars: dict[str, Any], published_vars: dict[str, Any] | None) -> str:
    if published_vars is None:
        return FULL_SELECTION
    if any(alt_vars.get(k) != published_vars.get(k) for k in UPSTREAM_VARS):
        return FULL_SELECTION
    return MINIMAL_SELECTION


def _run_dbt(copy: Path, selection: str, dbt_vars_: dict[str, Any], tmp: Path) -> None:
    args = dbt_args(
        "run",
        select=selection.split(),
        run_vars=dbt_vars_,
        target_path=tmp / "target",
        log_path=tmp / "logs",
        extra=["--quiet"],
    )
    proc = run_dbt(args, database=copy)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-20:])
        raise WhatIfError(f"dbt run failed on the what-if copy:\n{tail}")


def _scorecard(con, period: str) -> dict[tuple[str, str], dict[str, Any]]:
    cur = con.execute(
        "select level, subject_id, subject_name, team_id, final_score, grade, bonus_coefficient "
        "from marts.scorecard where period = ?",
        [period],
    )
    cols = [d[0] for d in cur.description]
    return {(r[0], r[1]): dict(zip(cols, r, strict=True)) for r in cur.fetchall()}


def _labels(con) -> list[str]:
    """Band labels of a warehouse's scheme, highest first, then insufficient_data. The comparison lists the
    published scheme's, then any new one of the alternative's."""
    labels = [label for (label,) in con.execute("select label from raw.cfg_grade_bands order by seq").fetchall()]
    return [*labels, "insufficient_data"]


def _compare(
    config: Path,
    warehouse: Path,
    period: str,
    labels: list[str],
    published: dict,
    alternative: dict,
    selection: str,
    seconds: float,
    fingerprint: str,
) -> WhatIfResult:
    order = {label: i for i, label in enumerate(labels)}
    subjects, levels = [], []
    for level in LEVELS:
        keys = sorted(k for k in published.keys() | alternative.keys() if k[0] == level)
        if not keys:
            continue
        matrix = {a: {b: 0 for b in labels} for a in labels}
        up = down = 0
        pairs = []
        bonus_pub, bonus_alt = Decimal(0), Decimal(0)
        for key in keys:
            p, a = published.get(key), alternative.get(key)
            pg = p["grade"] if p else "insufficient_data"
            ag = a["grade"] if a else "insufficient_data"
            for g in (pg, ag):
                if g not in order:  # a label neither scheme lists (cannot happen with valid cfg tables)
                    order[g] = len(labels)
                    labels.append(g)
                    for row in matrix.values():
                        row[g] = 0
                    matrix[g] = {b: 0 for b in labels}
            matrix[pg][ag] += 1
            if pg != ag:
                if order[ag] < order[pg]:
                    up += 1
                else:
                    down += 1
            ps = p["final_score"] if p else None
            as_ = a["final_score"] if a else None
            if ps is not None and as_ is not None:
                pairs.append((float(ps), float(as_)))
            pb = p["bonus_coefficient"] if p else None
            ab = a["bonus_coefficient"] if a else None
            bonus_pub += pb or Decimal(0)
            bonus_alt += ab or Decimal(0)
            src = p or a
            subjects.append(
                {
                    "level": level,
                    "subject_id": key[1],
                    "subject_name": src["subject_name"],
                    "team_id": src["team_id"],
                    "published_score": ps,
                    "published_grade": pg,
                    "published_bonus": pb,
                    "alternative_score": as_,
                    "alternative_grade": ag,
                    "alternative_bonus": ab,
                    "score_delta": (as_ - ps) if ps is not None and as_ is not None else None,
                    "grade_changed": pg != ag,
                }
            )
        tau = tau_p = None
        if len(pairs) >= 2:
            res = kendalltau([x for x, _ in pairs], [y for _, y in pairs], variant="b")
            if res.statistic == res.statistic:  # not NaN (all scores equal on one side)
                tau, tau_p = float(res.statistic), float(res.pvalue)
        levels.append(
            LevelComparison(
                level=level,
                subjects=len(keys),
                grade_changes=up + down,
                up=up,
                down=down,
                matrix=[{"label": a, "counts": matrix[a], "total": sum(matrix[a].values())} for a in labels],
                column_totals={b: sum(matrix[a][b] for a in labels) for b in labels},
                tau=tau,
                tau_p=tau_p,
                tau_n=len(pairs),
                bonus_published=bonus_pub,
                bonus_alternative=bonus_alt,
            )
        )
    return WhatIfResult(
        config=config,
        warehouse=warehouse,
        period=period,
        labels=labels,
        levels=levels,
        subjects=subjects,
        selection=selection,
        seconds=seconds,
        fingerprint=fingerprint,
    )


# --- output --------------------------------------------------------------------------------------------


def _dec(v: Decimal | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _signed(v: Decimal | None) -> str:
    return "—" if v is None else (f"+{v:.2f}" if v > 0 else f"{v:.2f}")


def summary_dict(result: WhatIfResult) -> dict[str, Any]:
    """The JSON summary the director's report shows (strings for exact figures)."""
    return {
        "name": result.config.stem,
        "config": str(result.config),
        "warehouse": str(result.warehouse),
        "period": result.period,
        "fingerprint": result.fingerprint,
        "computed_at": f"{result.computed_at:%Y-%m-%d %H:%M} UTC",
        "rebuilt": f"dbt run --select {result.selection}",
        "labels": result.labels,
        "levels": [
            {
                "level": lv.level,
                "subjects": lv.subjects,
                "grade_changes": lv.grade_changes,
                "up": lv.up,
                "down": lv.down,
                "matrix": lv.matrix,
                "column_totals": lv.column_totals,
                "tau": lv.tau,
                "tau_p": lv.tau_p,
                "tau_n": lv.tau_n,
                "bonus_published": _dec(lv.bonus_published),
                "bonus_alternative": _dec(lv.bonus_alternative),
                "bonus_delta": _signed(lv.bonus_delta),
            }
            for lv in result.levels
        ],
    }


def _write_reports(
    result: WhatIfResult, out: Path, language: str = "en", grade_names: dict[str, dict[str, str]] | None = None
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{file_name(result.period)}__{file_name(result.config.stem)}"
    summary = summary_dict(result)
    result.json_path = out / f"{stem}.json"
    result.html_path = out / f"{stem}.html"
    write_atomic(result.json_path, json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    summary["href"] = None
    html = (
        template_environment(language, grade_names)
        .get_template("director_whatif.html")
        .render(w=summary, subjects=result.subjects)
    )
    write_atomic(result.html_path, with_cjk_font(html))


def format_text(result: WhatIfResult, *, all_subjects: bool = False) -> str:
    """The terminal table: grade changes per subject, migration matrix, tau, bonus change."""
    lines = [
        f"what-if: {result.config} against the published grades of {result.warehouse}, period {result.period}",
        f"  recomputed in a temporary copy (dbt run --select {result.selection}) in {result.seconds:.1f} s; "
        "the published warehouse was not changed",
    ]
    for lv in result.levels:
        lines.append("")
        lines.append(
            f"{lv.level}s: {lv.subjects} subjects, {lv.grade_changes} change grade ({lv.up} up, {lv.down} down)"
        )
        rows = [s for s in result.subjects if s["level"] == lv.level and (all_subjects or s["grade_changed"])]
        if rows:
            lines.append(
                f"  {'subject':<9}{'team':<6}{'published':>10} {'grade':<18}{'alternative':>12} {'grade':<18}"
                f"{'change':>8}"
            )
            for s in rows:
                lines.append(
                    f"  {s['subject_id']:<9}{(s['team_id'] or ''):<6}{_dec(s['published_score']):>10} "
                    f"{s['published_grade']:<18}{_dec(s['alternative_score']):>12} {s['alternative_grade']:<18}"
                    f"{_signed(s['score_delta']):>8}"
                )
        first = max(len(g) for g in result.labels) + 2
        widths = {g: len(g) + 2 for g in result.labels}
        lines.append("  band migration (rows: published, columns: alternative)")
        lines.append("  " + " " * first + "".join(f"{g:>{widths[g]}}" for g in result.labels) + f"{'total':>8}")
        for row in lv.matrix:
            lines.append(
                f"  {row['label']:<{first}}"
                + "".join(f"{row['counts'][g]:>{widths[g]}}" for g in result.labels)
                + f"{row['total']:>8}"
            )
        lines.append(
            f"  {'total':<{first}}"
            + "".join(f"{lv.column_totals[g]:>{widths[g]}}" for g in result.labels)
            + f"{lv.subjects:>8}"
        )
        if lv.tau is None:
            lines.append(f"  rank stability: not computable ({lv.tau_n} {lv.level}s graded under both schemes)")
        else:
            lines.append(
                f"  rank stability: Kendall's tau-b of the final scores over {lv.tau_n} {lv.level}s graded under "
                f"both schemes = {lv.tau:.3f} (p = {lv.tau_p:.2g})"
            )
        lines.append(
            f"  total bonus coefficient: {_dec(lv.bonus_published)} published -> {_dec(lv.bonus_alternative)} "
            f"alternative ({_signed(lv.bonus_delta)})"
        )
    if result.html_path:
        lines.append("")
        lines.append(f"report: {result.html_path}")
    return "\n".join(lines)
