"""The input contract (CONTRACT.md) as code: one pandera model per entity.

These models are the single source of truth for column names, types, enumerations, ranges and
row rules. `orchestration.contract.sql` compiles them to DuckDB SQL so that the bulk of the
row-level validation runs inside the warehouse, and `orchestration.contract.validate` runs the
same models with pandera over bounded chunks of what the SQL accepted.

Field metadata:
- ``kind``: how the raw text is parsed (id, text, enum, timestamp, date, money, points, int, float,
  bool, currency, period).
- ``plan``: a plan date (``due_on`` of improvement actions, ``planned_on`` of follow-ups): it may lie
  in the future, so the "not more than one day after as-of" rule is skipped for it (SQL and pandera).
- Dates and timestamps reach pandera as ``datetime64[us, UTC]`` (values are UTC, dates as UTC
  midnight): microseconds cover every year the SQL lets through (1900-9999), nanoseconds would not
  (pandas' ``datetime64[ns]`` ends in 2262).
- The primary key is listed in ``Config.metadata["key"]``; ``row_rules`` maps a rule name to the
  SQL predicate a valid row satisfies (the same rule is a pandera ``dataframe_check`` of that name).
- ``Config.metadata["event_column"]`` (entities that have one): the column that places a row in a
  period (a local date or timestamp, or the period label itself); closed periods use it to find late
  rows (orchestration/closed_periods.py).
- ``Config.description`` describes the raw table, each field's ``description`` its column: the dbt
  sources (dbt_project/models/staging/__sources.yml) are generated from them
  (``python -m orchestration.contract.dbt_sources --write``).
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

PERIOD_REGEX = r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"


def field(kind: str, required: bool = False, plan: bool = False, *, description: str, **checks) -> object:
    """A contract column: `required` columns may not be empty; `plan` dates may lie in the future.
    `description` is what the column holds (dbt's sources are generated from it: the key, required,
    enumeration, range and plan facts are added from the checks, so it need not repeat them)."""
    meta = {"kind": kind, "plan": True} if plan else {"kind": kind}
    return pa.Field(nullable=not required, metadata=meta, description=description, **checks)


VERSION_TIME = "Version time: among versions of one key the latest updated_at wins."


Text = Series[str]
# to_datetime_kwargs, unit, tz, time_zone_agnostic, tz_localize_kwargs (pandera's DateTime)
Time = Series[Annotated[pandas_engine.DateTime, {}, "us", UTC, False, {}]]
Num = Series[float]
Int = Series[pd.Int64Dtype]
Bool = Series[pd.BooleanDtype]


class _Base(pa.DataFrameModel):
    class Config:
        coerce = True
        strict = False  # technical and extra columns ride along


def _not_before(df: pd.DataFrame, later: str, earlier: str) -> pd.Series:
    return df[later].isna() | df[earlier].isna() | (df[later] >= df[earlier])


class Teams(_Base):
    team_id: Text = field("id", True, description="Team identifier.")
    team_name: Text = field("text", True, description="Team name.")
    region: Text = field("text", True, description="Sales region of the team.")
    business_stage: Text = field(
        "enum", True, isin=["new_business", "mature"], description="Names the scoring scheme the team is graded with."
    )
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    class Config:
        description = "Sales teams; business_stage names the scoring scheme of the team."
        metadata = {"entity": "crm/teams", "key": ["team_id"], "row_rules": {}}


class Reps(_Base):
    rep_id: Text = field("id", True, description="Rep identifier.")
    rep_name: Text = field("text", True, description="Rep name.")
    team_id: Text = field(
        "id",
        True,
        description="Current team of the rep (crm/teams): the latest reps row decides, no membership history.",
    )
    email: Text = field("text", description="The rep's email address.")
    hired_on: Time = field("date", True, description="Local date the rep was hired.")
    left_on: Time = field(
        "date",
        description="Local date the rep left: not graded for a period that starts after it. Empty while employed.",
    )
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    class Config:
        description = "Sales reps with their current team (no membership history)."
        metadata = {"entity": "crm/reps", "key": ["rep_id"], "row_rules": {}}


class Customers(_Base):
    customer_id: Text = field("id", True, description="Customer identifier.")
    customer_name: Text = field("text", True, description="Customer name.")
    region: Text = field("text", True, description="Region of the customer.")
    segment: Text = field("enum", True, isin=["key_account", "vip", "standard"], description="Customer segment.")
    industry: Text = field("text", description="Industry of the customer.")
    acquired_on: Time = field("date", True, description="Local date of acquisition.")
    acquisition_channel: Text = field(
        "enum",
        True,
        isin=["referral", "marketing", "outbound", "inbound", "partner", "other"],
        description="How the customer was acquired.",
    )
    referred_by_customer_id: Text = field("id", description="The customer who referred this one (crm/customers).")
    owner_rep_id: Text = field(
        "id", True, description="Rep owning the customer (crm/reps); a ticket without rep_id is attributed to this rep."
    )
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    class Config:
        description = "Customers with their owner rep and acquisition."
        metadata = {"entity": "crm/customers", "key": ["customer_id"], "row_rules": {}}


class Deals(_Base):
    deal_id: Text = field("id", True, description="Deal identifier.")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    product_line: Text = field("text", True, description="Product line of the deal.")
    stage: Text = field("enum", True, isin=["open", "won", "lost"], description="Deal stage.")
    amount: Num = field("money", True, ge=0, description="Amount in the deal currency.")
    currency: Text = field(
        "currency",
        description=(
            "Deal currency: the base currency (config currency.base, default CNY) when empty; a currency "
            "without a rate in currency.rates quarantines the row."
        ),
    )
    closed_on: Time = field("date", description="Local date the deal was won or lost: required when won or lost.")
    collected_amount: Num = field("money", ge=0, description="Collected amount in the deal currency, not above amount.")
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    @pa.dataframe_check(name="collected_amount_not_above_amount")
    def _collected(cls, df: pd.DataFrame) -> pd.Series:
        return df["collected_amount"].isna() | (df["collected_amount"] <= df["amount"])

    @pa.dataframe_check(name="closed_on_required_when_won_or_lost")
    def _closed(cls, df: pd.DataFrame) -> pd.Series:
        return ~df["stage"].isin(["won", "lost"]) | df["closed_on"].notna()

    class Config:
        description = "Deals; amounts also converted to the base currency (var currency_base) with var currency_rates."
        metadata = {
            "entity": "crm/deals",
            "event_column": "closed_on",
            "key": ["deal_id"],
            "row_rules": {
                "collected_amount_not_above_amount": "collected_amount is null or collected_amount <= amount",
                "closed_on_required_when_won_or_lost": "stage not in ('won', 'lost') or closed_on is not null",
            },
        }


class Targets(_Base):
    period: Text = field(
        "period", True, str_matches=PERIOD_REGEX, description="Period label of the target: YYYY-MM, YYYY-Qn or YYYY."
    )
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    sales_target: Num = field("money", True, gt=0, description="Sales target of the rep for the period.")
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    class Config:
        description = "Sales targets per rep and period label (YYYY-MM, YYYY-Qn or YYYY)."
        metadata = {"entity": "crm/targets", "event_column": "period", "key": ["period", "rep_id"], "row_rules": {}}


class Proposals(_Base):
    proposal_id: Text = field("id", True, description="Proposal identifier.")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    deal_id: Text = field("id", description="The deal of the proposal (crm/deals), if any.")
    submitted_at: Time = field("timestamp", True, description="When the proposal was submitted.")
    customer_verdict: Text = field(
        "enum",
        True,
        isin=["fully_meets", "partially_meets", "does_not_meet", "pending"],
        description="The customer's verdict on the proposal.",
    )
    verdict_at: Time = field("timestamp", description="When the customer gave the verdict.")
    updated_at: Time = field("timestamp", description=VERSION_TIME)

    class Config:
        description = "Proposals and the customer's verdict on them."
        metadata = {"entity": "crm/proposals", "event_column": "submitted_at", "key": ["proposal_id"], "row_rules": {}}


class Followups(_Base):
    followup_id: Text = field("id", True, description="Follow-up identifier.")
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    planned_on: Time = field("date", True, plan=True, description="Local date the follow-up is planned for.")
    completed_at: Time = field("timestamp", description="When the follow-up was done. Empty while not done.")
    channel: Text = field("text", description="Channel of the follow-up (free text).")

    class Config:
        description = "Planned follow-ups and their completion."
        metadata = {"entity": "crm/followups", "event_column": "planned_on", "key": ["followup_id"], "row_rules": {}}


class Interactions(_Base):
    interaction_id: Text = field("id", True, description="Interaction identifier.")
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    channel: Text = field("enum", True, isin=["email", "phone", "im", "visit"], description="Channel of the contact.")
    customer_contacted_at: Time = field("timestamp", True, description="When the customer contacted the rep.")
    rep_responded_at: Time = field(
        "timestamp", description="When the rep answered: not before customer_contacted_at. Empty when unanswered."
    )

    @pa.dataframe_check(name="rep_responded_not_before_contact")
    def _responded(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "rep_responded_at", "customer_contacted_at")

    class Config:
        description = "Customer contacts and the rep's answer."
        metadata = {
            "entity": "crm/interactions",
            "event_column": "customer_contacted_at",
            "key": ["interaction_id"],
            "row_rules": {
                "rep_responded_not_before_contact": (
                    "rep_responded_at is null or rep_responded_at >= customer_contacted_at"
                ),
            },
        }


class FeedbackSelfReported(_Base):
    record_id: Text = field("id", True, description="Record identifier.")
    rep_id: Text = field("id", True, description="The reporting rep (crm/reps).")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    contact_on: Time = field("date", True, description="Local date of the contact the feedback is about.")
    reported_on: Time = field("date", True, description="Local date the rep reported it.")
    kind: Text = field(
        "enum", True, isin=["praise", "suggestion", "complaint", "neutral"], description="Kind of feedback."
    )
    claimed_satisfaction: Int = field(
        "int", in_range={"min_value": 1, "max_value": 5}, description="Satisfaction the rep claims for the customer."
    )
    complaint_resolved: Bool = field("bool", description="Whether the rep says the complaint was resolved.")
    note: Text = field("text", description="Free-text note.")

    class Config:
        description = "Feedback reps log about their customers (cross-validated, not scored)."
        metadata = {
            "entity": "crm/feedback_self_reported",
            "event_column": "contact_on",
            "key": ["record_id"],
            "row_rules": {},
        }


class Adjustments(_Base):
    adjustment_id: Text = field("id", True, description="Adjustment identifier.")
    period: Text = field(
        "period",
        True,
        str_matches=PERIOD_REGEX,
        description="Period label: YYYY-MM, YYYY-Qn or YYYY (may be finer than the grain).",
    )
    level: Text = field(
        "enum", True, isin=["rep", "team"], description="Whether a rep's or a team's score is adjusted."
    )
    subject_id: Text = field("id", True, description="rep_id or team_id, by level.")
    points: Num = field("points", True, description="Points added to the score (negative: taken from it).")
    reason: Text = field("text", True, description="Why the score is adjusted (non-empty).")
    approved_by: Text = field("text", True, description="Who approved the adjustment.")

    class Config:
        description = "Manager adjustments of a rep's or team's score, with reason and approver."
        metadata = {"entity": "crm/adjustments", "event_column": "period", "key": ["adjustment_id"], "row_rules": {}}


class ImprovementActions(_Base):
    action_id: Text = field("id", True, description="Action identifier.")
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    ticket_id: Text = field("id", description="The ticket the action answers (tickets/tickets), if any.")
    issue_type: Text = field(
        "enum", True, isin=["communication", "service", "solution", "other"], description="Kind of issue addressed."
    )
    measure: Text = field("text", True, description="The measure taken.")
    due_on: Time = field("date", True, plan=True, description="Local date the action is due.")
    completed_on: Time = field("date", description="Local date the action was completed. Empty while open.")
    customer_confirmed: Bool = field("bool", description="Whether the customer confirmed the improvement.")
    confirmed_via: Text = field("text", description="How the customer confirmed it.")

    class Config:
        description = "Improvement actions taken after complaints."
        metadata = {
            "entity": "crm/improvement_actions",
            "event_column": "due_on",
            "key": ["action_id"],
            "row_rules": {},
        }


class RepDevices(_Base):
    rep_id: Text = field("id", True, description="The rep (crm/reps).")
    fingerprint: Text = field("id", True, description="Hashed device or network id used by the rep.")

    class Config:
        description = "Hashed device or network fingerprints used by reps (optional source)."
        # No natural single-column key: a rep may use several devices.
        metadata = {"entity": "crm/rep_devices", "key": ["rep_id", "fingerprint"], "row_rules": {}}


class Invitations(_Base):
    invitation_id: Text = field("id", True, description="Invitation identifier.")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    rep_id: Text = field("id", True, description="The rep a response to the invitation is attributed to (crm/reps).")
    deal_id: Text = field("id", description="The deal surveyed (crm/deals), if any.")
    channel: Text = field(
        "enum", True, isin=["third_party", "rep_distributed", "crm_auto"], description="How the survey was distributed."
    )
    sent_at: Time = field("timestamp", True, description="When the invitation was sent.")

    class Config:
        description = "Survey invitations: the rep and channel a response is attributed to."
        metadata = {
            "entity": "survey/invitations",
            "event_column": "sent_at",
            "key": ["invitation_id"],
            "row_rules": {},
        }


class Responses(_Base):
    response_id: Text = field("id", True, description="Response identifier.")
    invitation_id: Text = field(
        "id", True, description="The invitation answered (survey/invitations): sent before the response."
    )
    responded_at: Time = field("timestamp", True, description="When the survey was answered.")
    nps: Int = field(
        "int", True, in_range={"min_value": 0, "max_value": 10}, description="Net promoter score answer (integer)."
    )
    csat: Int = field(
        "int", in_range={"min_value": 1, "max_value": 5}, description="Customer satisfaction answer (integer)."
    )
    comment: Text = field("text", description="Free-text comment.")
    respondent_fingerprint: Text = field("id", description="Hashed device or network id of the respondent.")
    duration_seconds: Num = field("float", ge=0, description="Seconds the respondent took to answer.")

    class Config:
        description = "Survey responses (nps 0..10, csat 1..5)."
        metadata = {
            "entity": "survey/responses",
            "event_column": "responded_at",
            "key": ["response_id"],
            "row_rules": {},
        }


class FlagDecisions(_Base):
    """An auditor's decision on an anomaly flag (SCORING.md "From flag to decision"). Every distinct
    decision is its own row (the key is the whole row): the latest decided_at per flag wins in dbt
    (int_flag_decisions), and every accepted one stays in audit.flag_reviews. Unknown flag ids and
    reviewers who are the flagged rep are quarantined after dbt has computed the run's flags
    (orchestration/reviews.py); an empty reason here, as a missing required value."""

    flag_id: Text = field("id", True, description="The decided flag (marts.anomaly_flags.flag_id).")
    decision: Text = field("enum", True, isin=["confirmed", "dismissed"], description="The auditor's decision.")
    reviewer: Text = field("text", True, description="Who decided (name, id or email as written).")
    decided_at: Time = field("timestamp", True, description="When the decision was taken.")
    reason: Text = field("text", True, description="Why (an empty reason is a missing required value).")

    class Config:
        description = (
            "Auditors' decisions on anomaly flags (confirmed | dismissed), one row per distinct decision; "
            "`scorecard review` appends them."
        )
        metadata = {
            "entity": "review/flag_decisions",
            "key": ["flag_id", "decided_at", "reviewer", "decision", "reason"],
            "row_rules": {},
        }


class Tickets(_Base):
    ticket_id: Text = field("id", True, description="Ticket identifier.")
    customer_id: Text = field("id", True, description="The customer (crm/customers).")
    rep_id: Text = field("id", description="The rep (crm/reps). Empty: attributed to the customer's owner rep.")
    type: Text = field(
        "enum",
        True,
        isin=["complaint", "inquiry", "request"],
        description="Ticket type: complaints feed the complaint indicators.",
    )
    category: Text = field(
        "enum",
        True,
        isin=["communication", "service", "solution", "product", "billing", "delivery", "other"],
        description="What the ticket is about.",
    )
    severity: Text = field(
        "enum", True, isin=["low", "medium", "high", "critical"], description="Severity of the ticket."
    )
    opened_at: Time = field("timestamp", True, description="When the ticket was opened.")
    first_response_at: Time = field("timestamp", description="First response to the ticket: not before opened_at.")
    resolved_at: Time = field(
        "timestamp", description="When the ticket was resolved: not before opened_at. Empty while unresolved."
    )
    description: Text = field("text", description="Free-text description.")

    @pa.dataframe_check(name="first_response_not_before_opened")
    def _first(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "first_response_at", "opened_at")

    @pa.dataframe_check(name="resolved_not_before_opened")
    def _resolved(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "resolved_at", "opened_at")

    class Config:
        description = "Service-desk tickets; complaints feed the complaint indicators."
        metadata = {
            "entity": "tickets/tickets",
            "event_column": "opened_at",
            "key": ["ticket_id"],
            "row_rules": {
                "first_response_not_before_opened": "first_response_at is null or first_response_at >= opened_at",
                "resolved_not_before_opened": "resolved_at is null or resolved_at >= opened_at",
            },
        }


MODELS: tuple[type[_Base], ...] = (
    Teams,
    Reps,
    Customers,
    Deals,
    Targets,
    Proposals,
    Followups,
    Interactions,
    FeedbackSelfReported,
    Adjustments,
    ImprovementActions,
    RepDevices,
    Invitations,
    Responses,
    FlagDecisions,
    Tickets,
)
