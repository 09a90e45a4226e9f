-- Survey responses assigned to the evaluated period of responded_at (local) and to the rep and
-- channel of their invitation; only the channels of var('count_channels') count for the indicators.
-- Every evaluated period, also in a run of a few periods (int_periods_evaluated, not int_periods_refreshed):
-- the response rules compare over every response up to as-of (speeder_burst's median duration per
-- channel, self_filled_survey's customers per fingerprint).
with

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

periods as (

    select * from {{ ref('int_periods_evaluated') }}

),

joined as (

    select
        responses.response_id,
        responses.invitation_id,
        cast(responses.responded_at_local as date) as responded_on,
        invitations.rep_id,
        invitations.customer_id,
        invitations.channel,
        customers.segment,
        responses.nps,
        responses.csat
    from responses
    inner join invitations
        on responses.invitation_id = invitations.invitation_id
    left join customers
        on invitations.customer_id = customers.customer_id

),

final as (

    select
        periods.period,
        joined.response_id,
        joined.invitation_id,
        joined.rep_id,
        reps.team_id,
        joined.customer_id,
        joined.channel,
        joined.channel in ('{{ var("count_channels") | join("', '") }}') as is_counted_channel,
        coalesce(joined.segment = 'key_account', false) as is_key_account,
        joined.nps,
        joined.csat,
        joined.nps >= 9 as is_promoter,
        joined.nps <= 6 as is_detractor
    from joined
    inner join periods
        on {{ period_label('joined.responded_on') }} = periods.period
    left join reps
        on joined.rep_id = reps.rep_id

)

select * from final
