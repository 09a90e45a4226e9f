"""Read the pandera models into plain column specs that the SQL compiler and ingestion use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from orchestration.contract.layout import REQUIRED_ENTITIES
from orchestration.contract.models import MODELS

MONEY_DECIMALS = 4
# kind -> DuckDB type of the raw layer
SQL_TYPES = {
    "id": "VARCHAR",
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "currency": "VARCHAR",
    "period": "VARCHAR",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    # money and points are kept exactly to MONEY_DECIMALS places (CONTRACT.md "Plausible values");
    # more decimals are rounded half-up (away from zero) to them and counted as a warning
    "money": "DECIMAL(18,4)",
    "points": "DECIMAL(18,4)",
    "int": "INTEGER",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
}
# the columns ingestion adds to every raw entity table, after the contract's (name, DuckDB type, what it holds)
TECHNICAL_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("_file", "VARCHAR", "Landing file the row was read from, relative to the landing folder."),
    (
        "_row",
        "BIGINT",
        "Where the row is in its file: for CSV the line where the record starts (the header is line 1), "
        "for JSON lines the object's ordinal, for Parquet the row's ordinal (1 = first row).",
    ),
    ("_run_id", "VARCHAR", "The run that read the row from its file."),
    (
        "_is_current",
        "BOOLEAN",
        "True for the current version of the key (latest updated_at, then the later file, then the later row); "
        "false for superseded versions, kept for audit.",
    ),
    (
        "_extra",
        "VARCHAR",
        "Columns of the file the contract does not know, as a JSON object (kept, ignored downstream).",
    ),
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    required: bool
    allowed: tuple[str, ...] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    pattern: str | None = None
    plan: bool = False  # a plan date: may lie in the future
    description: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


@dataclass(frozen=True)
class EntitySpec:
    entity: str  # "crm/deals"
    model: type
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    row_rules: dict[str, str] = field(default_factory=dict)
    description: str = ""
    # the column that places a row in a period (local date or timestamp, or the period itself), if any
    event_column: str | None = None

    @property
    def table(self) -> str:
        """Raw table name: crm/deals -> crm__deals."""
        return self.entity.replace("/", "__")

    @property
    def source(self) -> str:
        return self.entity.split("/")[0]

    @property
    def required(self) -> bool:
        return self.entity in REQUIRED_ENTITIES

    @property
    def has_updated_at(self) -> bool:
        return any(c.name == "updated_at" for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def raw_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of every column of the raw table: the contract's, then the technical ones."""
        return tuple((c.name, c.sql_type) for c in self.columns) + tuple((n, t) for n, t, _ in TECHNICAL_COLUMNS)


def _column(name: str, col) -> ColumnSpec:
    kw: dict = {}
    for check in col.checks:
        st = check.statistics or {}
        if check.name == "isin":
            kw["allowed"] = tuple(st["allowed_values"])
        elif check.name == "greater_than_or_equal_to":
            kw["ge"] = st["min_value"]
        elif check.name == "greater_than":
            kw["gt"] = st["min_value"]
        elif check.name == "less_than_or_equal_to":
            kw["le"] = st["max_value"]
        elif check.name == "in_range":
            kw["ge"], kw["le"] = st["min_value"], st["max_value"]
        elif check.name == "str_matches":
            kw["pattern"] = str(st["pattern"])
        else:  # a check the SQL compiler does not know would silently not be enforced
            raise NotImplementedError(f"column {name}: check {check.name} has no SQL translation")
    meta = col.metadata or {}
    return ColumnSpec(
        name=name,
        kind=meta["kind"],
        required=not col.nullable,
        plan=bool(meta.get("plan")),
        description=col.description or "",
        **kw,
    )


@cache
def entity_specs() -> tuple[EntitySpec, ...]:
    specs = []
    for model in MODELS:
        schema = model.to_schema()
        meta = model.__config__.metadata or {}
        rules = dict(meta.get("row_rules", {}))
        missing = set(schema.checks and [c.name for c in schema.checks]) - set(rules)
        if missing:
            raise NotImplementedError(f"{meta['entity']}: dataframe checks without SQL: {sorted(missing)}")
        event = meta.get("event_column")
        if event is not None and event not in schema.columns:
            raise ValueError(f"{meta['entity']}: event_column {event} is not a column")
        specs.append(
            EntitySpec(
                entity=meta["entity"],
                model=model,
                columns=tuple(_column(n, c) for n, c in schema.columns.items()),
                key=tuple(meta["key"]),
                row_rules=rules,
                description=model.__config__.description or "",
                event_column=event,
            )
        )
    return tuple(specs)


def spec_for(entity: str) -> EntitySpec:
    for s in entity_specs():
        if s.entity == entity or s.table == entity:
            return s
    raise KeyError(entity)
