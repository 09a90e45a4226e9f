"""Write-audit-publish on Spark: analysts read views, which a run switches to its own copy of the marts
only after its blocking checks passed. The Spark twin of orchestration/warehouse/build_copy.py.

Layout in the Spark catalog (Parquet under `spark.sql.warehouse.dir`, Spark's `<db>.db/<table>/`):

- `build_staging`, `build_intermediate`, `build_marts`, `build_audit`: where dbt builds (the build
  prefix of `SparkLayout`). The incremental models there (marts, dbt's audit tables, the kept flag
  tables) are the state the next run starts from.
- `scorecard_run_<run id>`: one database per published run, a copy of every state table as the run
  left it (`snapshot`).
- `marts.<table>`, `audit.<table>` (dbt's audit models): views over the published run's copy. The
  ledger tables that runs append to (`audit.quarantine`, `audit.run_counts`, `audit.check_results`,
  `audit.validation_failures`, `audit.publish_log`) are plain tables in `audit` beside them.

A run:
1. `restore_state` before dbt: when the build tables are not those of the published run (the run
   that wrote them last failed or was killed), every state table is copied back from the published
   snapshot, or dropped when nothing is published yet (dbt then builds every period). A failed run's
   half-written periods never reach the next run.
2. dbt builds in `build_*` (incremental: only the refresh window's periods are rewritten).
3. `publish` after the blocking checks: copy the state tables to `scorecard_run_<run id>`, log
   `switching`, point each view at the copy (`create or replace view`, one metastore operation per
   view), log `published`, drop copies older than the last `keep`.

Faults: a run that fails or dies before step 3 changes no view: the previous marts stay whole and
queryable. A run killed during the switch leaves every view on a whole table, some on the old run
and some on the new; `recover` (run first by every run and by `publish`) finds the `switching` entry
without its `published` and finishes the switch. Spark has no transaction across views: while the
views are switched (a few milliseconds per view) a reader joining two marts can see one of each run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from orchestration.contract.sql import SPARK

log = logging.getLogger(__name__)

PUBLISH_LOG_DDL = (
    "create table if not exists audit.publish_log (run_id string, snapshot string, state string, "
    "tables int, logged_at timestamp) using parquet"
)
# states of audit.publish_log, in order
BUILD_STARTED, SWITCHING, PUBLISHED = "build_started", "switching", "published"


@dataclass(frozen=True)
class SparkLayout:
    build_prefix: str = "build_"
    snapshot_prefix: str = "scorecard_run_"
    published: tuple[str, ...] = ("marts", "audit")  # the databases of views analysts read
    keep: int = 2  # published copies kept (the latest and the one before, for queries still running)

    def build_db(self, schema: str) -> str:
        return self.build_prefix + schema

    def snapshot_db(self, run_id: str) -> str:
        return self.snapshot_prefix + re.sub(r"[^0-9a-zA-Z]", "_", run_id).lower()


def _tables(spark, db: str) -> list[str]:
    if not spark.catalog.databaseExists(db):
        return []
    return sorted(t.name for t in spark.catalog.listTables(db) if t.tableType != "VIEW" and not t.isTemporary)


def _log(spark, run_id: str, snapshot: str, state: str, tables: int) -> None:
    spark.sql(PUBLISH_LOG_DDL)
    spark.sql(
        f"insert into audit.publish_log select '{run_id}', '{snapshot}', '{state}', {tables}, current_timestamp()"
    )


def _latest(spark, state: str) -> tuple[str, str] | None:
    """(run id, snapshot) of the latest entry of `state`."""
    row = spark.sql(
        f"select run_id, snapshot from audit.publish_log where state = '{state}' order by logged_at desc limit 1"
    ).first()
    return (row[0], row[1]) if row else None


def published_run(spark) -> tuple[str, str] | None:
    """(run id, snapshot database) of the published run, or None."""
    spark.sql("create database if not exists audit")
    spark.sql(PUBLISH_LOG_DDL)
    return _latest(spark, PUBLISHED)


def _copy(spark, source: str, target: str) -> None:
    """A table's definition (columns, partitioning, format) and rows, as a new table `target`."""
    spark.sql(f"drop table if exists {target}")
    spark.sql(f"create table {target} like {source}")
    spark.sql(f"insert into {target} select * from {source}")


