"""Structural comparison of entity schemas (columns, topic/search/ML fields, tasks)."""

from om_ingest.comparison.schema_diff import (
    ChangeKind,
    SchemaChange,
    SchemaDiff,
    SchemaShape,
    diff_schemas,
    flatten_fields,
)

__all__ = [
    "ChangeKind",
    "SchemaChange",
    "SchemaDiff",
    "SchemaShape",
    "diff_schemas",
    "flatten_fields",
]
