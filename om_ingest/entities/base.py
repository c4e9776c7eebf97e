"""Entity handlers: how one kind of config entity becomes an OpenMetadata create request.

Handlers differ only in what differs between kinds (the SDK classes, the parent field, the
fields they own); fetching, comparing, merging curated metadata and writing live once in the
engine. Register a handler with `@register(EntityType.X)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from om_ingest.config.models import EntityConfig, EntityProperties, EntityType
from om_ingest.errors import OmIngestError

H = TypeVar("H", bound="type[EntityHandler]")

_HANDLERS: dict[EntityType, EntityHandler] = {}


class EntityHandler(ABC):
    """Turns an `EntityConfig` into the SDK's Create…Request and says how to compare it."""

    entity_type: ClassVar[EntityType]
    entity_class: ClassVar[type[BaseModel]]
    """The SDK entity model OM answers with (e.g. `Table`)."""
    read_fields: ClassVar[tuple[str, ...]] = ("tags", "owners")
    """Fields to fetch when comparing the existing entity with the desired one."""
    list_filter: ClassVar[str | None] = None
    """The list endpoint's parameter selecting children of one parent FQN (e.g.
    `databaseSchema` for tables), when OM has one."""
    schema_key: ClassVar[str | None] = None
    """The request key holding the structural schema (e.g. `columns`), if the kind has one."""

    @property
    def supports_schema_evolution(self) -> bool:
        return self.schema_key is not None

    @abstractmethod
    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        """The Create…Request for this entity (parents named by FQN)."""

    def owned_fields(self) -> frozenset[str]:
        """Request keys compared for equality with the existing entity and applied by PUT
        (besides schema, curated metadata and custom properties, which have their own
        rules: `engine.compare`). Only fields OM's updater applies on PUT belong here."""
        return frozenset()


def register(entity_type: EntityType) -> Callable[[H], H]:
    def decorate(cls: H) -> H:
        cls.entity_type = entity_type
        _HANDLERS[entity_type] = cls()
        return cls

    return decorate


def handler_for(entity_type: EntityType) -> EntityHandler:
    # Importing the handler modules registers them.
    from om_ingest.entities import database  # noqa: F401

    try:
        return _HANDLERS[entity_type]
    except KeyError:
        known = ", ".join(sorted(t.value for t in _HANDLERS))
        raise OmIngestError(
            f"entity type {entity_type.value!r} has no handler yet (supported: {known})"
        ) from None


def common_fields(props: EntityProperties) -> dict[str, Any]:
    """Display name, description and tags, in the request's camelCase."""
    fields: dict[str, Any] = {}
    if props.display_name:
        fields["displayName"] = props.display_name
    if props.description:
        fields["description"] = props.description
    if props.tags:
        fields["tags"] = [tag_label(tag) for tag in props.tags]
    return fields


def tag_label(tag_fqn: str) -> dict[str, str]:
    """A manually applied classification tag, as OM's TagLabel."""
    return {
        "tagFQN": tag_fqn,
        "source": "Classification",
        "labelType": "Manual",
        "state": "Confirmed",
    }