def restore_state(spark, state: Iterable[tuple[str, str]], run_id: str, layout: SparkLayout = SparkLayout()) -> str:
    """Before dbt builds: the build tables of `state` ((schema, table) of the incremental models) as the
    published run left them. Returns what was done: `kept` (the last run to build was the published
    one), `restored` or `dropped` (nothing published yet)."""
    recover(spark, layout)
    published = published_run(spark)
    started = _latest(spark, BUILD_STARTED)
    if published and started and started[0] == published[0]:
        outcome = "kept"
    else:
        outcome = "restored" if published else "dropped"
        for schema, table in state:
            spark.sql(f"create database if not exists {layout.build_db(schema)}")
            target = f"{layout.build_db(schema)}.{SPARK.ident(table)}"
            if published and spark.catalog.tableExists(f"{published[1]}.{_snapshot_name(schema, table)}"):
                _copy(spark, f"{published[1]}.{SPARK.ident(_snapshot_name(schema, table))}", target)
            else:
                spark.sql(f"drop table if exists {target}")
    _log(spark, run_id, "", BUILD_STARTED, 0)
    log.info("Spark build state: %s", outcome)
    return outcome


def _snapshot_name(schema: str, table: str) -> str:
    return f"{schema}__{table}"


def publish(
    spark,
    run_id: str,
    state: Iterable[tuple[str, str]],
    layout: SparkLayout = SparkLayout(),
    fault: Callable[[str], None] = lambda point: None,
) -> str:
    """Copy the state tables of the run to its snapshot database and switch the published views to
    it. Returns the snapshot database. `fault` is called at named points (the recovery tests)."""
    recover(spark, layout)
    snapshot = layout.snapshot_db(run_id)
    spark.sql(f"drop database if exists {snapshot} cascade")
    spark.sql(f"create database {snapshot}")
    state = list(state)
    for schema, table in state:
        _copy(
            spark,
            f"{layout.build_db(schema)}.{SPARK.ident(table)}",
            f"{snapshot}.{SPARK.ident(_snapshot_name(schema, table))}",
        )
    fault("after_snapshot")
    _log(spark, run_id, snapshot, SWITCHING, len(state))
    _switch(spark, snapshot, state, layout, fault)
    _log(spark, run_id, snapshot, PUBLISHED, len(state))
    _drop_old(spark, layout)
    return snapshot


def _switch(spark, snapshot: str, state, layout: SparkLayout, fault=lambda point: None) -> None:
    for i, (schema, table) in enumerate(state):
        if schema not in layout.published:
            continue
        spark.sql(f"create database if not exists {schema}")
        source = f"{snapshot}.{SPARK.ident(_snapshot_name(schema, table))}"
        spark.sql(f"create or replace view {schema}.{SPARK.ident(table)} as select * from {source}")
        if i == 0:
            fault("during_switch")


def recover(spark, layout: SparkLayout = SparkLayout()) -> str | None:
    """Finish a switch that a killed run left half done. Returns its run id, or None."""
    spark.sql("create database if not exists audit")
    spark.sql(PUBLISH_LOG_DDL)
    row = spark.sql(
        "select run_id, snapshot, tables from audit.publish_log where state = 'switching' and run_id not in "
        "(select run_id from audit.publish_log where state = 'published') order by logged_at desc limit 1"
    ).first()
    if row is None:
        return None
    run_id, snapshot, _ = row
    state = [tuple(t.split("__", 1)) for t in _tables(spark, snapshot)]
    log.warning("Spark publish of run %s was interrupted during the switch: finishing it", run_id)
    _switch(spark, snapshot, state, layout)
    _log(spark, run_id, snapshot, PUBLISHED, len(state))
    return run_id


def _drop_old(spark, layout: SparkLayout) -> None:
    kept = [
        r[0]
        for r in spark.sql(
            "select snapshot from audit.publish_log where state = 'published' order by logged_at desc"
        ).collect()
    ]
    keep = set(kept[: layout.keep])
    for db in spark.catalog.listDatabases():
        # older published copies, and the copies of runs killed before their switch
        if db.name.startswith(layout.snapshot_prefix) and db.name not in keep:
            spark.sql(f"drop database if exists {db.name} cascade")
