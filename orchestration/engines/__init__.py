"""Other engines for the same dbt project: PostgreSQL (postgres.py) and Spark (spark.py).

Ingestion and validation stay in DuckDB (the run's build copy); an engine receives the raw layer
(raw.<source>__<entity>, raw.cfg_*) from DuckDB, runs `dbt build --target <engine>` on it and, for
PostgreSQL, also receives the audit tables. See docs/running_at_scale.md.
"""

import os

ENGINE_ENV = "SCORECARD_TARGET"
ENGINES = ("duckdb", "postgres", "spark")


def selected_engine() -> str:
    """The warehouse engine of this process: env SCORECARD_TARGET (duckdb when unset)."""
    engine = (os.environ.get(ENGINE_ENV) or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"{ENGINE_ENV}={engine!r}: must be one of {', '.join(ENGINES)}")
    return engine
