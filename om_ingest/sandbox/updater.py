"""OM's change rules for PUT and PATCH on an existing entity (EntityRepository.EntityUpdater).

`put_merge` turns a PUT's proposal into what OM would store, by who is calling: a bot keeps
a non-empty description and never changes `extension`; anyone's PUT erases an absent
displayName; tags merge; owners are replaced only when the PUT names some. `changes` records
only the fields the kind's updater tracks, matching columns as `EntityUtil.columnMatch` does.
"""

from __future__ import annotations

import json
from typing import Any

from metadata.utils.fqn import quote_name

from om_ingest.sandbox.auth import Caller
from om_ingest.sandbox.kinds import Kind

SERVER_MANAGED = frozenset(
    {
        "id",
        "version",
        "updatedAt",
        "updatedBy",
        "changeDescription",
        "href",
        "incrementalChangeDescription",
    }
)
SIDECAR = ("profile", "sampleData", "tableProfilerConfig")
"""Stored beside the entity by their own endpoints (entity_extension in OM)."""
SESSION_MS = 10 * 60 * 1000
"""consolidateChanges: a PATCH by the same user within this of their last change is merged."""


def put_merge(
    kind: Kind,
    existing: dict[str, Any],
    proposed: dict[str, Any],
    caller: Caller,
    override: bool = False,
) -> dict[str, Any]:
    """The entity a PUT of `proposed` leaves behind on `existing`."""
    entity = dict(proposed)
    bot = caller.is_bot and not override
    if bot and existing.get("description"):
        entity["description"] = existing["description"]
    if caller.is_bot or entity.get("extension") is None:
        entity.pop("extension", None)
        if existing.get("extension") is not None:
            entity["extension"] = existing["extension"]
    tags = merge_tags(existing.get("tags"), entity.get("tags"))
    entity.pop("tags", None)
    if tags:
        entity["tags"] = tags
    if not entity.get("owners"):
        entity.pop("owners", None)
        if existing.get("owners"):
            entity["owners"] = existing["owners"]
    for path in kind.columns:
        new_columns, old_columns = at_path(entity, path), at_path(existing, path)
        if new_columns and old_columns:
            set_path(entity, path, merge_columns(new_columns, old_columns, bot))
    for key in SIDECAR:  # kept beside the entity, not by its PUT
        if key in existing:
            entity[key] = existing[key]
    for key, value in existing.items():  # what the create request cannot carry stays
        if key not in kind.create_fields and key not in entity and key not in SERVER_MANAGED:
            entity[key] = value
    return entity


