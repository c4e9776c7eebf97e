"""Structural comparison of entity schemas (columns, and later topic/search/ML fields)."""

from om_ingest.comparison.schema_diff import (
    ChangeKind,
    SchemaChange,
    SchemaDiff,
    diff_schemas,
    flatten_fields,
)

__all__ = ["ChangeKind", "SchemaChange", "SchemaDiff", "diff_schemas", "flatten_fields"]
