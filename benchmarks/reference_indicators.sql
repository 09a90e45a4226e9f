-- Reference: the indicator values of the scorecard computed by one hand-written DuckDB script straight
-- over the landing files, with no contract checks, no quarantine, no audit ledger, no dbt tests and
-- no orchestration. It is the floor the pipeline's time is compared with (docs/benchmarks.md).
--
-- It assumes well-formed input (what the sample generator writes: every row passes the contract) and
-- the grain `quarter`; it keeps the current version of every business key (latest updated_at, then
-- the later file), as ingestion does. The result, table `reference_indicator_values`, has the columns
-- of audit.indicator_values (period, level, subject_id, indicator, numerator, denominator, value,
-- sample_size, is_sufficient, nps_ci_low, nps_ci_high): unmasked figures.
--
-- Placeholders, filled by benchmarks/reference.py from the scheme file and the run's as-of time:
-- {landing} {timezone} {as_of_local_date} {as_of_utc} {currency_base} {currency_rates} {count_channels}
-- {sla_response_hours} {complaint_resolution_hours} {followup_grace_days} {min_sample_nps}
-- {min_sample_default}

set TimeZone = '{timezone}';

-- 1. Landing files -> current rows, typed. A timestamp without offset is local time of {timezone}.
create or replace macro ts_utc(t) as timezone('UTC', cast(nullif(trim(t), '') as timestamptz));
create or replace macro ts_local(t) as timezone('{timezone}', cast(nullif(trim(t), '') as timestamptz));
create or replace macro d(t) as cast(nullif(trim(t), '') as date);
create or replace macro s(t) as nullif(trim(t), '');

create or replace temp table reps as
select s(rep_id) as rep_id, s(team_id) as team_id, d(hired_on) as hired_on, d(left_on) as left_on
from (
    select *, row_number() over (partition by rep_id order by ts_utc(updated_at) desc nulls last, filename desc) as v
    from read_csv('{landing}/crm/reps/**/*.csv', all_varchar = true, filename = true)
)
where v = 1;

create or replace temp table customers as
select s(customer_id) as customer_id, s(owner_rep_id) as owner_rep_id, s(segment) as segment,
    d(acquired_on) as acquired_on, s(acquisition_channel) as acquisition_channel
from (
    select *, row_number() over (partition by customer_id order by ts_utc(updated_at) desc nulls last, filename desc) as v
    from read_csv('{landing}/crm/customers/**/*.csv', all_varchar = true, filename = true)
)
where v = 1;

create or replace temp table deals as
select
    s(deal_id) as deal_id, s(customer_id) as customer_id, s(rep_id) as rep_id, s(stage) as stage,
    d(closed_on) as closed_on,
    cast(cast(amount as decimal(18, 2)) * rate as decimal(38, 6)) as amount_base,
    cast(cast(nullif(trim(collected_amount), '') as decimal(18, 2)) * rate as decimal(38, 6)) as collected_amount_base
from (
    select *,
        case coalesce(s(upper(currency)), '{currency_base}') {currency_rates} end as rate,
        row_number() over (partition by deal_id order by ts_utc(updated_at) desc nulls last, filename desc) as v
    from read_csv('{landing}/crm/deals/**/*.csv', all_varchar = true, filename = true)
)
where v = 1;

create or replace temp table targets as
select s(period) as period, s(rep_id) as rep_id, cast(sales_target as decimal(18, 2)) as sales_target
from (
    select *, row_number() over (partition by period, rep_id order by ts_utc(updated_at) desc nulls last, filename desc) as v
    from read_csv('{landing}/crm/targets/**/*.csv', all_varchar = true, filename = true)
)
where v = 1;

create or replace temp table proposals as
select distinct on (proposal_id)
    s(proposal_id) as proposal_id, s(rep_id) as rep_id, s(customer_id) as customer_id,
    ts_local(submitted_at) as submitted_local, s(customer_verdict) as customer_verdict
