-- A graded row's final score is its composite plus progress plus adjustment points minus penalty
-- points, rounded once; a held grade has no bonus coefficient;
-- an ungraded row has neither final score, bonus coefficient nor ranks.
select *
from {{ ref('scorecard') }}
where (grade <> 'insufficient_data'
        and final_score <> round(composite_score + progress_points + adjustment_points - penalty_points, 2))
    or (grade = 'insufficient_data'
        and (final_score is not null or bonus_coefficient is not null or rank_overall is not null))
    or (grade_status = 'held' and bonus_coefficient is not null)
    or (grade_status = 'held') <> (holding_flags > 0)
