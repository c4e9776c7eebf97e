"""Exact Arrow → OpenMetadata column mapping, shared by every lakehouse source.

OM's own datalake parser is lossy (int64 → INT, double → FLOAT, decimals without precision,
maps → UNKNOWN). Here every Arrow type maps to the exact OM type, decimals keep precision and
scale, lists keep their item type (and children when items are structs), structs keep children
at every depth, and `data_type_display` spells the full type (`map<string,bigint>`).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.types as pat

from om_ingest.config.models import ColumnSpec
from om_ingest.config.om_types import DATA_TYPES

META_PREFIX = "_hoodie_"


def om_enum_value(value: str, choices: frozenset[str]) -> str | None:
    """`value` when OM's enum (`choices`, from `om_ingest.config.om_types`) has it, else None.
    The rule for every enum-typed field filled from source facts: a fact OM has no value for
    is left out of that field (the source keeps it as a custom property, or says UNKNOWN), so
    the table still ingests instead of failing validation."""
    return value if value in choices else None


def om_data_type(arrow: pa.DataType) -> str:
    """OpenMetadata's DataType for an Arrow type."""
    checks: list[tuple[object, str]] = [
        (pat.is_boolean, "BOOLEAN"),
        (pat.is_int8, "TINYINT"),
        (pat.is_uint8, "SMALLINT"),
        (pat.is_int16, "SMALLINT"),
        (pat.is_uint16, "INT"),
        (pat.is_int32, "INT"),
        (pat.is_uint32, "BIGINT"),
        (pat.is_int64, "BIGINT"),
        (pat.is_uint64, "NUMERIC"),
        (pat.is_float16, "FLOAT"),
        (pat.is_float32, "FLOAT"),
        (pat.is_float64, "DOUBLE"),
        (pat.is_decimal, "DECIMAL"),
        (pat.is_date, "DATE"),
        (pat.is_time, "TIME"),
        (pat.is_duration, "INTERVAL"),
        (pat.is_string, "STRING"),
        (pat.is_large_string, "STRING"),
        (pat.is_binary, "BINARY"),
        (pat.is_large_binary, "BINARY"),
        (pat.is_fixed_size_binary, "BINARY"),
        (pat.is_struct, "STRUCT"),
        (pat.is_map, "MAP"),
        (pat.is_list, "ARRAY"),
        (pat.is_large_list, "ARRAY"),
        (pat.is_fixed_size_list, "ARRAY"),
        (pat.is_dictionary, "STRING"),
        (pat.is_null, "NULL"),
    ]
    if pat.is_timestamp(arrow):
        return "TIMESTAMPZ" if arrow.tz else "TIMESTAMP"
    if isinstance(arrow, pa.DictionaryType):
        return om_data_type(arrow.value_type)
    for check, name in checks:
        if check(arrow):  # type: ignore[operator]
            return om_enum_value(name, DATA_TYPES) or "UNKNOWN"
    return "UNKNOWN"


def display(arrow: pa.DataType) -> str:
    """A faithful, Hive-like spelling of the whole type, nested parts included."""
    if pat.is_struct(arrow):
        return "struct<" + ",".join(f"{f.name}:{display(f.type)}" for f in arrow) + ">"
    if pat.is_map(arrow):
        return f"map<{display(arrow.key_type)},{display(arrow.item_type)}>"
    if pat.is_list(arrow) or pat.is_large_list(arrow) or pat.is_fixed_size_list(arrow):
        return f"array<{display(arrow.value_type)}>"
    if pat.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pat.is_timestamp(arrow):
        return f"timestamp({arrow.unit}{', ' + arrow.tz if arrow.tz else ''})"
    if isinstance(arrow, pa.DictionaryType):
        return display(arrow.value_type)
    return om_data_type(arrow).lower()


def column_spec(field: pa.Field) -> ColumnSpec:
    arrow = field.type
    body: dict[str, object] = {
        "name": field.name,
        "data_type": om_data_type(arrow),
        "data_type_display": display(arrow),
    }
    if pat.is_decimal(arrow):
        body.update(precision=arrow.precision, scale=arrow.scale)
    if pat.is_fixed_size_binary(arrow):
        body["data_length"] = arrow.byte_width
    if pat.is_struct(arrow):
        body["children"] = [column_spec(child) for child in arrow]
    elif pat.is_list(arrow) or pat.is_large_list(arrow) or pat.is_fixed_size_list(arrow):
        item = arrow.value_type
        body["array_data_type"] = om_data_type(item)
        if pat.is_struct(item):
            body["children"] = [column_spec(child) for child in item]
    return ColumnSpec.model_validate(body)


def columns_from_schema(schema: pa.Schema, include_meta: bool = False) -> list[ColumnSpec]:
    """Every top-level field as a column; Hudi's `_hoodie_*` meta fields only on request."""
    return [
        column_spec(field)
        for field in schema
        if include_meta or not field.name.startswith(META_PREFIX)
    ]
