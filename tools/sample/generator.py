"""Deterministic synthetic landing folder for the scorecard pipeline.

`generate(out)` writes ``out/landing/<source>/<entity>/...`` in the format of
``CONTRACT.md`` and ``out/ground_truth.csv`` listing the (rep_id, period, rule_id) pairs for
which one of the seven anomaly patterns of ``SCORING.md`` was planted.

Design notes
- One ``numpy.random.default_rng(seed)`` drives everything, and the order of draws is fixed, so
  the same arguments give byte-identical files (no wall clock, no set/dict-order dependence).
- Work is vectorised per entity (all rep-quarters at once); only the planted patterns loop, over
  the handful of planted (rep, quarter) pairs. ``rows_scale`` multiplies the event volumes.
- Times are handled as float seconds since the epoch of naive Asia/Shanghai local time (NaN =
  empty) and only turned into text when written: part of the rows carry ``+08:00``, the rest are
  written without offset (same local time). Dates are whole days since the epoch.
- Every customer is served only by its owner rep (deals, proposals, follow-ups, interactions,
  invitations and tickets all use the owner), so a contact with another rep's customer is a
  contact the rep never had: that is what ``fabricated_contact`` plants.
- Honest reps: a self-report is written about a real interaction (same day); regular self-reports
  are not written within 14 days of a complaint ticket of that customer, instead the rep logs one
  ``complaint`` record with low satisfaction per complaint ticket (85%); claimed satisfaction and
  survey csat derive from the same latent customer satisfaction; rep-distributed survey scores are
  drawn by quantile matching from the same rep's third-party scores (same distribution, low noise).
- The honest spread that decides how grades fall (sales attainment ATTAINMENT_MEAN/SD, proposal verdicts
  FULLY_MEETS_MEAN/SD, the mature teams' acquisition channels MATURE_CHANNEL_MIX) is read from draws made
  whatever its values: tuning it changes crm/targets, crm/proposals and crm/customers only, never the
  planted patterns (tests/unit/test_sample_generator.py; the grades it gives: docs/scoring.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtri

from orchestration.catalogue import RULE_IDS as RULES  # the anomaly rules the generator plants
from orchestration.periods import label_of, labels_between, period_bounds, period_start, shift

COLUMNS: dict[str, list[str]] = {
    "crm/teams": ["team_id", "team_name", "region", "business_stage", "updated_at"],
    "crm/reps": ["rep_id", "rep_name", "team_id", "email", "hired_on", "left_on", "updated_at"],
    "crm/customers": [
        "customer_id",
        "customer_name",
        "region",
        "segment",
        "industry",
        "acquired_on",
        "acquisition_channel",
        "referred_by_customer_id",
        "owner_rep_id",
        "updated_at",
    ],
    "crm/deals": [
        "deal_id",
        "customer_id",
        "rep_id",
        "product_line",
        "stage",
        "amount",
        "currency",
        "closed_on",
        "collected_amount",
        "updated_at",
    ],
    "crm/targets": ["period", "rep_id", "sales_target", "updated_at"],
    "crm/proposals": [
        "proposal_id",
        "customer_id",
        "rep_id",
        "deal_id",
        "submitted_at",
        "customer_verdict",
        "verdict_at",
        "updated_at",
    ],
    "crm/followups": ["followup_id", "rep_id", "customer_id", "planned_on", "completed_at", "channel"],
    "crm/interactions": [
        "interaction_id",
        "rep_id",
        "customer_id",
        "channel",
        "customer_contacted_at",
        "rep_responded_at",
    ],
    "crm/feedback_self_reported": [
        "record_id",
        "rep_id",
        "customer_id",
        "contact_on",
        "reported_on",
        "kind",
        "claimed_satisfaction",
        "complaint_resolved",
        "note",
    ],
    "crm/adjustments": ["adjustment_id", "period", "level", "subject_id", "points", "reason", "approved_by"],
    "crm/improvement_actions": [
        "action_id",
        "rep_id",
        "customer_id",
        "ticket_id",
        "issue_type",
        "measure",
        "due_on",
        "completed_on",
        "customer_confirmed",
        "confirmed_via",
    ],
    "crm/rep_devices": ["rep_id", "fingerprint"],
    "survey/invitations": ["invitation_id", "customer_id", "rep_id", "deal_id", "channel", "sent_at"],
    "survey/responses": [
        "response_id",
        "invitation_id",
        "responded_at",
        "nps",
        "csat",
        "comment",
        "respondent_fingerprint",
        "duration_seconds",
    ],
    "tickets/tickets": [
        "ticket_id",
        "customer_id",
        "rep_id",
        "type",
        "category",
        "severity",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "description",
    ],
}

DAY = 86400.0
HOUR = 3600.0
USD_RATE = 7.1  # the default `currency.rates.USD` of the scheme file
# acquisition channels (referral, marketing, outbound, inbound, partner, other): the company-wide mix, and
# that of the customers mature teams win during the sample, mostly referred by their existing customers
CHANNEL_MIX = (0.15, 0.25, 0.2, 0.2, 0.12, 0.08)
MATURE_CHANNEL_MIX = (0.45, 0.15, 0.12, 0.12, 0.1, 0.06)
# share of a rep's proposals that fully meet the customer's requirements: about three in four for the
# typical rep, a few points between reps; the rest is the luck of a quarter's handful of verdicts
FULLY_MEETS_MEAN = 0.76
FULLY_MEETS_SD = 0.07
# sales attainment of a rep-quarter: bell-shaped, the typical rep a little short of target
ATTAINMENT_MEAN = 0.97
ATTAINMENT_SD = 0.17  # 17 points between rep-quarters

# ---------------------------------------------------------------------------------------------
# Text pools (fixed order: indexing them with random integers keeps the output deterministic)
REGIONS = [
    ("华东", "East China"),
    ("华北", "North China"),
    ("华南", "South China"),
    ("西南", "Southwest"),
    ("华中", "Central China"),
    ("东北", "Northeast"),
]
ZH_NUM = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
ZH_SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"]
ZH_GIVEN = [
    "伟",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "丽",
    "建华",
    "晓东",
    "海燕",
    "志强",
    "婷",
    "鹏",
    "欣怡",
    "子涵",
]
EN_FIRST = [
    "Alice",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Ivy",
    "Jack",
    "Kevin",
    "Linda",
    "Mike",
    "Nina",
    "Oscar",
    "Peter",
    "Queenie",
    "Ryan",
    "Sophia",
    "Tom",
]
EN_LAST = ["Wang", "Li", "Chen", "Zhang", "Liu", "Smith", "Lee", "Wong", "Ho", "Lam", "Tan", "Ng"]
ZH_CITIES = ["上海", "北京", "深圳", "杭州", "南京", "成都", "武汉", "苏州", "广州", "天津", "重庆", "西安"]
ZH_CORE = ["华信", "恒达", "鼎盛", "瑞丰", "国泰", "中联", "宏图", "新元", "金桥", "远航", "博纳", "安捷"]
ZH_BIZ = ["科技", "制造", "物流", "医疗", "贸易", "电子", "能源", "信息"]
EN_CORE = [
    "Acme",
    "Blue River",
    "Summit",
    "Northstar",
    "Golden Gate",
    "Pioneer",
    "Evergreen",
    "Orion",
    "Silverline",
    "Redwood",
    "Harbor",
    "Apex",
]
EN_BIZ = ["Logistics", "Foods", "Systems", "Medical", "Retail", "Energy", "Devices", "Trading"]
EN_SUFFIX = ["Ltd", "Inc", "Group", "Co."]
INDUSTRIES = ["制造业", "Retail", "金融", "Healthcare", "Logistics", "教育", "Energy", "互联网", ""]
PRODUCT_LINES = ["SaaS订阅", "实施服务", "Analytics", "Hardware", "运维支持"]
COMMENTS_POS = [
    "客户对响应速度很满意",
    "服务专业，推荐给同行",
    "Great support, very responsive",
    "方案很贴合我们的需求",
    "Happy with the rollout, thanks!",
    "交付准时，沟通顺畅",
]
COMMENTS_MID = [
    "整体还可以，价格偏高",
    "Decent, but onboarding took a while",
    "功能够用，希望报表更灵活",
    "OK overall, some delays",
]
COMMENTS_NEG = [
    "问题拖了很久才解决",
    "Response was slow, had to chase twice",
    "交付延期，沟通不畅",
    "不满意，\n多次反馈无人跟进",
    "Billing errors, again",
]
NOTES = [
    "季度回访，客户反馈良好",
    "Quarterly check-in, all good",
    "客户提出新需求，已记录",
    "Discussed renewal, pricing questions",
    "现场拜访，演示新功能",
    "电话沟通交付进度",
]
NOTES_COMPLAINT = [
    "客户投诉响应慢，已道歉并跟进",
    "Customer complained about delivery delay",
    "客户对账单有异议，正在处理",
    "Escalated: service outage complaint",
]
TICKET_DESC = {
    "complaint": [
        "客户投诉：响应太慢",
        "Complaint: delivery late by two weeks",
        "账单金额错误，客户不满",
        "Service outage, customer angry",
        "实施顾问沟通态度差",
    ],
    "inquiry": ["咨询续费政策", "Question about API limits", "询问发票开具流程", "How to export reports?"],
    "request": ["申请增加用户数", "Request: new admin account", "需要培训资料", "Please reset SSO config"],
}
MEASURES = [
    "安排专人每周回访",
    "Weekly status call with customer",
    "优化交付排期并书面确认",
    "Root-cause review with support team",
    "补发正确账单并致歉",
    "Extra training session",
]
ADJ_REASONS = [
    "协助其他团队完成大客户签约",
    "Covered for a colleague on leave",
    "重大客户投诉处理不当",
    "Led the regional product launch",
    "违反报价审批流程",
    "Mentored two new hires",
]
MANAGERS = ["张总", "李经理", "Director Chen", "VP Sales Wong"]
CHANNELS_IA = ["email", "phone", "im", "visit"]
CATEGORIES = ["communication", "service", "solution", "product", "billing", "delivery", "other"]
SEVERITIES = ["low", "medium", "high", "critical"]
# an ordinary NPS answer mix (22% detractors, 33% passives, 45% promoters: NPS +23)
NPS_MIX = np.array([0.01, 0.01, 0.01, 0.02, 0.03, 0.06, 0.08, 0.15, 0.18, 0.2, 0.25])


@dataclass
class _Calendar:
    labels: list[str]
    qstart_day: np.ndarray  # int days since epoch, per quarter
    qlen: np.ndarray  # days per quarter
    cap: float  # last allowed timestamp (seconds)
    cap_day: int

    def quarter_of(self, seconds: np.ndarray) -> np.ndarray:
        days = np.floor(np.asarray(seconds, dtype="float64") / DAY)
        return np.searchsorted(self.qstart_day, days, side="right") - 1


def _calendar(start: str, quarters: int) -> _Calendar:
    first = label_of(pd.Timestamp(start).date(), "quarter")
    labels = labels_between(first, shift(first, "quarter", quarters - 1), "quarter")
    starts = [pd.Timestamp(period_start(label)) for label in labels] + [pd.Timestamp(period_bounds(labels[-1])[1])]
    day = np.array([(x - pd.Timestamp("1970-01-01")).days for x in starts], dtype="int64")
    cap_day = int(day[-1] - 1)
    return _Calendar(labels, day[:-1], np.diff(day), cap_day * DAY + 22 * HOUR, cap_day)


# ---------------------------------------------------------------------------------------------
# small vectorised helpers
def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width)).astype(object)


def _hex(rng: np.random.Generator, n: int) -> np.ndarray:
    parts = rng.integers(0, 2**32, size=(n, 4), dtype=np.uint64)
    out = np.char.mod("%08x", parts[:, 0])
    for k in range(1, 4):
        out = np.char.add(out, np.char.mod("%08x", parts[:, k]))
    return out.astype(object)


def _fmt_ts(sec: np.ndarray, with_offset: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DD HH:MM:SS' (local, no offset) or 'YYYY-MM-DDTHH:MM:SS+08:00'; '' for NaN. Formatted
    by Arrow's cast to text (6x faster than numpy's string functions at 10 M rows, same bytes)."""
    sec = np.asarray(sec, dtype="float64")
    na = np.isnan(sec)
    local = pc.cast(pa.array(np.where(na, 0, sec).astype("int64").astype("datetime64[s]")), pa.string())
    offset = pc.binary_join_element_wise(pc.replace_substring(local, " ", "T"), "+08:00", "")
    flags = pa.array(np.broadcast_to(np.asarray(with_offset, dtype=bool), sec.shape))
    out = pc.if_else(flags, offset, local).to_numpy(zero_copy_only=False)
    out[na] = ""
    return out


