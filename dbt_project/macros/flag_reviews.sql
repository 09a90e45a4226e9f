{#- Helpers of "From flag to decision" (SCORING.md; docs/anomalies.md "Reviews").

    anomaly_flag_id(...): the stable flag id, the hash of rule_id, rep_id, period and the customer_id /
    response_id the flag is about (empty when the flag is about the rep's whole period).

    checked_flag_decisions(flags): every staged decision (stg_review__flag_decisions) against the flags
    of the relation `flags` (flag_id, rep_id, period, rule_id): the rejection reason of a decision that
    cannot count (its flag is unknown, or its reviewer is the flagged rep by rep_id, name or email,
    compared trimmed and case-insensitively), and `is_effective` for the one that counts per flag: the
    latest decided_at of the accepted ones, then the later file, then the later row. Two models use it,
    int_response_flag_decisions (the flags of the response rules, which decide the excluded responses)
    and int_flag_decisions (every flag): the same rule, so the two agree on every response-rule flag
    (tests/singular/assert_flag_decisions_agree.sql). -#}

{% macro anomaly_flag_id(rule_id, rep_id, period, customer_id, response_id) -%}
    {{ dbt.hash(dbt.concat([
        rule_id, "'|'", rep_id, "'|'", period, "'|'",
        "coalesce(" ~ customer_id ~ ", '')", "'|'", "coalesce(" ~ response_id ~ ", '')",
    ])) }}
{%- endmacro %}

{% macro checked_flag_decisions(flags) -%}
with

decisions as (

    select * from {{ ref('stg_review__flag_decisions') }}

),

flags as (

    select flag_id, rep_id, period, rule_id from {{ flags }}

),

reps as (

    select rep_id, rep_name, email from {{ ref('stg_crm__reps') }}

),

joined as (

    select
        {{ dbt.hash(dbt.concat([
            'decisions.flag_id', "'|'", 'decisions.decision', "'|'", 'decisions.reviewer', "'|'",
            dbt.cast('decisions.decided_at_utc', dbt.type_string()), "'|'", 'decisions.reason',
        ])) }} as decision_id,
        decisions.flag_id,
        decisions.decision,
        decisions.reviewer,
        decisions.decided_at_utc,
        decisions.reason,
        decisions.source_file,
        decisions.source_row,
        decisions.landed_run_id,
        flags.flag_id is not null as is_known_flag,
        flags.period,
        flags.rule_id,
        flags.rep_id,
        case
            when lower(trim(decisions.reviewer)) = lower(trim(reps.rep_id)) then 'rep_id'
            when lower(trim(decisions.reviewer)) = lower(trim(reps.rep_name)) then 'name'
            when lower(trim(decisions.reviewer)) = lower(trim(reps.email)) then 'email'
        end as reviewer_is_rep_by
    from decisions
    left join flags
        on decisions.flag_id = flags.flag_id
    left join reps
        on flags.rep_id = reps.rep_id

),

checked as (

    select
        *,
        case
            when not is_known_flag then {{ dbt.concat([
                "'unknown_flag_id: no anomaly flag has id '''", 'flag_id', "''' in this run'",
            ]) }}
            when reviewer_is_rep_by is not null then {{ dbt.concat([
                "'reviewer_is_flagged_rep: reviewer '''", 'reviewer', "''' is the flagged rep '", 'rep_id',
                "' (by '", 'reviewer_is_rep_by', "'); a rep cannot decide on a flag about themselves'",
            ]) }}
        end as rejection_reason
    from joined

),

ranked as (

    select
        *,
        case
            when rejection_reason is null then row_number() over (
                partition by flag_id, case when rejection_reason is null then 1 else 0 end
                order by decided_at_utc desc, source_file desc, source_row desc
            )
        end as decision_rank
    from checked

),

final as (

    select
        decision_id,
        flag_id,
        decision,
        reviewer,
        decided_at_utc,
        reason,
        source_file,
        source_row,
        landed_run_id,
        period,
        rule_id,
        rep_id,
        rejection_reason,
        rejection_reason is null as is_accepted,
        coalesce(decision_rank = 1, false) as is_effective
    from ranked

)

select * from final
{%- endmacro %}

{#- rows (rule_id, indicator) of anomaly_rule_indicators() (macros/catalogue.sql: the indicators whose
    figures a flag of each rule is about, docs/anomalies.md "Reviews"; rep_feedback names none of them as
    a strength of the rep while such a flag is open or confirmed), as a select -#}
{% macro anomaly_rule_indicator_rows() -%}
    {%- set rows = [] -%}
    {%- for rule, indicators in anomaly_rule_indicators().items() -%}
        {%- for indicator in indicators -%}
            {%- do rows.append("select '" ~ rule ~ "' as rule_id, '" ~ indicator ~ "' as indicator") -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ rows | join('\n    union all\n    ') }}
{%- endmacro %}


{#- The flags of the anomaly rule models `rule_models`, each with its stable flag_id (anomaly_flag_id):
    the common columns of every int_anomaly_<rule> model, strength as a double. Used by
    int_anomaly_response_flags (the response rules) and int_anomaly_flags (the others). -#}
{% macro anomaly_flag_rows(rule_models) -%}
    select
        {{ anomaly_flag_id('rule_id', 'rep_id', 'period', 'customer_id', 'response_id') }} as flag_id,
        period,
        rep_id,
        customer_id,
        response_id,
        rule_id,
        severity,
        strength,
        evidence
    from (
        {%- for rule_model in rule_models %}
        select
            period,
            rep_id,
            customer_id,
            response_id,
            rule_id,
            severity,
            cast(strength as {{ type_double() }}) as strength,
            evidence
        from {{ ref(rule_model) }}
        {% if not loop.last %}union all{% endif %}
        {%- endfor %}
    ) as rule_flags
{%- endmacro %}
