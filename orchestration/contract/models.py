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
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

PERIOD_REGEX = r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"


def field(kind: str, required: bool = False, plan: bool = False, **checks) -> object:
    """A contract column: `required` columns may not be empty; `plan` dates may lie in the future."""
    meta = {"kind": kind, "plan": True} if plan else {"kind": kind}
    return pa.Field(nullable=not required, metadata=meta, **checks)


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
    team_id: Text = field("id", True)
    team_name: Text = field("text", True)
    region: Text = field("text", True)
    business_stage: Text = field("enum", True, isin=["new_business", "mature"])
    updated_at: Time = field("timestamp")

    class Config:
        metadata = {"entity": "crm/teams", "key": ["team_id"], "row_rules": {}}


class Reps(_Base):
    rep_id: Text = field("id", True)
    rep_name: Text = field("text", True)
    team_id: Text = field("id", True)
    email: Text = field("text")
    hired_on: Time = field("date", True)
    left_on: Time = field("date")
    updated_at: Time = field("timestamp")

    class Config:
        metadata = {"entity": "crm/reps", "key": ["rep_id"], "row_rules": {}}


class Customers(_Base):
    customer_id: Text = field("id", True)
    customer_name: Text = field("text", True)
    region: Text = field("text", True)
    segment: Text = field("enum", True, isin=["key_account", "vip", "standard"])
    industry: Text = field("text")
    acquired_on: Time = field("date", True)
    acquisition_channel: Text = field(
        "enum", True, isin=["referral", "marketing", "outbound", "inbound", "partner", "other"]
    )
    referred_by_customer_id: Text = field("id")
    owner_rep_id: Text = field("id", True)
    updated_at: Time = field("timestamp")

    class Config:
        metadata = {"entity": "crm/customers", "key": ["customer_id"], "row_rules": {}}


class Deals(_Base):
    deal_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    product_line: Text = field("text", True)
    stage: Text = field("enum", True, isin=["open", "won", "lost"])
    amount: Num = field("money", True, ge=0)
    currency: Text = field("currency")
    closed_on: Time = field("date")
    collected_amount: Num = field("money", ge=0)
    updated_at: Time = field("timestamp")

    @pa.dataframe_check(name="collected_amount_not_above_amount")
    def _collected(cls, df: pd.DataFrame) -> pd.Series:
        return df["collected_amount"].isna() | (df["collected_amount"] <= df["amount"])

    @pa.dataframe_check(name="closed_on_required_when_won_or_lost")
    def _closed(cls, df: pd.DataFrame) -> pd.Series:
        return ~df["stage"].isin(["won", "lost"]) | df["closed_on"].notna()

    class Config:
        metadata = {
            "entity": "crm/deals",
            "key": ["deal_id"],
            "row_rules": {
                "collected_amount_not_above_amount": "collected_amount is null or collected_amount <= amount",
                "closed_on_required_when_won_or_lost": "stage not in ('won', 'lost') or closed_on is not null",
            },
        }


class Targets(_Base):
    period: Text = field("period", True, str_matches=PERIOD_REGEX)
    rep_id: Text = field("id", True)
    sales_target: Num = field("money", True, gt=0)
    updated_at: Time = field("timestamp")

    class Config:
        metadata = {"entity": "crm/targets", "key": ["period", "rep_id"], "row_rules": {}}


class Proposals(_Base):
    proposal_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    deal_id: Text = field("id")
    submitted_at: Time = field("timestamp", True)
    customer_verdict: Text = field("enum", True, isin=["fully_meets", "partially_meets", "does_not_meet", "pending"])
    verdict_at: Time = field("timestamp")
    updated_at: Time = field("timestamp")

    class Config:
        metadata = {"entity": "crm/proposals", "key": ["proposal_id"], "row_rules": {}}


class Followups(_Base):
    followup_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    planned_on: Time = field("date", True, plan=True)
    completed_at: Time = field("timestamp")
    channel: Text = field("text")

    class Config:
        metadata = {"entity": "crm/followups", "key": ["followup_id"], "row_rules": {}}


class Interactions(_Base):
    interaction_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    channel: Text = field("enum", True, isin=["email", "phone", "im", "visit"])
    customer_contacted_at: Time = field("timestamp", True)
    rep_responded_at: Time = field("timestamp")

    @pa.dataframe_check(name="rep_responded_not_before_contact")
    def _responded(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "rep_responded_at", "customer_contacted_at")

    class Config:
        metadata = {
            "entity": "crm/interactions",
            "key": ["interaction_id"],
            "row_rules": {
                "rep_responded_not_before_contact": (
                    "rep_responded_at is null or rep_responded_at >= customer_contacted_at"
                ),
            },
        }


