"""Compare the desired request with the entity in OM, and merge what people curated.

Rules (why: updates must never erase work done in the OM UI, OM's issue #33709):
- the schema (e.g. columns) is compared structurally: names, types, nesting;
- description / display name: set from config when OM has none; replaced only with
  `override: true`;
- tags: config tags are added to the ones in OM, never removing any (with `override: true`
  the config's set is exact);
- owners: set from config when OM has none; replaced only with `override: true`;
- with `override: true` an update ends with a JSON Patch setting the config's curated metadata
  exactly (`curated_overrides`): OM's PUT never overwrites a description and merges tags;
- other owned fields (table type, constraints, location, …) follow the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from om_ingest.comparison import SchemaDiff, diff_schemas, flatten_fields
from om_ingest.engine.results import FieldChange
from om_ingest.entities.base import EntityHandler

CURATED_TEXT = ("description", "displayName")


@dataclass
class Comparison:
    schema_diff: SchemaDiff = field(default_factory=SchemaDiff)
    field_changes: list[FieldChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.schema_diff) or bool(self.field_changes)


def as_json(model: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    return dumped


def compare(
    handler: EntityHandler, desired: dict[str, Any], current: dict[str, Any], override: bool
) -> Comparison:
    result = Comparison()
    if handler.schema_key is not None:
        result.schema_diff = diff_schemas(
            flatten_fields(current.get(handler.schema_key) or []),
            flatten_fields(desired.get(handler.schema_key) or []),
        )
    for key in CURATED_TEXT:
        wanted, have = desired.get(key), current.get(key)
        if wanted is not None and wanted != have and (override or not have):
            result.field_changes.append(FieldChange(field=key, before=have, after=wanted))
    wanted_tags, have_tags = _tag_fqns(desired), _tag_fqns(current)
    if (override and wanted_tags != have_tags) or (not override and not wanted_tags <= have_tags):
        result.field_changes.append(
            FieldChange(
                field="tags",
                before=sorted(have_tags),
                after=sorted(wanted_tags | (set() if override else have_tags)),
            )
        )
    wanted_owners, have_owners = _owner_ids(desired), _owner_ids(current)
    if wanted_owners and wanted_owners != have_owners and (override or not have_owners):
        result.field_changes.append(
            FieldChange(field="owners", before=_owner_names(current), after=_owner_names(desired))
        )
    for key in sorted(handler.owned_fields()):
        if desired.get(key) != current.get(key):
            result.field_changes.append(
                FieldChange(field=key, before=current.get(key), after=desired.get(key))
            )
    return result


def merge_curated(
    handler: EntityHandler, desired: dict[str, Any], current: dict[str, Any], override: bool
) -> dict[str, Any]:
    """The request to PUT for an update: config's structure, OM's curated metadata kept."""
    merged = dict(desired)
    if not override:
        for key in CURATED_TEXT:
            if current.get(key):
                merged[key] = current[key]
        tags = _merge_tags(current.get("tags"), desired.get("tags"))
        if tags:
            merged["tags"] = tags
    if current.get("owners") and ("owners" not in merged or not override):
        merged["owners"] = _owner_refs(current)
    if handler.schema_key is not None and handler.schema_key in merged:
        merged[handler.schema_key] = _merge_fields(
            merged[handler.schema_key], current.get(handler.schema_key) or [], override
        )
    return merged


def curated_overrides(
    handler: EntityHandler, desired: dict[str, Any], entity: dict[str, Any]
) -> dict[str, Any]:
    """`entity` (as OM has it) with the config's descriptions, display name, tags and owners
    exactly, columns included: the PATCH destination of an `override: true` update."""
    out = dict(entity)
    for key in CURATED_TEXT:
        if desired.get(key):
            out[key] = desired[key]
    if _tag_fqns(desired) != _tag_fqns(entity):
        out["tags"] = desired.get("tags") or []
    if desired.get("owners") and _owner_ids(desired) != _owner_ids(entity):
        out["owners"] = _owner_refs(desired)
    schema = handler.schema_key
    if schema is not None and entity.get(schema):
        out[schema] = _override_fields(desired.get(schema) or [], entity[schema])
    return out


def _override_fields(
    desired: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    wanted = {c["name"]: c for c in desired}
    out = []
    for column in current:
        column = dict(column)
        config = wanted.get(column["name"])
        if config is not None:
            if config.get("description"):
                column["description"] = config["description"]
            if _tag_fqns(config) != _tag_fqns(column):
                column["tags"] = config.get("tags") or []
            if column.get("children"):
                column["children"] = _override_fields(
                    config.get("children") or [], column["children"]
                )
        out.append(column)
    return out


def _merge_fields(
    desired: list[dict[str, Any]], current: list[dict[str, Any]], override: bool
) -> list[dict[str, Any]]:
    """Carry column descriptions and tags from OM onto the config's columns, by name."""
    existing = {c["name"]: c for c in current}
    merged = []
    for column in desired:
        column = dict(column)
        before = existing.get(column["name"])
        if before is not None:
            if before.get("description") and not (override and column.get("description")):
                column["description"] = before["description"]
            if not override:
                tags = _merge_tags(before.get("tags"), column.get("tags"))
                if tags:
                    column["tags"] = tags
            if column.get("children"):
                column["children"] = _merge_fields(
                    column["children"], before.get("children") or [], override
                )
        merged.append(column)
    return merged


def _merge_tags(
    current: list[dict[str, Any]] | None, desired: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    keep = {"tagFQN", "source", "labelType", "state"}
    out: dict[str, dict[str, Any]] = {}
    for tag in [*(current or []), *(desired or [])]:
        out.setdefault(tag["tagFQN"], {k: v for k, v in tag.items() if k in keep})
    return list(out.values())


def _tag_fqns(entity: dict[str, Any]) -> set[str]:
    return {t["tagFQN"] for t in entity.get("tags") or []}


def _owner_refs(entity: dict[str, Any]) -> list[dict[str, Any]]:
    """Owners as a request sends them: id and type (OM fills in the rest)."""
    return [{"id": o["id"], "type": o["type"]} for o in entity.get("owners") or []]


def _owner_ids(entity: dict[str, Any]) -> set[str]:
    return {o["id"] for o in entity.get("owners") or []}


def _owner_names(entity: dict[str, Any]) -> list[str]:
    return sorted(o.get("name") or o["id"] for o in entity.get("owners") or [])
