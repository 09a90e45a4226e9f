"""A small hand-made landing folder whose indicators are worked out by hand in test_pipeline.py.

2026-Q1, team T1 (mature: 王伟 R1, 李娜 R2), team T2 (new_business: R3).
"""

from __future__ import annotations

from pathlib import Path

AS_OF = "2026-06-30T23:59:59+08:00"
ROOT = Path(__file__).resolve().parents[2]


def run_env(landing: Path, warehouse: Path) -> dict[str, str]:
    """The environment the runner reads for a run of `landing` into `warehouse` at AS_OF."""
    return {
        "SCORECARD_LANDING": str(landing),
        "SCORECARD_CONFIG": str(ROOT / "config" / "scorecard.yml"),
        "SCORECARD_WAREHOUSE": str(warehouse),
        "SCORECARD_AS_OF": AS_OF,
    }


def _csv(root: Path, rel: str, header: str, rows: list[str], encoding: str = "utf-8") -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))


def build(root: Path) -> Path:
    _csv(
        root,
        "crm/teams/teams.csv",
        "team_id,team_name,region,business_stage",
        ["T1,华东一组,East,mature", "T2,华南新客组,South,new_business"],
    )
    _csv(
        root,
        "crm/reps/reps.csv",
        "rep_id,rep_name,team_id,email,hired_on,left_on",
        ["R1,王伟,T1,,2024-01-01,", "R2,李娜,T1,,2024-01-01,", "R3,Chen Jie,T2,,2024-01-01,"],
    )
    # R1 acquires C1..C5 in Q1, two of them by referral (referral_rate 40 %); C6..C9 older customers.
    customers = [
        "C1,客户一,East,key_account,,2026-01-10,referral,C6,R1",
        "C2,客户二,East,standard,,2026-01-11,referral,C6,R1",
        "C3,客户三,East,standard,,2026-02-01,inbound,,R1",
        "C4,客户四,East,vip,,2026-02-02,marketing,,R1",
        "C5,客户五,East,standard,,2026-03-03,outbound,,R1",
        "C6,Old One,East,standard,,2025-05-01,inbound,,R1",
        "C7,Old Two,East,standard,,2025-05-01,inbound,,R2",
        "C8,Old Three,South,standard,,2025-05-01,inbound,,R3",
        "C9,Old Four,East,standard,,2025-05-01,inbound,,R2",
    ]
    _csv(
        root,
        "crm/customers/customers.csv",
        "customer_id,customer_name,region,segment,industry,acquired_on,acquisition_channel,"
        "referred_by_customer_id,owner_rep_id",
        customers,
    )
    # Targets: R1 per month (3 x 100,000 = 300,000 for Q1); R2 an explicit quarter target that wins
    # over its monthly row; R3 per month.
    _csv(
        root,
        "crm/targets/targets.csv",
        "period,rep_id,sales_target",
        [
            "2026-01,R1,100000",
            "2026-02,R1,100000",
            "2026-03,R1,100000",
            "2026-Q1,R2,200000",
            "2026-01,R2,50000",
            "2026-01,R3,40000",
            "2026-02,R3,40000",
            "2026-03,R3,40000",
        ],
    )
    # Won in Q1: R1 330,000 (110 %), R2 100,000 (50 %), R3 60,000 (50 %).
    # D5 closes in Q2 and is not counted in Q1; D6 is lost (the customer still counts as served).
    _csv(
        root,
        "crm/deals/2026-03-31.csv",
        "deal_id,customer_id,rep_id,product_line,stage,amount,currency,closed_on,collected_amount,updated_at",
        [
            "D1,C1,R1,软件,won,200000,,2026-01-20,200000,",
            "D2,C6,R1,软件,won,130000,CNY,2026-03-31,65000,",
            "D3,C7,R2,服务,won,100000,,2026-02-10,100000,",
            "D4,C8,R3,服务,won,60000,,2026-03-15,30000,",
            "D5,C9,R2,服务,won,999999,,2026-04-01,,",
            "D6,C2,R1,软件,lost,50000,,2026-02-15,,",
            # cross-source failure (warn): customer C99 does not exist; an open deal counts nowhere
            "D7,C99,R3,服务,open,1000,,,,",
        ],
    )
    # Proposals of R1: 3 fully_meets, 1 partially, 1 does_not_meet, 1 pending -> 3 / 5 = 60 %.
    verdicts = ["fully_meets", "partially_meets", "pending", "fully_meets", "does_not_meet", "fully_meets"]
    _csv(
        root,
        "crm/proposals/proposals.csv",
        "proposal_id,customer_id,rep_id,deal_id,submitted_at,customer_verdict,verdict_at",
        [
            f"P{i},C{i},R1,,2026-02-0{i} 10:00:00,{v},{'' if v == 'pending' else f'2026-02-1{i} 10:00:00'}"
            for i, v in enumerate(verdicts, start=1)
        ],
    )
    # Complaints: R1 K1 resolved at exactly 24 h (in time), K2 at 24 h 1 min (late), K3 unresolved,
    # K4 an inquiry (not a complaint); R2 K5 resolved in 2 h. Rep 1/3, R2 1/1, team T1 2/4.
    # K6 has no rep_id: attributed to C9's owner R2, opened 2026-03-31 23:30 local (Q1), resolved in 1 h.
    _csv(
        root,
        "tickets/tickets/tickets.csv",
        "ticket_id,customer_id,rep_id,type,category,severity,opened_at,first_response_at,resolved_at,description",
        [
            "K1,C1,R1,complaint,service,high,2026-02-01T10:00:00+08:00,,2026-02-02T10:00:00+08:00,准时",
            "K2,C2,R1,complaint,delivery,high,2026-02-01 10:00:00,,2026-02-02 10:01:00,晚了一分钟",
            "K3,C3,R1,complaint,solution,medium,2026-02-03 10:00:00,,,",
            "K4,C4,R1,inquiry,other,low,2026-02-03 10:00:00,,,",
            "K5,C7,R2,complaint,service,low,2026-03-01 08:00:00,,2026-03-01 10:00:00,",
            "K6,C9,,complaint,billing,low,2026-03-31 23:30:00,,2026-04-01 00:30:00,",
            # cross-source failure (warn): R2 neither owns C8 nor ever touched it; an inquiry, so no
            # complaint indicator changes
            "K7,C8,R2,inquiry,other,low,2026-03-02 10:00:00,,,",
        ],
    )
    # Surveys for R1 in Q1: 12 third-party responses: 7 promoters, 2 passives, 3 detractors
    # -> NPS (7 - 3) / 12 x 100 = 33.33; one of them answered 2026-03-31 23:30 local (no offset: Q1),
    # one answered 2026-03-31T23:30:00Z (= 2026-04-01 07:30 local: Q2). One rep-distributed 10 does
    # not count. csat: 4,5 for 8 of the 12 -> 8 / 12. S1..S6 were answered from R1's own device
    # (self_filled_survey): while the six flags are open R1's grade (and T1's) is held without a bonus
    # coefficient; once they are confirmed, the responses leave every survey figure (test_write_audit_publish).
    scores = [10, 10, 9, 9, 9, 10, 9, 8, 7, 3, 5, 6]
    csat = [5, 5, 4, 4, 5, 4, 5, 3, 3, 1, 2, 4]
    inv, resp = [], []
    for i, (n, c) in enumerate(zip(scores, csat, strict=True), start=1):
        inv.append(f"I{i},C{(i - 1) % 5 + 1},R1,,third_party,2026-02-01 09:00:00")
        when = "2026-03-31 23:30:00" if i == 12 else f"2026-02-{i + 1:02d} 12:00:00"
        # S1..S6 (promoters) answered from R1's own device: six open self_filled_survey flags
        fingerprint = "fpR1" if i <= 6 else f"fp{i}"
        resp.append(f"S{i},I{i},{when},{n},{c},,{fingerprint},120")
    inv.append("I13,C1,R1,,rep_distributed,2026-02-01 09:00:00")
    resp.append("S13,I13,2026-02-05 12:00:00,10,5,,fp13,90")
    # cross-source failure (warn): S15 answered before its rep-distributed invitation was sent
    inv.append("I15,C3,R1,,rep_distributed,2026-02-10 09:00:00")
    resp.append("S15,I15,2026-02-09 12:00:00,9,5,,fp15,100")
    inv.append("I14,C2,R1,,third_party,2026-03-01 09:00:00")
    resp.append("S14,I14,2026-03-31T23:30:00Z,0,1,,fp14,90")
    _csv(root, "survey/invitations/invitations.csv", "invitation_id,customer_id,rep_id,deal_id,channel,sent_at", inv)
    _csv(
        root,
        "survey/responses/responses.csv",
        "response_id,invitation_id,responded_at,nps,csat,comment,respondent_fingerprint,duration_seconds",
        resp,
    )
    # R1's own device: the fingerprint of S1..S6
    _csv(root, "crm/rep_devices/devices.csv", "rep_id,fingerprint", ["R1,fpR1"])
    # Interactions of R1: answered after 2, 3, 4 (exactly the SLA: in time), 5 and 5 h, one unanswered
    # -> 3 / 6 in SLA; median of the answered 2, 3, 4, 5, 5 h = 4 h.
    inter = [f"X{i},R1,C{i},phone,2026-02-0{i} 09:00:00,2026-02-0{i} 1{i}:00:00" for i in range(1, 5)]
    inter += ["X5,R1,C5,email,2026-02-05 09:00:00,2026-02-05 14:00:00", "X6,R1,C1,im,2026-02-06 09:00:00,"]
    _csv(
        root,
        "crm/interactions/interactions.csv",
        "interaction_id,rep_id,customer_id,channel,customer_contacted_at,rep_responded_at",
        inter,
    )
    _csv(
        root,
        "crm/adjustments/adjustments.csv",
        "adjustment_id,period,level,subject_id,points,reason,approved_by",
        [
            "A1,2026-Q1,rep,R2,4,大客户续约贡献,Director Zhao",
            "A2,2026-03,rep,R2,3,Cross-team support,Director Zhao",
        ],
    )
    return root