from read_csv('{landing}/crm/proposals/**/*.csv', all_varchar = true, filename = true)
order by proposal_id, ts_utc(updated_at) desc nulls last, filename desc;

create or replace temp table followups as
select distinct on (followup_id)
    s(followup_id) as followup_id, s(rep_id) as rep_id, s(customer_id) as customer_id,
    d(planned_on) as planned_on, cast(ts_local(completed_at) as date) as completed_on,
    ts_utc(completed_at) as completed_utc
from read_csv('{landing}/crm/followups/**/*.csv', all_varchar = true, filename = true)
order by followup_id, filename desc;

create or replace temp table interactions as
select distinct on (interaction_id)
    s(interaction_id) as interaction_id, s(rep_id) as rep_id, s(customer_id) as customer_id,
    ts_utc(customer_contacted_at) as contacted_utc, ts_local(customer_contacted_at) as contacted_local,
    ts_utc(rep_responded_at) as responded_utc
from (
    select interaction_id, rep_id, customer_id, customer_contacted_at, rep_responded_at, filename
    from read_csv('{landing}/crm/interactions/**/*.csv', all_varchar = true, filename = true)
    union all by name
    select interaction_id, rep_id, customer_id, customer_contacted_at, rep_responded_at, filename
    from read_json('{landing}/crm/interactions/**/*.jsonl', format = 'newline_delimited', filename = true,
        columns = {{interaction_id: 'VARCHAR', rep_id: 'VARCHAR', customer_id: 'VARCHAR',
                   customer_contacted_at: 'VARCHAR', rep_responded_at: 'VARCHAR'}})
)
order by interaction_id, filename desc;

create or replace temp table tickets as
select distinct on (ticket_id)
    s(ticket_id) as ticket_id, s(customer_id) as customer_id, s(rep_id) as rep_id, s(type) as type,
    ts_utc(opened_at) as opened_utc, ts_local(opened_at) as opened_local, ts_utc(resolved_at) as resolved_utc
from read_csv('{landing}/tickets/tickets/**/*.csv', all_varchar = true, filename = true)
order by ticket_id, filename desc;

create or replace temp table invitations as
select distinct on (invitation_id)
    s(invitation_id) as invitation_id, s(customer_id) as customer_id, s(rep_id) as rep_id, s(channel) as channel
from read_csv('{landing}/survey/invitations/**/*.csv', all_varchar = true, filename = true)
order by invitation_id, filename desc;

create or replace temp table responses as
select distinct on (response_id)
    s(response_id) as response_id, s(invitation_id) as invitation_id,
    cast(ts_local(responded_at) as date) as responded_on,
    cast(s(nps) as integer) as nps, cast(s(csat) as integer) as csat
from (
    select response_id, invitation_id, responded_at, nps, csat, filename
    from read_csv('{landing}/survey/responses/**/*.csv', all_varchar = true, filename = true)
    union all by name
    select cast(response_id as varchar) as response_id, cast(invitation_id as varchar) as invitation_id,
        cast(responded_at as varchar) as responded_at, cast(nps as varchar) as nps, cast(csat as varchar) as csat,
        filename
    from read_parquet('{landing}/survey/responses/**/*.parquet', filename = true)
)
order by response_id, filename desc;

-- 2. Evaluated quarters: those holding an event, starting on or before the as-of date.
create or replace macro quarter_of(day) as
    cast(year(day) as varchar) || '-Q' || cast(quarter(day) as varchar);

create or replace temp table periods as
select distinct
    quarter_of(event_on) as period,
    cast(date_trunc('quarter', event_on) as date) as period_start,
    cast(date_trunc('quarter', event_on) + interval 3 month - interval 1 day as date) as period_end
