"""From flag to decision (SCORING.md; docs/anomalies.md "Reviews").

Two sides of one loop:

- the run (`record_review_outcomes`, called after `dbt build`): decisions on anomaly flags are an input
  entity (`review/flag_decisions`). The contract (types, required reason) is checked at ingestion like
  every entity; the rules that need the run's flags (an unknown flag id, a reviewer who is the flagged
  rep) are computed by dbt (int_flag_decisions). The rejected decisions this run read go to
  audit.quarantine with their reason and leave the entity's accepted count (so rows in = accepted +
  quarantined still holds); decisions about flags of closed periods are reported (kept in
  audit.flag_reviews, they take effect when the period is reopened).
- the reviewer (`scorecard review`): checks a decision against the published marts, writes it as a new
  dated file of the landing folder and says what the next run will change; `--list` prints the queue.
"""

from __future__ import annotations

import csv
import io
import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contract.spec import spec_for
from orchestration.periods import widen_window
from orchestration.warehouse import connect

ENTITY = "review/flag_decisions"
FOLDER = Path("review") / "flag_decisions"
HEADER = [c.name for c in spec_for(ENTITY).columns]  # the contract's columns of the entity, in order
NOW_UTC = "timezone('UTC', current_timestamp)"


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def widen_for_decisions(
    con, run_id: str, period_from: str | None, period_to: str | None
) -> tuple[str | None, str | None, list[str]]:
    """The refresh window of a run that read new decisions: a decision about a flag of a period outside
    the run's partition range (the nightly window is the open and the previous period) must still reach
    that period's grades, so the window is widened to cover it. Returns (period_from, period_to, the
    decided periods outside the range, orchestration/periods.py widen_window). Periods come from the flags
    published before this run (a flag first raised by this run lies in its window)."""
    if period_from is None and period_to is None:
        return None, None, []  # every period is rebuilt
    if not (_has_table(con, "raw", "review__flag_decisions") and _has_table(con, "marts", "anomaly_flags")):
        return period_from, period_to, []
    periods = [
        p
        for (p,) in con.execute(
            "select distinct f.period from raw.review__flag_decisions as d "
            "inner join marts.anomaly_flags as f on f.flag_id = d.flag_id "
            "where d._run_id = ? and d._is_current",
            [run_id],
        ).fetchall()
    ]
    return widen_window(period_from, period_to, periods)


def record_review_outcomes(con, run_id: str) -> tuple[int, int]:
    """After dbt: quarantine the decisions this run read that dbt rejected, correct the entity's counts,
    and record two checks (check_kind `review`): `decision_rules` and `decision_for_closed_period`.
    Returns (rejected, for closed periods). Idempotent for a run (its rows are replaced)."""
    if not _has_table(con, "intermediate", "int_flag_decisions"):
        return 0, 0  # dbt stopped before the decisions were checked: nothing to say about them
    mine = "run_id = ? and source = ? and reason like 'review: %'"
    before = con.execute(f"select count(*) from audit.quarantine where {mine}", [run_id, ENTITY]).fetchone()[0]
    con.execute(f"delete from audit.quarantine where {mine}", [run_id, ENTITY])
    for table in ("check_results", "validation_failures"):
        con.execute(f"delete from audit.{table} where run_id = ? and check_kind = 'review'", [run_id])
    rejected_sql = (
        "select flag_id, decision, reviewer, decided_at_utc, reason, source_file, source_row, rejection_reason "
        "from intermediate.int_flag_decisions where landed_run_id = ? and not is_accepted"
    )
    rejected = con.execute(f"select count(*) from ({rejected_sql})", [run_id]).fetchone()[0]
    con.execute(
        f"""insert into audit.quarantine
        select ?, ?, flag_id, 'review: ' || rejection_reason,
               to_json(struct_pack(flag_id := flag_id, decision := decision, reviewer := reviewer,
                                   decided_at := strftime(decided_at_utc, '%Y-%m-%dT%H:%M:%SZ'),
                                   reason := reason))::varchar,
               source_file, source_row, {NOW_UTC}
        from ({rejected_sql}) order by source_file, source_row""",
        [run_id, ENTITY, run_id],
    )
    # ingestion counted these rows as accepted (they met the contract): move them to quarantined, once
    con.execute(
        "update audit.run_counts set accepted = accepted + ? - ?, quarantined = quarantined - ? + ? "
        "where run_id = ? and entity = ?",
        [before, rejected, before, rejected, run_id, ENTITY],
    )
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'review', ?, 'decision_rules', 'warn', ?, ?, ?)",
        [
            run_id,
            ENTITY,
            rejected == 0,
            rejected,
            f"{rejected} decision(s) rejected (unknown flag id or reviewer who is the flagged rep) and quarantined"
            if rejected
            else "every decision read names a flag of this run and a reviewer who is not the flagged rep",
        ],
    )
    con.execute(
        f"""insert into audit.validation_failures
        select ?, {NOW_UTC}, ?, 'decision_rules', 'warn', flag_id,
               case when starts_with(rejection_reason, 'unknown_flag_id') then 'flag_id' else 'reviewer' end,
               case when starts_with(rejection_reason, 'unknown_flag_id') then flag_id else reviewer end,
               rejection_reason || ' (' || source_file || ' line ' || source_row || ')', 'review'
        from ({rejected_sql}) order by source_file, source_row""",
        [run_id, ENTITY, run_id],
    )
    closed_sql = (
        "select d.flag_id, d.period, d.decision, d.reviewer, d.source_file, d.source_row "
        "from intermediate.int_flag_decisions as d "
        "where d.landed_run_id = ? and d.is_accepted and d.period in (select period from raw.cfg_closed_periods)"
    )
    closed = con.execute(f"select count(*) from ({closed_sql})", [run_id]).fetchone()[0]
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'review', ?, 'decision_for_closed_period', "
        "'warn', ?, ?, ?)",
        [
            run_id,
            ENTITY,
            closed == 0,
            closed,
            f"{closed} decision(s) about flags of closed periods kept in audit.flag_reviews; the frozen grades "
            "do not change until the period is reopened"
            if closed
            else "no decision about a flag of a closed period",
        ],
    )
    con.execute(
        f"""insert into audit.validation_failures
        select ?, {NOW_UTC}, ?, 'decision_for_closed_period', 'warn', flag_id, 'flag_id', period,
               decision || ' by ' || reviewer || ' for closed period ' || period || ' (' || source_file
               || ' line ' || source_row || '): kept in audit.flag_reviews, takes effect when the period is reopened',
               'review'
        from ({closed_sql}) order by source_file, source_row""",
        [run_id, ENTITY, run_id],
    )
    return rejected, closed


