"""Whole-pipeline runs here check grades, ledgers and publishing, not the Great Expectations HTML pages
(tests/integration/test_great_expectations.py does): skip rendering them, about 15 s per run."""

import pytest


@pytest.fixture(autouse=True)
def _no_ge_data_docs(monkeypatch):
    monkeypatch.setenv("SCORECARD_GE_DATA_DOCS", "0")
