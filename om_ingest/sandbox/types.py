"""`/metadata/types`: OM's type system, as far as custom properties need it.

OM stores an entity's `extension` only for keys defined as custom properties of its type, and
rejects anything else ("Unknown custom field …"). The SDK defines them with
`create_or_update_custom_property` (GET /metadata/types/name/{entity}, then PUT
/metadata/types/{id} with a CreateCustomPropertyRequest) and lists them with
`get_entity_custom_properties`. Types are stored like entities, so they persist with --data-dir.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.kinds import KINDS
from om_ingest.sandbox.store import EntityStore

STORE_KIND = "type"
# Property types a custom property can have (OM's field types), and how a value is checked.
FIELD_TYPES: dict[str, tuple[type, ...] | None] = {
    "string": (str,),
    "markdown": (str,),
    "integer": (int,),
    "number": (int, float),
    "email": (str,),
    "timestamp": (int,),
    "sqlQuery": (str,),
    "duration": (str,),
    "date-cp": (str,),
    "dateTime-cp": (str,),
    "time-cp": (str,),
    "timeInterval": None,
    "enum": None,
    "entityReference": None,
    "entityReferenceList": None,
}


def seed_types(store: EntityStore, base: str) -> None:
    """Field types and one entity type per served kind, created once per store."""
    if any(True for _ in store.all_of(STORE_KIND)):
        return
    for name in FIELD_TYPES:
        store.put(STORE_KIND, _type(name, "field", base))
    for kind in KINDS:
        store.put(STORE_KIND, _type(kind.type_name, "entity", base, custom_properties=[]))


def _type(
    name: str, category: str, base: str, custom_properties: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    type_id = str(uuid.uuid4())
    doc: dict[str, Any] = {
        "id": type_id,
        "name": name,
        "fullyQualifiedName": name,
        "category": category,
        "nameSpace": "data",
        "schema": "{}",
        "version": 0.1,
        "updatedAt": 0,
        "updatedBy": "admin",
        "href": f"{base}/api/v1/metadata/types/{type_id}",
    }
    if custom_properties is not None:
        doc["customProperties"] = custom_properties
    return doc


def by_name(store: EntityStore, name: str) -> dict[str, Any]:
    found = store.get_by_fqn(STORE_KIND, name)
    if found is None:
        raise ApiError(404, f"type instance for {name} not found")
    return found


def add_custom_property(store: EntityStore, type_id: str, body: Any) -> dict[str, Any]:
    """PUT /metadata/types/{id}: create or update one custom property of an entity type."""
    from metadata.generated.schema.api.data.createCustomProperty import (
        CreateCustomPropertyRequest,
    )

    entity_type = store.get(STORE_KIND, type_id)
    if entity_type is None or entity_type["category"] != "entity":
        raise ApiError(404, f"type instance for {type_id} not found")
    try:
        request = CreateCustomPropertyRequest.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, str(exc.errors()[0]["msg"])) from None
    prop = request.model_dump(mode="json", exclude_none=True, by_alias=True)
    field_type = store.get(STORE_KIND, prop["propertyType"]["id"])
    if field_type is None or field_type["category"] != "field":
        raise ApiError(404, f"type instance for {prop['propertyType']['id']} not found")
    prop["propertyType"] = {
        "id": field_type["id"],
        "type": "type",
        "name": field_type["name"],
        "fullyQualifiedName": field_type["name"],
        "href": field_type["href"],
    }
    prop.setdefault("description", "")
    others = [p for p in entity_type["customProperties"] if p["name"] != prop["name"]]
    updated = {**entity_type, "customProperties": [*others, prop]}
    if updated != entity_type:
        updated["version"] = round(entity_type["version"] + 0.1, 1)
        store.put(STORE_KIND, updated)
    return updated


def check_extension(store: EntityStore, entity_type: str, extension: Any) -> None:
    """OM's validateExtension: every key a custom property of the type, values of its type."""
    if not extension:
        return
    if not isinstance(extension, dict):
        raise ApiError(400, "extension must be an object")
    found = store.get_by_fqn(STORE_KIND, entity_type)
    defined = {p["name"]: p for p in (found or {}).get("customProperties", [])}
    for name, value in extension.items():
        prop = defined.get(name)
        if prop is None:
            raise ApiError(400, f"Unknown custom field {name}")
        accepted = FIELD_TYPES.get(prop["propertyType"]["name"])
        if accepted is not None and (
            not isinstance(value, accepted) or (isinstance(value, bool) and str not in accepted)
        ):
            raise ApiError(
                400,
                f"Custom field {name} has invalid JSON "
                f"[$: {type(value).__name__} found, {prop['propertyType']['name']} expected]",
            )


def normalize_extension(store: EntityStore, entity_type: str, extension: Any) -> Any:
    """As OM stores values: an enum property's list of values sorted."""
    found = store.get_by_fqn(STORE_KIND, entity_type)
    defined = {p["name"]: p for p in (found or {}).get("customProperties", [])}
    out = dict(extension)
    for name, value in extension.items():
        prop = defined.get(name)
        if prop and prop["propertyType"]["name"] == "enum" and isinstance(value, list):
            out[name] = sorted(value, key=str)
    return out
