"""The audit ledger of one entity's ingestion: its quarantined rows (audit.quarantine), the
row-level contract as a check (audit.check_results, audit.validation_failures) and its counts
(audit.run_counts). Each is replaced for the run: a retried step writes it once."""

from __future__ import annotations

from orchestration.contract.spec import EntitySpec
from orchestration.contract.sql import DECIMAL_KINDS
from orchestration.ingest.counts import EntityCounts
from orchestration.warehouse import sql_str

NOW_UTC = "timezone('UTC', current_timestamp)"  # audit times are stored in UTC
MAX_LEDGER_ROWS = 1000
_WHERE = "(_file || case when lower(_file) like '%.parquet' then ' row ' else ' line ' end || _row)"


def record_quarantine(con, spec: EntitySpec, typed_table: str, run_id: str) -> None:
    """This run's quarantined rows of the entity replace what the run wrote before; earlier runs' rows stay."""
    con.execute("delete from audit.quarantine where run_id = ? and source = ?", [run_id, spec.entity])
    con.execute(
        f"insert into audit.quarantine select ?, ?, _row_key, _reason, _raw, _file, _row, {NOW_UTC} "
        f"from {typed_table} where _reason is not null",
        [run_id, spec.entity],
    )


def record_run_counts(con, run_id: str, counts: EntityCounts) -> None:
    con.execute("delete from audit.run_counts where run_id = ? and entity = ?", [run_id, counts.entity])
    con.execute(
        f"insert into audit.run_counts values (?, ?, ?, ?, ?, ?, ?, ?, {NOW_UTC})",
        [
            run_id,
            counts.entity,
            counts.files,
            counts.rows_in,
            counts.accepted,
            counts.quarantined,
            counts.exact_duplicates,
            counts.superseded,
        ],
    )


def record_contract_results(con, spec: EntitySpec, typed_table: str, run_id: str, counts: EntityCounts) -> None:
    """The row-level contract as a check in the audit ledger: one audit.check_results row per entity
    and run, and the first MAX_LEDGER_ROWS quarantined rows in audit.validation_failures (all of them
    stay in audit.quarantine). Non-blocking: broken rows are set aside, the others go on. Warnings
    (only when there is something to say): `<kind>_rounded_to_4_decimals` (accepted rows whose money
    or points had more than 4 decimals, with the text as written) and `quoted_field_swallows_records`
    (rows with a quoted field holding lines shaped like records, with their line range)."""
    con.execute(
        "delete from audit.check_results where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    con.execute(
        "delete from audit.validation_failures where run_id = ? and check_kind = 'pandera' and source = ?",
        [run_id, spec.entity],
    )
    bad = con.execute(f"select count(*) from {typed_table} where _reason is not null").fetchall()[0][0]
    con.execute(
        f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, 'contract_row_rules', 'warn', ?, ?, ?)",
        [
            run_id,
            spec.entity,
            bad == 0,
            bad,
            f"{bad} row(s) broke the contract and were quarantined" if bad else "every row meets the contract",
        ],
    )
    con.execute(
        f"""insert into audit.validation_failures
        select ?, {NOW_UTC}, ?, 'contract_row_rules', 'warn', _row_key, f.column_name, f.bad_value,
               f.message || ' (' || {_WHERE} || ')', 'pandera'
        from (
            select _row_key, _file, _row, unnest(case when len(_failures) > 0 then _failures else
                [struct_pack(column_name := null::varchar, bad_value := null::varchar, message := _reason)]
                end) as f
            from {typed_table} where _reason is not null
        )
        order by _file, _row limit {MAX_LEDGER_ROWS}""",
        [run_id, spec.entity],
    )
    for kind in sorted({c.kind for c in spec.columns if c.kind in DECIMAL_KINDS}):
        check = f"{kind}_rounded_to_4_decimals"
        of_kind = f"list_filter(_rounded, lambda r: r.kind = {sql_str(kind)})"
        query = f"select count(*) from {typed_table} where _reason is null and len({of_kind}) > 0"
        n = con.execute(query).fetchall()[0][0]
        counts.rounded_rows += n
        if not n:
            continue
        con.execute(
            f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, ?, 'warn', false, ?, ?)",
            [
                run_id,
                spec.entity,
                check,
                n,
                f"{n} accepted row(s) had {kind} with more than 4 decimals: rounded half-up to 4, kept",
            ],
        )
        con.execute(
            f"""insert into audit.validation_failures
            select ?, {NOW_UTC}, ?, ?, 'warn', _row_key, r.column_name, r.bad_value,
                   r.column_name || '=' || r.bad_value || ' has more than 4 decimals: kept as ' || r.stored
                   || ' (rounded half-up) (' || {_WHERE} || ')', 'pandera'
            from (select _row_key, _file, _row, unnest({of_kind}) as r from {typed_table} where _reason is null)
            order by _file, _row limit {MAX_LEDGER_ROWS}""",
            [run_id, spec.entity, check],
        )
    n = con.execute(f"select count(*) from {typed_table} where _swallowed > 0").fetchall()[0][0]
    counts.swallowing_rows = n
    if n:
        con.execute(
            f"insert into audit.check_results values (?, {NOW_UTC}, 'pandera', ?, 'quoted_field_swallows_records', "
            "'warn', false, ?, ?)",
            [
                run_id,
                spec.entity,
                n,
                f"{n} row(s) hold a quoted field with line(s) shaped like records: a quote may be unbalanced, "
                "the lines were read as one row (line ranges in audit.validation_failures)",
            ],
        )
        con.execute(
            f"""insert into audit.validation_failures
            select ?, {NOW_UTC}, ?, 'quoted_field_swallows_records', 'warn', _row_key, _swallowed_col,
                   _swallowed_text,
                   'quoted field ' || _swallowed_col || ' holds ' || _swallowed || ' line(s) shaped like records: '
                   || _file || ' lines ' || _row || '-' || (_row + _span - 1)
                   || ' were read as one row (is a quote unbalanced?)', 'pandera'
            from {typed_table} where _swallowed > 0
            order by _file, _row limit {MAX_LEDGER_ROWS}""",
            [run_id, spec.entity],
        )
