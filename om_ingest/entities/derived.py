"""One handler for every kind whose config mirrors its Create request (`config.derived`).

A kind is a row of `KINDS`: its SDK entity class, the fields to read back, its structural
schema (if any) and where its parent is. The request is the config's properties serialised
in OM's camelCase; names OM must resolve (owners, teams, a referenced entity) are markers,
looked up when the entity runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from om_ingest import fqns
from om_ingest.comparison import SchemaShape
from om_ingest.config.derived import LOOKUP, request_body
from om_ingest.config.models import (
    DERIVED_KINDS,
    NESTED_PARENT,
    EntityConfig,
    EntityType,
    PropertiesBase,
    create_request_model,
)
from om_ingest.entities.base import _HANDLERS, EntityHandler
from om_ingest.entities.lookups import Resolver
from om_ingest.entities.topic_schema import with_parsed_fields

CURATED = frozenset({"name", "displayName", "description", "tags", "owners", "extension"})
"""Request keys with their own rules in `engine.compare` (never owned facts)."""


@dataclass(frozen=True)
class Kind:
    entity: str
    """The SDK entity class, under `metadata.generated.schema.entity`."""
    read_fields: tuple[str, ...]
    """Fields OM returns only when asked for (`?fields=`) that the comparison needs."""
    shape: SchemaShape | None = None
    complete: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Fills in what the request derives from what the config gives (a topic's fields from
    its schema text); raises ValueError for input it cannot read."""
    kept_from_creation: tuple[str, ...] = ()
    """Request fields OM's updater never changes after creation (not recorded by its
    `entitySpecificUpdate`): not compared, since a PUT could never apply a difference."""
    schema_stored_on_add_or_remove: bool = False
    """`EntityHandler.schema_stored_on_add_or_remove`."""


KINDS: dict[EntityType, Kind] = {
    EntityType.CLASSIFICATION: Kind(
        "classification.classification.Classification", ("owners", "reviewers")
    ),
    EntityType.TAG: Kind("classification.tag.Tag", ("owners", "reviewers")),
    EntityType.USER: Kind("teams.user.User", ("teams",)),
    EntityType.TEAM: Kind("teams.team.Team", ("owners", "parents", "children", "users")),
    EntityType.PIPELINE_SERVICE: Kind(
        "services.pipelineService.PipelineService",
        ("owners", "tags"),
        kept_from_creation=("serviceType", "scheduleInterval"),
    ),
    EntityType.PIPELINE: Kind(
        "data.pipeline.Pipeline",
        ("tasks", "owners", "tags", "extension"),
        SchemaShape(
            "tasks",
            type_key="taskType",
            children=None,
            facts=("downstreamTasks", "sourceUrl", "taskSQL", "startDate", "endDate"),
        ),
        kept_from_creation=("scheduleInterval", "startDate"),  # PipelineUpdater
        schema_stored_on_add_or_remove=True,  # PipelineUpdater.updateTasks
    ),
    EntityType.MESSAGING_SERVICE: Kind(
        "services.messagingService.MessagingService",
        ("owners", "tags"),
        kept_from_creation=("serviceType",),
    ),
    EntityType.TOPIC: Kind(
        "data.topic.Topic",
        ("owners", "tags", "extension"),
        SchemaShape("messageSchema.schemaFields", facts=("dataTypeDisplay",)),
        with_parsed_fields,
    ),
    EntityType.MLMODEL_SERVICE: Kind(
        "services.mlmodelService.MlModelService",
        ("owners", "tags"),
        kept_from_creation=("serviceType",),
    ),
    EntityType.MLMODEL: Kind(
        "data.mlmodel.MlModel",
        ("owners", "tags", "extension", "dashboard"),
        SchemaShape("mlFeatures", children=None, facts=("featureAlgorithm", "featureSources")),
    ),
    EntityType.SEARCH_SERVICE: Kind(
        "services.searchService.SearchService",
        ("owners", "tags"),
        kept_from_creation=("serviceType",),
    ),
    EntityType.SEARCH_INDEX: Kind(
        "data.searchIndex.SearchIndex",
        ("owners", "tags", "extension"),
        SchemaShape("fields", facts=("dataTypeDisplay",)),
    ),
    EntityType.DATA_CONTRACT: Kind(
        "data.dataContract.DataContract", ("owners", "reviewers", "extension")
    ),
    # storage and governance
    EntityType.STORAGE_SERVICE: Kind(
        "services.storageService.StorageService",
        ("owners", "tags"),
        kept_from_creation=("serviceType",),
    ),
    EntityType.CONTAINER: Kind(
        "data.container.Container",
        ("owners", "tags", "extension", "dataModel", "parent"),
        SchemaShape("dataModel.columns", facts=("constraint",)),
    ),
    EntityType.GLOSSARY: Kind("data.glossary.Glossary", ("owners", "tags", "reviewers")),
    EntityType.GLOSSARY_TERM: Kind(
        "data.glossaryTerm.GlossaryTerm",
        ("owners", "tags", "reviewers", "relatedTerms", "extension"),
    ),
    EntityType.DOMAIN: Kind("domains.domain.Domain", ("owners", "tags", "experts", "extension")),
}


def _entity_class(dotted: str) -> type[BaseModel]:
    module, _, name = dotted.rpartition(".")
    cls: type[BaseModel] = getattr(
        importlib.import_module(f"metadata.generated.schema.entity.{module}"), name
    )
    return cls