class FeedbackSelfReported(_Base):
    record_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    contact_on: Time = field("date", True)
    reported_on: Time = field("date", True)
    kind: Text = field("enum", True, isin=["praise", "suggestion", "complaint", "neutral"])
    claimed_satisfaction: Int = field("int", in_range={"min_value": 1, "max_value": 5})
    complaint_resolved: Bool = field("bool")
    note: Text = field("text")

    class Config:
        metadata = {"entity": "crm/feedback_self_reported", "key": ["record_id"], "row_rules": {}}


class Adjustments(_Base):
    adjustment_id: Text = field("id", True)
    period: Text = field("period", True, str_matches=PERIOD_REGEX)
    level: Text = field("enum", True, isin=["rep", "team"])
    subject_id: Text = field("id", True)
    points: Num = field("points", True)
    reason: Text = field("text", True)
    approved_by: Text = field("text", True)

    class Config:
        metadata = {"entity": "crm/adjustments", "key": ["adjustment_id"], "row_rules": {}}


class ImprovementActions(_Base):
    action_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    ticket_id: Text = field("id")
    issue_type: Text = field("enum", True, isin=["communication", "service", "solution", "other"])
    measure: Text = field("text", True)
    due_on: Time = field("date", True, plan=True)
    completed_on: Time = field("date")
    customer_confirmed: Bool = field("bool")
    confirmed_via: Text = field("text")

    class Config:
        metadata = {"entity": "crm/improvement_actions", "key": ["action_id"], "row_rules": {}}


class RepDevices(_Base):
    rep_id: Text = field("id", True)
    fingerprint: Text = field("id", True)

    class Config:
        # No natural single-column key: a rep may use several devices.
        metadata = {"entity": "crm/rep_devices", "key": ["rep_id", "fingerprint"], "row_rules": {}}


class Invitations(_Base):
    invitation_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    rep_id: Text = field("id", True)
    deal_id: Text = field("id")
    channel: Text = field("enum", True, isin=["third_party", "rep_distributed", "crm_auto"])
    sent_at: Time = field("timestamp", True)

    class Config:
        metadata = {"entity": "survey/invitations", "key": ["invitation_id"], "row_rules": {}}


class Responses(_Base):
    response_id: Text = field("id", True)
    invitation_id: Text = field("id", True)
    responded_at: Time = field("timestamp", True)
    nps: Int = field("int", True, in_range={"min_value": 0, "max_value": 10})
    csat: Int = field("int", in_range={"min_value": 1, "max_value": 5})
    comment: Text = field("text")
    respondent_fingerprint: Text = field("id")
    duration_seconds: Num = field("float", ge=0)

    class Config:
        metadata = {"entity": "survey/responses", "key": ["response_id"], "row_rules": {}}


class FlagDecisions(_Base):
    """An auditor's decision on an anomaly flag (SCORING.md "From flag to decision"). Every distinct
    decision is its own row (the key is the whole row): the latest decided_at per flag wins in dbt
    (int_flag_decisions), and every accepted one stays in audit.flag_reviews. Unknown flag ids and
    reviewers who are the flagged rep are quarantined after dbt has computed the run's flags
    (orchestration/reviews.py); an empty reason here, as a missing required value."""

    flag_id: Text = field("id", True)
    decision: Text = field("enum", True, isin=["confirmed", "dismissed"])
    reviewer: Text = field("text", True)
    decided_at: Time = field("timestamp", True)
    reason: Text = field("text", True)

    class Config:
        metadata = {
            "entity": "review/flag_decisions",
            "key": ["flag_id", "decided_at", "reviewer", "decision", "reason"],
            "row_rules": {},
        }


class Tickets(_Base):
    ticket_id: Text = field("id", True)
    customer_id: Text = field("id", True)
    rep_id: Text = field("id")
    type: Text = field("enum", True, isin=["complaint", "inquiry", "request"])
    category: Text = field(
        "enum", True, isin=["communication", "service", "solution", "product", "billing", "delivery", "other"]
    )
    severity: Text = field("enum", True, isin=["low", "medium", "high", "critical"])
    opened_at: Time = field("timestamp", True)
    first_response_at: Time = field("timestamp")
    resolved_at: Time = field("timestamp")
    description: Text = field("text")

    @pa.dataframe_check(name="first_response_not_before_opened")
    def _first(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "first_response_at", "opened_at")

    @pa.dataframe_check(name="resolved_not_before_opened")
    def _resolved(cls, df: pd.DataFrame) -> pd.Series:
        return _not_before(df, "resolved_at", "opened_at")

    class Config:
        metadata = {
            "entity": "tickets/tickets",
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