# Names that used to break the reports: mathtext (`T$^$` made the directors' report raise after publishing,
# and the failed-run path then erased the run's audit rows), markup, format fields, a newline.
HOSTILE_TEAM = "T$^$"
HOSTILE_TEAM_NAME = "<b>x</b>"
HOSTILE_OTHER_NAME = "{0} %s"
HOSTILE_REP_NAME = "Chen\nJie"


def make_names_hostile(root: Path) -> None:
    """Team T1 becomes `T$^$` named `<b>x</b>`, T2 is named `{0} %s`, R3 is named with a newline; no
    figure changes (ids and names are not in any formula)."""
    (root / "crm" / "teams" / "teams.csv").write_text(
        "team_id,team_name,region,business_stage\n"
        f"{HOSTILE_TEAM},{HOSTILE_TEAM_NAME},East,mature\n"
        f'T2,"{HOSTILE_OTHER_NAME}",South,new_business\n',
        encoding="utf-8",
    )
    (root / "crm" / "reps" / "reps.csv").write_text(
        "rep_id,rep_name,team_id,email,hired_on,left_on\n"
        f"R1,王伟,{HOSTILE_TEAM},,2024-01-01,\nR2,李娜,{HOSTILE_TEAM},,2024-01-01,\n"
        f'R3,"{HOSTILE_REP_NAME}",T2,,2024-01-01,\n',
        encoding="utf-8",
    )