def at_path(entity: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (`dataModel.columns`), None when absent."""
    node: Any = entity
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def set_path(entity: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path whose parents exist (copying them, not mutating)."""
    outer, _, last = path.rpartition(".")
    if not outer:
        entity[last] = value
        return
    head, _, rest = outer.partition(".")
    entity[head] = dict(entity[head])
    set_path(entity[head], f"{rest}.{last}" if rest else last, value)


def column_match(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """EntityUtil.columnMatch: name (ignoring case), dataType and arrayDataType."""
    return (
        a["name"].lower() == b["name"].lower()
        and a.get("dataType") == b.get("dataType")
        and a.get("arrayDataType") == b.get("arrayDataType")
    )


def merge_columns(
    new: list[dict[str, Any]], old: list[dict[str, Any]], bot: bool
) -> list[dict[str, Any]]:
    """ColumnEntityUpdater on PUT: a bot keeps a stored column description; tags merge; a
    retyped column (no match, same name) carries its description, not its tags."""
    out = []
    for column in new:
        column = dict(column)
        prior = next((o for o in old if column_match(o, column)), None)
        if prior is None:
            renamed = next((o for o in old if o["name"].lower() == column["name"].lower()), None)
            if renamed is not None and renamed.get("description") and not column.get("description"):
                column["description"] = renamed["description"]
            out.append(column)
            continue
        if bot and prior.get("description"):
            column["description"] = prior["description"]
        tags = merge_tags(prior.get("tags"), column.get("tags"))
        column.pop("tags", None)
        if tags:
            column["tags"] = tags
        if column.get("children") and prior.get("children"):
            column["children"] = merge_columns(column["children"], prior["children"], bot)
        if "profile" in prior:
            column["profile"] = prior["profile"]
        out.append(column)
    return out


def merge_tags(
    old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for tag in [*(old or []), *(new or [])]:
        merged.setdefault(tag["tagFQN"], tag)
    return list(merged.values())


def content(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k not in SERVER_MANAGED}


def changes(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """OM's changeDescription over the tracked fields, and whether it is a major change."""
    change: dict[str, list[dict[str, Any]]] = {
        "fieldsAdded": [],
        "fieldsUpdated": [],
        "fieldsDeleted": [],
    }
    tracked = kind.tracked_fields
    keys = (set(old) | set(new)) - SERVER_MANAGED
    if tracked is not None:
        keys &= tracked
    nested = {path.split(".")[0]: path for path in kind.columns if "." in path}
    breaking = False
    for key in sorted(keys):
        before, after = old.get(key), new.get(key)
        if key in kind.columns:
            if before != after:
                breaking |= _column_changes(change, key, before, after)
        elif key in kind.named_lists:
            _named_list_changes(change, key, before, after)
        elif key in nested and isinstance(before, dict) and isinstance(after, dict):
            inner = nested[key].removeprefix(f"{key}.")
            for sub in sorted((set(before) | set(after)) - {inner}):
                _record(change, f"{key}.{sub}", before.get(sub), after.get(sub))
            if before.get(inner) != after.get(inner):
                breaking |= _column_changes(
                    change, nested[key], before.get(inner), after.get(inner)
                )
        else:
            _record(change, key, before, after)
    return change, breaking


def unversioned_change(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A field OM stores without a new version differs (a container's size)."""
    return any(old.get(key) != new.get(key) for key in kind.unversioned)


def _named_list_changes(
    change: dict[str, list[dict[str, Any]]],
    field: str,
    before: list[dict[str, Any]] | None,
    after: list[dict[str, Any]] | None,
) -> None:
    """PipelineUpdater.updateTasks: each kept item's description; the items added and
    deleted (matched by name) only when one came or went."""
    before, after = before or [], after or []
    old_names = {item["name"] for item in before}
    new_names = {item["name"] for item in after}
    for item in after:
        stored = next((o for o in before if o["name"] == item["name"]), None)
        if stored is not None:
            desc = "description"
            _record(change, f"{field}.{item['name']}.{desc}", stored.get(desc), item.get(desc))
    added = [item for item in after if item["name"] not in old_names]
    deleted = [item for item in before if item["name"] not in new_names]
    if added:
        change["fieldsAdded"].append({"name": field, "newValue": json.dumps(added)})
    if deleted:
        change["fieldsDeleted"].append({"name": field, "oldValue": json.dumps(deleted)})


def any_change(change: dict[str, Any]) -> bool:
    return any(change[k] for k in ("fieldsAdded", "fieldsUpdated", "fieldsDeleted"))


def next_version(version: float, major: bool) -> float:
    """EntityUtil.nextVersion / nextMajorVersion."""
    return round(version + (1.0 if major else 0.1), 1)


def _record(change: dict[str, list[dict[str, Any]]], name: str, before: Any, after: Any) -> bool:
    """One field's FieldChange (OM's recordChange): lists and objects as JSON strings."""

    def value(v: Any) -> Any:
        return json.dumps(v) if isinstance(v, (list, dict)) else v

    empty: tuple[Any, ...] = (None, [], "")
    if before == after or (before in empty and after in empty):
        return False
    if before in empty:
        change["fieldsAdded"].append({"name": name, "newValue": value(after)})
    elif after in empty:
        change["fieldsDeleted"].append({"name": name, "oldValue": value(before)})
    else:
        change["fieldsUpdated"].append(
            {"name": name, "oldValue": value(before), "newValue": value(after)}
        )
    return True


def _column_changes(
    change: dict[str, list[dict[str, Any]]],
    field: str,
    before: list[dict[str, Any]] | None,
    after: list[dict[str, Any]] | None,
) -> bool:
    """ColumnEntityUpdater.updateColumns: added and deleted columns are recorded as one list
    each under `field`, matched ones by their tracked attributes only (description,
    displayName, tags, constraint, dataLength, precision, scale), children recursively.
    Deleting a column, or shrinking its length, precision or scale, is a major change."""
    before, after = before or [], after or []
    added = [c for c in after if not any(column_match(o, c) for o in before)]
    deleted = [c for c in before if not any(column_match(c, n) for n in after)]
    if added:
        change["fieldsAdded"].append({"name": field, "newValue": json.dumps(added)})
    if deleted:
        change["fieldsDeleted"].append({"name": field, "oldValue": json.dumps(deleted)})
    breaking = bool(deleted)
    for column in after:
        stored = next((o for o in before if column_match(o, column)), None)
        if stored is None:
            continue
        prefix = f"{field}.{quote_name(column['name'])}"
        for key in ("description", "displayName", "tags", "constraint"):
            _record(change, f"{prefix}.{key}", stored.get(key), column.get(key))
        for key in ("dataLength", "precision", "scale"):
            old_value, new_value = stored.get(key), column.get(key)
            if _record(change, f"{prefix}.{key}", old_value, new_value):
                shrunk = new_value is not None and old_value is not None and new_value < old_value
                breaking |= shrunk or (key == "dataLength" and old_value is None)
        if stored.get("children") is not None and column.get("children") is not None:
            nested = f"{field}.{column['name']}"
            breaking |= _column_changes(change, nested, stored["children"], column["children"])
    return breaking
