-- A graded row's final score is its composite plus progress plus adjustment points, rounded once;
-- an ungraded row has neither final score, bonus coefficient nor ranks.
select *
from {{ ref('scorecard') }}
where (grade <> 'insufficient_data'
        and final_score <> round(composite_score + progress_points + adjustment_points, 2))
    or (grade = 'insufficient_data'
        and (final_score is not null or bonus_coefficient is not null or rank_overall is not null))
