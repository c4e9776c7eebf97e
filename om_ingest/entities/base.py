"""Entity handlers: how one kind of config entity becomes an OpenMetadata create request.

Handlers differ only in what differs between kinds (the SDK classes, the parent field, the
fields they own); fetching, comparing, merging curated metadata and writing live once in the
engine. Register a handler with `@register(EntityType.X)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel

from om_ingest.comparison import SchemaShape
from om_ingest.config.derived import tag_label
from om_ingest.config.models import EntityConfig, EntityProperties, EntityType
from om_ingest.errors import OmIngestError

if TYPE_CHECKING:
    from om_ingest.engine.results import FieldChange
    from om_ingest.entities.lookups import Resolver
    from om_ingest.openmetadata import OMClient

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
    schema_shape: ClassVar[SchemaShape | None] = None
    """Where the structural schema is (e.g. `columns`) and how its fields look, if the kind
    has one."""
    schema_stored_on_add_or_remove: ClassVar[bool] = False
    """OM stores the schema's items (their facts, their types) only when one is added or
    removed by name, by PUT and by PATCH alike (a pipeline's tasks)."""

    @property
    def schema_key(self) -> str | None:
        """The dotted path of the structural schema (e.g. `messageSchema.schemaFields`)."""
        return self.schema_shape.path if self.schema_shape else None

    @property
    def supports_schema_evolution(self) -> bool:
        return self.schema_shape is not None

    @abstractmethod
    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        """The Create…Request for this entity (parents named by FQN)."""

    def spec(
        self, entity: EntityConfig, parent_fqn: str | None, built: BaseModel | None = None
    ) -> dict[str, Any]:
        """The canonical JSON of what the config asks for, before any OM lookup (the
        idempotency key's core): owners by name, since their ids are looked up later.
        `built`: `build_request`'s answer for the same entity, when the caller has it."""
        request = built if built is not None else self.build_request(entity, parent_fqn)
        body: dict[str, Any] = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        if owners := _owner_names(entity):
            body["owners"] = owners
        return body

    def request(
        self,
        lookup: Resolver,
        entity: EntityConfig,
        parent_fqn: str | None,
        built: BaseModel | None = None,
    ) -> BaseModel:
        """The Create…Request with every name OM must resolve (owners, …) looked up; an
        unknown name raises `OpenMetadataError` (the entity fails with that message)."""
        request = built if built is not None else self.build_request(entity, parent_fqn)
        if owners := _owner_names(entity):
            body = request.model_dump(mode="json", exclude_none=True, by_alias=True)
            request = type(request).model_validate({**body, "owners": lookup.owners(owners)})
        return request

    def owned_fields(self) -> frozenset[str]:
        """Request keys compared for equality with the existing entity and applied by PUT
        (besides schema, curated metadata and custom properties, which have their own
        rules: `engine.compare`). Only fields OM's updater applies on PUT belong here."""
        return frozenset()

    def runs(self, entity: EntityConfig) -> list[dict[str, Any]]:
        """Run statuses the config declares for the entity (a pipeline's), written by their
        own endpoint after the entity; none for most kinds."""
        return []

    def sample(self, entity: EntityConfig) -> list[str] | None:
        """Sample messages the config declares for the entity (a topic's), written by their
        own endpoint after the entity; None for most kinds."""
        return None

    def owned_when_set(self) -> frozenset[str]:
        """Like `owned_fields`, compared only when the config sets them (OM fills defaults
        for the others, which must not read as differences)."""
        return frozenset()


class SelfManagedHandler(EntityHandler):
    """A kind that is not an OM entity with an id and versions (a lineage edge): it reads,
    compares and writes itself. The executor applies the same idempotency modes, dry run,
    results and audit to what it reports; curated metadata and version history do not apply.
    """

    @abstractmethod
    def read(self, client: OMClient, request: BaseModel) -> dict[str, Any] | None:
        """What OM holds for `request` now (comparable with `desired`), or None if nothing."""

    @abstractmethod
    def desired(self, request: BaseModel) -> dict[str, Any]:
        """What the request asks OM to hold, in the shape `read` answers."""

    @abstractmethod
    def changes(self, desired: dict[str, Any], current: dict[str, Any]) -> list[FieldChange]:
        """Every difference the write would apply (empty: in step)."""

    @abstractmethod
    def write(self, client: OMClient, request: BaseModel) -> None:
        """Create or replace what `request` describes."""


def register(entity_type: EntityType) -> Callable[[H], H]:
    def decorate(cls: H) -> H:
        cls.entity_type = entity_type
        _HANDLERS[entity_type] = cls()
        return cls

    return decorate


def handler_for(entity_type: EntityType) -> EntityHandler:
    # Importing the handler modules registers them.
    from om_ingest.entities import database, derived, lineage  # noqa: F401

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


def _owner_names(entity: EntityConfig) -> list[str]:
    props = entity.properties
    return list(props.owners) if isinstance(props, EntityProperties) else []


__all__ = [
    "EntityHandler",
    "SelfManagedHandler",
    "common_fields",
    "handler_for",
    "register",
    "tag_label",
]
