"""The directors' and HR's report of one period: one self-contained HTML file that opens from disk.

`render_director_report(warehouse, period=None, out_dir=None)` writes
`reports_dir(warehouse)/director/<period>.html` (default: the latest graded period) and returns its path.
Sections: headline figures, grade distribution, team comparison per indicator, NPS per team with its 95 %
interval, complaint Pareto, top team shortfalls, improvement-action tracking, sales against target, each
rep's strengths and improvement points, and the weight what-ifs computed on these very grades.

Only the published marts are read (never the audit layer): a figure hidden by the small-cell rule or by
complementary suppression is NULL there and appears as "hidden" here, in tables and charts alike. Charts
are drawn by matplotlib and embedded as inline SVG; they are labelled with ids (T01, R001, indicator
ids) because the machine that renders them may have no CJK font; names (Chinese) are in the HTML.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from matplotlib import colormaps, rc_context
from matplotlib.figure import Figure

from orchestration.catalogue import INDICATOR_IDS, LOWER_IS_BETTER, SURVEY_INDICATORS, UNITS
from orchestration.report.files import file_name, write_atomic
from orchestration.warehouse import connect, reports_dir

TEMPLATES = Path(__file__).resolve().parent / "templates"

GRADE_COLOURS = {
    "excellent": "#1e7a3c",
    "good": "#2f6fbd",
    "needs_improvement": "#d98a1c",
    "insufficient_data": "#9aa1ad",
}
OTHER_GRADE_COLOURS = ["#7b4fa0", "#b8446a", "#3d8f8f", "#6b6b2f"]


# --- reading --------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            f"{s}.{t}"
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)

    def has_column(self, table: str, column: str) -> bool:
        schema, name = table.split(".")
        return bool(
            self.con.execute(
                "select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
                "and column_name = ?",
                [schema, name, column],
            ).fetchone()[0]
        )

    def rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def latest_period(warehouse: str | Path) -> str | None:
    with connect(warehouse, read_only=True) as con:
        return _latest_period(_Reader(con))


def _latest_period(r: _Reader) -> str | None:
    if not r.has("marts.scorecard"):
        return None
    row = r.con.execute("select max(period) from marts.scorecard").fetchone()
    return row[0] if row else None


def scorecard_fingerprint(con: duckdb.DuckDBPyConnection, period: str) -> str:
    """A hash of the period's published grades: what-if results computed on other grades are not shown."""
    rows = con.execute(
        "select level, subject_id, cast(final_score as varchar), grade, cast(bonus_coefficient as varchar) "
        "from marts.scorecard where period = ? order by level, subject_id",
        [period],
    ).fetchall()
    return hashlib.sha256(json.dumps(rows, default=str).encode("utf-8")).hexdigest()[:16]


# --- the report -------------------------------------------------------------------------------------


@dataclass
class DirectorReport:
    period: str
    path: Path
    headline: dict[str, Any]


def render_director_report(warehouse: str | Path, period: str | None = None, out_dir: str | Path | None = None) -> Path:
    """Write the report of `period` (default: the latest graded period) and return its path."""
    return build_director_report(warehouse, period, out_dir).path


def render_all_periods(
    warehouse: str | Path,
    out_dir: str | Path | None = None,
    *,
    as_of: datetime | None = None,
    only: Callable[[str], bool] | None = None,
    published_as: str | Path | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
) -> list[DirectorReport]:
    """One report per graded period (what the nightly asset does). With `only`, the periods it accepts
    (the run's refresh window) and the periods that have no report yet; the others keep theirs.
    `published_as`: the published warehouse when `warehouse` is the run's build copy and `out_dir` its
    staged reports. `on_error(period, exc)`: a period whose report fails is reported there and the other
    periods go on (without it, the error is raised)."""
    out = Path(out_dir) if out_dir else reports_dir(warehouse) / "director"
    final_out = reports_dir(published_as) / "director" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        r = _Reader(con)
        periods = (
            [p for (p,) in con.execute("select distinct period from marts.scorecard order by period").fetchall()]
            if r.has("marts.scorecard")
            else []
        )
    if only is not None:
        periods = [p for p in periods if only(p) or not (final_out / f"{file_name(p)}.html").exists()]
    reports = []
    for p in periods:
        try:
            reports.append(build_director_report(warehouse, p, out, as_of=as_of, published_as=published_as))
        except Exception as exc:
            if on_error is None:
                raise
            on_error(p, exc)
    return reports


