"""The view model of the auditor's report: one run's figures, section by section, as the template reads
them. Every figure is aggregated in SQL; only capped samples are fetched (the caps below)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.report.auditor_reader import NotAvailable, Reader, capped_rows, section, subject_names
from orchestration.report.disclosure import HIDDEN_SHARE_SQL, hidden_share
from orchestration.report.files import file_name

FAILING_ROWS_PER_CHECK = 200
QUARANTINE_SAMPLE_PER_SOURCE = 20
QUARANTINE_REASON_GROUPS = 500
FLAGS_PER_RULE = 50
REVIEW_ROWS = 200  # open flags and decisions shown (all are in marts.anomaly_flags and audit.flag_reviews)
ADJUSTMENTS_SHOWN = 500
CHECKS_SHOWN = 5000
RECENT_RUNS = 20
TEXT_CAP = 500  # characters of a bad value, message, reason or evidence shown
RAW_ROW_CAP = 2000  # characters of a quarantined raw row shown

# A quarantine reason with the offending value blanked, so that reasons are counted per rule and
# column ("wrong type: amount='…' is not a number"), not per distinct bad value. The full reason of
# one row is shown beside each count as an example.
_REASON_KIND_SQL = r"""
case
    when reason like 'pandera % on %: %' then regexp_replace(reason, '^(pandera .* on [^:]+): .*$', '\1: …')
    when contains(reason, '''') or contains(reason, '=') then
        regexp_replace(regexp_replace(reason, '''[^'']*''', '''…''', 'g'), '=[^\s'';,()]+', '=…', 'g')
    else reason
end
"""


def collect(r: Reader, run_id: str, out: Path) -> dict[str, Any]:
    run = section(r, ["audit.runs"], lambda: _run_row(r, run_id))
    counts = section(r, ["audit.run_counts"], lambda: _counts(r, run_id))
    checks = section(r, [], lambda: _checks(r, run_id))
    quarantine = section(r, ["audit.quarantine"], lambda: _quarantine(r, run_id))
    flags = section(r, ["marts.anomaly_flags"], lambda: _flags(r, run_id))
    reviews = section(r, ["marts.anomaly_flags", "audit.flag_reviews"], lambda: _reviews(r, run_id))
    adjustments = section(r, ["audit.adjustments"], lambda: _adjustments(r))
    history = section(r, ["audit.runs"], lambda: _history(r, run_id, out))
    disclosure = section(r, ["marts.indicator_values"], lambda: _disclosure(r))
    is_latest = True
    if run.get("available") and run.get("run") and history.get("available"):
        started = run["run"]["started_at"]
        is_latest = not any(
            h["started_at"] is not None and started is not None and h["started_at"] > started for h in history["runs"]
        )
    headline = {
        "status": (run.get("run") or {}).get("status") or "not recorded",
        "rows_in": counts.get("totals", {}).get("rows_in"),
        "quarantined": counts.get("totals", {}).get("quarantined"),
        "failure_reason": (run.get("run") or {}).get("failure_reason"),
        "checks_total": checks.get("total") if checks.get("available") else None,
        "checks_failed": checks.get("failed") if checks.get("available") else None,
        "checks_failed_error": checks.get("failed_error") if checks.get("available") else None,
        "flags": flags.get("total") if flags.get("available") else None,
        "open_flags": reviews.get("open_total") if reviews.get("available") else None,
        "clamped_subjects": adjustments.get("clamped_count") if adjustments.get("available") else None,
        "hidden_share": disclosure.get("share") if disclosure.get("available") else None,
    }
    return {
        "run_id": run_id,
        "run": run,
        "counts": counts,
        "checks": checks,
        "quarantine": quarantine,
        "flags": flags,
        "reviews": reviews,
        "adjustments": adjustments,
        "history": history,
        "disclosure": disclosure,
        "headline": headline,
        "is_latest": is_latest,
        "caps": {
            "failing_rows": FAILING_ROWS_PER_CHECK,
            "quarantine_sample": QUARANTINE_SAMPLE_PER_SOURCE,
            "flags_per_rule": FLAGS_PER_RULE,
            "review_rows": REVIEW_ROWS,
            "adjustments": ADJUSTMENTS_SHOWN,
        },
    }


def _run_row(r: Reader, run_id: str) -> dict[str, Any]:
    row = r.one(
        "select run_id, started_at, finished_at, as_of, status, failure_reason, checks_passed, checks_failed, "
        "published, landing, config from audit.runs where run_id = ? order by started_at desc nulls last limit 1",
        [run_id],
    )
    if row and row["started_at"] and row["finished_at"]:
        row["duration"] = _duration(row["finished_at"] - row["started_at"])
    return {"run": row}


def _counts(r: Reader, run_id: str) -> dict[str, Any]:
    has_stored = r.has("audit.quarantine")
    stored = (
        "select source as entity, count(*) as stored from audit.quarantine where run_id = ? group by source"
        if has_stored
        else "select null::varchar as entity, null::bigint as stored where false"
    )
    rows = r.rows(
        f"""
        with counts as (
            select entity, sum(files) as files, sum(rows_in) as rows_in, sum(accepted) as accepted,
                   sum(quarantined) as quarantined, sum(exact_duplicates) as exact_duplicates,
                   sum(superseded) as superseded
            from audit.run_counts where run_id = ? group by entity
        ),
        stored as ({stored})
        select coalesce(c.entity, s.entity) as entity, c.files, c.rows_in, c.accepted, c.quarantined,
               c.exact_duplicates, c.superseded, s.stored
        from counts c full join stored s on s.entity = c.entity
        order by 1
        """,
        [run_id, run_id] if has_stored else [run_id],
    )
    keys = ("files", "rows_in", "accepted", "quarantined", "exact_duplicates", "superseded")
    totals: dict[str, Any] = {k: 0 for k in keys} | {"stored": 0 if has_stored else None}
    broken = []
    for row in rows:
        parts = [row[k] for k in ("accepted", "quarantined", "exact_duplicates", "superseded")]
        row["holds"] = None if row["rows_in"] is None or None in parts else row["rows_in"] == sum(parts)
        row["stored"] = (row["stored"] or 0) if has_stored else None
        row["stored_matches"] = None if row["stored"] is None else row["stored"] == (row["quarantined"] or 0)
        if row["holds"] is False or row["stored_matches"] is False:
            broken.append(row["entity"])
        for k in keys:
            totals[k] += row[k] or 0
        if has_stored:
            totals["stored"] += row["stored"]
    totals["holds"] = totals["rows_in"] == sum(
        totals[k] for k in ("accepted", "quarantined", "exact_duplicates", "superseded")
    )
    return {"rows": rows, "totals": totals, "broken": broken, "has_stored": has_stored}


def _checks(r: Reader, run_id: str) -> dict[str, Any]:
    """Check results of the run, each failing one with a capped sample of its failing rows."""
    has_results = r.has("audit.check_results")
    has_failures = r.has("audit.validation_failures")
    if not has_results and not has_failures:
        raise NotAvailable("audit.check_results and audit.validation_failures not in the warehouse")
    results = []
    if has_results:
        results = r.rows(
            """
            select check_kind, source, check_name, severity, passed, failing_rows, message
            from audit.check_results where run_id = ?
            qualify row_number() over (partition by source, check_name order by checked_at desc nulls last) = 1
            order by source, passed nulls first, check_name
            limit ?
            """,
            [run_id, CHECKS_SHOWN],
        )
    groups: dict[tuple, dict[str, Any]] = {}
    if has_failures:
        samples = capped_rows(
            r,
            "audit.validation_failures",
            run_id,
            groups=("source", "check_name"),
            order="coalesce(row_key, '')",
            n=FAILING_ROWS_PER_CHECK,
            columns=f"row_key, column_name, left(bad_value, {TEXT_CAP + 1}) as bad_value, "
            f"left(message, {TEXT_CAP + 1}) as message",
        )
        for g in r.rows(
            """
            select source, check_name, any_value(check_kind) as check_kind, any_value(severity) as severity,
                   count(*) as stored_rows
            from audit.validation_failures where run_id = ?
            group by source, check_name
            """,
            [run_id],
        ):
            key = (g["source"], g["check_name"])
            groups[key] = g | {"sample": samples.get(key, [])}
    checks = []
    for c in results:
        g = groups.pop((c["source"], c["check_name"]), None)
        checks.append(c | {"stored_rows": g["stored_rows"] if g else 0, "sample": g["sample"] if g else []})
    for g in sorted(groups.values(), key=lambda g: (str(g["source"]), str(g["check_name"]))):
        # row-level failures stored without a check result row (e.g. written by the row-level checks only)
        checks.append(
            {
                "check_kind": g["check_kind"],
                "source": g["source"],
                "check_name": g["check_name"],
                "severity": g["severity"],
                "passed": False,
                "failing_rows": g["stored_rows"],
                "message": "row-level failures stored without a check result",
                "stored_rows": g["stored_rows"],
                "sample": g["sample"],
            }
        )
    by_source: dict[str, dict[str, Any]] = {}
    by_kind: dict[str, dict[str, int]] = {}
    for c in checks:
        c["source"] = c["source"] or "(no source)"
        c["severity"] = (c["severity"] or "").lower() or None
        c["outcome"] = "passed" if c["passed"] else ("failed" if c["passed"] is False else "unknown")
        c["anchor"] = _anchor("fail", c["source"], c["check_name"]) if c["outcome"] == "failed" else None
        c["shown"] = len(c["sample"] or [])
        c["more"] = max(0, (c["stored_rows"] or 0) - c["shown"])
        s = by_source.setdefault(
            c["source"],
            {"checks": 0, "passed": 0, "failed": 0, "failed_error": 0, "failing_rows": 0},
        )
        k = by_kind.setdefault(c["check_kind"] or "(unknown)", {"checks": 0, "passed": 0, "failed": 0})
        s["checks"] += 1
        k["checks"] += 1
        if c["outcome"] == "passed":
            s["passed"] += 1
            k["passed"] += 1
        elif c["outcome"] == "failed":
            s["failed"] += 1
            k["failed"] += 1
            s["failed_error"] += c["severity"] not in ("warn", "warning")
            s["failing_rows"] += c["failing_rows"] or c["stored_rows"] or 0
    failing = [c for c in checks if c["outcome"] == "failed"]
    # the passing checks, counted per source and kind (their list folded away in the report: hundreds of
    # lines that say "passed" would bury the failures)
    passing: dict[str, dict[str, list[dict]]] = {}
    for c in checks:
        if c["outcome"] != "failed":
            passing.setdefault(c["source"], {}).setdefault(c["check_kind"] or "(unknown)", []).append(c)
    return {
        "checks": checks,
        "failing": failing,
        "passing": [(source, sorted(kinds.items())) for source, kinds in sorted(passing.items())],
        "sources_failing": sorted((k, v) for k, v in by_source.items() if v["failed"]),
        "sources_passing": sorted((k, v) for k, v in by_source.items() if not v["failed"]),
        "by_kind": sorted(by_kind.items()),
        "total": len(checks),
        "passed": sum(c["outcome"] == "passed" for c in checks),
        "failed": len(failing),
        "failed_error": sum(c["severity"] not in ("warn", "warning") for c in failing),
        "truncated": len(results) >= CHECKS_SHOWN,
        "has_results": has_results,
        "has_failures": has_failures,
    }


def _quarantine(r: Reader, run_id: str) -> dict[str, Any]:
    sources = r.rows(
        """
        select source, count(*) as rows, count(*) filter (where reason like '%; %') as multi_reason
        from audit.quarantine where run_id = ? group by source order by source
        """,
        [run_id],
    )
    reasons = r.rows(
        f"""
        with split as (
            select source, unnest(string_split(coalesce(reason, '(no reason given)'), '; ')) as reason
            from audit.quarantine where run_id = ?
        ),
        kinds as (
            select source, {_REASON_KIND_SQL} as reason_kind, reason from split where reason <> ''
        )
        select source, reason_kind, count(*) as rows, left(min(reason), ?) as example
        from kinds group by source, reason_kind
        order by source, rows desc, reason_kind
        limit ?
        """,
        [run_id, TEXT_CAP + 1, QUARANTINE_REASON_GROUPS],
    )
    samples = capped_rows(
        r,
        "audit.quarantine",
        run_id,
        groups=("source",),
        order="coalesce(file, ''), coalesce(row_number, 0)",
        n=QUARANTINE_SAMPLE_PER_SOURCE,
        columns=f"row_key, left(reason, {TEXT_CAP * 4}) as reason, left(raw_row, {RAW_ROW_CAP + 1}) as raw_row, "
        "file, row_number",
    )
    for s in sources:
        s["reasons"] = [x for x in reasons if x["source"] == s["source"]]
        s["sample"] = [x | {"raw_row": _pretty_json(x["raw_row"])} for x in samples.get((s["source"],), [])]
        s["anchor"] = _anchor("quarantine", s["source"])
    return {
        "sources": sources,
        "total": sum(s["rows"] for s in sources),
        "reasons_truncated": len(reasons) >= QUARANTINE_REASON_GROUPS,
    }


# what the `strength` of a flag measures, per rule (docs/anomalies.md, "The rules"): the report's legend
STRENGTH = {
    "hidden_complaint": "distinct complaint tickets within the window of the rep's positive records",
    "complaint_underreporting": "complaint reports missing against the peers' ratio (expected - reported)",
    "inflated_self_report": "gap in points between the mean claimed satisfaction and the mean third-party csat",
    "channel_gap": "z statistic of the gap between rep-distributed and third-party answers",
    "self_filled_survey": "distinct customers of the rep answered from one device fingerprint",
    "speeder_burst": "the count of fast or bunched answers that triggered the rule",
    "fabricated_contact": "the rep's self-reported contacts with the customer that no record supports",
}


def _flags(r: Reader, run_id: str) -> dict[str, Any]:
    rules = r.rows(
        """
        select rule_id, count(*) as flags, count(*) filter (where first_run_id = ?) as new_in_run,
               count(distinct rep_id) as reps, count(distinct period) as periods,
               min(strength) as min_strength, max(strength) as max_strength,
               max_by(
                   {'flag_id': flag_id, 'period': period, 'rep_id': rep_id, 'team_id': team_id,
                    'customer_id': customer_id, 'response_id': response_id, 'severity': severity,
                    'strength': strength, 'evidence': left(evidence, ?), 'first_run_id': first_run_id},
                   (coalesce(try_cast(strength as double), '-infinity'::double), flag_id),
                   ?
               ) as sample
        from marts.anomaly_flags group by rule_id order by rule_id
        """,
        [run_id, TEXT_CAP * 2, FLAGS_PER_RULE],
    )
    severities: dict[str, list[tuple[str, int]]] = {}
    for s in r.rows(
        "select rule_id, severity, count(*) as n from marts.anomaly_flags group by all order by rule_id, n desc"
    ):
        severities.setdefault(s["rule_id"], []).append((s["severity"], s["n"]))
    ids = sorted({f[k] for rule in rules for f in rule["sample"] for k in ("rep_id", "team_id") if f[k]})
    names = subject_names(r, ids)
    for rule in rules:
        rule["severities"] = severities.get(rule["rule_id"], [])
        rule["anchor"] = _anchor("rule", rule["rule_id"])
        rule["more"] = rule["flags"] - len(rule["sample"])
        for f in rule["sample"]:
            f["rep_name"] = names.get(("rep", f["rep_id"]))
            f["team_name"] = names.get(("team", f["team_id"]))
            f["is_new"] = f["first_run_id"] == run_id
    return {
        "rules": rules,
        "strength": [(x["rule_id"], STRENGTH.get(x["rule_id"], "see docs/anomalies.md")) for x in rules],
        "total": sum(x["flags"] for x in rules),
        "new_in_run": sum(x["new_in_run"] for x in rules),
    }


def _reviews(r: Reader, run_id: str) -> dict[str, Any]:
    """The review queue (open flags, oldest first, with their age at the run's end) and the decision log
    (every accepted decision, latest first, whether it is the one in force; then the decisions this run
    rejected)."""
    run = r.one("select coalesce(finished_at, started_at) as at from audit.runs where run_id = ?", [run_id]) or {}
    at = run.get("at") or datetime.now(UTC).replace(tzinfo=None)
    queue = r.rows(
        "select flag_id, period, rep_id, team_id, rule_id, severity, strength, is_holding, first_seen_at, "
        "left(evidence, ?) as evidence, date_diff('day', first_seen_at, ?) as age_days "
        "from marts.anomaly_flags where review_status = 'open' "
        "order by first_seen_at nulls last, period, rep_id, flag_id limit ?",
        [TEXT_CAP * 2, at, REVIEW_ROWS],
    )
    open_total = r.one("select count(*) as n from marts.anomaly_flags where review_status = 'open'")["n"]
    holding = r.one("select count(*) as n from marts.anomaly_flags where is_holding")["n"]
    log = r.rows(
        "select d.decided_at, d.flag_id, d.rule_id, d.rep_id, d.period, d.decision, d.reviewer, "
        "left(d.reason, ?) as reason, d.first_run_id, d.source_file, "
        "coalesce(f.decision_id = d.decision_id, false) as in_force "
        "from audit.flag_reviews as d left join marts.anomaly_flags as f on f.flag_id = d.flag_id "
        "order by d.decided_at desc, d.flag_id limit ?",
        [TEXT_CAP, REVIEW_ROWS],
    )
    decisions = r.one("select count(*) as n from audit.flag_reviews")["n"]
    rejected = []
    if r.has("audit.quarantine"):
        rejected = r.rows(
            "select row_key, reason, file, row_number from audit.quarantine "
            "where run_id = ? and source = 'review/flag_decisions' order by file, row_number limit ?",
            [run_id, REVIEW_ROWS],
        )
    names = subject_names(r, sorted({x["rep_id"] for x in [*queue, *log] if x["rep_id"]}))
    for x in [*queue, *log]:
        x["rep_name"] = names.get(("rep", x["rep_id"]))
    return {
        "queue": queue,
        "open_total": open_total,
        "holding": holding,
        "queue_more": open_total - len(queue),
        "log": log,
        "decisions": decisions,
        "log_more": decisions - len(log),
        "rejected": rejected,
    }


def _adjustments(r: Reader) -> dict[str, Any]:
    scorecard = (
        "marts.scorecard"
        if r.has("marts.scorecard")
        else "(select null::varchar as period, null::varchar as level, null::varchar as subject_id, "
        "null::varchar as subject_name, null::decimal(18, 2) as adjustment_points where false)"
    )
    totals = r.one(
        """
        select count(*) as adjustments,
               count(distinct (period, level, subject_id)) as subjects,
               count(distinct (period, level, subject_id)) filter (where was_clamped) as clamped_subjects,
               max(abs(subject_clamped_points)) filter (where was_clamped) as clamp_limit
        from audit.adjustments
        """
    )
    clamped = r.rows(
        f"""
        select a.period, a.level, a.subject_id, any_value(s.subject_name) as subject_name,
               count(*) as adjustments, any_value(a.subject_raw_points) as raw_points,
               any_value(a.subject_clamped_points) as clamped_points,
               any_value(s.adjustment_points) as scorecard_points,
               string_agg(a.adjustment_id, ', ' order by a.adjustment_id) as adjustment_ids
        from audit.adjustments a
        left join {scorecard} s on s.period = a.period and s.level = a.level and s.subject_id = a.subject_id
        where a.was_clamped
        group by a.period, a.level, a.subject_id
        order by a.period, a.level, a.subject_id
        limit ?
        """,
        [ADJUSTMENTS_SHOWN],
    )
    rows = r.rows(
        f"""
        select a.adjustment_id, a.adjustment_period, a.period, a.level, a.subject_id, s.subject_name,
               a.points, left(a.reason, ?) as reason, a.approved_by, a.subject_raw_points,
               a.subject_clamped_points, a.was_clamped, s.adjustment_points as scorecard_points
        from audit.adjustments a
        left join {scorecard} s on s.period = a.period and s.level = a.level and s.subject_id = a.subject_id
        order by a.period, a.level, a.subject_id, a.adjustment_id
        limit ?
        """,
        [TEXT_CAP + 1, ADJUSTMENTS_SHOWN],
    )
    for c in clamped:
        c["anchor"] = _anchor("clamped", c["period"], c["level"], c["subject_id"])
    return {
        "totals": totals,
        "clamped": clamped,
        "clamped_count": totals["clamped_subjects"],
        "rows": rows,
        "more": totals["adjustments"] - len(rows),
    }


def _disclosure(r: Reader) -> dict[str, Any]:
    """Small-cell protection of the published survey figures: the share hidden (SCORING.md)."""
    row = r.one(HIDDEN_SHARE_SQL)  # a warehouse from before the disclosure column: the section says so
    return {"share": hidden_share(tuple(row.values())) if row else None}


def _history(r: Reader, run_id: str, out: Path) -> dict[str, Any]:
    runs = r.rows(
        "select run_id, started_at, finished_at, as_of, status, checks_passed, checks_failed, published "
        "from audit.runs order by started_at desc nulls last limit ?",
        [RECENT_RUNS],
    )
    for h in runs:
        h["current"] = h["run_id"] == run_id
        h["href"] = f"{file_name(h['run_id'])}.html"
        h["has_report"] = h["current"] or (out / h["href"]).exists()
    total = r.one("select count(*) as n from audit.runs")["n"]
    return {"runs": runs, "total": total}


def cap_text(v: Any, n: int = TEXT_CAP) -> str:
    if v is None:
        return ""
    s = str(v)
    return s if len(s) <= n else s[:n] + f"… (cut at {n} characters)"


def _duration(delta) -> str:
    seconds = int(delta.total_seconds())
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def _pretty_json(raw: str | None) -> str | None:
    """A raw row as one line of `"key": value` pairs with non-ASCII text kept as is."""
    if raw is None or len(raw) > RAW_ROW_CAP:
        return cap_text(raw, RAW_ROW_CAP)
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, separators=(", ", ": "))
    except ValueError:
        return raw


def _anchor(prefix: str, *parts: Any) -> str:
    """A stable in-page id: readable slug plus a short hash (names may be non-ASCII or collide)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].strip("-")
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{prefix}-{slug}-{digest}" if slug else f"{prefix}-{digest}"
