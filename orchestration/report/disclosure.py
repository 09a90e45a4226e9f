"""The share of hidden survey cells (SCORING.md: reported in the run summary and the auditor's report),
read from the published marts: one query, one sentence, for the runner and the auditor's report."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.catalogue import SURVEY_INDICATORS

_SURVEY = ", ".join(f"'{i}'" for i in SURVEY_INDICATORS)
# survey figures with answers behind them (a cell without answers hides nothing); all indicator cells
HIDDEN_SHARE_SQL = f"""
select
    count(case when disclosure <> 'published' and sample_size > 0 then 1 end) as hidden,
    count(case when disclosure = 'small_sample' and sample_size > 0 then 1 end) as below_k,
    count(case when disclosure = 'complementary' then 1 end) as complementary,
    count(case when indicator in ({_SURVEY}) and sample_size > 0 then 1 end) as survey_cells,
    count(*) as all_cells
from marts.indicator_values
"""


@dataclass(frozen=True)
class HiddenShare:
    hidden: int  # survey figures with answers that are hidden
    below_k: int  # of which: fewer than survey.anonymity_k answers
    complementary: int  # of which: hidden to protect another one
    survey_cells: int  # survey figures (rep, team, company) with answers
    all_cells: int  # every indicator cell of marts.indicator_values

    @property
    def percent(self) -> float:
        return 100.0 * self.hidden / self.survey_cells if self.survey_cells else 0.0

    @property
    def percent_of_all(self) -> float:
        return 100.0 * self.hidden / self.all_cells if self.all_cells else 0.0

    def text(self) -> str:
        return (
            f"{self.hidden:,} of {self.survey_cells:,} survey figures with answers ({self.percent:.1f} %; "
            f"{self.percent_of_all:.1f} % of all {self.all_cells:,} indicator cells): {self.below_k:,} from fewer "
            f"than anonymity_k answers, {self.complementary:,} complementary"
        )


def hidden_share(row: tuple | None) -> HiddenShare | None:
    """The HIDDEN_SHARE_SQL row as a HiddenShare (None without one)."""
    return HiddenShare(*(int(v or 0) for v in row)) if row else None
