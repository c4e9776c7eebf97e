"""Structural schema comparison: which fields were added, removed or retyped.

Works on OpenMetadata's JSON field trees (a table's `columns`, a topic's
`messageSchema.schemaFields`, a search index's `fields`, an ML model's `mlFeatures`, a
pipeline's `tasks`): each field has a `name`, a type (`dataType`, a task's `taskType`: the
kind's `SchemaShape`) and optionally nested fields. Nested fields are reported by
dotted path, each part quoted like an FQN part when it contains a dot. Descriptions, tags and
ordering are not structure: changing them is not a schema change.

Fields match by path, unless the source knows their identity: a source whose fields have
stable ids (Iceberg's field ids) records them in the entity's `SOURCE_FIELD_IDS` custom
property, and a field whose id moved to another path between two versions was renamed
(reported as one rename, not as a removal and an addition).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from metadata.utils.fqn import quote_name

TYPE_DETAIL_KEYS = ("arrayDataType", "precision", "scale", "dataLength")
SOURCE_FIELD_IDS = "source_field_ids"
"""Custom property a source fills with its fields' stable ids: JSON, id → field path."""


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
    RENAMED = "renamed"


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
        if self.kind is ChangeKind.RENAMED:
            return f"renamed {self.before} → {self.after}"
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
        """Removing, retyping or renaming a field breaks readers; adding one does not."""
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
        "FIXED",
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


def field_renames(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, str]:
    """Old path → new path of every field whose id (`SOURCE_FIELD_IDS` in two versions'
    custom properties) is at another path now; empty when either version lacks the ids."""
    old, new = _field_ids(before), _field_ids(after)
    return {old[i]: new[i] for i in old.keys() & new.keys() if old[i] != new[i]}


def _field_ids(extension: Mapping[str, Any] | None) -> dict[str, str]:
    raw = (extension or {}).get(SOURCE_FIELD_IDS)
    try:
        ids = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {}


def diff_schemas(
    before: Mapping[str, str], after: Mapping[str, str], renames: Mapping[str, str] | None = None
) -> SchemaDiff:
    """Compare two flattened schemas; changes come out in a stable order (after's, then
    removed). `renames` (old path → new path, see `field_renames`) are reported as renames;
    the children a renamed struct carries along are part of its rename."""
    moved = {
        old: new
        for old, new in (renames or {}).items()
        if old in before and new in after and old not in after and new not in before
    }
    origin = {new: old for old, new in moved.items()}
    changes: list[SchemaChange] = []
    for path, signature in after.items():
        if path in origin:
            old = origin[path]
            if not _carried(old, path, moved):
                changes.append(SchemaChange(ChangeKind.RENAMED, path, old, path))
            if before[old] != signature:
                changes.append(SchemaChange(ChangeKind.TYPE_CHANGED, path, before[old], signature))
        elif path not in before:
            parent = _parent(path)
            if parent in after and parent not in before and parent not in origin:
                continue  # a new struct's children are part of adding the struct
            changes.append(SchemaChange(ChangeKind.ADDED, path, after=signature))
        elif before[path] != signature:
            changes.append(SchemaChange(ChangeKind.TYPE_CHANGED, path, before[path], signature))
    for path, signature in before.items():
        if path in after or path in moved:
            continue
        parent = _parent(path)
        if not (parent in before and parent not in after and parent not in moved):
            changes.append(SchemaChange(ChangeKind.REMOVED, path, before=signature))
    return SchemaDiff(changes)


def _carried(old: str, new: str, moved: Mapping[str, str]) -> bool:
    """A child that only moved because its renamed parent did (same leaf name)."""
    old_parent, new_parent = _parent(old), _parent(new)
    return (
        old_parent is not None and moved.get(old_parent) == new_parent and _leaf(old) == _leaf(new)
    )


def _leaf(path: str) -> str:
    from metadata.utils.fqn import split

    return split(path)[-1]


def _parent(path: str) -> str | None:
    from metadata.utils.fqn import split

    parts = split(path)
    return ".".join(parts[:-1]) if len(parts) > 1 else None
