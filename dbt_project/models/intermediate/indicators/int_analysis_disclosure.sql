-- Small-cell protection of the anonymous survey indicators (nps, csat, key_account_nps): for every
-- period x level x subject x survey indicator, whether its figures may be published, and if not, why
-- (SCORING.md "anonymity"; docs/analysis.md "Small-cell protection").
--
--   small_sample   primary suppression: a rep's or team's figure from fewer than var('anonymity_k')
--                  answers (default 5). The company figure is always published.
--   complementary  a further cell, at the same level, hidden so that no hidden figure can be worked
--                  back by subtraction. Published cells add up: a team's numerator and sample are the
--                  sums of its reps' (each answer belongs to one rep, each rep to one team), the
--                  company's the sums of its teams'. An unknown is recoverable when it is the only one
--                  in such a sum, so:
--     1. reps: in a team whose own figure is published, when exactly one rep with answers is hidden,
--        one teammate with answers is hidden too: first one whose figure counts in no composite (below
--        its minimum sample or not weighted), then the smallest sample, then the lowest rep_id. (A
--        teammate always exists: a lone hidden rep would make the team's sample below k as well.)
--     2. teams: when exactly one team with answers is hidden in a period, a sibling team with answers
--        is hidden too: first one that holds a hidden rep with answers (its figure is then not the sum
--        of published reps), then one counting in no composite, the smallest sample, the lowest team_id.
--        When the chosen team holds no hidden rep, its own figure would still be the sum of its
--        published reps, so one of its reps (same order as in 1) is hidden with it.
--   published      neither.
-- A hidden cell never counts in a composite (int_score_indicator_lines: counts_in_composite), so no
-- published composite can be inverted with the published weights and scores to give it back. Primary
-- cells are below any sensible minimum sample anyway; a complementary cell that would have counted is
-- left out of its subject's composite, as an insufficient one is.
-- Limit: with a single team with answers in a period, the company figure (always published) equals
-- that team's; nothing at the same level can protect it (docs/analysis.md).
{%- set k = var('anonymity_k', 5) | int %}

with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}
    where indicator in ('{{ survey_indicators() | join("', '") }}')

),

subjects as (

    select * from {{ ref('int_subjects_per_period') }}

),

scores as (

    select * from {{ ref('int_indicator_scores') }}
    where indicator in ('{{ survey_indicators() | join("', '") }}')

),

cells as (

    select
        indicator_values.period,
        indicator_values.level,
        indicator_values.subject_id,
        indicator_values.indicator,
        subjects.team_id,
        coalesce(indicator_values.sample_size, 0) as sample_size,
        case when coalesce(scores.counts_in_composite, false) then 1 else 0 end as in_composite,
        case
            when indicator_values.level in ('rep', 'team')
                and coalesce(indicator_values.sample_size, 0) < {{ k }} then 1
            else 0
        end as is_primary
    from indicator_values
    inner join subjects
        on indicator_values.period = subjects.period
        and indicator_values.level = subjects.level
        and indicator_values.subject_id = subjects.subject_id
    left join scores
        on indicator_values.period = scores.period
        and indicator_values.level = scores.level
        and indicator_values.subject_id = scores.subject_id
        and indicator_values.indicator = scores.indicator

),

rep_cells as (

    select * from cells
    where level = 'rep'

),

team_cells as (

    select * from cells
    where level = 'team'

),

-- step 1: per team whose own figure is published, its hidden reps with answers
team_hidden_reps as (

    select
        rep_cells.period,
        rep_cells.indicator,
        rep_cells.team_id,
        sum(case when rep_cells.is_primary = 1 and rep_cells.sample_size > 0 then 1 else 0 end) as hidden_reps
    from rep_cells
    inner join team_cells
        on rep_cells.period = team_cells.period
        and rep_cells.indicator = team_cells.indicator
        and rep_cells.team_id = team_cells.subject_id
    where team_cells.is_primary = 0
    group by rep_cells.period, rep_cells.indicator, rep_cells.team_id

),