from (
    select closed_on as event_on from deals where closed_on is not null
    union all select responded_on from responses
    union all select cast(opened_local as date) from tickets
    union all select cast(contacted_local as date) from interactions
    union all select cast(submitted_local as date) from proposals
    union all select planned_on from followups
)
where event_on is not null
    and date_trunc('quarter', event_on) <= date '{as_of_local_date}';

-- 3. One row per counted unit: period, rep, team (the rep's current team), indicator, unit, numerator,
--    denominator, whether it is in the sample, promoter/detractor flags, answer hours.
create or replace temp table facts as
with
closed_deals as (
    select p.period, p.period_start, x.*, r.team_id
    from deals x
    join periods p on quarter_of(x.closed_on) = p.period
    left join reps r using (rep_id)
    where x.closed_on is not null and x.stage in ('won', 'lost')
),
first_won as (
    select customer_id, min(closed_on) as first_won_on
    from deals where closed_on is not null and stage = 'won'
    group by customer_id
),
target_q as (  -- an explicit YYYY-Qn target wins over the sum of that quarter's months
    select coalesce(q.period, m.period) as period, coalesce(q.rep_id, m.rep_id) as rep_id,
        coalesce(q.sales_target, m.sales_target) as sales_target
    from (select period, rep_id, sales_target from targets where substring(period, 6, 1) = 'Q') q
    full join (
        select substring(period, 1, 4) || '-Q' || cast((cast(substring(period, 6, 2) as integer) + 2) // 3 as varchar) as period,
            rep_id, sum(sales_target) as sales_target
        from targets where length(period) = 7 and substring(period, 6, 1) <> 'Q'
        group by all
    ) m on q.period = m.period and q.rep_id = m.rep_id
),
survey as (
    select p.period, r.response_id, i.rep_id, rp.team_id, r.nps, r.csat,
        coalesce(c.segment = 'key_account', false) as is_key_account
    from responses r
    join invitations i using (invitation_id)
    left join customers c on i.customer_id = c.customer_id
    join periods p on quarter_of(r.responded_on) = p.period
    left join reps rp on i.rep_id = rp.rep_id
    where i.channel in ({count_channels})
),
tk as (
    select p.period, t.ticket_id, coalesce(t.rep_id, c.owner_rep_id) as rep_id, t.customer_id,
        t.type = 'complaint' as is_complaint,
        coalesce(t.resolved_utc <= t.opened_utc + interval {complaint_resolution_hours} hour, false) as in_time,
        -- pending (SCORING.md): not resolved at as-of and its limit not yet run out
        (t.resolved_utc is null or t.resolved_utc > timestamp '{as_of_utc}')
            and timestamp '{as_of_utc}' <= t.opened_utc + interval {complaint_resolution_hours} hour as pending
    from tickets t
    left join customers c on t.customer_id = c.customer_id
    join periods p on quarter_of(cast(t.opened_local as date)) = p.period
),
tix as (select tk.*, r.team_id from tk left join reps r using (rep_id)),
ia as (
    select p.period, x.interaction_id, x.rep_id, r.team_id, x.customer_id,
        x.responded_utc is not null as is_answered,
        date_diff('second', x.contacted_utc, x.responded_utc) / 3600.0 as response_hours,
        coalesce(x.responded_utc <= x.contacted_utc + interval {sla_response_hours} hour, false) as in_sla,
        (x.responded_utc is null or x.responded_utc > timestamp '{as_of_utc}')
            and timestamp '{as_of_utc}' <= x.contacted_utc + interval {sla_response_hours} hour as pending
    from interactions x
    join periods p on quarter_of(cast(x.contacted_local as date)) = p.period
    left join reps r using (rep_id)
),
pr as (
    select p.period, x.proposal_id, x.rep_id, r.team_id, x.customer_id, x.customer_verdict
    from proposals x
    join periods p on quarter_of(cast(x.submitted_local as date)) = p.period
    left join reps r using (rep_id)
),
fu as (
    select p.period, x.followup_id, x.rep_id, r.team_id, x.customer_id,
        coalesce(x.completed_on <= x.planned_on + {followup_grace_days}, false) as in_time,
        (x.completed_utc is null or x.completed_utc > timestamp '{as_of_utc}')
            and date '{as_of_local_date}' <= x.planned_on + {followup_grace_days} as pending
    from followups x
    join periods p on quarter_of(x.planned_on) = p.period
    left join reps r using (rep_id)
),
acq as (
    select p.period, c.customer_id, c.owner_rep_id as rep_id, r.team_id, c.acquisition_channel = 'referral' as is_referral
    from customers c
    join periods p on quarter_of(c.acquired_on) = p.period
    left join reps r on c.owner_rep_id = r.rep_id
),
served as (
    select period, rep_id, team_id, customer_id from closed_deals
    union all select period, rep_id, team_id, customer_id from ia
    union all select period, rep_id, team_id, customer_id from fu
    union all select period, rep_id, team_id, customer_id from pr
    union all select period, rep_id, team_id, customer_id from tix where is_complaint
)
-- columns: period, rep_id, team_id, indicator, unit_id, num, den, in_sample, promoter, detractor, hours
select period, rep_id, team_id, 'sales_attainment' as indicator, deal_id as unit_id,
    cast(amount_base as decimal(38, 6)) as num, cast(null as decimal(38, 6)) as den, 1 as in_sample,
    0 as promoter, 0 as detractor, cast(null as double) as hours
from closed_deals where stage = 'won'
union all
select t.period, t.rep_id, r.team_id, 'sales_attainment', 'target:' || t.rep_id, null, t.sales_target, 0, 0, 0, null
from target_q t join periods using (period) left join reps r using (rep_id)
union all
select period, rep_id, team_id, 'collection_rate', deal_id, coalesce(collected_amount_base, 0), amount_base, 1, 0, 0, null
from closed_deals where stage = 'won'
union all
select period, rep_id, team_id, 'new_customers', customer_id, 1, null, 1, 0, 0, null from acq
union all
select period, rep_id, team_id, 'referral_rate', customer_id, case when is_referral then 1 else 0 end, 1, 1, 0, 0, null
from acq
union all
select period, rep_id, team_id, ind, response_id, case when nps >= 9 then 1 when nps <= 6 then -1 else 0 end, 1, 1,
    case when nps >= 9 then 1 else 0 end, case when nps <= 6 then 1 else 0 end, null
from survey, (select unnest(['nps', 'key_account_nps']) as ind)
where ind = 'nps' or is_key_account
union all
select period, rep_id, team_id, 'csat', response_id, case when csat >= 4 then 1 else 0 end, 1, 1, 0, 0, null
from survey where csat is not null
union all
select distinct period, rep_id, team_id, 'complaint_rate', customer_id, 0, 1, 1, 0, 0, null from served
union all
select distinct period, rep_id, team_id, 'complaint_rate', customer_id, 1, null, 0, 0, 0, null from tix where is_complaint
union all
select period, rep_id, team_id, 'complaint_resolution_24h', ticket_id, case when in_time then 1 else 0 end, 1, 1, 0, 0, null
from tix where is_complaint and not pending
union all
select distinct d.period, d.rep_id, d.team_id, 'repeat_purchase_rate', d.customer_id,
    case when f.first_won_on < d.period_start then 1 else 0 end, 1, 1, 0, 0, null
from closed_deals d left join first_won f using (customer_id) where d.stage = 'won'
union all
select period, rep_id, team_id, 'response_sla_rate', interaction_id, case when in_sla then 1 else 0 end, 1, 1, 0, 0, null
from ia where not pending
union all
select period, rep_id, team_id, 'median_response_hours', interaction_id, null, 1, 1, 0, 0, response_hours
from ia where is_answered
union all
select period, rep_id, team_id, 'requirement_accuracy', proposal_id,
    case when customer_verdict = 'fully_meets' then 1 else 0 end, 1, 1, 0, 0, null
from pr where customer_verdict <> 'pending'
union all
select period, rep_id, team_id, 'followup_completion', followup_id, case when in_time then 1 else 0 end, 1, 1, 0, 0, null
from fu where not pending;

-- 4. Units made unique within each subject, then summed per (period, level, subject, indicator).
create or replace temp table aggregated as
with units as (
    select period, level, subject_id, indicator, unit_id,
        max(num) as num, max(den) as den, max(in_sample) as in_sample,
        max(promoter) as promoter, max(detractor) as detractor, max(hours) as hours
    from (
        select 'rep' as level, rep_id as subject_id, * from facts where rep_id is not null
        union all select 'team', team_id, * from facts where team_id is not null
        union all select 'company', 'company', * from facts
    )
    group by period, level, subject_id, indicator, unit_id
)
select period, level, subject_id, indicator,
    sum(cast(num as decimal(38, 6))) as numerator, sum(cast(den as decimal(38, 6))) as denominator,
    sum(in_sample) as sample_size, sum(promoter) as promoters, sum(detractor) as detractors,
    median(cast(hours as double)) as median_hours
from units
group by all;

-- 5. Every evaluated period x subject (reps employed in it, their current teams, the company) x indicator.
create or replace table reference_indicator_values as
with
rep_subjects as (
    select p.period, r.rep_id, r.team_id
    from periods p join reps r on r.hired_on <= p.period_end and (r.left_on is null or r.left_on >= p.period_start)
),
subjects as (
    select period, 'rep' as level, rep_id as subject_id from rep_subjects
    union all select distinct period, 'team', team_id from rep_subjects where team_id is not null
    union all select period, 'company', 'company' from periods
),
catalogue as (
    select unnest([
        'sales_attainment', 'collection_rate', 'new_customers', 'nps', 'csat', 'complaint_rate',
        'complaint_resolution_24h', 'repeat_purchase_rate', 'key_account_nps', 'response_sla_rate',
        'median_response_hours', 'requirement_accuracy', 'followup_completion', 'referral_rate'
    ]) as indicator
),
joined as (
    select s.period, s.level, s.subject_id, c.indicator,
        case
            when c.indicator = 'median_response_hours' then null
            when c.indicator = 'sales_attainment' and a.denominator > 0 then coalesce(a.numerator, 0)
            else a.numerator
        end as numerator,
        a.denominator, coalesce(a.sample_size, 0) as sample_size, a.promoters, a.detractors, a.median_hours
    from subjects s cross join catalogue c
    left join aggregated a
        on a.period = s.period and a.level = s.level and a.subject_id = s.subject_id and a.indicator = c.indicator
),
valued as (
    select *,
        case
            when indicator = 'median_response_hours' then median_hours
            when indicator = 'new_customers' and sample_size > 0 then cast(numerator as double)
            when denominator > 0 then cast(numerator as double) / cast(denominator as double) * 100
        end as value
    from joined
),
judged as (
    select *,
        case
            when value is null then false
            when indicator = 'sales_attainment' then denominator > 0
            when indicator in ('collection_rate', 'new_customers') then sample_size >= 1
            when indicator = 'nps' then sample_size >= {min_sample_nps}
            else sample_size >= {min_sample_default}
        end as is_sufficient,
        case when indicator in ('nps', 'key_account_nps') and denominator > 0 then
            1.96 * 100 * sqrt(greatest(0.0,
                ((promoters + detractors) / cast(denominator as double)
                 - power((promoters - detractors) / cast(denominator as double), 2)) / cast(denominator as double)))
        end as half_width
    from valued
)
select period, level, subject_id, indicator, numerator, denominator, value, sample_size, is_sufficient,
    case when half_width is not null then greatest(-100.0, value - half_width) end as nps_ci_low,
    case when half_width is not null then least(100.0, value + half_width) end as nps_ci_high
from judged;
