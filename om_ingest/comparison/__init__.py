"""Structural comparison of entity schemas (columns, topic/search/ML fields, tasks)."""

from om_ingest.comparison.schema_diff import (
    SOURCE_FIELD_IDS,
    ChangeKind,
    SchemaChange,
    SchemaDiff,
    SchemaShape,
    diff_schemas,
    field_renames,
    flatten_fields,
)

__all__ = [
    "SOURCE_FIELD_IDS",
    "ChangeKind",
    "SchemaChange",
    "SchemaDiff",
    "SchemaShape",
    "diff_schemas",
    "field_renames",
    "flatten_fields",
]
