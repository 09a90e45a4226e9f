"""The view model of the directors' report: one period's figures from the marts, section by section, as
the template reads them (charts drawn by director_charts). A figure hidden in the marts stays hidden."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchestration.catalogue import INDICATOR_IDS, LOWER_IS_BETTER, SURVEY_INDICATORS, UNITS
from orchestration.report.director_charts import chart_grades, chart_heatmap, chart_nps, chart_pareto, chart_tracking
from orchestration.report.director_reader import Reader, scorecard_fingerprint
from orchestration.report.files import file_name
from orchestration.report.language import DEFAULT_LANGUAGE, ui_text


def collect(
    r: Reader,
    period: str,
    periods: list[str],
    out: Path,
    warehouse: str | Path,
    as_of: datetime | None,
    language: str = DEFAULT_LANGUAGE,
    grade_names: dict[str, dict[str, str]] | None = None,
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
    grades = _grade_distribution(reps, teams, language, grade_names)
    nps = _nps(values, teams, language)
    pareto = _pareto(r, period, language)
    hidden = _hidden_cells(r, period)
    flags = _flags(r, period, language)
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
        "team_comparison": _team_comparison(values, teams, language),
        "nps": nps,
        "pareto": pareto,
        "shortfalls": _shortfalls(r, period, teams),
        "tracking": _tracking(r, period, teams, language),
        "sales": _sales(r, period),
        "feedback": _feedback(r, period, reps, teams),
        "hidden": hidden,
        "flags": flags,
        "whatifs": _whatifs(r, period, out),
    }


def _indicator_values(r: Reader, period: str) -> dict[tuple[str, str, str], dict[str, Any]]:
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


def _grade_distribution(reps: list[dict], teams: list[dict], language: str, grade_names: dict | None) -> dict[str, Any]:
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
    return {"labels": labels, "table": table, "chart": chart_grades(labels, team_ids, counts, language, grade_names)}


def _grade_order(found: set[str]) -> list[str]:
    known = ["excellent", "good", "needs_improvement"]
    return (
        [g for g in known if g in found]
        + sorted(found - set(known) - {"insufficient_data"})
        + (["insufficient_data"] if "insufficient_data" in found else [])
    )


def _team_comparison(values: dict, teams: list[dict], language: str) -> dict[str, Any]:
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
    return {"team_ids": team_ids, "rows": rows, "chart": chart_heatmap(team_ids, rows, language) if team_ids else None}


def _cell(v: dict | None) -> dict[str, Any]:
    if v is None:
        return {"value": None, "state": "none", "sample": 0}
    if v["disclosure"] != "published":
        return {"value": None, "state": "hidden", "sample": v["sample_size"]}
    if v["value"] is None:
        return {"value": None, "state": "none", "sample": 0}
    return {"value": v["value"], "state": "ok" if v["is_sufficient"] else "thin", "sample": v["sample_size"]}


def _nps(values: dict, teams: list[dict], language: str) -> dict[str, Any]:
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
    return {"rows": rows, "company": company, "chart": chart_nps(shown, company, language) if shown else None}


def _pareto(r: Reader, period: str, language: str) -> dict[str, Any]:
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
        "chart": chart_pareto(company, language) if company else None,
    }


def _shortfalls(r: Reader, period: str, teams: list[dict]) -> list[dict[str, Any]]:
    if not r.has("marts.team_shortfalls"):
        return []
    rows = r.rows(
        "select team_id, team_name, indicator, direction, team_value, reference_value, gap, relative_gap, "
        "team_rank, teams_ranked, shortfall_rank, weight from marts.team_shortfalls "
        "where period = ? and shortfall_rank <= 3 order by team_id, shortfall_rank",
        [period],
    )
    for x in rows:  # the indicator's unit; the template writes that of a difference (% rates: percentage points)
        x["unit"] = UNITS.get(x["indicator"], "%")
    return rows


def _tracking(r: Reader, period: str, teams: list[dict], language: str) -> dict[str, Any]:
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
    return {"rows": rows, "chart": chart_tracking(rows, language) if rows else None}


def _sales(r: Reader, period: str) -> dict[str, Any]:
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


def _feedback(r: Reader, period: str, reps: list[dict], teams: list[dict]) -> list[dict[str, Any]]:
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
# what each rule found, in the words of a sales director (docs/anomalies.md has the exact rules); the
# English text is the key of its translation in the catalogue (orchestration/catalogue.py UI_TEXT)
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


def _flags(r: Reader, period: str, language: str) -> dict[str, Any]:
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
                "found": ui_text(RULE_WORDS.get(x["rule_id"], x["rule_id"]), language),
                "on_confirm": x["on_confirm"] or "note",
                "effect": ui_text(EFFECT_WORDS.get(x["on_confirm"] or "note", ""), language),
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
            rule["state"] = _review_words(rule, language)
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


def _review_words(rule: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    """'not decided yet: the grade is held' / 'confirmed by ...: 6 answers removed' / 'dismissed by ...'."""

    def t(text: str, **values: Any) -> str:
        return ui_text(text, language) % values

    parts = []
    if rule["open"]:
        held = t("; the grade is held (no bonus coefficient) until each is decided") if rule["holding"] else ""
        parts.append(t("%(open)s of %(flags)s not decided yet", open=rule["open"], flags=rule["flags"]) + held)
    if rule["confirmed"]:
        what = {
            "exclude_responses": t("%(n)s survey answer(s) removed from the figures", n=rule["excluded"]),
            "penalty": t("%(points)s points deducted", points=f"{rule['points']:.2f}"),
        }
        effect = what.get(rule["on_confirm"], t("noted"))
        parts.append(t("%(n)s confirmed: %(effect)s", n=rule["confirmed"], effect=effect))
    if rule["dismissed"]:
        parts.append(t("%(n)s dismissed: the figures stand", n=rule["dismissed"]))
    by = t(" (reviewed by %(who)s)", who=rule["reviewers"]) if rule["reviewers"] else ""
    return t("; ").join(parts) + by


def _hidden_cells(r: Reader, period: str) -> dict[str, Any]:
    if not r.has_column("marts.indicator_values", "disclosure"):
        return {"total": 0, "rows": []}
    rows = r.rows(
        "select indicator, level, disclosure, count(*) as cells from marts.indicator_values "
        "where period = ? and disclosure <> 'published' group by indicator, level, disclosure "
        "order by indicator, level, disclosure",
        [period],
    )
    return {"total": sum(x["cells"] for x in rows), "rows": rows}


def _whatifs(r: Reader, period: str, out: Path) -> list[dict[str, Any]]:
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
