"""Validation stages: pandera at ingestion, Great Expectations suites, dbt tests into the audit ledger."""
