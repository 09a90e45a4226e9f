"""`scorecard --version`: the package's version and its stack's, one line, exit 0."""

from importlib.metadata import version

import pytest

from orchestration.cli import main


def test_version_names_the_package_and_its_stack(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"scorecard {version('scorecard')} (dagster {version('dagster')}, ")
    for name in ("dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pandera"):
        assert f"{name} {version(name)}" in line
    assert "\n" not in line
