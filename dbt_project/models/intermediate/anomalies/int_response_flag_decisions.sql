-- The decisions on the flags of the response rules (self_filled_survey, speeder_burst), checked and
-- ranked by the rule of every decision (macros/flag_reviews.sql checked_flag_decisions): only these
-- decide the excluded responses, so that the other rules can run on the responses that are left.
{{ checked_flag_decisions(ref('int_anomaly_response_flags')) }}
