"""What PostgreSQL's system catalog says about a schema's relations, and their exact OM types.

Types come from `pg_type` by oid, never from names: a domain resolves to its base type (its
own name stays in `dataTypeDisplay`), an array keeps its element type, an enum its labels, a
composite type its attributes as STRUCT children at every depth. Every column's
`dataTypeDisplay` is PostgreSQL's own `format_type` text. Queries are per relation, so a
relation dropped while a discovery runs is simply no longer found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from om_ingest.config.models import ColumnSpec
from om_ingest.config.om_types import DATA_TYPES
from om_ingest.sources.arrow_types import om_enum_value

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
TABLE_TYPES = {
    "r": "Regular",
    "p": "Partitioned",
    "v": "View",
    "m": "MaterializedView",
    "f": "Foreign",
}
BASE_TYPES = {
    "int2": "SMALLINT",
    "int4": "INT",
    "int8": "BIGINT",
    "oid": "BIGINT",
    "float4": "FLOAT",
    "float8": "DOUBLE",
    "numeric": "DECIMAL",
    "money": "MONEY",
    "bool": "BOOLEAN",
    "varchar": "VARCHAR",
    "bpchar": "CHAR",
    "char": "CHAR",
    "text": "TEXT",
    "name": "STRING",
    "citext": "TEXT",
    "date": "DATE",
    "time": "TIME",
    "timetz": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMPZ",
    "interval": "INTERVAL",
    "json": "JSON",
    "jsonb": "JSON",
    "uuid": "UUID",
    "bytea": "BYTEA",
    "inet": "INET",
    "cidr": "CIDR",
    "macaddr": "MACADDR",
    "macaddr8": "MACADDR",
    "xml": "XML",
    "bit": "BIT",
    "varbit": "BIT",
    "tsvector": "TSVECTOR",
    "tsquery": "TSQUERY",
    "point": "POINT",
    "polygon": "POLYGON",
    "geometry": "GEOMETRY",
    "geography": "GEOGRAPHY",
    "pg_lsn": "PG_LSN",
    "pg_snapshot": "PG_SNAPSHOT",
    "txid_snapshot": "TXID_SNAPSHOT",
    "record": "RECORD",
}


@dataclass
class PgType:
    oid: int
    name: str
    kind: str
    """typtype: b base, d domain, e enum, c composite, r range, p pseudo."""
    category: str
    element: int
    base: int
    base_typmod: int
    relid: int
    labels: list[str] = field(default_factory=list)
    attributes: list[tuple[str, int, int, str]] = field(default_factory=list)
    """A composite's (name, type oid, typmod, format_type text)."""


@dataclass
class Relation:
    oid: int
    name: str
    kind: str
    comment: str | None


@dataclass
class Constraint:
    kind: str
    """p, u or f."""
    columns: list[str]
    referred_schema: str | None = None
    referred_table: str | None = None
    referred_columns: list[str] = field(default_factory=list)