rep_candidates as (

    select
        rep_cells.period,
        rep_cells.indicator,
        rep_cells.team_id,
        rep_cells.subject_id,
        row_number() over (
            partition by rep_cells.period, rep_cells.indicator, rep_cells.team_id
            order by rep_cells.in_composite, rep_cells.sample_size, rep_cells.subject_id
        ) as candidate_rank
    from rep_cells
    where rep_cells.is_primary = 0
        and rep_cells.sample_size > 0

),

rep_secondaries as (

    select
        rep_candidates.period,
        rep_candidates.indicator,
        'rep' as level,
        rep_candidates.subject_id
    from rep_candidates
    inner join team_hidden_reps
        on rep_candidates.period = team_hidden_reps.period
        and rep_candidates.indicator = team_hidden_reps.indicator
        and rep_candidates.team_id = team_hidden_reps.team_id
    where team_hidden_reps.hidden_reps = 1
        and rep_candidates.candidate_rank = 1

),

-- step 2: teams with answers and whether, after step 1, they hold a hidden rep with answers
teams_holding_hidden as (

    select distinct
        rep_cells.period,
        rep_cells.indicator,
        rep_cells.team_id
    from rep_cells
    left join rep_secondaries
        on rep_cells.period = rep_secondaries.period
        and rep_cells.indicator = rep_secondaries.indicator
        and rep_cells.subject_id = rep_secondaries.subject_id
    where rep_cells.sample_size > 0
        and (rep_cells.is_primary = 1 or rep_secondaries.subject_id is not null)

),

period_hidden_teams as (

    select
        period,
        indicator,
        sum(case when is_primary = 1 and sample_size > 0 then 1 else 0 end) as hidden_teams
    from team_cells
    group by period, indicator

),

team_candidates as (

    select
        team_cells.period,
        team_cells.indicator,
        team_cells.subject_id,
        case when teams_holding_hidden.team_id is null then 0 else 1 end as holds_hidden,
        row_number() over (
            partition by team_cells.period, team_cells.indicator
            order by
                case when teams_holding_hidden.team_id is null then 1 else 0 end,
                team_cells.in_composite,
                team_cells.sample_size,
                team_cells.subject_id
        ) as candidate_rank
    from team_cells
    left join teams_holding_hidden
        on team_cells.period = teams_holding_hidden.period
        and team_cells.indicator = teams_holding_hidden.indicator
        and team_cells.subject_id = teams_holding_hidden.team_id
    where team_cells.is_primary = 0
        and team_cells.sample_size > 0

),

team_secondaries as (

    select
        team_candidates.period,
        team_candidates.indicator,
        team_candidates.subject_id,
        team_candidates.holds_hidden
    from team_candidates
    inner join period_hidden_teams
        on team_candidates.period = period_hidden_teams.period
        and team_candidates.indicator = period_hidden_teams.indicator
    where period_hidden_teams.hidden_teams = 1
        and team_candidates.candidate_rank = 1

),

-- a chosen team without a hidden rep: one of its reps goes with it (order of step 1)
team_rep_secondaries as (

    select
        rep_candidates.period,
        rep_candidates.indicator,
        'rep' as level,
        rep_candidates.subject_id
    from rep_candidates
    inner join team_secondaries
        on rep_candidates.period = team_secondaries.period
        and rep_candidates.indicator = team_secondaries.indicator
        and rep_candidates.team_id = team_secondaries.subject_id
    where team_secondaries.holds_hidden = 0
        and rep_candidates.candidate_rank = 1

),

secondaries as (

    select * from rep_secondaries
    union all
    select
        period,
        indicator,
        'team' as level,
        subject_id
    from team_secondaries
    union all
    select * from team_rep_secondaries

),

final as (

    select
        cells.period,
        cells.level,
        cells.subject_id,
        cells.indicator,
        cells.sample_size,
        case
            when cells.is_primary = 1 then 'small_sample'
            when secondaries.subject_id is not null then 'complementary'
            else 'published'
        end as disclosure
    from cells
    left join secondaries
        on cells.period = secondaries.period
        and cells.level = secondaries.level
        and cells.subject_id = secondaries.subject_id
        and cells.indicator = secondaries.indicator

)

select * from final
