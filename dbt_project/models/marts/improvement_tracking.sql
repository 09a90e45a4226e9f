-- Improvement actions taken on complaints: one row per complaint ticket of an evaluated period (level
-- complaint) and the rates per team and for the company (levels team, company).
-- An action belongs to a complaint through its ticket_id (actions without a ticket_id are not tied to
-- a complaint and are not counted here). Per complaint, at the run's as-of date (local):
--   action taken  at least one action
--   overdue       an action missed its due date: completed after due_on, or still open after due_on
--   completed     every action completed (completed_on set)
--   confirmed     completed, and the customer confirmed every action (customer_confirmed true)
-- Rates along the funnel, in %: action_rate = with an action / complaints; overdue_rate and
-- completion_rate = overdue / completed over the complaints with an action; confirmation_rate =
-- confirmed / completed. At level complaint the counts are 0 or 1.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

complaints as (

    select * from {{ ref('int_tickets_assigned') }}
    where is_complaint

),

actions as (

    select * from {{ ref('stg_crm__improvement_actions') }}
    where ticket_id is not null

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

per_complaint as (

    select
        complaints.period,
        complaints.ticket_id,
        complaints.rep_id,
        complaints.team_id,
        complaints.customer_id,
        complaints.category,
        complaints.severity,
        count(actions.action_id) as actions,
        count(actions.completed_on) as completed_actions,
        sum(case when actions.customer_confirmed then 1 else 0 end) as confirmed_actions,
        sum(
            case
                when actions.completed_on > actions.due_on then 1
                when actions.completed_on is null and actions.due_on < {{ as_of_local_date() }} then 1
                else 0
            end
        ) as overdue_actions,
        min(actions.due_on) as first_due_on,
        max(actions.completed_on) as last_completed_on
    from complaints
    left join actions
        on complaints.ticket_id = actions.ticket_id
    group by
        complaints.period,
        complaints.ticket_id,
        complaints.rep_id,
        complaints.team_id,
        complaints.customer_id,
        complaints.category,
        complaints.severity

),

flagged as (

    select
        *,
        actions > 0 as is_action_taken,
        overdue_actions > 0 as is_overdue,
        actions > 0 and completed_actions = actions as is_completed,
        actions > 0 and completed_actions = actions and confirmed_actions = actions as is_confirmed
    from per_complaint

),

counted as (

    select
        *,
        case when is_action_taken then 1 else 0 end as with_action_count,
        case when is_overdue then 1 else 0 end as overdue_count,
        case when is_completed then 1 else 0 end as completed_count,
        case when is_confirmed then 1 else 0 end as confirmed_count
    from flagged

),

complaint_rows as (

    select
        period,
        'complaint' as level,
        ticket_id as subject_id,
        team_id,
        rep_id,
        customer_id,
        category,
        severity,
        actions,
        first_due_on,
        last_completed_on,
        is_action_taken,
        is_overdue,
        is_completed,
        is_confirmed,
        1 as complaints,
        with_action_count as with_action,
        overdue_count as overdue,
        completed_count as completed,
        confirmed_count as confirmed
    from counted

),

aggregate_rows as (

    {%- for level, subject in [('team', 'team_id'), ('company', "'company'")] %}
    select
        period,
        '{{ level }}' as level,
        {{ subject }} as subject_id,
        {{ 'team_id' if level == 'team' else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as team_id,
        cast(null as {{ dbt.type_string() }}) as rep_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_string() }}) as severity,
        sum(actions) as actions,
        cast(null as date) as first_due_on,
        cast(null as date) as last_completed_on,
        cast(null as boolean) as is_action_taken,
        cast(null as boolean) as is_overdue,
        cast(null as boolean) as is_completed,
        cast(null as boolean) as is_confirmed,
        count(*) as complaints,
        sum(with_action_count) as with_action,
        sum(overdue_count) as overdue,
        sum(completed_count) as completed,
        sum(confirmed_count) as confirmed
    from counted
    {%- if level == 'team' %}
    where team_id is not null
    group by period, team_id
    {%- else %}
    group by period
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

unioned as (

    select * from complaint_rows
    union all
    select * from aggregate_rows

),

final as (

    select
        unioned.period,
        periods.grain,
        unioned.level,
        unioned.subject_id,
        unioned.team_id,
        unioned.rep_id,
        unioned.customer_id,
        unioned.category,
        unioned.severity,
        unioned.actions,
        unioned.first_due_on,
        unioned.last_completed_on,
        unioned.is_action_taken,
        unioned.is_overdue,
        unioned.is_completed,
        unioned.is_confirmed,
        unioned.complaints,
        unioned.with_action,
        unioned.overdue,
        unioned.completed,
        unioned.confirmed,
        cast(unioned.with_action as {{ type_double() }}) * 100 / nullif(unioned.complaints, 0) as action_rate,
        cast(unioned.overdue as {{ type_double() }}) * 100 / nullif(unioned.with_action, 0) as overdue_rate,
        cast(unioned.completed as {{ type_double() }}) * 100 / nullif(unioned.with_action, 0) as completion_rate,
        cast(unioned.confirmed as {{ type_double() }}) * 100 / nullif(unioned.completed, 0) as confirmation_rate
    from unioned
    inner join periods
        on unioned.period = periods.period

)

select * from final
{{ refresh_window_filter() }}
