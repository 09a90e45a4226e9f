-- Small-cell protection of the anonymous survey indicators (nps, csat, key_account_nps): for every
-- period x level x subject x survey indicator, whether its figures may be published, and if not, why.
--
--   small_sample   primary suppression (SCORING.md): a rep-level figure below its minimum sample.
--   complementary  a further cell hidden so that no hidden figure can be recovered by subtraction.
--                  The published cells add up: a team's numerator and sample are the sums of its
--                  reps' (each answer belongs to one rep and so to one team), the company's the sums
--                  of its teams'. A hidden rep figure is recoverable when it is the only unknown of its
--                  team's sum, so:
--     1. team: when exactly one rep of a team is hidden with answers behind it (sample_size > 0; a
--        rep without answers adds nothing and hides nothing), the teammate with the smallest
--        published sample (> 0; then the lowest rep_id) is hidden too. When no teammate has a
--        published figure with answers, the team's own figure is hidden instead (it then equals the
--        hidden rep's figure).
--     2. company: when exactly one team's figure is hidden (step 1), the company figure is hidden
--        too (another team's figure would not do: it is the sum of its published reps).
--   published      neither.
-- Limitation (docs/analysis.md): a survey indicator that carries a weight in the scheme also enters
-- the composite and the final score, from which, with the published weights and other scores, its
-- score can be worked back; suppression of published cells cannot close that channel.
with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}
    where indicator in ('{{ survey_indicators() | join("', '") }}')

),

subjects as (

    select * from {{ ref('int_subjects_per_period') }}

),

rep_cells as (

    select
        indicator_values.period,
        indicator_values.indicator,
        indicator_values.subject_id,
        subjects.team_id,
        indicator_values.sample_size,
        indicator_values.is_sufficient,
        case when not indicator_values.is_sufficient and indicator_values.sample_size > 0 then 1 else 0 end
            as hides_answers
    from indicator_values
    inner join subjects
        on indicator_values.period = subjects.period
        and indicator_values.level = subjects.level
        and indicator_values.subject_id = subjects.subject_id
    where indicator_values.level = 'rep'

),

team_hidden_counts as (

    select
        period,
        indicator,
        team_id,
        sum(hides_answers) as hidden_reps
    from rep_cells
    where team_id is not null
    group by period, indicator, team_id

),

secondary_candidates as (

    select
        rep_cells.period,
        rep_cells.indicator,
        rep_cells.team_id,
        rep_cells.subject_id,
        row_number() over (
            partition by rep_cells.period, rep_cells.indicator, rep_cells.team_id
            order by rep_cells.sample_size, rep_cells.subject_id
        ) as candidate_rank
    from rep_cells
    inner join team_hidden_counts
        on rep_cells.period = team_hidden_counts.period
        and rep_cells.indicator = team_hidden_counts.indicator
        and rep_cells.team_id = team_hidden_counts.team_id
    where team_hidden_counts.hidden_reps = 1
        and rep_cells.is_sufficient
        and rep_cells.sample_size > 0

),

rep_secondaries as (

    select
        period,
        indicator,
        'rep' as level,
        subject_id
    from secondary_candidates
    where candidate_rank = 1

),

team_secondaries as (

    select
        team_hidden_counts.period,
        team_hidden_counts.indicator,
        'team' as level,
        team_hidden_counts.team_id as subject_id
    from team_hidden_counts
    left join secondary_candidates
        on team_hidden_counts.period = secondary_candidates.period
        and team_hidden_counts.indicator = secondary_candidates.indicator
        and team_hidden_counts.team_id = secondary_candidates.team_id
    where team_hidden_counts.hidden_reps = 1
        and secondary_candidates.subject_id is null

),

company_secondaries as (

    select
        period,
        indicator,
        'company' as level,
        'company' as subject_id
    from team_secondaries
    group by period, indicator
    having count(*) = 1

),

secondaries as (

    select * from rep_secondaries
    union all
    select * from team_secondaries
    union all
    select * from company_secondaries

),

final as (

    select
        indicator_values.period,
        indicator_values.level,
        indicator_values.subject_id,
        indicator_values.indicator,
        indicator_values.sample_size,
        case
            when indicator_values.level = 'rep' and not indicator_values.is_sufficient then 'small_sample'
            when secondaries.subject_id is not null then 'complementary'
            else 'published'
        end as disclosure
    from indicator_values
    left join secondaries
        on indicator_values.period = secondaries.period
        and indicator_values.level = secondaries.level
        and indicator_values.subject_id = secondaries.subject_id
        and indicator_values.indicator = secondaries.indicator

)

select * from final