# --- scorecard review -------------------------------------------------------------------------------


class ReviewError(Exception):
    """A decision that cannot be written: one line for the reviewer."""


@dataclass(frozen=True)
class Flag:
    flag_id: str
    period: str
    rep_id: str
    rep_name: str | None
    team_id: str | None
    rule_id: str
    severity: str
    strength: float | None
    evidence: str
    first_seen_at: datetime | None
    review_status: str
    reviewed_by: str | None
    decided_at: datetime | None
    on_open: str | None
    on_confirm: str | None
    is_holding: bool
    response_id: str | None


_FLAG_COLUMNS = (
    "f.flag_id, f.period, f.rep_id, r.rep_name, f.team_id, f.rule_id, f.severity, f.strength, f.evidence, "
    "f.first_seen_at, f.review_status, f.reviewed_by, f.decided_at, f.on_open, f.on_confirm, f.is_holding, "
    "f.response_id"
)
_FLAG_FROM = (
    "marts.anomaly_flags as f left join (select rep_id, any_value(rep_name) as rep_name "
    "from staging.stg_crm__reps group by rep_id) as r on f.rep_id = r.rep_id"
)


@contextmanager
def _published(warehouse: str | Path):
    """A read-only connection to the published warehouse, which must hold marts.anomaly_flags."""
    path = Path(warehouse)
    if not path.is_file():
        raise ReviewError(f"no published warehouse at {path}: run `scorecard run` first")
    with connect(path, read_only=True) as con:
        if not _has_table(con, "marts", "anomaly_flags"):
            raise ReviewError(f"{path} has no marts.anomaly_flags: run `scorecard run` first")
        yield con


def _flags(con, where: str = "", params: list | None = None) -> list[Flag]:
    rows = con.execute(
        f"select {_FLAG_COLUMNS} from {_FLAG_FROM} {where} order by f.first_seen_at, f.period, f.rep_id, f.flag_id",
        params or [],
    ).fetchall()
    return [Flag(*r) for r in rows]


def review_queue(warehouse: str | Path, open_only: bool = False) -> list[Flag]:
    """The flags of the published marts, oldest first (first seen), open ones only with `open_only`."""
    with _published(warehouse) as con:
        return _flags(con, "where f.review_status = 'open'" if open_only else "")


