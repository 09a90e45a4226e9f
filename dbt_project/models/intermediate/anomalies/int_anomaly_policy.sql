-- The review policy of each anomaly rule (SCORING.md "From flag to decision"): what an open flag does
-- (on_open: hold | note) and what a confirmed one does (on_confirm: exclude_responses | penalty | note,
-- penalty_points), from raw.cfg_anomaly_policy, which the run writes from the scheme file's
-- anomalies.policy over the documented defaults (orchestration/catalogue.py ANOMALY_RULES). A rule
-- without a row there (a hand-made raw layer) is note / note: it changes no grade.
{%- set rules = anomaly_rules().keys() | list %}

with

rules as (

    {% for rule in rules %}
    select '{{ rule }}' as rule_id
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

configured as (

    select * from {{ ref('stg_cfg__anomaly_policy') }}

),

final as (

    select
        rules.rule_id,
        coalesce(configured.on_open, 'note') as on_open,
        coalesce(configured.on_confirm, 'note') as on_confirm,
        cast(
            case when configured.on_confirm = 'penalty' then coalesce(configured.penalty_points, 0) else 0 end
            as decimal(18, 2)
        ) as penalty_points,
        -- the indicators whose figures a flag of the rule is about (macros/flag_reviews.sql)
        case
            {%- for rule, indicators in anomaly_rule_indicators().items() %}
            when rules.rule_id = '{{ rule }}' then '{{ indicators | join(", ") }}'
            {%- endfor %}
        end as indicators
    from rules
    left join configured
        on rules.rule_id = configured.rule_id

)

select * from final
