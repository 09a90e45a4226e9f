-- Every decision on an anomaly flag (stg_review__flag_decisions), checked against every flag of this
-- run (macros/flag_reviews.sql): rejection_reason for a decision that cannot count (unknown flag id,
-- reviewer who is the flagged rep), is_effective for the one that counts per flag (the latest accepted
-- decided_at, then the later file, then the later row). The run quarantines the rejected rows it read
-- (orchestration/reviews.py); audit.flag_reviews keeps every accepted one.
{{ checked_flag_decisions(ref('int_anomaly_flags')) }}