def _fmt_day(day: np.ndarray) -> np.ndarray:
    day = np.asarray(day, dtype="float64")
    na = np.isnan(day)
    s = np.datetime_as_string(np.where(na, 0, day).astype("int64").astype("datetime64[D]"), unit="D")
    out = s.astype(object)
    out[na] = ""
    return out


def _fmt_bool(values: np.ndarray, na: np.ndarray) -> np.ndarray:
    out = np.where(np.asarray(values, dtype=bool), "true", "false").astype(object)
    out[na] = ""
    return out


def _fmt_int(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype="float64")
    na = np.isnan(v)
    out = np.where(na, 0, v).astype("int64").astype(str).astype(object)
    out[na] = ""
    return out


def _channel_index(u: np.ndarray, mix: tuple[float, ...]) -> np.ndarray:
    """Index into `mix` of each uniform draw `u` (as `rng.choice(len(mix), p=mix)` reads its draws)."""
    cdf = np.cumsum(mix)
    return np.searchsorted(cdf / cdf[-1], u, side="right")


def _pick(rng: np.random.Generator, pool: list[str], n: int) -> np.ndarray:
    return np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]


def _business_time(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into a day: mostly 08:30-19:30, some evening/early ones."""
    t = rng.uniform(8.5, 19.5, n)
    late = rng.random(n) < 0.08
    t[late] = rng.uniform(19.5, 23.0, late.sum())
    return np.floor(t * HOUR / 60.0) * 60.0


class _Gen:
    def __init__(self, seed: int, reps: int, teams: int | None, quarters: int, start: str, rows_scale: float) -> None:
        if reps < 4:
            raise ValueError("reps must be at least 4")
        if quarters < 1:
            raise ValueError("quarters must be at least 1")
        self.rng = np.random.default_rng(seed)
        self.R = reps
        self.T = teams if teams is not None else max(2, reps // 10)
        self.Q = quarters
        self.cal = _calendar(start, quarters)
        self.scale = float(rows_scale)
        self.truth: list[tuple[str, str, str]] = []

    # -----------------------------------------------------------------------------------------
    def rand_day(self, q: np.ndarray, lo: float = 0.0, hi: float | None = None) -> np.ndarray:
        """A random whole day in quarter q, between lo and hi days after the quarter start."""
        q = np.asarray(q)
        qlen = self.cal.qlen[q]
        h = qlen if hi is None else np.minimum(hi, qlen)
        d = self.cal.qstart_day[q] + np.floor(lo + self.rng.random(len(q)) * (h - lo))
        return np.minimum(d, self.cal.cap_day)

    def rand_ts(self, q: np.ndarray, lo: float = 0.0, hi: float | None = None) -> np.ndarray:
        d = self.rand_day(q, lo, hi)
        return np.minimum(d * DAY + _business_time(self.rng, len(d)), self.cal.cap)

    def offsets(self, n: int, p: float = 0.4) -> np.ndarray:
        return self.rng.random(n) < p

    def pick_customer(self, rep: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Index of a random customer of `rep` already acquired by the end of quarter q."""
        n = self.n_elig[rep, q]
        return self.cust_start[rep] + np.floor(self.rng.random(len(rep)) * n).astype("int64")

    def counts(self, mean: float) -> tuple[np.ndarray, np.ndarray]:
        lam = np.full((self.R, self.Q), mean * self.scale)
        n = self.rng.poisson(lam)
        rep = np.repeat(np.repeat(np.arange(self.R), self.Q), n.ravel())
        q = np.repeat(np.tile(np.arange(self.Q), self.R), n.ravel())
        return rep, q

    # -----------------------------------------------------------------------------------------
    def build_org(self) -> None:
        rng, R, T = self.rng, self.R, self.T
        t_idx = np.arange(T)
        reg = t_idx % len(REGIONS)
        chinese_team = t_idx % 3 != 2
        grp = t_idx // len(REGIONS)
        zh_name = [f"{REGIONS[r][0]}{ZH_NUM[g % 10]}组" for r, g in zip(reg, grp, strict=True)]
        en_name = [f"{REGIONS[r][1]} Team {g + 1}" for r, g in zip(reg, grp, strict=True)]
        self.team_region = np.array(
            [REGIONS[r][0] if z else REGIONS[r][1] for r, z in zip(reg, chinese_team, strict=True)],
            dtype=object,
        )
        stage = np.where(t_idx % 2 == 0, "new_business", "mature")
        self.team_stage = stage
        self.team_ids = _ids("T", T, 2)
        self.teams = pd.DataFrame(
            {
                "team_id": self.team_ids,
                "team_name": np.where(chinese_team, zh_name, en_name),
                "region": self.team_region,
                "business_stage": stage,
                "updated_at": _fmt_ts(np.full(T, self.cal.qstart_day[0] * DAY - 20 * DAY + 10 * HOUR), self.offsets(T)),
            }
        )

        self.rep_ids = _ids("R", R, 3)
        self.rep_team = (np.arange(R) * T) // R
        combos_zh = [s + g for g in ZH_GIVEN for s in ZH_SURNAMES]
        combos_en = [f"{f} {la}" for la in EN_LAST for f in EN_FIRST]
        zh_pick = rng.permutation(len(combos_zh))
        en_pick = rng.permutation(len(combos_en))
        is_zh = rng.random(R) < 0.6
        names = np.empty(R, dtype=object)
        zi = ei = 0
        for i in range(R):  # per rep: fine
            if is_zh[i] and zi < len(combos_zh):
                names[i] = combos_zh[zh_pick[zi]]
                zi += 1
            else:
                names[i] = combos_en[en_pick[ei % len(combos_en)]] + ("" if ei < len(combos_en) else f" {ei}")
                ei += 1
        email = np.char.add(np.char.lower(self.rep_ids.astype(str)), "@example.com").astype(object)
        email[rng.random(R) < 0.1] = ""
        hired = self.cal.qstart_day[0] - rng.integers(60, 8 * 365, R)
        self.reps = pd.DataFrame(
            {
                "rep_id": self.rep_ids,
                "rep_name": names,
                "team_id": self.team_ids[self.rep_team],
                "email": email,
                "hired_on": _fmt_day(hired),
                "left_on": "",
                "updated_at": _fmt_ts(hired * DAY + 9 * HOUR + 3 * DAY, self.offsets(R)),
            }
        )
        # rep behaviour parameters (the honest, natural spread between reps)
        self.quality = rng.normal(0.0, 1.0, R)
        self.sla_median_h = np.exp(rng.normal(np.log(1.0), 0.45, R))
        self.follow_p = np.clip(rng.normal(0.82, 0.07, R), 0.55, 0.97)
        self.resolve24_p = np.clip(rng.normal(0.8, 0.08, R), 0.5, 0.97)
        self.win_p = np.clip(rng.normal(0.45, 0.08, R), 0.25, 0.65)
        self.collect_mu = np.clip(rng.normal(0.85, 0.08, R), 0.5, 1.0)
        self.fully_meets_p = np.clip(rng.normal(FULLY_MEETS_MEAN, FULLY_MEETS_SD, R), 0.5, 0.95)
        n_dev = rng.integers(1, 3, R)
        self.devices = pd.DataFrame(
            {"rep_id": np.repeat(self.rep_ids, n_dev), "fingerprint": _hex(rng, int(n_dev.sum()))}
        )
        self.device_of = dict(zip(np.repeat(np.arange(R), n_dev), self.devices["fingerprint"], strict=True))

    # -----------------------------------------------------------------------------------------
    def build_customers(self) -> None:
        rng, R, Q = self.rng, self.R, self.Q
        base_n = max(12, int(round(22 * np.sqrt(self.scale))))
        n_base = rng.poisson(base_n, R).clip(min=12)
        new_mean = np.where(self.team_stage[self.rep_team] == "new_business", 3.0, 1.0) * np.sqrt(self.scale)
        n_new = rng.poisson(np.repeat(new_mean[:, None], Q, axis=1))  # (R, Q)
        owner, acq_q, acq_day = [], [], []
        first = int(self.cal.qstart_day[0])
        for r in range(R):  # per rep
            owner.append(np.full(n_base[r] + n_new[r].sum(), r))
            qs = np.repeat(np.arange(Q), n_new[r])
            acq_q.append(np.concatenate([np.full(n_base[r], -1), qs]))
            base_days = first - rng.integers(30, 5 * 365, n_base[r])
            new_days = self.rand_day(qs, 0, 85) if len(qs) else np.zeros(0)
            acq_day.append(np.concatenate([np.sort(base_days), new_days]))
        owner = np.concatenate(owner)
        acq_q = np.concatenate(acq_q)
        acq_day = np.concatenate(acq_day).astype("int64")
        n = len(owner)
        self.cust_owner = owner
        self.cust_acq_day = acq_day
        counts = n_base + n_new.sum(axis=1)
        self.cust_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        self.cust_count = counts
        # customers acquired by the end of each quarter (they are stored in acquisition order)
        self.n_elig = n_base[:, None] + np.cumsum(n_new, axis=1)
        self.cust_ids = _ids("C", n, 5)
        zh = rng.random(n) < 0.6
        zh_names = np.char.add(
            np.char.add(
                np.char.add(_pick(rng, ZH_CITIES, n).astype(str), _pick(rng, ZH_CORE, n).astype(str)),
                _pick(rng, ZH_BIZ, n).astype(str),
            ),
            "有限公司",
        )
        en_names = np.char.add(
            np.char.add(
                np.char.add(_pick(rng, EN_CORE, n).astype(str), " "),
                np.char.add(_pick(rng, EN_BIZ, n).astype(str), " "),
            ),
            _pick(rng, EN_SUFFIX, n).astype(str),
        )
        segment = np.array(["key_account", "vip", "standard"], dtype=object)[rng.choice(3, n, p=[0.1, 0.2, 0.7])]
        # acquisition channel, one uniform draw per customer read against a channel mix: CHANNEL_MIX, except
        # for the customers a mature team wins during the sample (MATURE_CHANNEL_MIX: mostly referrals)
        chan_names = np.array(["referral", "marketing", "outbound", "inbound", "partner", "other"], dtype=object)
        u = rng.random(n)
        mature_new = (self.team_stage[self.rep_team[owner]] == "mature") & (acq_q >= 0)
        channel = chan_names[
            np.where(mature_new, _channel_index(u, MATURE_CHANNEL_MIX), _channel_index(u, CHANNEL_MIX))
        ]
        # referrer: a customer acquired strictly earlier (any owner)
        order = np.lexsort((np.arange(n), acq_day))
        rank = np.empty(n, dtype="int64")
        rank[order] = np.arange(n)
        earlier = np.searchsorted(acq_day[order], acq_day, side="left")  # customers acquired before
        ref = (channel == "referral") & (earlier > 0)
        channel[(channel == "referral") & (earlier == 0)] = "other"
        # a referrer is drawn for every customer that would be a referral under the company-wide mix, as
        # ever; the further referrals of mature teams take theirs from where their draw u lies in the wider
        # referral band. So the draws after this one are the same whatever the mature mix: the rest of the
        # sample does not move with it.
        drawn = (_channel_index(u, CHANNEL_MIX) == 0) & (earlier > 0)
        pos = np.zeros(n, dtype="int64")
        pos[drawn] = np.floor(rng.random(int(drawn.sum())) * earlier[drawn]).astype("int64")
        derived = ref & ~drawn
        band = (u[derived] - CHANNEL_MIX[0]) / max(MATURE_CHANNEL_MIX[0] - CHANNEL_MIX[0], 1e-9)
        pos[derived] = np.clip(np.floor(band * earlier[derived]), 0, earlier[derived] - 1).astype("int64")
        referrer = np.full(n, "", dtype=object)
        referrer[ref] = self.cust_ids[order[pos[ref]]]
        region = self.team_region[self.rep_team[owner]].copy()
        other_region = rng.random(n) < 0.1
        region[other_region] = _pick(rng, [r[0] for r in REGIONS] + [r[1] for r in REGIONS], other_region.sum())
        upd = np.minimum(
            np.maximum(acq_day * DAY, self.cal.qstart_day[0] * DAY - 10 * DAY)
            + rng.uniform(1, 60, n).round() * DAY
            + 11 * HOUR,
            self.cal.cap,
        )
        self.customers = pd.DataFrame(
            {
                "customer_id": self.cust_ids,
                "customer_name": np.where(zh, zh_names, en_names).astype(object),
                "region": region,
                "segment": segment,
                "industry": _pick(rng, INDUSTRIES, n),
                "acquired_on": _fmt_day(acq_day),
                "acquisition_channel": channel,
                "referred_by_customer_id": referrer,
                "owner_rep_id": self.rep_ids[owner],
                "updated_at": _fmt_ts(upd, self.offsets(n)),
            }
        )
        # latent satisfaction (1..5 scale) drives survey answers and honest self-reports
        self.cust_sat = np.clip(3.85 + 0.45 * self.quality[owner] + rng.normal(0, 0.55, n), 1.3, 5.0)
        n_contacts = rng.integers(1, 3, n)
        self.cust_fp = _hex(rng, 2 * n).reshape(n, 2)
        self.cust_ncontacts = n_contacts

    # -----------------------------------------------------------------------------------------
    def plant_plan(self) -> None:
        """Choose (rep, quarter) pairs per rule; each slot carries at most one rule when possible."""
        rng, R, Q = self.rng, self.R, self.Q
        pool_n = max(4, int(0.3 * R))
        pool = np.sort(rng.choice(R, pool_n, replace=False))
        free = {int(r): list(rng.permutation(Q)) for r in pool}  # free quarters per gaming rep
        plan: dict[str, list[tuple[int, int]]] = {}
        for rule in RULES:
            want = int(rng.integers(2, 5)) if pool_n >= 8 else 2
            order = [int(r) for r in rng.permutation(pool)]
            order.sort(key=lambda r: -len(free[r]))  # stable: prefer reps with free slots
            pairs: list[tuple[int, int]] = []
            for r in order[:want]:
                nq = int(rng.integers(1, 3))
                for _ in range(nq):
                    if free[r]:
                        q = int(free[r].pop())
                    else:  # only for very small rosters: stack a second rule on a slot
                        q = int(rng.integers(0, Q))
                    if (r, q) not in pairs:
                        pairs.append((r, q))
            plan[rule] = sorted(pairs)
            for r, q in plan[rule]:
                self.truth.append((str(self.rep_ids[r]), self.cal.labels[q], rule))
        self.plan = plan

    def planted(self, rule: str) -> list[tuple[int, int]]:
        return self.plan[rule]

    # -----------------------------------------------------------------------------------------
    def build_deals(self) -> None:
        rng = self.rng
        rep, q = self.counts(14)
        n = len(rep)
        cust = self.pick_customer(rep, q)
        last = q == self.Q - 1
        u = rng.random(n)
        p_open = np.where(last, 0.35, 0.2)
        won = u < self.win_p[rep] * (1 - p_open) / 0.8
        is_open = (~won) & (u > 1 - p_open)
        stage = np.where(won, "won", np.where(is_open, "open", "lost")).astype(object)
        lo = np.maximum(0, self.cust_acq_day[cust] - self.cal.qstart_day[q])
        closed = self.rand_day(q, lo)
        closed_f = np.where(is_open, np.nan, closed).astype("float64")
        usd = rng.random(n) < 0.05
        amount = np.exp(rng.normal(np.log(150000), 1.0, n))
        amount = np.where(
            usd, np.exp(rng.normal(np.log(40000), 0.8, n)).clip(10000, 280000), amount.clip(10000, 2000000)
        )
        amount = np.round(amount, -2)
        currency = np.where(usd, "USD", np.where(rng.random(n) < 0.5, "CNY", "")).astype(object)
        frac = np.where(rng.random(n) < 0.4, 1.0, np.clip(rng.normal(self.collect_mu[rep], 0.15), 0, 1))
        collected = np.where(won, np.floor(amount * frac), np.nan)
        collected = np.where(is_open & (rng.random(n) < 0.5), 0.0, collected)
        upd = np.where(is_open, self.rand_ts(q, lo), np.minimum(closed * DAY + _business_time(rng, n), self.cal.cap))
        order = np.lexsort((cust, upd))
        d = (
            pd.DataFrame(
                {
                    "rep": rep,
                    "q": q,
                    "cust": cust,
                    "product_line": _pick(rng, PRODUCT_LINES, n),
                    "stage": stage,
                    "amount": amount,
                    "currency": currency,
                    "closed": closed_f,
                    "collected": collected,
                    "upd": upd,
                    "off": self.offsets(n),
                }
            )
            .iloc[order]
            .reset_index(drop=True)
        )
        d["deal_id"] = _ids("D", len(d), 6)
        d["file_q"] = self.cal.quarter_of(d["upd"].to_numpy())
        self.deal_df = d

    def deals_frame(self, d: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "deal_id": d["deal_id"].to_numpy(),
                "customer_id": self.cust_ids[d["cust"].to_numpy()],
                "rep_id": self.rep_ids[d["rep"].to_numpy()],
                "product_line": d["product_line"].to_numpy(),
                "stage": d["stage"].to_numpy(),
                "amount": _fmt_int(d["amount"].to_numpy()),
                "currency": d["currency"].to_numpy(),
                "closed_on": _fmt_day(d["closed"].to_numpy()),
                "collected_amount": _fmt_int(d["collected"].to_numpy()),
                "updated_at": _fmt_ts(d["upd"].to_numpy(), d["off"].to_numpy()),
            }
        )

    def build_targets(self) -> None:
        rng, R, Q = self.rng, self.R, self.Q
        d = self.deal_df
        won = d[d["stage"] == "won"]
        base = won["amount"].to_numpy() * np.where(won["currency"].to_numpy() == "USD", USD_RATE, 1.0)
        closed_q = self.cal.quarter_of(won["closed"].to_numpy() * DAY)
        won_amt = np.zeros((R, Q))
        np.add.at(won_amt, (won["rep"].to_numpy(), closed_q), base)
        # attainment per rep-quarter: most reps land near their target, a few far below or above it
        # (60 %..145 %). One uniform draw per rep-quarter turned into a normal quantile, so the draws that
        # follow are the same whatever the mean and spread.
        attain = np.clip(ATTAINMENT_MEAN + ATTAINMENT_SD * ndtri(rng.random((R, Q))), 0.6, 1.45)
        target = np.where(won_amt > 0, won_amt / attain, 1_000_000.0)
        target = np.maximum(np.round(target, -3), 1000.0)
        monthly = rng.random(R) < 0.35
        rows = []
        for r in range(R):  # per rep
            for q in range(Q):
                qs = pd.Timestamp(np.datetime64(int(self.cal.qstart_day[q]), "D"))
                upd = _fmt_ts(np.array([self.cal.qstart_day[q] * DAY - 5 * DAY + 10 * HOUR]), np.array([r % 2 == 0]))[0]
                if monthly[r]:
                    m1, m2 = round(target[r, q] * 0.3, -2), round(target[r, q] * 0.33, -2)
                    for k, v in enumerate([m1, m2, target[r, q] - m1 - m2]):
                        m = qs + pd.DateOffset(months=k)
                        rows.append((f"{m.year}-{m.month:02d}", self.rep_ids[r], int(v), upd))
                else:
                    rows.append((self.cal.labels[q], self.rep_ids[r], int(target[r, q]), upd))
        self.targets = pd.DataFrame(rows, columns=COLUMNS["crm/targets"])

    # -----------------------------------------------------------------------------------------
    def build_proposals_followups(self) -> None:
        rng = self.rng
        rep, q = self.counts(9)
        n = len(rep)
        cust = self.pick_customer(rep, q)
        sub = self.rand_ts(q, 0, None)
        sub = np.maximum(sub, self.cust_acq_day[cust] * DAY + 10 * HOUR)
        sub = np.minimum(sub, self.cal.cap)
        u = rng.random(n)
        fm = self.fully_meets_p[rep]
        verdict = np.where(
            u < fm, "fully_meets", np.where(u < fm + (1 - fm) * 0.6, "partially_meets", "does_not_meet")
        ).astype(object)
        vat = sub + rng.uniform(1, 20, n) * DAY
        pending = (rng.random(n) < 0.1) | (vat > self.cal.cap)
        verdict[pending] = "pending"
        vat = np.where(pending, np.nan, vat)
        upd = np.where(pending, sub + HOUR, vat + 600)
        # link to a deal of the same customer when one exists
        deals = self.deal_df
        first_deal = deals.drop_duplicates("cust").set_index("cust")["deal_id"]
        link = pd.Series(cust).map(first_deal).fillna("").to_numpy(dtype=object)
        link[rng.random(n) < 0.3] = ""
        order = np.lexsort((cust, sub))
        off = self.offsets(n)
        self.proposals = pd.DataFrame(
            {
                "proposal_id": _ids("P", n, 6),
                "customer_id": self.cust_ids[cust][order],
                "rep_id": self.rep_ids[rep][order],
                "deal_id": link[order],
                "submitted_at": _fmt_ts(sub[order], off),
                "customer_verdict": verdict[order],
                "verdict_at": _fmt_ts(vat[order], off),
                "updated_at": _fmt_ts(upd[order], off),
            }
        )
        self.touch = [pd.DataFrame({"rep": rep, "cust": cust, "day": np.floor(sub / DAY)})]

        rep, q = self.counts(35)
        n = len(rep)
        cust = self.pick_customer(rep, q)
        planned = np.maximum(self.rand_day(q), self.cust_acq_day[cust])
        u = rng.random(n)
        on_time = u < self.follow_p[rep]
        late = (~on_time) & (u < self.follow_p[rep] + (1 - self.follow_p[rep]) * 0.5)
        delay = np.where(on_time, rng.integers(0, 6, n), rng.integers(8, 25, n))
        comp = (planned + delay) * DAY + _business_time(rng, n)
        comp = np.where((on_time | late) & (comp <= self.cal.cap), comp, np.nan)
        channel = _pick(rng, CHANNELS_IA + [""], n)
        order = np.lexsort((cust, planned))
        self.followups = pd.DataFrame(
            {
                "followup_id": _ids("F", n, 6),
                "rep_id": self.rep_ids[rep][order],
                "customer_id": self.cust_ids[cust][order],
                "planned_on": _fmt_day(planned[order]),
                "completed_at": _fmt_ts(comp[order], self.offsets(n)),
                "channel": channel[order],
            }
        )
        self.touch.append(pd.DataFrame({"rep": rep, "cust": cust, "day": planned.astype("float64")}))

    # -----------------------------------------------------------------------------------------
    def build_tickets(self) -> None:
        rng = self.rng
        parts = []
        for kind, mean in (("complaint", 2.6), ("inquiry", 3.5), ("request", 2.5)):
            rep, q = self.counts(mean)
            parts.append(pd.DataFrame({"rep": rep, "q": q, "type": kind, "planted": ""}))
        # planted extra complaints
        for r, q in self.planted("complaint_underreporting"):
            parts.append(
                pd.DataFrame(
                    {
                        "rep": r,
                        "q": np.full(int(rng.integers(7, 10)), q),
                        "type": "complaint",
                        "planted": "complaint_underreporting",
                    }
                )
            )
        for r, q in self.planted("hidden_complaint"):
            parts.append(
                pd.DataFrame(
                    {
                        "rep": r,
                        "q": np.full(int(rng.integers(2, 4)), q),
                        "type": "complaint",
                        "planted": "hidden_complaint",
                    }
                )
            )
        t = pd.concat(parts, ignore_index=True)
        n = len(t)
        rep, q = t["rep"].to_numpy(), t["q"].to_numpy()
        cust = self.pick_customer(rep, q)
        planted_hidden = (t["planted"] == "hidden_complaint").to_numpy()
        # planted hidden complaints sit well inside the quarter, so the contact is in it too
        opened = np.where(planted_hidden, self.rand_ts(q, 15.0, 70.0), self.rand_ts(q))
        opened = np.minimum(np.maximum(opened, self.cust_acq_day[cust] * DAY + 9 * HOUR), self.cal.cap - DAY)
        is_c = (t["type"] == "complaint").to_numpy()
        first = opened + np.exp(rng.normal(np.log(1.5), 0.8, n)) * HOUR
        first = np.where(rng.random(n) < 0.03, np.nan, first)
        u = rng.random(n)
        ok = u < np.where(is_c, self.resolve24_p[rep], 0.7)
        unresolved = u > 0.96
        res = np.where(ok, rng.uniform(2, 23.5, n), rng.uniform(25, 200, n)) * HOUR
        resolved = opened + res
        resolved = np.where(~np.isnan(first), np.maximum(resolved, first + 600), resolved)
        resolved = np.where(unresolved | (resolved > self.cal.cap), np.nan, resolved)
        first = np.where(first > self.cal.cap, np.nan, first)
        category = np.array(CATEGORIES, dtype=object)[rng.choice(7, n, p=[0.22, 0.2, 0.15, 0.15, 0.1, 0.12, 0.06])]
        severity = np.array(SEVERITIES, dtype=object)[rng.choice(4, n, p=[0.35, 0.4, 0.2, 0.05])]
        desc = np.empty(n, dtype=object)
        for kind, pool in TICKET_DESC.items():  # per enumeration value
            m = (t["type"] == kind).to_numpy()
            desc[m] = _pick(rng, pool, m.sum())
        desc[rng.random(n) < 0.1] = ""
        rep_col = self.rep_ids[rep].astype(object)
        rep_col[rng.random(n) < 0.25] = ""  # empty = the customer's owner
        order = np.lexsort((cust, opened))
        self.tk = (
            pd.DataFrame(
                {
                    "rep": rep,
                    "cust": cust,
                    "type": t["type"].to_numpy(),
                    "planted": t["planted"].to_numpy(),
                    "category": category,
                    "severity": severity,
                    "opened": opened,
                    "first": first,
                    "resolved": resolved,
                    "desc": desc,
                    "rep_col": rep_col,
                    "off": self.offsets(n),
                }
            )
            .iloc[order]
            .reset_index(drop=True)
        )
        self.tk["ticket_id"] = _ids("TK", n, 6)
        self.tk["q"] = self.cal.quarter_of(self.tk["opened"].to_numpy())

    def tickets_frame(self, d: pd.DataFrame) -> pd.DataFrame:
        off = d["off"].to_numpy()
        return pd.DataFrame(
            {
                "ticket_id": d["ticket_id"].to_numpy(),
                "customer_id": self.cust_ids[d["cust"].to_numpy()],
                "rep_id": d["rep_col"].to_numpy(),
                "type": d["type"].to_numpy(),
                "category": d["category"].to_numpy(),
                "severity": d["severity"].to_numpy(),
                "opened_at": _fmt_ts(d["opened"].to_numpy(), off),
                "first_response_at": _fmt_ts(d["first"].to_numpy(), off),
                "resolved_at": _fmt_ts(d["resolved"].to_numpy(), off),
                "description": d["desc"].to_numpy(),
            }
        )

    # -----------------------------------------------------------------------------------------
    def build_interactions_and_feedback(self) -> None:
        rng = self.rng
        rep, q = self.counts(110)
        n = len(rep)
        cust = self.pick_customer(rep, q)
        contacted = np.minimum(np.maximum(self.rand_ts(q), self.cust_acq_day[cust] * DAY + 9 * HOUR), self.cal.cap)
        inter = pd.DataFrame(
            {
                "rep": rep,
                "cust": cust,
                "contacted": contacted,
                "channel": np.array(CHANNELS_IA, dtype=object)[rng.choice(4, n, p=[0.35, 0.3, 0.25, 0.1])],
            }
        )
        # each complaint ticket: the customer calls its rep
        c = self.tk[self.tk["type"] == "complaint"]
        cinter = pd.DataFrame(
            {
                "rep": c["rep"].to_numpy(),
                "cust": c["cust"].to_numpy(),
                "contacted": np.minimum(c["opened"].to_numpy() + rng.uniform(0.05, 2, len(c)) * HOUR, self.cal.cap),
                "channel": "phone",
            }
        )
        # regular self-reports: about a quarter of the real interactions, same day
        sr_mask = rng.random(n) < 0.25
        sr = inter[sr_mask].reset_index(drop=True)
        m = len(sr)
        sat = self.cust_sat[sr["cust"].to_numpy()]
        claimed = np.clip(np.rint(sat + rng.normal(0, 0.35, m)), 1, 5)
        u = rng.random(m)
        kind = np.where(
            claimed >= 4,
            np.where(u < 0.65, "praise", np.where(u < 0.85, "neutral", "suggestion")),
            np.where(
                claimed == 3,
                np.where(u < 0.5, "neutral", "suggestion"),
                np.where(u < 0.8, "suggestion", "complaint"),
            ),
        ).astype(object)
        claimed = np.where((rng.random(m) < 0.05) & (kind != "complaint"), np.nan, claimed)
        resolved = np.where(kind == "complaint", rng.random(m) < 0.6, False)
        fb = pd.DataFrame(
            {
                "rep": sr["rep"].to_numpy(),
                "cust": sr["cust"].to_numpy(),
                "contact": np.floor(sr["contacted"].to_numpy() / DAY),
                "kind": kind,
                "claimed": claimed,
                "resolved": resolved,
                "resolved_na": kind != "complaint",
                "note": _pick(rng, NOTES, m),
            }
        )
        # honest: no regular self-report within 14 days of a complaint ticket of that customer
        cd = pd.DataFrame({"cust": c["cust"].to_numpy(), "tday": np.floor(c["opened"].to_numpy() / DAY)})
        near = fb.reset_index().merge(cd, on="cust")
        near = near.loc[(near["tday"] - near["contact"]).abs() <= 14, "index"].unique()
        fb = fb.drop(index=near).reset_index(drop=True)
        fq = self.cal.quarter_of(fb["contact"].to_numpy() * DAY)
        # one complaint record per complaint ticket (85%), low satisfaction
        log = rng.random(len(c)) < 0.85
        under = set(self.planted("complaint_underreporting"))
        c_rep, c_q = c["rep"].to_numpy(), c["q"].to_numpy()
        hide = np.isin(c_rep * self.Q + c_q, [r * self.Q + q for r, q in under])
        hide |= (c["planted"] == "hidden_complaint").to_numpy()
        for r, q in self.planted("complaint_underreporting"):  # at most one complaint record
            idx = np.flatnonzero((c_rep == r) & (c_q == q))
            if len(idx) and rng.random() < 0.5:
                hide[idx[0]] = False
                log[idx[0]] = True
            # no spontaneous complaint records either
            spont = (fb["rep"].to_numpy() == r) & (fq == q) & (fb["kind"].to_numpy() == "complaint")
            fb.loc[spont, "kind"] = "suggestion"
            fb.loc[spont, "resolved_na"] = True
        for r, q in self.planted("hidden_complaint"):  # log honestly for the rep's other tickets
            log[(c_rep == r) & (c_q == q)] = True
        keep = log & ~hide
        cc = c[keep]
        k = len(cc)
        contact = np.floor(cinter["contacted"].to_numpy()[keep] / DAY)
        cres = cc["resolved"].to_numpy()
        reported = np.minimum(contact + rng.integers(0, 3, k), self.cal.cap_day)
        cres_flag = ~np.isnan(cres) & (cres <= (reported + 1) * DAY)
        fb_c = pd.DataFrame(
            {
                "rep": cc["rep"].to_numpy(),
                "cust": cc["cust"].to_numpy(),
                "contact": contact,
                "kind": "complaint",
                "claimed": rng.choice([1.0, 2.0, 2.0, 3.0], k),
                "resolved": cres_flag,
                "resolved_na": rng.random(k) < 0.05,
                "note": _pick(rng, NOTES_COMPLAINT, k),
            }
        )
        fb = pd.concat([fb, fb_c], ignore_index=True)
        extra_inter = []
        extra_fb = []
        # hidden_complaint: praise / satisfied records near the planted complaint tickets
        hid = c[(c["planted"] == "hidden_complaint").to_numpy()]
        if len(hid):
            k = len(hid)
            contact = np.floor(hid["opened"].to_numpy() / DAY) + rng.integers(-7, 11, k)
            extra_fb.append(
                pd.DataFrame(
                    {
                        "rep": hid["rep"].to_numpy(),
                        "cust": hid["cust"].to_numpy(),
                        "contact": contact,
                        "kind": np.where(rng.random(k) < 0.7, "praise", "neutral").astype(object),
                        "claimed": rng.choice([4.0, 5.0, 5.0], k),
                        "resolved": False,
                        "resolved_na": True,
                        "note": _pick(rng, NOTES[:2] + ["客户很满意，无问题", "All good, customer happy"], k),
                    }
                )
            )
        # inflated_self_report: claims +2 over everything, and 9-10 customers claimed 5 whose
        # third-party csat is 2-3 (the csat side is planted in build_surveys)
        self.inflated_customers: dict[tuple[int, int], np.ndarray] = {}
        fq = self.cal.quarter_of(fb["contact"].to_numpy() * DAY)
        for r, q in self.planted("inflated_self_report"):
            sel = (fb["rep"].to_numpy() == r) & (fq == q) & (fb["kind"].to_numpy() != "complaint")
            cl = fb.loc[sel, "claimed"].to_numpy()
            fb.loc[sel, "claimed"] = np.minimum(5.0, np.where(np.isnan(cl), 5.0, cl + 2))
            fb.loc[sel, "kind"] = "praise"
            # customers without a complaint ticket nearby (keeps the pattern to this one rule)
            elig = self.cust_start[r] + np.arange(self.n_elig[r, q])
            bad = c.loc[(c["rep"] == r) & (c["q"] - q).abs().le(1), "cust"].to_numpy()
            elig = elig[~np.isin(elig, bad)]
            ncust = int(min(len(elig), rng.integers(9, 11)))
            cs = np.sort(rng.choice(elig, ncust, replace=False))
            self.inflated_customers[(r, q)] = cs
            days = self.rand_day(np.full(ncust, q), 3, 85)
            extra_inter.append(
                pd.DataFrame({"rep": r, "cust": cs, "contacted": days * DAY + 10.5 * HOUR, "channel": "visit"})
            )
            extra_fb.append(
                pd.DataFrame(
                    {
                        "rep": r,
                        "cust": cs,
                        "contact": days,
                        "kind": "praise",
                        "claimed": 5.0,
                        "resolved": False,
                        "resolved_na": True,
                        "note": _pick(rng, ["客户非常满意", "Customer delighted", "合作愉快"], ncust),
                    }
                )
            )
        self.fabricated: list[tuple[int, int, np.ndarray]] = []
        inter = pd.concat([inter, cinter] + extra_inter, ignore_index=True)
        self._inter = inter
        self._fb = pd.concat([fb] + extra_fb, ignore_index=True)

    def finish_interactions_and_feedback(self) -> None:
        """Fabricated contacts (need the survey frame), then format both entities."""
        rng = self.rng
        inter, fb = self._inter, self._fb
        touched = pd.concat(
            self.touch
            + [
                pd.DataFrame({"rep": inter["rep"], "cust": inter["cust"], "day": np.floor(inter["contacted"] / DAY)}),
                pd.DataFrame(
                    {
                        "rep": self.deal_df["rep"],
                        "cust": self.deal_df["cust"],
                        "day": np.floor(self.deal_df["upd"] / DAY),
                    }
                ),
            ],
            ignore_index=True,
        )
        tp_cust = self.third_party_cust_q  # customer * Q + quarter
        extra = []
        for r, q in self.planted("fabricated_contact"):
            k = int(rng.integers(3, 6))
            touched_by_r = touched.loc[touched["rep"] == r, "cust"].to_numpy()
            answered = tp_cust[tp_cust % self.Q == q] // self.Q
            cand = np.flatnonzero((self.cust_owner != r) & (self.cust_acq_day <= self.cal.qstart_day[q]))
            cand = cand[~np.isin(cand, touched_by_r) & ~np.isin(cand, answered)]
            cs = np.sort(rng.choice(cand, k, replace=False))
            days = self.rand_day(np.full(k, q), 5, 80)
            extra.append(
                pd.DataFrame(
                    {
                        "rep": r,
                        "cust": cs,
                        "contact": days,
                        "kind": "praise",
                        "claimed": 5.0,
                        "resolved": False,
                        "resolved_na": True,
                        "note": _pick(
                            rng,
                            ["拜访客户，客户很满意", "Site visit, very positive", "电话回访，合作意向强"],
                            k,
                        ),
                    }
                )
            )
        fb = pd.concat([fb] + extra, ignore_index=True)
        # interactions: response delays per rep
        n = len(inter)
        rep = inter["rep"].to_numpy()
        delay = np.exp(rng.normal(np.log(self.sla_median_h[rep]), 1.0)) * HOUR
        resp = inter["contacted"].to_numpy() + np.maximum(delay, 60.0)
        resp = np.where((rng.random(n) < 0.03) | (resp > self.cal.cap), np.nan, resp)
        order = np.lexsort((inter["cust"].to_numpy(), inter["contacted"].to_numpy()))
        off = self.offsets(n)
        self.interactions = pd.DataFrame(
            {
                "interaction_id": _ids("I", n, 7),
                "rep_id": self.rep_ids[rep[order]],
                "customer_id": self.cust_ids[inter["cust"].to_numpy()[order]],
                "channel": inter["channel"].to_numpy()[order],
                "customer_contacted_at": _fmt_ts(inter["contacted"].to_numpy()[order], off),
                "rep_responded_at": _fmt_ts(resp[order], off),
            }
        )
        m = len(fb)
        contact = np.minimum(fb["contact"].to_numpy(), self.cal.cap_day)
        reported = np.minimum(contact + rng.choice([0, 0, 1, 1, 2, 3, 5], m), self.cal.cap_day)
        order = np.lexsort((fb["cust"].to_numpy(), fb["rep"].to_numpy(), contact))
        claimed = fb["claimed"].to_numpy()
        self.feedback = pd.DataFrame(
            {
                "record_id": _ids("FB", m, 6),
                "rep_id": self.rep_ids[fb["rep"].to_numpy()[order]],
                "customer_id": self.cust_ids[fb["cust"].to_numpy()[order]],
                "contact_on": _fmt_day(contact[order]),
                "reported_on": _fmt_day(reported[order]),
                "kind": fb["kind"].to_numpy()[order],
                "claimed_satisfaction": _fmt_int(claimed[order]),
                "complaint_resolved": _fmt_bool(fb["resolved"].to_numpy()[order], fb["resolved_na"].to_numpy()[order]),
                "note": fb["note"].to_numpy()[order],
            }
        )

    # -----------------------------------------------------------------------------------------
    def _scores(self, cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        s = self.cust_sat[cust]
        n = len(cust)
        nps = np.clip(np.rint(2.0 * s + 0.4 + rng.normal(0, 1.1, n)), 0, 10)
        csat = np.clip(np.rint(s + rng.normal(0, 0.45, n)), 1, 5)
        return nps, csat

    def build_surveys(self) -> None:
        rng = self.rng
        cal = self.cal
        parts = []
        for ch, mean in (("third_party", 32), ("rep_distributed", 24), ("crm_auto", 8)):
            rep, q = self.counts(mean)
            cust = self.pick_customer(rep, q)
            sent = np.minimum(np.maximum(self.rand_ts(q), self.cust_acq_day[cust] * DAY + 9 * HOUR), cal.cap)
            parts.append(pd.DataFrame({"rep": rep, "cust": cust, "deal": "", "channel": ch, "sent": sent}))
        d = self.deal_df[self.deal_df["stage"] != "open"]
        d = d[rng.random(len(d)) < 0.8]
        sent = d["closed"].to_numpy() * DAY + DAY + 10 * HOUR + rng.integers(0, 120, len(d)) * 60.0
        keep = sent <= cal.cap
        parts.append(
            pd.DataFrame(
                {
                    "rep": d["rep"].to_numpy()[keep],
                    "cust": d["cust"].to_numpy()[keep],
                    "deal": d["deal_id"].to_numpy()[keep],
                    "channel": "crm_auto",
                    "sent": sent[keep],
                }
            )
        )
        inv = pd.concat(parts, ignore_index=True)
        n = len(inv)
        rate = inv["channel"].map({"third_party": 0.45, "rep_distributed": 0.6, "crm_auto": 0.4}).to_numpy()
        responded = inv["sent"].to_numpy() + np.exp(rng.normal(np.log(20), 1.2, n)).clip(0.1, 400) * HOUR
        has = (rng.random(n) < rate) & (responded <= cal.cap)
        cust = inv["cust"].to_numpy()
        nps, csat = self._scores(cust)
        dur = np.exp(rng.normal(np.log(180), 0.6, n)).clip(25, 3000).round()
        fast = rng.random(n) < 0.007
        dur[fast] = rng.integers(8, 20, fast.sum())
        dur[rng.random(n) < 0.03] = np.nan
        csat[rng.random(n) < 0.04] = np.nan
        slot = np.floor(rng.random(n) * self.cust_ncontacts[cust]).astype("int64")
        fp = self.cust_fp[cust, slot]
        fp[rng.random(n) < 0.03] = ""
        inv = inv.assign(has=has, responded=responded, nps=nps, csat=csat, dur=dur, fp=fp, plant="")
        inv["rq"] = cal.quarter_of(inv["responded"].to_numpy())
        extra = []

        def new_rows(
            r: int, q: int, cs: np.ndarray, channel: str, sent: np.ndarray, resp: np.ndarray, plant: str
        ) -> pd.DataFrame:
            k = len(cs)
            nps_, csat_ = self._scores(cs)
            slot_ = np.floor(rng.random(k) * self.cust_ncontacts[cs]).astype("int64")
            return pd.DataFrame(
                {
                    "rep": r,
                    "cust": cs,
                    "deal": "",
                    "channel": channel,
                    "sent": sent,
                    "has": True,
                    "responded": resp,
                    "nps": nps_,
                    "csat": csat_,
                    "dur": np.exp(rng.normal(np.log(180), 0.5, k)).clip(40, 900).round(),
                    "fp": self.cust_fp[cs, slot_],
                    "plant": plant,
                    "rq": q,
                }
            )

        def some_customers(r: int, q: int, k: int) -> np.ndarray:
            return self.cust_start[r] + np.floor(rng.random(k) * self.n_elig[r, q]).astype("int64")

        # channel_gap: >= 24 responses on both sides, rep_distributed almost all 9-10 (set below),
        # third-party ones an ordinary company-wide mix
        for r, q in self.planted("channel_gap"):
            for ch in ("third_party", "rep_distributed"):
                have = int(((inv["rep"] == r) & (inv["rq"] == q) & inv["has"] & (inv["channel"] == ch)).sum())
                k = max(0, 24 - have)
                if k:
                    sent = self.rand_ts(np.full(k, q), 0, 75)
                    extra.append(
                        new_rows(r, q, some_customers(r, q, k), ch, sent, sent + rng.uniform(1, 48, k) * HOUR, "")
                    )
        # inflated_self_report: the planted customers answer third-party surveys with csat 2-3
        for (r, q), cs in self.inflated_customers.items():
            k = len(cs)
            sent = self.rand_ts(np.full(k, q), 0, 80)
            rows = new_rows(r, q, cs, "third_party", sent, sent + rng.uniform(2, 72, k) * HOUR, "inflated_self_report")
            extra.append(rows)
        inv = pd.concat([inv] + extra, ignore_index=True)
        extra = []
        for r, q in self.planted("channel_gap"):
            m = ((inv["rep"] == r) & (inv["rq"] == q) & (inv["channel"] == "third_party")).to_numpy()
            inv.loc[m, "nps"] = rng.choice(np.arange(11.0), m.sum(), p=NPS_MIX)
        # inflated: every third-party answer of the planted customers in that quarter is lukewarm
        for (r, q), cs in self.inflated_customers.items():
            m = (
                (inv["rep"] == r) & (inv["rq"] == q) & (inv["channel"] == "third_party") & inv["cust"].isin(cs)
            ).to_numpy()
            inv.loc[m, "csat"] = rng.choice([2.0, 3.0, 3.0], m.sum())
            inv.loc[m, "nps"] = rng.choice([3.0, 5.0, 6.0, 7.0], m.sum())
        # honest: rep-distributed scores follow the rep's own third-party distribution
        gap = set(self.planted("channel_gap"))
        resp = inv[inv["has"]]
        tp = resp[resp["channel"] == "third_party"]
        rd = resp[resp["channel"] == "rep_distributed"]
        tp_groups = {key: g["nps"].to_numpy() for key, g in tp.groupby(["rep", "rq"], sort=True)}
        for key, g in rd.groupby(["rep", "rq"], sort=True):
            key = (int(key[0]), int(key[1]))
            idx = g.index.to_numpy()
            if key in gap:
                inv.loc[idx, "nps"] = np.where(
                    rng.random(len(idx)) < 0.05, 8.0, np.where(rng.random(len(idx)) < 0.3, 9.0, 10.0)
                )
                inv.loc[idx, "csat"] = np.where(rng.random(len(idx)) < 0.8, 5.0, 4.0)
                continue
            ref = tp_groups.get(key)
            if ref is None or len(ref) < 5:
                continue
            k = len(idx)
            qv = np.quantile(ref, (np.arange(k) + 0.5) / k, method="inverted_cdf")
            noise = np.where(rng.random(k) < 0.15, rng.choice([-1.0, 1.0], k), 0.0)
            inv.loc[idx, "nps"] = np.clip(rng.permutation(qv) + noise, 0, 10)
        # self_filled_survey: 3-5 crm_auto answers for different customers from one device
        for i, (r, q) in enumerate(self.planted("self_filled_survey")):
            k = int(min(self.n_elig[r, q], rng.integers(3, 6)))
            cs = self.cust_start[r] + np.sort(rng.choice(self.n_elig[r, q], k, replace=False))
            sent = self.rand_ts(np.full(k, q), 0, 80)
            rows = new_rows(r, q, cs, "crm_auto", sent, sent + rng.uniform(3, 96, k) * HOUR, "self_filled_survey")
            devs = self.devices.loc[self.devices["rep_id"] == self.rep_ids[r], "fingerprint"].to_numpy()
            rows["fp"] = devs[0] if i % 2 == 0 else _hex(rng, 1)[0]
            rows["nps"] = np.where(rng.random(k) < 0.8, 10.0, 9.0)
            rows["csat"] = 5.0
            extra.append(rows)
        # speeder_burst: 9-12 top scores in < 20 s each, within 25 minutes
        for r, q in self.planted("speeder_burst"):
            k = int(rng.integers(9, 13))
            cs = some_customers(r, q, k)
            t0 = self.rand_day(np.array([q]), 10, 80)[0] * DAY + rng.uniform(20, 22.5) * HOUR
            resp_t = np.sort(t0 + rng.uniform(0, 25, k) * 60).round()
            sent = resp_t - rng.uniform(1, 5, k) * DAY
            rows = new_rows(r, q, cs, "crm_auto", sent, resp_t, "speeder_burst")
            rows["nps"] = 10.0
            rows["csat"] = 5.0
            rows["dur"] = rng.integers(4, 19, k).astype(float)
            rows["fp"] = _hex(rng, k)
            extra.append(rows)
        inv = pd.concat([inv] + extra, ignore_index=True)
        inv["rq"] = cal.quarter_of(inv["responded"].to_numpy())
        # remember which customers answered third-party surveys per quarter
        tpr = inv[inv["has"] & (inv["channel"] == "third_party")]
        self.third_party_cust_q = np.unique(
            tpr["cust"].to_numpy().astype("int64") * self.Q + tpr["rq"].to_numpy().astype("int64")
        )
        order = np.lexsort((inv["cust"].to_numpy(), inv["sent"].to_numpy()))
        inv = inv.iloc[order].reset_index(drop=True)
        n = len(inv)
        inv["invitation_id"] = _ids("INV", n, 7)
        off_inv = self.offsets(n)
        self.invitations = pd.DataFrame(
            {
                "invitation_id": inv["invitation_id"].to_numpy(),
                "customer_id": self.cust_ids[inv["cust"].to_numpy()],
                "rep_id": self.rep_ids[inv["rep"].to_numpy()],
                "deal_id": inv["deal"].to_numpy(),
                "channel": inv["channel"].to_numpy(),
                "sent_at": _fmt_ts(inv["sent"].to_numpy(), off_inv),
            }
        )
        r = inv[inv["has"]]
        r = r.iloc[np.lexsort((r["invitation_id"].to_numpy(), r["responded"].to_numpy()))].reset_index(drop=True)
        m = len(r)
        comment = np.where(
            r["nps"].to_numpy() >= 9,
            _pick(rng, COMMENTS_POS, m),
            np.where(r["nps"].to_numpy() >= 7, _pick(rng, COMMENTS_MID, m), _pick(rng, COMMENTS_NEG, m)),
        ).astype(object)
        comment[(rng.random(m) < 0.6) & (r["plant"].to_numpy() == "")] = ""
        comment[r["plant"].to_numpy() == "speeder_burst"] = ""
        self.responses = pd.DataFrame(
            {
                "response_id": _ids("RSP", m, 7),
                "invitation_id": r["invitation_id"].to_numpy(),
                "responded_at": _fmt_ts(r["responded"].to_numpy(), self.offsets(m)),
                "nps": r["nps"].to_numpy().astype("int64"),
                "csat": pd.array(r["csat"].to_numpy(), dtype="Int64"),
                "comment": comment,
                "respondent_fingerprint": r["fp"].to_numpy(),
                "duration_seconds": pd.array(r["dur"].to_numpy(), dtype="Int64"),
            }
        )
        self.responses_channel = r["channel"].to_numpy()

    # -----------------------------------------------------------------------------------------
    def build_actions_adjustments(self) -> None:
        rng, cal = self.rng, self.cal
        c = self.tk[self.tk["type"] == "complaint"]
        c = c[rng.random(len(c)) < 0.7]
        n = len(c)
        opened_day = np.floor(c["opened"].to_numpy() / DAY)
        due = np.minimum(opened_day + rng.integers(7, 22, n), cal.cap_day)
        done = rng.random(n) < 0.65
        comp = opened_day + rng.integers(2, 30, n)
        comp = np.where(done & (comp <= cal.cap_day), comp, np.nan)
        conf_u = rng.random(n)
        conf_na = np.isnan(comp) | (conf_u > 0.8)
        cat = c["category"].to_numpy()
        issue = np.where(np.isin(cat, ["communication", "service", "solution"]), cat, "other").astype(object)
        via = _pick(rng, ["phone", "email", "回访电话", "visit"], n)
        via[conf_na] = ""
        self.actions = pd.DataFrame(
            {
                "action_id": _ids("IA", n, 5),
                "rep_id": self.rep_ids[c["rep"].to_numpy()],
                "customer_id": self.cust_ids[c["cust"].to_numpy()],
                "ticket_id": c["ticket_id"].to_numpy(),
                "issue_type": issue,
                "measure": _pick(rng, MEASURES, n),
                "due_on": _fmt_day(due),
                "completed_on": _fmt_day(comp),
                "customer_confirmed": _fmt_bool(conf_u < 0.6, conf_na),
                "confirmed_via": via,
            }
        )
        k = max(4, self.R // 8)
        level = np.where(rng.random(k) < 0.75, "rep", "team").astype(object)
        subj = np.where(
            level == "rep",
            self.rep_ids[rng.integers(0, self.R, k)],
            self.team_ids[rng.integers(0, self.T, k)],
        )
        pts = rng.choice(np.array([-8, -6, -3, -2, -1.5, 1, 2, 2.5, 3, 4, 5, 8], dtype=float), k)
        pts_s = np.array([f"{p:g}" for p in pts], dtype=object)
        self.adjustments = pd.DataFrame(
            {
                "adjustment_id": _ids("ADJ", k, 3),
                "period": np.array(cal.labels, dtype=object)[rng.integers(0, self.Q, k)],
                "level": level,
                "subject_id": subj,
                "points": pts_s,
                "reason": _pick(rng, ADJ_REASONS, k),
                "approved_by": _pick(rng, MANAGERS, k),
            }
        )

    # -----------------------------------------------------------------------------------------
    def write(self, out: Path) -> dict[str, int]:
        rng = self.rng
        land = out / "landing"
        counts: dict[str, int] = {}

        def csv(entity: str, df: pd.DataFrame, name: str, bom: bool = False) -> None:
            assert list(df.columns) == COLUMNS[entity], entity
            p = land / entity / name
            p.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(p, index=False, lineterminator="\n", encoding="utf-8-sig" if bom else "utf-8")
            counts[entity] = counts.get(entity, 0) + len(df)

        csv("crm/teams", self.teams, "teams.csv")
        csv("crm/reps", self.reps, "reps.csv")
        csv("crm/customers", self.customers, "customers.csv", bom=True)  # Excel export, with BOM
        csv("crm/targets", self.targets, "targets.csv")
        csv("crm/proposals", self.proposals, "proposals.csv")
        csv("crm/followups", self.followups, "followups.csv")
        csv("crm/feedback_self_reported", self.feedback, "feedback_self_reported.csv")
        csv("crm/adjustments", self.adjustments, "adjustments.csv")
        csv("crm/improvement_actions", self.actions, "improvement_actions.csv")
        csv("crm/rep_devices", self.devices, "rep_devices.csv")
        csv("survey/invitations", self.invitations, "invitations.csv")

        # interactions: IM messages exported as JSONL, the rest as CSV
        im = (self.interactions["channel"] == "im").to_numpy()
        csv("crm/interactions", self.interactions[~im], "interactions.csv")
        p = land / "crm/interactions/im_messages.jsonl"
        self.interactions[im].replace("", None).to_json(p, orient="records", lines=True, force_ascii=False)
        counts["crm/interactions"] += int(im.sum())

        # responses: the third-party vendor delivers Parquet, the CRM exports CSV
        tp = self.responses_channel == "third_party"
        csv("survey/responses", self.responses[~tp], "crm_responses.csv")
        p = land / "survey/responses/vendor_third_party.parquet"
        vendor = self.responses[tp].reset_index(drop=True)
        for col in ("comment", "respondent_fingerprint"):  # empty is null in Parquet, not ""
            vendor[col] = vendor[col].replace("", None)
        vendor.to_parquet(p, index=False)
        counts["survey/responses"] += int(tp.sum())

        # tickets: one dated drop per quarter
        tk = self.tk
        for q in range(self.Q):
            part = tk[tk["q"] == q]
            csv("tickets/tickets", self.tickets_frame(part), f"{self._drop_name(q)}.csv")

        # deals: one dated drop per quarter, plus re-sent rows (exact duplicates, superseded versions)
        d = self.deal_df
        later = d[(d["file_q"] >= 1) & (d["stage"] != "open")]
        n_sup = min(len(later), max(3, len(d) // 150))
        sup_idx = np.sort(rng.choice(later.index.to_numpy(), n_sup, replace=False))
        old = d.loc[sup_idx].copy()
        old["file_q"] = old["file_q"] - 1
        old["stage"] = "open"
        old["amount"] = np.round(old["amount"].to_numpy() * rng.uniform(0.8, 1.2, n_sup), -2).clip(10000)
        old["closed"] = np.nan
        old["collected"] = np.nan
        old["upd"] = self.rand_ts(old["file_q"].to_numpy(), 0, 80)
        rest = d[(d["file_q"] < self.Q - 1) & ~d.index.isin(sup_idx)] if self.Q > 1 else d[~d.index.isin(sup_idx)]
        n_dup = min(len(rest), max(3, len(d) // 200))
        dup = d.loc[np.sort(rng.choice(rest.index.to_numpy(), n_dup, replace=False))].copy()
        dup["file_q"] = dup["file_q"] + 1
        self.n_superseded, self.n_exact_dup = n_sup, n_dup
        allv = pd.concat([d, old, dup])
        for q in range(self.Q + (1 if self.Q == 1 else 0)):
            part = allv[allv["file_q"] == q]
            part = part.iloc[np.lexsort((part["deal_id"].to_numpy(), part["upd"].to_numpy()))]
            name = self._drop_name(q) if q < self.Q else self._drop_name(q - 1) + "_resend"
            csv("crm/deals", self.deals_frame(part), f"{name}.csv")

        gt = pd.DataFrame(sorted(self.truth), columns=["rep_id", "period", "rule_id"])
        gt.to_csv(out / "ground_truth.csv", index=False, lineterminator="\n")
        return {k: counts[k] for k in COLUMNS}

    def _drop_name(self, q: int) -> str:
        end = int(self.cal.qstart_day[q] + self.cal.qlen[q] - 1)
        return str(np.datetime64(end, "D"))


LAST_YEAR = 2026  # the built-in sample's history ends with this calendar year


def years_of_history(years: int, last_year: int = LAST_YEAR) -> tuple[int, str]:
    """(quarters, start) of `years` whole calendar years of history ending with `last_year`: 3 years are
    the 12 quarters 2024-Q1 .. 2026-Q4."""
    if years < 1:
        raise ValueError("years must be at least 1")
    return 4 * years, f"{last_year - years + 1}-01-01"


def generate(
    out: Path,
    seed: int = 7,
    reps: int = 60,
    teams: int | None = None,
    quarters: int = 4,
    start: str = "2026-01-01",
    rows_scale: float = 1.0,
) -> dict[str, int]:
    """Write out/landing/<source>/<entity>/... and out/ground_truth.csv; return rows per entity
    (keys like "crm/deals")."""
    g = _Gen(seed, reps, teams, quarters, start, rows_scale)
    g.build_org()
    g.build_customers()
    g.plant_plan()
    g.build_deals()
    g.build_targets()
    g.build_proposals_followups()
    g.build_tickets()
    g.build_interactions_and_feedback()
    g.build_surveys()
    g.finish_interactions_and_feedback()
    g.build_actions_adjustments()
    return g.write(Path(out))
