"""The entity's pandera model over the rows the SQL row rules accepted, in bounded chunks (no file
is loaded whole into pandas); what it rejects is quarantined too."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandera.pandas as pa

from orchestration.contract.spec import EntitySpec
from orchestration.contract.sql import OLDEST_DATE
from orchestration.ingest.ingest_error import IngestError
from orchestration.warehouse import ident

PANDERA_CHUNK_ROWS = 100_000


def quarantine_pandera_failures(con, spec: EntitySpec, typed_table: str, as_of: datetime, timezone: str) -> None:
    """Set `_reason` of every typed row pandera rejects to what pandera found."""
    for file, row, reason in pandera_failures(con, spec, typed_table, as_of, timezone):
        con.execute(f"update {typed_table} set _reason = ? where _file = ? and _row = ?", [reason, file, row])


def pandera_failures(
    con, spec: EntitySpec, typed_table: str, as_of: datetime, timezone: str
) -> list[tuple[str, int, str]]:
    """Run the entity's pandera model (lazy) over the SQL-accepted rows in bounded chunks.

    Returns (file, row, reason) for every row pandera rejects. The SQL compiled from the same
    model should already have caught these; anything found here is still quarantined. Dates and
    timestamps are UTC (`datetime64[us, UTC]`); whatever pandera raises besides its schema errors
    becomes an IngestError naming the entity."""
    schema = spec.model.to_schema()
    # as-of dependent rule: nothing more than one day after as-of (timestamps are UTC, dates local),
    # plan dates excepted; and nothing before 1900 (the SQL's rule; for timestamps a day earlier in
    # UTC, as the SQL reads 1900-01-01 in the configured zone)
    ts_bound = as_of.astimezone(UTC) + timedelta(days=1)
    date_bound = datetime.combine(as_of.astimezone(ZoneInfo(timezone)).date() + timedelta(days=1), time(), UTC)
    oldest = datetime.fromisoformat(OLDEST_DATE).replace(tzinfo=UTC)
    for c in spec.columns:
        if c.kind in ("timestamp", "date"):
            col = schema.columns[c.name]
            checks = [*col.checks]
            low = oldest if c.kind == "date" else oldest - timedelta(days=1)
            checks.append(pa.Check.ge(low, name="not_before_1900"))
            if not c.plan:
                checks.append(pa.Check.le(ts_bound if c.kind == "timestamp" else date_bound, name="not_in_future"))
            schema = schema.update_column(c.name, checks=checks)
    cols = ", ".join(ident(c.name) for c in spec.columns)
    reader = con.sql(
        f"select {cols}, _file, _row from {typed_table} where _reason is null order by _file, _row"
    ).to_arrow_reader(PANDERA_CHUNK_ROWS)
    bad: dict[tuple[str, int], list[str]] = {}
    try:
        for batch in reader:
            df = batch.to_pandas()
            try:
                schema.validate(df, lazy=True)
            except pa.errors.SchemaErrors as exc:
                fc = exc.failure_cases
                for _, f in fc.iterrows():
                    idx = f["index"]
                    if idx is None or (isinstance(idx, float) and idx != idx):
                        raise IngestError(
                            f"{spec.entity}: pandera schema failure not tied to a row: "
                            f"{f['column']}: {f['check']}: {f['failure_case']}"
                        ) from None
                    key = (df.at[idx, "_file"], int(df.at[idx, "_row"]))
                    bad.setdefault(key, []).append(f"pandera {f['check']} on {f['column']}: {f['failure_case']}")
            except Exception as exc:  # a pandera or pandas failure must say which entity
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                raise IngestError(
                    f"{spec.entity}: pandera could not validate the rows of "
                    f"{df['_file'].iloc[0] if len(df) else '?'}: {type(exc).__name__}: {first}"
                ) from exc
    finally:
        reader.close()  # no pending result on the connection (a `set` would fail on it)
    return [(f, r, "; ".join(reasons)) for (f, r), reasons in bad.items()]
