"""landed.<entity> and raw.<entity>: the typed valid rows of every file read so far (exact duplicates
included), and the raw table the key rule computes from them (CONTRACT.md "Keys"): exact duplicates
dropped, then among versions of a key the latest `updated_at` wins (then the later file, then the
later row); superseded versions stay with `_is_current = false`."""

from __future__ import annotations

from orchestration.contract.spec import EntitySpec
from orchestration.ingest.counts import EntityCounts
from orchestration.warehouse import ident, sql_str


def create_empty_raw(con, spec: EntitySpec) -> None:
    cols = ", ".join(f"{ident(c.name)} {c.sql_type}" for c in spec.columns)
    con.execute(
        f"create or replace table raw.{spec.table} ({cols}, _file varchar, _row bigint, _run_id varchar, "
        f"_is_current boolean, _extra varchar)"
    )


def table_exists(con, schema: str, table: str) -> bool:
    return (
        con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
        > 0
    )


def store_landed(con, spec: EntitySpec, typed_table: str, run_id: str, full: bool, replaced: list[str]) -> str:
    """This run's typed valid rows into landed.<entity>: the whole table on a full read, else in place
    of the rows of the files read again or deleted (`replaced`). Returns the table's name."""
    store = f"landed.{spec.table}"
    cols = ", ".join(ident(c.name) for c in spec.columns)
    store_select = (
        f"select {cols}, _file, _row, md5(_raw) as _raw_md5, {sql_str(run_id)} as _run_id, _extra "
        f"from {typed_table} where _reason is null"
    )
    if full:
        con.execute(f"create or replace table {store} as {store_select}")
    else:
        if replaced:
            con.execute(f"delete from {store} where list_contains(?, _file)", [replaced])
        con.execute(f"insert into {store} {store_select}")
    return store


def recompute_raw(
    con, spec: EntitySpec, store: str, landing_table: str, typed_table: str, run_id: str, counts: EntityCounts
) -> None:
    """raw.<entity> from every file's rows in landed.<entity> by the key rule, and the counts of
    what this run read. One statement, no intermediate copy of the entity: the counts follow from
    raw (the first copies) and landed (every copy) restricted to this run's rows."""
    # the key rule over every file's rows, in SQL: exact duplicates dropped (first copy kept), then
    # the latest updated_at wins, then the later file, then the later row
    cols = ", ".join(ident(c.name) for c in spec.columns)
    key = ", ".join(ident(k) for k in spec.key)
    order = ("updated_at desc nulls last, " if spec.has_updated_at else "") + "_file desc, _row desc"
    con.execute(f"""
        create or replace table raw.{spec.table} as
        with first_copies as (
            select * from {store}
            qualify row_number() over (partition by _raw_md5 order by _file, _row) = 1
        )
        select {cols}, _file, _row, _run_id,
            row_number() over (partition by {key} order by {order}) = 1 as _is_current, _extra
        from first_copies
        order by _file, _row
    """)
    # counts of what this run read (docs/operations.md); an unparsable row is one row in, quarantined
    counts.rows_in = con.execute(f"select count(*) from {landing_table}").fetchall()[0][0]
    counts.quarantined = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchall()[0][0]
    counts.accepted, counts.superseded = con.execute(
        f"select count(*) filter (where _is_current), count(*) filter (where not _is_current) "
        f"from raw.{spec.table} where _run_id = ?",
        [run_id],
    ).fetchall()[0]
    this_run = con.execute(f"select count(*) from {store} where _run_id = ?", [run_id]).fetchall()[0][0]
    counts.exact_duplicates = this_run - counts.accepted - counts.superseded
