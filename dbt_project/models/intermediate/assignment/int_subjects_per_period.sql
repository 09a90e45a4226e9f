-- Who is evaluated in each period: reps employed during the period (hired on or before its end, not
-- left before its start), their teams (through the rep's current team_id) and the company.
-- A rep is graded with the scheme of its team (scheme_id = the team's business_stage).
with

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

teams as (

    select * from {{ ref('stg_crm__teams') }}

),

rep_subjects as (

    select
        periods.period,
        periods.grain,
        periods.period_start,
        periods.period_end,
        'rep' as level,
        reps.rep_id as subject_id,
        reps.rep_name as subject_name,
        reps.team_id,
        teams.business_stage
    from periods
    inner join reps
        on reps.hired_on <= periods.period_end
        and (reps.left_on is null or reps.left_on >= periods.period_start)
    left join teams
        on reps.team_id = teams.team_id

),

team_subjects as (

    select distinct
        rep_subjects.period,
        rep_subjects.grain,
        rep_subjects.period_start,
        rep_subjects.period_end,
        'team' as level,
        rep_subjects.team_id as subject_id,
        teams.team_name as subject_name,
        rep_subjects.team_id,
        teams.business_stage
    from rep_subjects
    left join teams
        on rep_subjects.team_id = teams.team_id
    where rep_subjects.team_id is not null

),

company_subjects as (

    select
        period,
        grain,
        period_start,
        period_end,
        'company' as level,
        'company' as subject_id,
        'company' as subject_name,
        cast(null as {{ dbt.type_string() }}) as team_id,
        cast(null as {{ dbt.type_string() }}) as business_stage
    from periods

),

unioned as (

    select * from rep_subjects
    union all
    select * from team_subjects
    union all
    select * from company_subjects

),

final as (

    select
        *,
        business_stage as scheme_id
    from unioned

)

select * from final