def format_queue(flags: list[Flag], now: datetime, open_only: bool) -> str:
    if not flags:
        return "no open flag: the review queue is empty" if open_only else "no anomaly flag in the published marts"
    lines = [
        f"{len(flags)} {'open ' if open_only else ''}flag(s), oldest first "
        f"({sum(f.review_status == 'open' for f in flags)} open, {sum(f.is_holding for f in flags)} holding a grade)",
        f"{'age':>5}  {'flag_id':<32}  {'status':<9}  {'rule':<24}  {'rep':<16}  {'period':<8}  {'strength':>8}",
    ]
    for f in flags:
        seen = f.first_seen_at.replace(tzinfo=UTC) if f.first_seen_at else None
        age = f"{(now - seen).days}d" if seen else "-"
        rep = f"{f.rep_id} {f.rep_name or ''}".strip()
        strength = f"{f.strength:.2f}" if f.strength is not None else "-"
        status = f.review_status + ("*" if f.is_holding else "")
        lines.append(
            f"{age:>5}  {f.flag_id:<32}  {status:<9}  {f.rule_id:<24}  {rep[:16]:<16}  {f.period:<8}  {strength:>8}"
        )
        lines.append(f"       {f.evidence}")
        if f.review_status != "open":
            lines.append(f"       {f.review_status} by {f.reviewed_by} at {f.decided_at:%Y-%m-%d %H:%M} UTC")
    lines.append("* holds its subject's grade until decided (scorecard review FLAG_ID --confirm|--dismiss ...)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Written:
    path: Path
    flag: Flag
    effects: list[str]


def _reviewer_is_rep(con, reviewer: str, rep_id: str) -> str | None:
    """The reviewer is the flagged rep (by rep id, name or e-mail, trimmed, case-insensitive): the same rule
    as dbt's `checked_flag_decisions` (macros/flag_reviews.sql), which decides at the run; this copy
    answers at once, before a file is written (tested: tests/integration/test_dbt_reviews.py for dbt's,
    tests/e2e/test_write_audit_publish.py for this one)."""
    row = con.execute(
        "select case when lower(trim(?)) = lower(trim(rep_id)) then 'rep_id' "
        "when lower(trim(?)) = lower(trim(rep_name)) then 'name' "
        "when lower(trim(?)) = lower(trim(email)) then 'email' end "
        "from staging.stg_crm__reps where rep_id = ?",
        [reviewer, reviewer, reviewer, rep_id],
    ).fetchall()
    return next((r[0] for r in row if r[0]), None)


def landed_decisions(landing: str | Path) -> set[str]:
    """The flag ids of every decision file in the landing folder (CSV only: the files this command
    writes; decisions are few, so reading them whole is bounded). Used to say what the next run
    changes when decisions have landed since the last run."""
    ids: set[str] = set()
    folder = Path(landing) / FOLDER
    if not folder.is_dir():
        return ids
    for path in folder.rglob("*.csv"):
        try:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                ids |= {(row.get("flag_id") or "").strip() for row in csv.DictReader(fh)}
        except (OSError, UnicodeDecodeError, csv.Error):
            continue  # the next run reports an unreadable file; here it only makes the forecast coarser
    return ids


def _effects(con, flag: Flag, decision: str, penalty_points: float | None, closed: bool, landed: set[str]) -> list[str]:
    """What the next run changes when `decision` is taken on `flag` (from the published marts and the
    decisions `landed` in the landing folder since)."""
    effects: list[str] = []
    who = f"{flag.rep_id}{f' {flag.rep_name}' if flag.rep_name else ''}"
    if closed:
        effects.append(
            f"period {flag.period} is closed: the decision is kept in audit.flag_reviews and changes nothing "
            "until the period is reopened (scorecard reopen-period)"
        )
        return effects
    if flag.review_status != "open":
        effects.append(
            f"replaces the decision '{flag.review_status}' by {flag.reviewed_by} at {flag.decided_at:%Y-%m-%d %H:%M} "
            "UTC (the latest decided_at counts)"
        )
    if decision == "confirmed" and flag.on_confirm == "exclude_responses":
        responses = [
            r[0]
            for r in con.execute(
                "select response_id from intermediate.int_anomaly_flag_responses where flag_id = ? order by 1",
                [flag.flag_id],
            ).fetchall()
        ]
        shown = ", ".join(responses[:10]) + (f", ... ({len(responses) - 10} more)" if len(responses) > 10 else "")
        effects.append(
            f"{len(responses)} response(s) ({shown}) leave nps, csat and key_account_nps of rep {who}, "
            f"team {flag.team_id} and the company for {flag.period} (audit.excluded_responses)"
        )
    elif decision == "confirmed" and flag.on_confirm == "penalty":
        effects.append(
            f"{who}'s {flag.period} final score loses {penalty_points or 0:.2f} points "
            f"(score_statement line 'confirmed {flag.rule_id} {flag.flag_id}'), outside the adjustment cap"
        )
    elif decision == "confirmed":
        effects.append("noted (policy note): no figure changes")
    elif flag.review_status == "confirmed" and flag.on_confirm == "exclude_responses":
        effects.append("the flag's responses come back into the survey figures")
    else:
        effects.append("dismissed: the figures stay as computed")
    if flag.is_holding or (flag.on_open == "hold" and flag.review_status == "open"):
        for level, subject, column in (("rep", flag.rep_id, "rep_id"), ("team", flag.team_id, "team_id")):
            if subject is None:
                continue
            holding = con.execute(
                f"select flag_id from marts.anomaly_flags where {column} = ? and period = ? and is_holding "
                "and flag_id <> ?",
                [subject, flag.period, flag.flag_id],
            ).fetchall()
            others = sum(1 for (other,) in holding if other not in landed)
            name = who if level == "rep" else f"team {subject}"
            if others:
                effects.append(
                    f"{name}'s {flag.period} grade stays held: {others} other holding flag(s) still undecided"
                )
            else:
                effects.append(
                    f"{name}'s {flag.period} grade is released (grade_status final, bonus coefficient of its grade)"
                )
    return effects


def write_decision(
    landing: str | Path,
    warehouse: str | Path,
    flag_id: str,
    decision: str,
    reviewer: str,
    reason: str,
    decided_at: datetime | None = None,
    policy: dict[str, dict] | None = None,
    closed_periods: set[str] | None = None,
) -> Written:
    """Check the decision against the published marts, write it as a new file of the landing folder's
    review/flag_decisions/ and say what the next run changes (under `policy`, the scheme file's
    anomaly_policy(), which the next run applies; the published one without it, and the periods the next
    run keeps closed; the last run's without them). Raises ReviewError (one line)."""
    if decision not in ("confirmed", "dismissed"):
        raise ReviewError(f"decision must be confirmed or dismissed, not {decision!r}")
    reviewer, reason, flag_id = (reviewer or "").strip(), (reason or "").strip(), (flag_id or "").strip()
    if not reason:
        raise ReviewError("--reason is required: say why (it is kept with the decision in audit.flag_reviews)")
    if not reviewer:
        raise ReviewError("--by is required: the reviewer's name")
    with _published(warehouse) as con:
        found = _flags(con, "where f.flag_id = ?", [flag_id])
        if not found:
            raise ReviewError(
                f"unknown flag id {flag_id!r}: no flag with this id in {warehouse} (scorecard review --list)"
            )
        flag = found[0]
        if (by := _reviewer_is_rep(con, reviewer, flag.rep_id)) is not None:
            raise ReviewError(
                f"reviewer {reviewer!r} is the flagged rep {flag.rep_id} (by {by}): a rep cannot decide on a flag "
                "about themselves"
            )
        if closed_periods is None:  # those of the last run
            closed_periods = set()
            if _has_table(con, "raw", "cfg_closed_periods"):
                closed_periods = {p for (p,) in con.execute("select period from raw.cfg_closed_periods").fetchall()}
        closed = flag.period in closed_periods
        rule_policy = (policy or {}).get(flag.rule_id)
        penalty_points = None
        if rule_policy:
            flag = replace(flag, on_open=rule_policy["on_open"], on_confirm=rule_policy["on_confirm"])
            penalty_points = float(rule_policy["penalty_points"])
        effects = _effects(con, flag, decision, penalty_points, closed, landed_decisions(landing))
    when = (decided_at or datetime.now(UTC)).astimezone(UTC)
    folder = Path(landing) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(HEADER)
    out.writerow([flag.flag_id, decision, reviewer, when.strftime("%Y-%m-%dT%H:%M:%SZ"), reason])
    stem = f"{when:%Y%m%dT%H%M%SZ}-{flag.flag_id[:12]}"
    for n in range(1000):  # a new file per decision, never an overwrite
        path = folder / (f"{stem}.csv" if n == 0 else f"{stem}-{n}.csv")
        tmp = folder / f".{path.name}.tmp"  # not a .csv: ingestion does not read it
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        try:
            os.link(tmp, path)  # fails if the name is taken: atomic, and no half-written .csv is ever seen
        except FileExistsError:
            continue
        finally:
            tmp.unlink()
        return Written(path, flag, effects)
    raise ReviewError(f"{folder}: could not find a free file name for {stem}.csv")
