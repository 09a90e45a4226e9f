"""The comparison rule of SCORING.md "Precise readings" (macros/compare_value.sql) and the generic test
value_between that uses it, rendered by dbt and run on DuckDB (`dbt show --inline` on an empty file):
floating-point noise (1e-13) never makes a difference, a shortfall or a failed test; 2e-6 does.
The same rule in the models is checked by the unit tests team_shortfalls_compare_at_6_decimals and
rep_feedback_compare_at_6_decimals (run by every `dbt build`, test_dbt_models).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_dbt_models import DBT_PROJECT

pytest.importorskip("dbt.cli.main")


def double(text: str) -> str:
    # a DuckDB literal such as 2.0000000000001 is a DECIMAL; the marts hold DOUBLE values
    return f"cast('{text}' as double)"


INPUTS = {
    # value_between as on complaint_pareto.share (0..100): noise above 100 or below 0 passes
    "share_input": [
        ("a_noise_above", "100.00000000000001"),
        ("b_noise_below", "-0.0000000000001"),
        ("c_inside", "50"),
        ("d_above", "100.000002"),
        ("e_below", "-0.000002"),
    ],
    # value_between as on team_shortfalls.gap (min 0.000001): a gap of noise fails, 2e-6 passes
    "gap_input": [("a_noise_gap", "0.0000000000001"), ("b_real_gap", "0.000002")],
}


def input_rows(rows: list[tuple[str, str]]) -> str:
    values = ", ".join(f"('{label}', {double(x)})" for label, x in rows)
    return f"select * from (values {values}) as t(label, x)"


def failing(relation: str, min_value, max_value) -> str:
    """Labels of the rows value_between(min_value, max_value) returns on one of INPUTS, comma-separated."""
    return (
        f"(select string_agg(label, ',' order by label) from ({{{{ test_value_between(model='{relation}', "
        f"column_name='x', min_value={min_value}, max_value={max_value}) }}}}) as failures)"
    )


CHECKS = {
    # a team median 1e-13 off the company median is equal at 6 decimals; 2e-6 off is not
    "noise_is_equal": f"{{{{ compare_value(\"{double('2.0000000000001')}\") }}}} = {{{{ compare_value('2') }}}}",
    "two_millionths_differ": f"{{{{ compare_value(\"{double('2.000002')}\") }}}} > {{{{ compare_value('2') }}}}",
    "noise_ties_in_order": f'{{{{ compare_value("{double("79.9999980000001")}") }}}}'
    f' = {{{{ compare_value("{double("79.999998")}") }}}}',
    # the gap of team_shortfalls: 0 for noise, exactly 0.000002 for 2e-6
    "noise_gap": f'{{{{ compare_gap("{double("80")}", "{double("79.9999999999999")}") }}}}',
    "real_gap": f'{{{{ compare_gap("{double("80")}", "{double("79.999998")}") }}}}',
    # rounding half away from zero at the 7th decimal
    "rounded_up": f'{{{{ compare_value("{double("0.0000005000001")}") }}}} = 0.000001',
    "rounded_down": f'{{{{ compare_value("{double("0.0000004999999")}") }}}} = 0',
    # numbers in flag evidence: the text of the value at 6 decimals, rounded half away from zero (the same
    # on every engine whatever the last bits of a mean: Spark and DuckDB add in another order)
    "text_noise_below": f'{{{{ anomaly_number_text("{double("2.8249999999999997")}", 2) }}}}',
    "text_noise_above": f'{{{{ anomaly_number_text("{double("2.8250000000000002")}", 2) }}}}',
    "text_binary_below": f'{{{{ anomaly_number_text("{double("1.005")}", 2) }}}}',
    "text_negative": f'{{{{ anomaly_number_text("{double("-2.8249999999999997")}", 2) }}}}',
    "text_plain": f'{{{{ anomaly_number_text("{double("4.69")}", 2) }}}}',
    "text_p_value": f'{{{{ anomaly_number_text("{double("0.0000149999999")}", 5) }}}}',
    "share_failures": failing("share_input", 0, 100),
    "gap_failures": failing("gap_input", 0.000001, 1.0e30),
}


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("compare_value")
    inputs = ", ".join(f"{name} as ({input_rows(rows)})" for name, rows in INPUTS.items())
    sql = f"with {inputs} select " + ", ".join(f"{expr} as {name}" for name, expr in CHECKS.items())
    dbt = Path(sys.executable).parent / "dbt"
    cmd = [
        str(dbt) if dbt.exists() else "dbt",
        "show",
        "--inline",
        sql,
        "--output",
        "json",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    env = {**os.environ, "SCORECARD_WAREHOUSE": str(tmp / "empty.duckdb")}
    proc = subprocess.run(cmd, cwd=DBT_PROJECT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, "dbt show failed:\n" + "\n".join(proc.stdout.splitlines()[-30:])
    payload = proc.stdout[proc.stdout.index("{") :]
    (row,) = json.loads(payload)["show"]
    return row


def test_noise_is_no_difference_and_two_millionths_are(shown):
    assert shown["noise_is_equal"] is True
    assert shown["two_millionths_differ"] is True
    assert shown["noise_ties_in_order"] is True
    assert shown["rounded_up"] is True and shown["rounded_down"] is True


def test_gaps_at_six_decimals(shown):
    assert shown["noise_gap"] == 0
    assert shown["real_gap"] == 0.000002


def test_value_between_compares_at_six_decimals(shown):
    assert shown["share_failures"] == "d_above,e_below"
    assert shown["gap_failures"] == "a_noise_gap"


def test_evidence_numbers_ignore_the_last_bits(shown):
    assert shown["text_noise_below"] == shown["text_noise_above"] == "2.83"
    assert shown["text_binary_below"] == "1.01"  # 1.005 is 1.00499999999999989... as a double
    assert shown["text_negative"] == "-2.83"
    assert shown["text_plain"] == "4.69"
    # the value at 6 decimals is 0.000015, shown with 5: 0.00002 (rounded twice, as documented)
    assert shown["text_p_value"] == "0.00002"