def om_type(entity_class: type[BaseModel]) -> str:
    """OM's entity type string (as in an EntityReference): `databaseSchema`, `mlmodel`, …"""
    name = entity_class.__name__.replace("MlModel", "Mlmodel")
    return name[0].lower() + name[1:]


class DerivedHandler(EntityHandler):
    """A kind whose properties are its Create request in snake_case."""

    def __init__(self, entity_type: EntityType, kind: Kind) -> None:
        self.entity_type = entity_type  # type: ignore[misc]
        self.entity_class = _entity_class(kind.entity)  # type: ignore[misc]
        self.read_fields = kind.read_fields  # type: ignore[misc]
        self.schema_shape = kind.shape  # type: ignore[misc]
        self.create_model = create_request_model(entity_type)
        self.parent_field = DERIVED_KINDS[entity_type][1]
        self.nested_parent = NESTED_PARENT.get(entity_type)
        self.complete = kind.complete
        self.kept_from_creation = frozenset(kind.kept_from_creation)
        self.schema_stored_on_add_or_remove = kind.schema_stored_on_add_or_remove  # type: ignore[misc]
        self.request_keys = frozenset(
            info.alias or name for name, info in self.create_model.model_fields.items()
        )

    def spec(
        self, entity: EntityConfig, parent_fqn: str | None, built: BaseModel | None = None
    ) -> dict[str, Any]:
        props = entity.properties
        assert isinstance(props, PropertiesBase) and entity.name is not None
        body = {"name": entity.name, **request_body(props)}
        key = self.nested_parent if body.get(self.nested_parent or "") else self.parent_field
        if key and parent_fqn and isinstance(body.get(key), str):
            body[key] = parent_fqn
        return body

    def schema_fields(self, entity: EntityConfig, parent_fqn: str | None) -> list[dict[str, Any]]:
        """The schema as the request will carry it (a topic's fields parsed from its text)."""
        if self.schema_shape is None:
            return []
        body = self.spec(entity, parent_fqn)
        return self.schema_shape.fields_of(self.complete(body) if self.complete else body)

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        """The request of an entity that names nothing to look up (else: `request`)."""
        return self._validated(self._request_only(self.spec(entity, parent_fqn)))

    def request(
        self,
        lookup: Resolver,
        entity: EntityConfig,
        parent_fqn: str | None,
        built: BaseModel | None = None,
    ) -> BaseModel:
        body = _resolve(lookup, self._request_only(self.spec(entity, parent_fqn)))
        if self.complete is not None:
            body = self.complete(body)
        return self._validated(body)

    def _validated(self, body: dict[str, Any]) -> BaseModel:
        """The request with its defaults parsed as OM parses them: the SDK leaves some as
        written in the schema (a glossary term's `mutuallyExclusive` is the string 'false'),
        which would never equal what OM answers."""
        request = self.create_model.model_validate(body)
        dumped = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        return self.create_model.model_validate(dumped)

    def _request_only(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` without the config's side fields (a pipeline's `statuses`)."""
        return {key: value for key, value in body.items() if key in self.request_keys}

    def runs(self, entity: EntityConfig) -> list[dict[str, Any]]:
        """The pipeline runs (PipelineStatus JSON) the config declares, oldest first."""
        props = entity.properties
        statuses = request_body(props).get("statuses") if isinstance(props, BaseModel) else None
        return sorted(statuses or [], key=lambda status: int(status["timestamp"]))

    def sample(self, entity: EntityConfig) -> list[str] | None:
        """A topic's sample messages (`sample_data`), None when the config has none."""
        props = entity.properties
        sample = request_body(props).get("sample_data") if isinstance(props, BaseModel) else None
        return None if sample is None else [str(message) for message in sample]

    def owned_when_set(self) -> frozenset[str]:
        """Request fields the entity keeps (not create-only ones such as a user's
        `createPasswordType`, which OM never answers with), besides curated metadata."""
        root = self.schema_shape.keys[0] if self.schema_shape else None
        inner = self.schema_shape is not None and len(self.schema_shape.keys) > 1
        stored = {info.alias or name for name, info in self.entity_class.model_fields.items()}
        return frozenset(
            key
            for key in (self.request_keys & stored) - CURATED - self.kept_from_creation
            if key != self.parent_field
            if key != root or inner  # a nested schema's container has facts of its own
        )


def _resolve(lookup: Resolver, value: Any) -> Any:
    """`value` with every lookup marker replaced by what OM answers."""
    if isinstance(value, list):
        return [_resolve(lookup, item) for item in value]
    if not isinstance(value, dict):
        return value
    if LOOKUP not in value:
        return {key: _resolve(lookup, item) for key, item in value.items()}
    if value[LOOKUP] == "owner":
        return lookup.owners([value["name"]])[0]
    if value[LOOKUP] == "id":
        kind = EntityType(value["kind"])
        return lookup.entity(_entity_class_of(kind), fqns.child(None, value["name"]), kind.value)
    kind = EntityType(value["type"])
    cls = _entity_class_of(kind)
    return {"id": lookup.entity(cls, value["fqn"], kind.value), "type": om_type(cls)}


def _entity_class_of(kind: EntityType) -> type[BaseModel]:
    from om_ingest.entities.base import handler_for

    return handler_for(kind).entity_class


for _type, _kind in KINDS.items():
    _HANDLERS[_type] = DerivedHandler(_type, _kind)
