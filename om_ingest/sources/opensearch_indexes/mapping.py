"""An OpenSearch index's mapping as OpenMetadata search index fields, and the index templates
that match an index name.

Types follow OM's own OpenSearch connector (`metadata.ingestion.source.search.opensearch.
parser`): the mapping type upper-cased is the `DataType` (`geo_point` → GEO_POINT), a field
without a type (an object) is OBJECT, a type OM does not know is UNKNOWN, and the mapping type
is kept as `dataTypeDisplay`. That parser is not called: it drops multi-fields, turns a field
it cannot read into a shorter field list (which an update would apply as removals) and, on
import, makes every `DataType` in the process accept any value (UNKNOWN).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any


def search_index_fields(mapping: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The mapping's fields at every depth, as the `fields` of a `search_index` config: an
    object's or `nested` field's `properties` and a field's multi-fields (`fields:`, e.g.
    `name.raw`) are its children. Raises ValueError for a mapping it cannot read."""
    if not mapping:
        return []
    return _fields(mapping.get("properties"), "")


def _fields(properties: Any, parent: str) -> list[dict[str, Any]]:
    if properties is None:
        return []
    if not isinstance(properties, Mapping):
        raise ValueError(f"mapping {parent or 'properties'}: expected an object of fields")
    return [_field(str(name), spec, f"{parent}{name}") for name, spec in properties.items()]


def _field(name: str, spec: Any, path: str) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"mapping field {path}: expected an object, got {spec!r}")
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        raise ValueError(f"mapping field {path}: type {kind!r} is not a name")
    field: dict[str, Any] = {"name": name, "data_type": data_type(kind)}
    if kind is not None:
        field["data_type_display"] = kind
    children = _fields(spec.get("properties"), f"{path}.") + _fields(spec.get("fields"), f"{path}.")
    if children:
        field["children"] = children
    return field


def data_type(kind: str | None) -> str:
    """OM's search index `DataType` of an OpenSearch mapping type (as OM's connector maps it)."""
    from metadata.generated.schema.entity.data.searchIndex import DataType

    if kind is None:
        return DataType.OBJECT.value
    try:
        return DataType(kind.upper()).value
    except ValueError:
        return DataType.UNKNOWN.value


def matching_templates(
    index: str, composable: list[dict[str, Any]], legacy: Mapping[str, Any]
) -> list[str]:
    """Names of the index templates whose patterns match `index`: composable ones
    (`_index_template`, highest priority first: OpenSearch applies the first) then legacy ones
    (`_template`, highest order first: merged when no composable one matches)."""

    def matches(patterns: Any) -> bool:
        listed = [patterns] if isinstance(patterns, str) else list(patterns or [])
        return any(fnmatch.fnmatchcase(index, str(p)) for p in listed)

    found = sorted(
        (-int(t["index_template"].get("priority") or 0), str(t["name"]))
        for t in composable
        if matches(t["index_template"].get("index_patterns"))
    )
    old = sorted(
        (-int(t.get("order") or 0), str(name))
        for name, t in legacy.items()
        if matches(t.get("index_patterns") or t.get("template"))
    )
    return [name for _, name in found] + [name for _, name in old]
