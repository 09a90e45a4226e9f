"""A dbt build that fails on a model says which model and why (it used to say "0 error-severity test(s)
failed, 0 node(s) errored": model errors were not counted)."""

import duckdb

from orchestration.validate.dbt_results import record_dbt_results
from orchestration.warehouse import ensure_audit_tables


def test_a_model_error_is_named_with_its_message():
    manifest = {
        "nodes": {
            "model.scorecard.int_deals_assigned": {"name": "int_deals_assigned", "resource_type": "model"},
            "model.scorecard.stg_crm__deals": {"name": "stg_crm__deals", "resource_type": "model"},
        }
    }
    run_results = {
        "metadata": {"generated_at": "2026-12-03T12:00:00Z"},
        "results": [
            {"unique_id": "model.scorecard.stg_crm__deals", "status": "success", "message": "OK"},
            {
                "unique_id": "model.scorecard.int_deals_assigned",
                "status": "error",
                "message": "Runtime Error in model int_deals_assigned\n  Out of Range Error: Overflow",
            },
        ],
    }
    con = duckdb.connect()
    ensure_audit_tables(con)
    tally = record_dbt_results(con, "run-1", run_results, manifest)
    assert tally.node_errors == [
        "int_deals_assigned: Runtime Error in model int_deals_assigned Out of Range Error: Overflow"
    ]
    assert (tally.passed, tally.failed, tally.errored) == (0, 0, 0)