def build_director_report(
    warehouse: str | Path,
    period: str | None = None,
    out_dir: str | Path | None = None,
    *,
    as_of: datetime | None = None,
    published_as: str | Path | None = None,
) -> DirectorReport:
    """As render_director_report, with the headline figures. `as_of` (the run's) defaults to the as-of
    of the last published run in audit.runs."""
    out = Path(out_dir) if out_dir else reports_dir(warehouse) / "director"
    final_out = reports_dir(published_as) / "director" if published_as is not None else out
    with connect(warehouse, read_only=True) as con:
        r = _Reader(con)
        if not r.has("marts.scorecard"):
            raise ValueError(f"{warehouse}: marts.scorecard is missing; run the pipeline first")
        period = period or _latest_period(r)
        if period is None:
            raise ValueError(f"{warehouse}: marts.scorecard holds no graded period")
        known = [p for (p,) in con.execute("select distinct period from marts.scorecard order by 1").fetchall()]
        if period not in known:
            raise ValueError(f"period {period} is not graded in {warehouse} (graded: {', '.join(known)})")
        context = _collect(r, period, known, final_out, published_as or warehouse, as_of)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{file_name(period)}.html"
    html = template_environment().get_template("director.html").render(**context)
    write_atomic(path, html)
    return DirectorReport(period=period, path=path, headline=context["headline"])


def _collect(
    r: _Reader, period: str, periods: list[str], out: Path, warehouse: str | Path, as_of: datetime | None
) -> dict[str, Any]:
    review = _REVIEW_COLUMNS if r.has_column("marts.scorecard", "grade_status") else _NO_REVIEW_COLUMNS
    teams = r.rows(
        "select subject_id as team_id, subject_name as team_name, business_stage, final_score, grade, "
        f"bonus_coefficient, rank_overall, {review} from marts.scorecard where period = ? and level = 'team' "
        "order by subject_id",
        [period],
    )
    reps = r.rows(
        "select subject_id as rep_id, subject_name as rep_name, team_id, composite_score, final_score, grade, "
        f"bonus_coefficient, rank_in_team, rank_overall, {review} from marts.scorecard where period = ? "
        "and level = 'rep' order by team_id, rank_in_team nulls last, subject_id",
        [period],
    )
    grain = r.con.execute("select max(grain) from marts.scorecard where period = ?", [period]).fetchone()[0]
    if as_of is None and r.has("audit.runs"):
        row = r.con.execute(
            "select as_of, run_id from audit.runs where published order by finished_at desc limit 1"
        ).fetchone()
        as_of = row[0] if row else None
    values = _indicator_values(r, period)
    grades = _grade_distribution(reps, teams)
    nps = _nps(values, teams)
    pareto = _pareto(r, period)
    hidden = _hidden_cells(r, period)
    flags = _flags(r, period)
    headline = {
        "period": period,
        "reps_graded": sum(1 for x in reps if x["grade"] != "insufficient_data"),
        "reps": len(reps),
        "teams": len(teams),
        "total_bonus": sum((x["bonus_coefficient"] for x in reps if x["bonus_coefficient"] is not None), Decimal(0)),
        "company_nps": nps["company"]["value"] if nps["company"] else None,
        "complaints": pareto["company_total"],
        "hidden_cells": hidden["total"],
        "held": sum(1 for x in [*reps, *teams] if x["grade_status"] == "held"),
        "flagged_reps": len(flags["reps"]),
        "excluded_responses": flags["excluded_responses"],
    }
    return {
        "period": period,
        "grain": grain,
        "periods": [{"period": p, "href": f"{file_name(p)}.html", "current": p == period} for p in periods],
        "as_of": as_of,
        "generated_at": datetime.now(UTC),
        "warehouse": str(Path(warehouse).resolve()),
        "headline": headline,
        "grades": grades,
        "teams": teams,
        "team_comparison": _team_comparison(values, teams),
        "nps": nps,
        "pareto": pareto,
        "shortfalls": _shortfalls(r, period, teams),
        "tracking": _tracking(r, period, teams),
        "sales": _sales(r, period),
        "feedback": _feedback(r, period, reps, teams),
        "hidden": hidden,
        "flags": flags,
        "whatifs": _whatifs(r, period, out),
    }


