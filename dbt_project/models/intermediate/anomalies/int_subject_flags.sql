-- Per graded subject (rep, team) and period: its open, holding and confirmed flags, the penalty points
-- of its confirmed penalty flags and the responses taken out of its survey figures.
-- A rep's flags are the flags about the rep in the period. A team's are its reps' flags (by the rep's
-- current team, like every team figure): a team's figures are made of its reps' events, so an open
-- holding flag of one of its reps holds the team's grade too (docs/anomalies.md "Reviews"). Penalty
-- points are the rep's alone: the team's figures already leave out the excluded responses.
with

flags as (

    select * from {{ ref('int_anomaly_flag_reviews') }}

),

excluded as (

    -- distinct responses (one behind two confirmed flags is excluded once), in the flag's period
    select distinct
        excluded_responses.flag_period as period,
        excluded_responses.rep_id,
        flags.team_id,
        excluded_responses.response_id
    from {{ ref('int_excluded_responses') }} as excluded_responses
    inner join flags
        on excluded_responses.flag_id = flags.flag_id

),

rep_excluded as (

    select period, rep_id, count(*) as excluded_responses
    from excluded
    group by period, rep_id

),

team_excluded as (

    select period, team_id, count(*) as excluded_responses
    from excluded
    group by period, team_id

),

per_rep as (

    select
        flags.period,
        'rep' as level,
        flags.rep_id as subject_id,
        sum(case when flags.review_status = 'open' then 1 else 0 end) as open_flags,
        sum(case when flags.is_holding then 1 else 0 end) as holding_flags,
        sum(case when flags.review_status = 'confirmed' then 1 else 0 end) as confirmed_flags,
        sum(flags.penalty_points) as penalty_points,
        coalesce(max(rep_excluded.excluded_responses), 0) as excluded_responses
    from flags
    left join rep_excluded
        on flags.period = rep_excluded.period
        and flags.rep_id = rep_excluded.rep_id
    group by flags.period, flags.rep_id

),

per_team as (

    select
        flags.period,
        'team' as level,
        flags.team_id as subject_id,
        sum(case when flags.review_status = 'open' then 1 else 0 end) as open_flags,
        sum(case when flags.is_holding then 1 else 0 end) as holding_flags,
        sum(case when flags.review_status = 'confirmed' then 1 else 0 end) as confirmed_flags,
        cast(0 as decimal(18, 2)) as penalty_points,
        coalesce(max(team_excluded.excluded_responses), 0) as excluded_responses
    from flags
    left join team_excluded
        on flags.period = team_excluded.period
        and flags.team_id = team_excluded.team_id
    where flags.team_id is not null
    group by flags.period, flags.team_id

),

final as (

    select * from per_rep
    union all
    select * from per_team

)

select * from final
