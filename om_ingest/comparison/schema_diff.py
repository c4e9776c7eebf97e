"""Structural schema comparison: which fields were added, removed or retyped.

Works on OpenMetadata's JSON field trees (a table's `columns`, a topic's
`messageSchema.schemaFields`, a search index's `fields`, an ML model's `mlFeatures`, a
pipeline's `tasks`): each field has a `name`, a type (`dataType`, a task's `taskType`: the
kind's `SchemaShape`) and optionally nested fields. Nested fields are reported by
dotted path, each part quoted like an FQN part when it contains a dot. Descriptions, tags and
ordering are not structure: changing them is not a schema change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from metadata.utils.fqn import quote_name

TYPE_DETAIL_KEYS = ("arrayDataType", "precision", "scale", "dataLength")


@dataclass(frozen=True)
class SchemaShape:
    """Where a kind keeps its structural schema and how its fields look."""

    path: str
    """Dotted path of the field list in the entity JSON, e.g. `messageSchema.schemaFields`."""
    type_key: str = "dataType"
    """The key holding a field's type (`dataType`; a pipeline task's `taskType`)."""
    children: str | None = "children"
    """The key of nested fields, when fields nest."""
    facts: tuple[str, ...] = ()
    """Per-field attributes that are source facts, applied by PUT (e.g. a column's
    constraint, a task's downstream tasks)."""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))

    def fields_of(self, entity: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The field list at `path` (empty when absent)."""
        node: Any = entity
        for key in self.keys:
            node = node.get(key) if isinstance(node, Mapping) else None
        return list(node or [])

    def flatten(self, entity: Mapping[str, Any]) -> dict[str, str]:
        return flatten_fields(self.fields_of(entity), self.children, type_key=self.type_key)


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    TYPE_CHANGED = "type_changed"


@dataclass(frozen=True)
class SchemaChange:
    kind: ChangeKind
    path: str
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        if self.kind is ChangeKind.ADDED:
            return f"added {self.path} {self.after}"
        if self.kind is ChangeKind.REMOVED:
            return f"removed {self.path} {self.before}"
        return f"retyped {self.path} {self.before} → {self.after}"


@dataclass(frozen=True)
class SchemaDiff:
    changes: list[SchemaChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def of_kind(self, kind: ChangeKind) -> list[SchemaChange]:
        return [c for c in self.changes if c.kind is kind]

    @property
    def is_breaking(self) -> bool:
        """Removing or retyping a field breaks readers; adding one does not."""
        return any(c.kind is not ChangeKind.ADDED for c in self.changes)

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {"change": c.kind.value, "path": c.path, "before": c.before, "after": c.after}
            for c in self.changes
        ]


def describe_change(change: Mapping[str, Any]) -> str:
    """One line for a change in its JSON form (audit events carry that form)."""
    return SchemaChange(
        ChangeKind(change["change"]), change["path"], change["before"], change["after"]
    ).describe()


def type_signature(field_json: Mapping[str, Any], type_key: str = "dataType") -> str:
    """A field's structural type, e.g. `DECIMAL(12,2)`, `ARRAY<STRING>`, `VARCHAR(20)`."""
    data_type = str(field_json.get(type_key) or "UNKNOWN")
    if field_json.get("arrayDataType"):
        return f"{data_type}<{field_json['arrayDataType']}>"
    precision, scale = field_json.get("precision"), field_json.get("scale")
    if precision is not None:
        return f"{data_type}({precision},{scale or 0})"
    if field_json.get("dataLength") is not None and data_type in {
        "CHAR",
        "VARCHAR",
        "BINARY",
        "VARBINARY",
    }:
        return f"{data_type}({field_json['dataLength']})"
    return data_type


def flatten_fields(
    fields: Iterable[Mapping[str, Any]],
    children_key: str | None = "children",
    prefix: str = "",
    type_key: str = "dataType",
) -> dict[str, str]:
    """Map every field's dotted path (nested children included) to its type signature."""
    flat: dict[str, str] = {}
    for item in fields:
        path = f"{prefix}{quote_name(str(item['name']))}"
        flat[path] = type_signature(item, type_key)
        children = item.get(children_key) or [] if children_key else []
        if children:
            flat.update(flatten_fields(children, children_key, f"{path}.", type_key))
    return flat


def diff_schemas(before: Mapping[str, str], after: Mapping[str, str]) -> SchemaDiff:
    """Compare two flattened schemas; changes come out in a stable order (after's, then removed)."""
    changes: list[SchemaChange] = []
    for path, signature in after.items():
        if path not in before:
            if _parent(path) in after and _parent(path) not in before:
                continue  # a new struct's children are part of adding the struct
            changes.append(SchemaChange(ChangeKind.ADDED, path, after=signature))
        elif before[path] != signature:
            changes.append(SchemaChange(ChangeKind.TYPE_CHANGED, path, before[path], signature))
    for path, signature in before.items():
        if path not in after and not (_parent(path) in before and _parent(path) not in after):
            changes.append(SchemaChange(ChangeKind.REMOVED, path, before=signature))
    return SchemaDiff(changes)


def _parent(path: str) -> str | None:
    from metadata.utils.fqn import split

    parts = split(path)
    return ".".join(parts[:-1]) if len(parts) > 1 else None
