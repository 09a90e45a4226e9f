-- Anomaly rule channel_gap (SCORING.md): the rep's NPS from rep_distributed surveys is above the rep's
-- NPS from third_party surveys by a one-sided test at anomalies.channel_gap.confidence (default 0.95),
-- with at least min_responses (default 10) responses on each side, per rep and period of responded_at.
-- Test: each answer scores +1 (promoter, 9-10), 0 (passive) or -1 (detractor); NPS = 100 x mean score.
-- Two-sample z test of the difference of means with the variance pooled under the null hypothesis of
-- one common answer mix (p, d = pooled promoter and detractor shares; var = p + d - (p - d)^2):
--   z = (nps_rd - nps_tp) / 100 / sqrt(var x (1/n_rd + 1/n_tp)),  p = P(Z >= z)
-- (normal_upper_tail: Abramowitz-Stegun 26.2.17, |error| < 7.5e-8). Pooling keeps the test defined
-- when one side is all 10s (zero variance). No test when both sides give the same single answer.
--   strength: z
--   severity: high p < 0.001, medium p < 0.01, else low. p-values are compared at 6 decimals
--   (macros/compare_value.sql).
{%- set min_responses = anomaly_setting('channel_gap', 'min_responses') %}
{%- set alpha = anomaly_alpha('channel_gap') %}

with

excluded_responses as (

    -- a confirmed flag's responses (policy exclude_responses) leave this rule's survey baseline too
    select distinct response_id from {{ ref('int_excluded_responses') }}

),

responses as (

    select survey.*
    from {{ ref('int_anomaly_survey_responses') }} as survey
    left join excluded_responses
        on survey.response_id = excluded_responses.response_id
    where excluded_responses.response_id is null
        and survey.channel in ('rep_distributed', 'third_party')

),

per_channel as (

    select
        period,
        rep_id,
        channel,
        count(*) as responses,
        sum(case when is_promoter then 1 else 0 end) as promoters,
        sum(case when is_detractor then 1 else 0 end) as detractors
    from responses
    group by period, rep_id, channel

),

paired as (

    select
        rep_distributed.period,
        rep_distributed.rep_id,
        rep_distributed.responses as rd_responses,
        third_party.responses as tp_responses,
        100.0 * (rep_distributed.promoters - rep_distributed.detractors) / rep_distributed.responses as rd_nps,
        100.0 * (third_party.promoters - third_party.detractors) / third_party.responses as tp_nps,
        cast(rep_distributed.promoters + third_party.promoters as {{ type_double() }})
            / (rep_distributed.responses + third_party.responses) as pooled_promoter_share,
        cast(rep_distributed.detractors + third_party.detractors as {{ type_double() }})
            / (rep_distributed.responses + third_party.responses) as pooled_detractor_share
    from per_channel as rep_distributed
    inner join per_channel as third_party
        on rep_distributed.period = third_party.period
        and rep_distributed.rep_id = third_party.rep_id
        and third_party.channel = 'third_party'
    where rep_distributed.channel = 'rep_distributed'
        and rep_distributed.responses >= {{ min_responses }}
        and third_party.responses >= {{ min_responses }}

),

with_variance as (

    select
        *,
        pooled_promoter_share + pooled_detractor_share
            - (pooled_promoter_share - pooled_detractor_share) * (pooled_promoter_share - pooled_detractor_share)
            as pooled_variance
    from paired

),

tested as (

    select
        *,
        (rd_nps - tp_nps) / 100.0
            / sqrt(pooled_variance * (1.0 / rd_responses + 1.0 / tp_responses)) as z
    from with_variance
    where pooled_variance > 0

),

with_p as (

    select
        *,
        {{ normal_upper_tail('z') }} as p_value
    from tested

),

final as (

    select
        period,
        rep_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'channel_gap' as rule_id,
        {{ anomaly_severity_from_p('p_value') }} as severity,
        z as strength,
        {{ report_sentence('evidence_channel_gap', {
            'rep': 'rep_id', 'rd_nps': anomaly_number_text("rd_nps", 1),
            'rd_n': dbt.cast("rd_responses", dbt.type_string()), 'tp_nps': anomaly_number_text("tp_nps", 1),
            'tp_n': dbt.cast("tp_responses", dbt.type_string()), 'z': anomaly_number_text("z", 2),
            'p': anomaly_p_text("p_value"), 'alpha': "'" ~ alpha ~ "'",
        }) }} as evidence
    from with_p
    where {{ compare_value('p_value') }} < {{ compare_value(alpha) }}

)

select * from final