@dataclass
class RelationFacts:
    """Everything the catalog says that shapes the relation's OM table: its marker is their
    hash, so any change to columns, types, constraints, comments or the definition shows."""

    name: str
    table_type: str
    comment: str | None
    columns: list[dict[str, Any]]
    """attname, typid, typmod, display, notnull, comment."""
    constraints: list[Constraint]
    view_definition: str | None = None
    partition_strategy: str | None = None
    partition_key: str | None = None
    partition_columns: list[str] = field(default_factory=list)
    partitions: int = 0

    def marker(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


def list_schemas(conn: Connection) -> list[str]:
    """Every schema but the system ones (pg_catalog, information_schema, pg_toast, temp)."""
    rows = conn.execute(
        text(
            "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(:system) "
            "AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%' "
            "ORDER BY nspname"
        ),
        {"system": list(SYSTEM_SCHEMAS)},
    )
    return [row[0] for row in rows]


def list_relations(conn: Connection, schema: str) -> list[Relation]:
    """Tables, partitioned tables, views, materialized views and foreign tables; never a
    partition (its partitioned table stands for it)."""
    rows = conn.execute(
        text(
            "SELECT c.oid, c.relname, c.relkind, obj_description(c.oid, 'pg_class') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind = ANY(:kinds) AND NOT c.relispartition "
            "ORDER BY c.relname"
        ),
        {"schema": schema, "kinds": list(TABLE_TYPES)},
    )
    return [Relation(int(r[0]), r[1], r[2], r[3]) for r in rows]


def describe(conn: Connection, schema: str, relation: Relation) -> RelationFacts | None:
    """The relation's columns, constraints, definition and partitioning; None when it is gone."""
    oid = {"oid": relation.oid}
    current = conn.execute(
        text(
            "SELECT relname, relkind, obj_description(oid, 'pg_class') FROM pg_class WHERE oid = :oid"
        ),
        oid,
    ).first()
    if current is None:
        return None
    columns = [
        {"name": r[0], "typid": int(r[1]), "typmod": int(r[2]), "display": r[3],
         "notnull": bool(r[4]), "comment": r[5]}
        for r in conn.execute(
            text(
                "SELECT attname, atttypid, atttypmod, format_type(atttypid, atttypmod), "
                "attnotnull, col_description(attrelid, attnum) FROM pg_attribute "
                "WHERE attrelid = :oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            ),
            oid,
        )
    ]  # fmt: skip
    constraints = [
        Constraint(r[0], list(r[1]), r[2], r[3], list(r[4] or []))
        for r in conn.execute(
            text(
                "SELECT con.contype, "
                "ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i) "
                "  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n "
                "  ORDER BY k.i), "
                "fn.nspname, fc.relname, "
                "ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i) "
                "  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n "
                "  ORDER BY k.i) "
                "FROM pg_constraint con "
                "LEFT JOIN pg_class fc ON fc.oid = con.confrelid "
                "LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace "
                "WHERE con.conrelid = :oid AND con.contype IN ('p', 'u', 'f') "
                "ORDER BY con.contype, con.conname"
            ),
            oid,
        )
    ]
    facts = RelationFacts(
        name=current[0],
        table_type=TABLE_TYPES.get(current[1], "Regular"),
        comment=current[2],
        columns=columns,
        constraints=constraints,
    )
    if current[1] in ("v", "m"):
        definition = conn.execute(text("SELECT pg_get_viewdef(:oid, true)"), oid).scalar_one()
        kind = "MATERIALIZED VIEW" if current[1] == "m" else "VIEW"
        quoted = conn.execute(
            text("SELECT format('%I.%I', :schema, :name)"),
            {"schema": schema, "name": current[0]},
        ).scalar_one()
        facts.view_definition = f"CREATE {kind} {quoted} AS\n{definition}"
    if current[1] == "p":
        row = conn.execute(
            text(
                "SELECT pt.partstrat, pg_get_partkeydef(pt.partrelid), "
                "ARRAY(SELECT a.attname FROM unnest(pt.partattrs::int2[]) WITH ORDINALITY k(n, i) "
                "  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = k.n "
                "  ORDER BY k.i), "
                "(SELECT count(*) FROM pg_inherits WHERE inhparent = pt.partrelid) "
                "FROM pg_partitioned_table pt WHERE pt.partrelid = :oid"
            ),
            oid,
        ).first()
        if row is not None:
            strategy = {"r": "range", "l": "list", "h": "hash"}.get(row[0], row[0])
            facts.partition_strategy = strategy
            facts.partition_key = row[1]
            facts.partition_columns = list(row[2])
            facts.partitions = int(row[3])
    return facts


class TypeCatalog:
    """`pg_type` rows by oid, loaded as columns need them and kept for the whole discovery."""

    def __init__(self) -> None:
        self.types: dict[int, PgType] = {}

    def load(self, conn: Connection, oids: set[int]) -> None:
        """The types `oids` name and every type they refer to (elements, bases, attributes)."""
        asked: set[int] = set()
        missing = set(oids) - set(self.types)
        while missing:
            asked |= missing
            rows = conn.execute(
                text(
                    "SELECT oid, typname, typtype, typcategory, typelem, typbasetype, "
                    "typtypmod, typrelid FROM pg_type WHERE oid = ANY(:oids)"
                ),
                {"oids": sorted(missing)},
            )
            loaded = [PgType(int(r[0]), r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]),
                             int(r[7])) for r in rows]  # fmt: skip
            for pg in loaded:
                self.types[pg.oid] = pg
            enums = [pg.oid for pg in loaded if pg.kind == "e"]
            if enums:
                for r in conn.execute(
                    text(
                        "SELECT enumtypid, array_agg(enumlabel::text ORDER BY enumsortorder) "
                        "FROM pg_enum WHERE enumtypid = ANY(:oids) GROUP BY enumtypid"
                    ),
                    {"oids": enums},
                ):
                    self.types[int(r[0])].labels = list(r[1])
            composites = {pg.relid: pg for pg in loaded if pg.kind == "c"}
            if composites:
                for r in conn.execute(
                    text(
                        "SELECT attrelid, attname, atttypid, atttypmod, "
                        "format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                        "attrelid = ANY(:rels) AND attnum > 0 AND NOT attisdropped "
                        "ORDER BY attrelid, attnum"
                    ),
                    {"rels": sorted(composites)},
                ):
                    composites[int(r[0])].attributes.append((r[1], int(r[2]), int(r[3]), r[4]))
            referred = {
                o
                for pg in loaded
                for o in (pg.element, pg.base, *(a[1] for a in pg.attributes))
                if o
            }
            missing = referred - set(self.types) - asked

    def column(
        self, name: str, typid: int, typmod: int, display: str, enums: dict[str, list[str]]
    ) -> ColumnSpec:
        """The exact OM column of a PostgreSQL type; an enum's labels go to `enums[name]`."""
        body: dict[str, Any] = {"name": name, "data_type_display": display}
        body.update(self._shape(name, typid, typmod, enums))
        return ColumnSpec.model_validate(body)

    def _shape(
        self, path: str, typid: int, typmod: int, enums: dict[str, list[str]]
    ) -> dict[str, Any]:
        pg = self.types.get(typid)
        if pg is None:
            return {"data_type": "UNKNOWN"}
        if pg.kind == "d":  # a domain: its base type (with the domain's typmod)
            return self._shape(path, pg.base, pg.base_typmod, enums)
        if pg.category == "A" and pg.element:
            item = self._shape(path, pg.element, typmod, enums)
            shape: dict[str, Any] = {"data_type": "ARRAY", "array_data_type": item["data_type"]}
            if item.get("children"):
                shape["children"] = item["children"]
            return shape
        if pg.kind == "e":
            enums[path] = pg.labels
            return {"data_type": "ENUM"}
        if pg.kind == "c":
            return {
                "data_type": "STRUCT",
                "children": [
                    {"name": a_name, "data_type_display": a_display,
                     **self._shape(f"{path}.{a_name}", a_typ, a_mod, enums)}
                    for a_name, a_typ, a_mod, a_display in pg.attributes
                ],
            }  # fmt: skip
        data_type = om_enum_value(BASE_TYPES.get(pg.name, "UNKNOWN"), DATA_TYPES) or "UNKNOWN"
        shape = {"data_type": data_type}
        if pg.name == "numeric":
            if typmod >= 4:
                shape.update(precision=((typmod - 4) >> 16) & 0xFFFF, scale=(typmod - 4) & 0xFFFF)
            else:  # unconstrained numeric: any precision
                shape["data_type"] = "NUMERIC"
        elif pg.name in ("varchar", "bpchar"):
            if typmod >= 4:
                shape["data_length"] = typmod - 4
            else:  # varchar without a length is unbounded text
                shape["data_type"] = "TEXT"
        elif pg.name == "char":
            shape["data_length"] = 1
        elif pg.name in ("bit", "varbit") and typmod > 0:
            shape["data_length"] = typmod
        return shape