def _indicator_values(r: _Reader, period: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    if not r.has("marts.indicator_values"):
        return {}
    # a warehouse built before the disclosure column existed: hidden cells are NULL there all the same
    survey = ", ".join(f"'{i}'" for i in SURVEY_INDICATORS)
    disclosure = (
        "coalesce(disclosure, 'published')"
        if r.has_column("marts.indicator_values", "disclosure")
        else f"case when value is null and sample_size > 0 and indicator in ({survey}) then 'small_sample' "
        "else 'published' end"
    )
    rows = r.rows(
        "select level, subject_id, indicator, value, sample_size, is_sufficient, nps_ci_low, nps_ci_high, "
        f"{disclosure} as disclosure from marts.indicator_values "
        "where period = ? and level in ('team', 'company')",
        [period],
    )
    return {(x["level"], x["subject_id"], x["indicator"]): x for x in rows}


def _grade_distribution(reps: list[dict], teams: list[dict]) -> dict[str, Any]:
    labels = _grade_order({x["grade"] for x in reps} | {x["grade"] for x in teams})
    team_ids = sorted({x["team_id"] for x in reps if x["team_id"]})
    counts = {t: {g: 0 for g in labels} for t in [*team_ids, "all"]}
    for x in reps:
        counts.setdefault(x["team_id"] or "none", {g: 0 for g in labels})[x["grade"]] += 1
        counts["all"][x["grade"]] += 1
    names = {t["team_id"]: t["team_name"] for t in teams}
    table = [
        {
            "team_id": t,
            "team_name": names.get(t, "all reps" if t == "all" else ""),
            "counts": counts[t],
            "total": sum(counts[t].values()),
        }
        for t in [*team_ids, "all"]
    ]
    return {"labels": labels, "table": table, "chart": _chart_grades(labels, team_ids, counts)}


def _grade_order(found: set[str]) -> list[str]:
    known = ["excellent", "good", "needs_improvement"]
    return (
        [g for g in known if g in found]
        + sorted(found - set(known) - {"insufficient_data"})
        + (["insufficient_data"] if "insufficient_data" in found else [])
    )


def _team_comparison(values: dict, teams: list[dict]) -> dict[str, Any]:
    team_ids = [t["team_id"] for t in teams]
    rows = []
    for ind in INDICATOR_IDS:
        company = values.get(("company", "company", ind))
        cells = []
        for t in team_ids:
            v = values.get(("team", t, ind))
            cells.append(_cell(v))
        ref = _cell(company)["value"]
        if ind == "new_customers" and ref is not None and team_ids:  # a count: the company count per team
            ref = ref / len(team_ids)
        rows.append(
            {
                "indicator": ind,
                "unit": UNITS[ind],
                "lower_is_better": ind in LOWER_IS_BETTER,
                "company": _cell(company),
                "reference": ref,
                "cells": cells,
            }
        )
    return {"team_ids": team_ids, "rows": rows, "chart": _chart_heatmap(team_ids, rows) if team_ids else None}


def _cell(v: dict | None) -> dict[str, Any]:
    if v is None:
        return {"value": None, "state": "none", "sample": 0}
    if v["disclosure"] != "published":
        return {"value": None, "state": "hidden", "sample": v["sample_size"]}
    if v["value"] is None:
        return {"value": None, "state": "none", "sample": 0}
    return {"value": v["value"], "state": "ok" if v["is_sufficient"] else "thin", "sample": v["sample_size"]}


def _nps(values: dict, teams: list[dict]) -> dict[str, Any]:
    def pick(level, subject):
        v = values.get((level, subject, "nps"))
        if v is None or v["disclosure"] != "published" or v["value"] is None:
            return None
        return {
            "value": v["value"],
            "low": v["nps_ci_low"],
            "high": v["nps_ci_high"],
            "n": v["sample_size"],
            "sufficient": v["is_sufficient"],
        }

    rows = []
    for t in teams:
        rows.append(
            {
                "team_id": t["team_id"],
                "team_name": t["team_name"],
                "nps": pick("team", t["team_id"]),
                "hidden": values.get(("team", t["team_id"], "nps"), {}).get("disclosure", "published") != "published",
            }
        )
    company = pick("company", "company")
    shown = [x for x in rows if x["nps"]]
    return {"rows": rows, "company": company, "chart": _chart_nps(shown, company) if shown else None}


def _pareto(r: _Reader, period: str) -> dict[str, Any]:
    if not r.has("marts.complaint_pareto"):
        return {"company": [], "company_total": None, "teams": [], "chart": None}
    company = r.rows(
        "select category, pareto_rank, complaint_count, share, cumulative_share, is_vital_few "
        "from marts.complaint_pareto where period = ? and level = 'company' order by pareto_rank",
        [period],
    )
    teams = r.rows(
        "select subject_id as team_id, max(total_complaints) as total, "
        "string_agg(case when is_vital_few then category end, ', ' order by pareto_rank) as vital_few, "
        "sum(case when is_vital_few then complaint_count else 0 end) as vital_count "
        "from marts.complaint_pareto where period = ? and level = 'team' group by subject_id order by subject_id",
        [period],
    )
    total = sum(x["complaint_count"] for x in company)
    return {
        "company": company,
        "company_total": total,
        "teams": teams,
        "chart": _chart_pareto(company) if company else None,
    }


def _shortfalls(r: _Reader, period: str, teams: list[dict]) -> list[dict[str, Any]]:
    if not r.has("marts.team_shortfalls"):
        return []
    rows = r.rows(
        "select team_id, team_name, indicator, direction, team_value, reference_value, gap, relative_gap, "
        "team_rank, teams_ranked, shortfall_rank, weight from marts.team_shortfalls "
        "where period = ? and shortfall_rank <= 3 order by team_id, shortfall_rank",
        [period],
    )
    for x in rows:  # the unit of a difference: % rates differ by percentage points
        x["unit"] = {"median_response_hours": "h", "new_customers": ""}.get(x["indicator"], "points")
    return rows


def _tracking(r: _Reader, period: str, teams: list[dict]) -> dict[str, Any]:
    if not r.has("marts.improvement_tracking"):
        return {"rows": [], "chart": None}
    rows = r.rows(
        "select level, subject_id, complaints, with_action, overdue, completed, confirmed, action_rate, "
        "overdue_rate, completion_rate, confirmation_rate from marts.improvement_tracking "
        "where period = ? and level in ('team', 'company') order by level desc, subject_id",
        [period],
    )
    names = {t["team_id"]: t["team_name"] for t in teams}
    for x in rows:
        x["name"] = names.get(x["subject_id"], "")
    return {"rows": rows, "chart": _chart_tracking(rows) if rows else None}


def _sales(r: _Reader, period: str) -> dict[str, Any]:
    if not r.has("marts.sales_breakdown"):
        return {"regions": [], "cells": [], "company": None}
    regions = r.rows(
        "select region, won_amount, won_deals, customers, target, attainment from marts.sales_breakdown "
        "where period = ? and level = 'region' order by region",
        [period],
    )
    cells = r.rows(
        "select region, product_line, customer_type, won_amount, won_deals, target_contribution, "
        "share_of_region_won from marts.sales_breakdown where period = ? and level = 'cell' "
        "order by region, product_line, customer_type",
        [period],
    )
    company = r.rows(
        "select won_amount, won_deals, customers, target, attainment from marts.sales_breakdown "
        "where period = ? and level = 'company'",
        [period],
    )
    by_region: dict[str, list] = {}
    for c in cells:
        by_region.setdefault(c["region"], []).append(c)
    for g in regions:
        g["cells"] = by_region.get(g["region"], [])
    return {"regions": regions, "company": company[0] if company else None}


def _feedback(r: _Reader, period: str, reps: list[dict], teams: list[dict]) -> list[dict[str, Any]]:
    items: dict[str, dict[str, list[str]]] = {}
    if r.has("marts.rep_feedback"):
        for x in r.rows(
            "select rep_id, feedback_type, sentence from marts.rep_feedback where period = ? "
            "order by rep_id, feedback_type, position",
            [period],
        ):
            items.setdefault(x["rep_id"], {"strength": [], "improvement": []})[x["feedback_type"]].append(x["sentence"])
    names = {t["team_id"]: t["team_name"] for t in teams}
    out: dict[str, dict[str, Any]] = {}
    for rep in reps:
        team = out.setdefault(
            rep["team_id"], {"team_id": rep["team_id"], "team_name": names.get(rep["team_id"], ""), "reps": []}
        )
        fb = items.get(rep["rep_id"], {"strength": [], "improvement": []})
        team["reps"].append({**rep, "strengths": fb["strength"], "improvements": fb["improvement"]})
    return list(out.values())


_REVIEW_COLUMNS = "grade_status, open_flags, holding_flags, confirmed_flags, penalty_points, excluded_responses"
_NO_REVIEW_COLUMNS = (  # a warehouse built before flag reviews existed
    "'final' as grade_status, 0 as open_flags, 0 as holding_flags, 0 as confirmed_flags, 0 as penalty_points, "
    "0 as excluded_responses"
)
# what each rule found, in the words of a sales director (docs/anomalies.md has the exact rules)
RULE_WORDS = {
    "hidden_complaint": "the rep logged praise or a satisfied customer around the time that customer opened a "
    "complaint ticket",
    "complaint_underreporting": "the rep logged far fewer of their complaints than the other reps do",
    "inflated_self_report": "the satisfaction the rep reported is well above what the same customers said in surveys",
    "channel_gap": "surveys the rep handed out score well above the independent surveys of the same rep",
    "self_filled_survey": "a survey answer came from the rep's own device, or one device answered for several "
    "customers",
    "speeder_burst": "many top-score survey answers given implausibly fast or all within a few minutes",
    "fabricated_contact": "a reported customer contact has no deal, visit, proposal or follow-up behind it",
}
EFFECT_WORDS = {
    "exclude_responses": "its survey answers are removed from NPS and satisfaction",
    "penalty": "points are deducted from the final score",
    "note": "noted, the figures are unchanged",
}


def _flags(r: _Reader, period: str) -> dict[str, Any]:
    """The period's flags per rep, in plain words, with their review state and effect."""
    empty = {"reps": [], "excluded_responses": 0, "open": 0, "confirmed": 0, "dismissed": 0}
    if not r.has("marts.anomaly_flags") or not r.has_column("marts.anomaly_flags", "review_status"):
        return empty
    rows = r.rows(
        "select f.rep_id, coalesce(s.subject_name, f.rep_id) as rep_name, f.team_id, f.rule_id, f.evidence, "
        "f.review_status, f.reviewed_by, f.decided_at, f.on_open, f.on_confirm, f.is_holding, "
        "f.excluded_responses, f.penalty_points from marts.anomaly_flags as f left join marts.scorecard as s "
        "on s.period = f.period and s.level = 'rep' and s.subject_id = f.rep_id "
        "where f.period = ? order by f.team_id, f.rep_id, f.rule_id, f.flag_id",
        [period],
    )
    reps: dict[str, dict[str, Any]] = {}
    for x in rows:
        rep = reps.setdefault(
            x["rep_id"],
            {"rep_id": x["rep_id"], "rep_name": x["rep_name"], "team_id": x["team_id"], "rules": {}},
        )
        rule = rep["rules"].setdefault(
            x["rule_id"],
            {
                "rule_id": x["rule_id"],
                "found": RULE_WORDS.get(x["rule_id"], x["rule_id"]),
                "on_confirm": x["on_confirm"] or "note",
                "effect": EFFECT_WORDS.get(x["on_confirm"] or "note", ""),
                "flags": 0,
                "open": 0,
                "holding": 0,
                "confirmed": 0,
                "dismissed": 0,
                "excluded": 0,
                "points": Decimal(0),
                "reviewers": set(),
                "example": x["evidence"],
            },
        )
        rule["flags"] += 1
        rule[x["review_status"]] += 1
        rule["holding"] += int(bool(x["is_holding"]))
        rule["excluded"] += x["excluded_responses"] or 0
        rule["points"] += x["penalty_points"] or 0
        if x["reviewed_by"]:
            rule["reviewers"].add(x["reviewed_by"])
    for rep in reps.values():
        rep["rules"] = list(rep["rules"].values())
        for rule in rep["rules"]:
            rule["reviewers"] = ", ".join(sorted(rule["reviewers"]))
            rule["state"] = _review_words(rule)
    excluded = 0
    if r.has("audit.excluded_responses"):
        excluded = r.con.execute(
            "select count(distinct response_id) from audit.excluded_responses where period = ?", [period]
        ).fetchone()[0]
    return {
        "reps": list(reps.values()),
        "excluded_responses": excluded,
        "open": sum(1 for x in rows if x["review_status"] == "open"),
        "confirmed": sum(1 for x in rows if x["review_status"] == "confirmed"),
        "dismissed": sum(1 for x in rows if x["review_status"] == "dismissed"),
    }


def _review_words(rule: dict[str, Any]) -> str:
    """'not decided yet: the grade is held' / 'confirmed by ...: 6 answers removed' / 'dismissed by ...'."""
    parts = []
    if rule["open"]:
        held = "; the grade is held (no bonus coefficient) until each is decided" if rule["holding"] else ""
        parts.append(f"{rule['open']} of {rule['flags']} not decided yet{held}")
    if rule["confirmed"]:
        what = {
            "exclude_responses": f"{rule['excluded']} survey answer(s) removed from the figures",
            "penalty": f"{rule['points']:.2f} points deducted",
        }
        effect = what.get(rule["on_confirm"], "noted")
        parts.append(f"{rule['confirmed']} confirmed: {effect}")
    if rule["dismissed"]:
        parts.append(f"{rule['dismissed']} dismissed: the figures stand")
    by = f" (reviewed by {rule['reviewers']})" if rule["reviewers"] else ""
    return "; ".join(parts) + by


def _hidden_cells(r: _Reader, period: str) -> dict[str, Any]:
    if not r.has_column("marts.indicator_values", "disclosure"):
        return {"total": 0, "rows": []}
    rows = r.rows(
        "select indicator, level, disclosure, count(*) as cells from marts.indicator_values "
        "where period = ? and disclosure <> 'published' group by indicator, level, disclosure "
        "order by indicator, level, disclosure",
        [period],
    )
    return {"total": sum(x["cells"] for x in rows), "rows": rows}


def _whatifs(r: _Reader, period: str, out: Path) -> list[dict[str, Any]]:
    """What-if summaries (orchestration/whatif.py) of this period computed on these very grades."""
    folder = out.parent / "whatif"
    if not folder.is_dir():
        return []
    fingerprint = scorecard_fingerprint(r.con, period)
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("period") != period or data.get("fingerprint") != fingerprint:
            continue
        html = path.with_suffix(".html")
        data["href"] = os.path.relpath(html, out) if html.exists() else None
        found.append(data)
    return found


# --- charts (matplotlib, inline SVG) ----------------------------------------------------------------


# Data text is drawn literally: with math parsing on, matplotlib reads `$...$` in a team id or a name as
# mathtext (a team "T$^$" made the report raise). Every chart is built and saved with it off.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}


def _literal_text(chart: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(chart)
    def wrapper(*args, **kwargs) -> str:
        with rc_context(LITERAL_TEXT):
            return chart(*args, **kwargs)

    return wrapper


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "scorecard", **LITERAL_TEXT}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # scale with the page: drop the fixed size, keep the viewBox
    text = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart"', text, count=1)
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _grade_colour(label: str, i: int) -> str:
    return GRADE_COLOURS.get(label) or OTHER_GRADE_COLOURS[i % len(OTHER_GRADE_COLOURS)]


@_literal_text
def _chart_grades(labels: list[str], team_ids: list[str], counts: dict) -> str:
    rows = [*team_ids, "all"]
    fig = Figure(figsize=(7.5, 0.42 * len(rows) + 1.2))
    ax = fig.add_subplot()
    left = [0] * len(rows)
    for i, g in enumerate(labels):
        widths = [counts[t][g] for t in rows]
        bars = ax.barh(rows, widths, left=left, color=_grade_colour(g, i), label=g, edgecolor="white")
        for bar, w in zip(bars, widths, strict=True):
            if w:
                ax.text(
                    bar.get_x() + w / 2,
                    bar.get_y() + bar.get_height() / 2,
                    str(w),
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("reps")
    ax.set_title("Reps per grade, by team")
    ax.legend(ncol=len(labels), loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


@_literal_text
def _chart_heatmap(team_ids: list[str], rows: list[dict]) -> str:
    """Teams x indicators, coloured by how far each team is from the company (direction-aware, relative,
    clipped at +-30 %), annotated with the value. Grey: hidden or no value; hatched: below minimum sample."""
    import numpy as np

    data = np.full((len(rows), len(team_ids)), np.nan)
    for i, row in enumerate(rows):
        ref = row["reference"]
        for j, c in enumerate(row["cells"]):
            if c["value"] is None or ref is None:
                continue
            sign = -1 if row["lower_is_better"] else 1
            denom = abs(ref) if ref else 1.0
            data[i, j] = max(-0.3, min(0.3, sign * (c["value"] - ref) / denom))
    fig = Figure(figsize=(1.15 * len(team_ids) + 3.4, 0.36 * len(rows) + 1.4))
    ax = fig.add_subplot()
    cmap = colormaps["RdYlGn"].with_extremes(bad="#e3e6ec")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=-0.3, vmax=0.3, aspect="auto")
    for i, row in enumerate(rows):
        for j, c in enumerate(row["cells"]):
            if c["state"] == "hidden":
                text = "hidden"
            elif c["value"] is None:
                text = "-"
            else:
                text = _short(c["value"]) + ("*" if c["state"] == "thin" else "")
            strong = not np.isnan(data[i, j]) and abs(data[i, j]) > 0.2
            ax.text(j, i, text, ha="center", va="center", fontsize=7.5, color="white" if strong else "#1d2330")
    ax.set_xticks(range(len(team_ids)), team_ids, fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{r['indicator']} ({_short(r['reference'])})" for r in rows], fontsize=8)
    ax.xaxis.tick_top()
    cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label("better (+) / worse (-) than company, relative", fontsize=7.5)
    cbar.ax.tick_params(labelsize=7)
    cbar.set_ticks([-0.3, -0.15, 0, 0.15, 0.3], labels=["-30%", "-15%", "0", "+15%", "+30%"])
    ax.set_title(
        "Team value per indicator (company value in brackets, new_customers per team;\n* below minimum sample)",
        fontsize=9,
        pad=24,
    )
    return _svg(fig)


def _short(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if abs(v) < 1000 else f"{v:,.0f}"


@_literal_text
def _chart_nps(rows: list[dict], company: dict | None) -> str:
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    xs = list(range(len(rows)))
    values = [x["nps"]["value"] for x in rows]
    lows = [x["nps"]["value"] - _or(x["nps"]["low"], x["nps"]["value"]) for x in rows]
    highs = [_or(x["nps"]["high"], x["nps"]["value"]) - x["nps"]["value"] for x in rows]
    if company:
        ax.axhspan(company["low"], company["high"], color="#2f6fbd", alpha=0.10, label="company 95% interval")
        ax.axhline(
            company["value"], color="#2f6fbd", linewidth=1, linestyle="--", label=f"company NPS {company['value']:.1f}"
        )
    ax.errorbar(
        xs,
        values,
        yerr=[lows, highs],
        fmt="o",
        color="#1d2330",
        ecolor="#5c6475",
        capsize=5,
        label="team NPS with 95% interval",
    )
    for x, v, row in zip(xs, values, rows, strict=True):
        ax.annotate(f"{v:.1f}\nn={row['nps']['n']}", (x, v), textcoords="offset points", xytext=(12, -4), fontsize=7.5)
    ax.set_xticks(xs, [x["team_id"] for x in rows])
    ax.axhline(0, color="#d9dde5", linewidth=0.8)
    ax.set_ylabel("NPS (points)")
    ax.set_title("NPS per team with its 95% interval")
    ax.legend(fontsize=7.5, loc="best", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


@_literal_text
def _chart_pareto(rows: list[dict]) -> str:
    fig = Figure(figsize=(7.5, 3.6))
    ax = fig.add_subplot()
    cats = [x["category"] for x in rows]
    counts = [x["complaint_count"] for x in rows]
    colours = ["#b42318" if x["is_vital_few"] else "#c9ced8" for x in rows]
    ax.bar(cats, counts, color=colours)
    for i, c in enumerate(counts):
        ax.text(i, c, str(c), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("complaint tickets")
    ax2 = ax.twinx()
    ax2.plot(cats, [x["cumulative_share"] for x in rows], color="#1d2330", marker="o", markersize=4)
    ax2.axhline(80, color="#935f00", linestyle="--", linewidth=1)
    ax2.text(-0.45, 81, "80%", ha="left", va="bottom", fontsize=8, color="#935f00")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative share (%)")
    ax.set_title("Complaints by category, company (red: the vital few reaching 80%)", fontsize=9.5)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top"]].set_visible(False)
    ax2.spines[["top"]].set_visible(False)
    return _svg(fig)


@_literal_text
def _chart_tracking(rows: list[dict]) -> str:
    import numpy as np

    labels = [x["subject_id"] for x in rows]
    metrics = [
        ("action_rate", "action taken", "#2f6fbd"),
        ("completion_rate", "completed", "#1e7a3c"),
        ("confirmation_rate", "confirmed", "#7b4fa0"),
        ("overdue_rate", "overdue", "#b42318"),
    ]
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.2
    for i, (key, label, colour) in enumerate(metrics):
        vals = [r[key] if r[key] is not None else 0 for r in rows]
        ax.bar(x + (i - 1.5) * width, vals, width, label=label, color=colour)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title("Improvement actions on complaints", fontsize=9.5)
    ax.legend(ncol=4, fontsize=7.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


# --- rendering --------------------------------------------------------------------------------------


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.1f} %"
    env.filters["ts"] = lambda v: (
        "—"
        if v is None
        else (f"{(v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)):%Y-%m-%d %H:%M} UTC")
    )
    env.filters["signed"] = lambda v: "—" if v is None else (f"+{fmt_num(v)}" if v > 0 else fmt_num(v))
    return env


def fmt_num(v: Any, places: int = 2) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, Decimal):
        return f"{v.quantize(Decimal(1).scaleb(-places)):,f}"
    if isinstance(v, float):
        return f"{v:,.{places}f}"
    return str(v)
