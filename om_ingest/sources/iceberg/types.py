"""Exact Iceberg schema → OpenMetadata columns, read from the Iceberg types themselves.

Not through Arrow: Arrow has no uuid, spells fixed[n] as a plain binary width and loses the
field ids. Decimals keep precision and scale, fixed[n] its length, timestamptz is TIMESTAMPZ,
structs, lists and maps keep their children at every depth (a list's element struct gives its
fields, a map gives `key` and `value`), field docs become descriptions and required top-level
fields NOT_NULL. `field_ids` maps each field id to its column path, so a renamed field is
recognised as the same field (see `om_ingest.comparison.schema_diff.SOURCE_FIELD_IDS`).
"""

from __future__ import annotations

from typing import Any

from metadata.utils.fqn import quote_name
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampNanoType,
    TimestampType,
    TimestamptzNanoType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from om_ingest.config.models import ColumnSpec

_PRIMITIVES: dict[type[IcebergType], str] = {
    BooleanType: "BOOLEAN",
    IntegerType: "INT",
    LongType: "BIGINT",
    FloatType: "FLOAT",
    DoubleType: "DOUBLE",
    DecimalType: "DECIMAL",
    DateType: "DATE",
    TimeType: "TIME",
    TimestampType: "TIMESTAMP",
    TimestampNanoType: "TIMESTAMP",
    TimestamptzType: "TIMESTAMPZ",
    TimestamptzNanoType: "TIMESTAMPZ",
    StringType: "STRING",
    UUIDType: "UUID",
    FixedType: "FIXED",
    BinaryType: "BINARY",
    StructType: "STRUCT",
    ListType: "ARRAY",
    MapType: "MAP",
}


def om_data_type(kind: IcebergType) -> str:
    return _PRIMITIVES.get(type(kind), "UNKNOWN")


def display(kind: IcebergType) -> str:
    """Iceberg's own spelling of the whole type: `decimal(12,2)`, `fixed[16]`,
    `struct<a:int,b:list<string>>`, `map<string,long>`, `timestamptz`."""
    if isinstance(kind, StructType):
        return "struct<" + ",".join(f"{f.name}:{display(f.field_type)}" for f in kind.fields) + ">"
    if isinstance(kind, ListType):
        return f"list<{display(kind.element_type)}>"
    if isinstance(kind, MapType):
        return f"map<{display(kind.key_type)},{display(kind.value_type)}>"
    return str(kind)


def column_spec(field: NestedField, top_level: bool = True) -> ColumnSpec:
    kind = field.field_type
    body: dict[str, Any] = {
        "name": field.name,
        "data_type": om_data_type(kind),
        "data_type_display": display(kind),
        "description": field.doc or None,
    }
    if top_level and field.required:
        body["constraint"] = "NOT_NULL"
    if isinstance(kind, DecimalType):
        body.update(precision=kind.precision, scale=kind.scale)
    if isinstance(kind, FixedType):
        body["data_length"] = len(kind)
    body["children"] = [column_spec(child, False) for child in _children(kind)]
    if isinstance(kind, ListType):
        body["array_data_type"] = om_data_type(kind.element_type)
    return ColumnSpec.model_validate(body)


def _children(kind: IcebergType) -> list[NestedField]:
    """The fields nested in a type: a struct's fields; a list's element struct's fields (or
    its element, when that nests further); a map's key and value."""
    if isinstance(kind, StructType):
        return list(kind.fields)
    if isinstance(kind, ListType):
        element = kind.element_field
        if isinstance(element.field_type, StructType):
            return list(element.field_type.fields)
        return [element] if _nests(element.field_type) else []
    if isinstance(kind, MapType):
        return [kind.key_field, kind.value_field]
    return []


def _nests(kind: IcebergType) -> bool:
    return isinstance(kind, StructType | ListType | MapType)


def columns_from_schema(schema: Schema) -> list[ColumnSpec]:
    return [column_spec(field) for field in schema.fields]


def field_ids(schema: Schema) -> dict[int, str]:
    """Each field's id → its column path as the comparator spells it (parts quoted like FQN
    parts), for every field a column stands for."""
    ids: dict[int, str] = {}

    def walk(fields: list[NestedField], prefix: str) -> None:
        for field in fields:
            path = f"{prefix}{quote_name(field.name)}"
            ids[field.field_id] = path
            walk(_children(field.field_type), f"{path}.")

    walk(list(schema.fields), "")
    return ids
