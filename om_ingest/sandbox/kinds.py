"""The entity kinds the sandbox serves: collection path, SDK models, parent, FQN rule.

One table drives every route, so adding a kind is one line, not a new endpoint family.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class Kind:
    collection: str
    """Path under /api/v1, e.g. `tables` or `services/databaseServices`."""
    type_name: str
    """OM's entity type string used in EntityReferences, e.g. `databaseSchema`."""
    create_path: str
    entity_path: str
    parent_field: str | None = None
    """Create-request field naming the parent by FQN."""
    parent_kind: str | None = None
    """type_name of the parent kind."""

    @cached_property
    def create_model(self) -> type[BaseModel]:
        model: type[BaseModel] = _load(self.create_path)
        return model

    @cached_property
    def entity_model(self) -> type[BaseModel]:
        model: type[BaseModel] = _load(self.entity_path)
        return model

    @cached_property
    def entity_fields(self) -> frozenset[str]:
        """Keys an entity may carry: create-only fields (e.g. passwords) never get stored."""
        return frozenset(f.alias or name for name, f in self.entity_model.model_fields.items())


def _load(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(f"metadata.generated.schema.{module}"), name)


KINDS: tuple[Kind, ...] = (
    Kind(
        "services/databaseServices",
        "databaseService",
        "api.services.createDatabaseService.CreateDatabaseServiceRequest",
        "entity.services.databaseService.DatabaseService",
    ),
    Kind(
        "databases",
        "database",
        "api.data.createDatabase.CreateDatabaseRequest",
        "entity.data.database.Database",
        "service",
        "databaseService",
    ),
    Kind(
        "databaseSchemas",
        "databaseSchema",
        "api.data.createDatabaseSchema.CreateDatabaseSchemaRequest",
        "entity.data.databaseSchema.DatabaseSchema",
        "database",
        "database",
    ),
    Kind(
        "tables",
        "table",
        "api.data.createTable.CreateTableRequest",
        "entity.data.table.Table",
        "databaseSchema",
        "databaseSchema",
    ),
    Kind(
        "classifications",
        "classification",
        "api.classification.createClassification.CreateClassificationRequest",
        "entity.classification.classification.Classification",
    ),
    Kind(
        "tags",
        "tag",
        "api.classification.createTag.CreateTagRequest",
        "entity.classification.tag.Tag",
        "classification",
        "classification",
    ),
    Kind("users", "user", "api.teams.createUser.CreateUserRequest", "entity.teams.user.User"),
    Kind("teams", "team", "api.teams.createTeam.CreateTeamRequest", "entity.teams.team.Team"),
    Kind(
        "services/pipelineServices",
        "pipelineService",
        "api.services.createPipelineService.CreatePipelineServiceRequest",
        "entity.services.pipelineService.PipelineService",
    ),
    Kind(
        "pipelines",
        "pipeline",
        "api.data.createPipeline.CreatePipelineRequest",
        "entity.data.pipeline.Pipeline",
        "service",
        "pipelineService",
    ),
    Kind(
        "services/messagingServices",
        "messagingService",
        "api.services.createMessagingService.CreateMessagingServiceRequest",
        "entity.services.messagingService.MessagingService",
    ),
    Kind(
        "topics",
        "topic",
        "api.data.createTopic.CreateTopicRequest",
        "entity.data.topic.Topic",
        "service",
        "messagingService",
    ),
    Kind(
        "services/mlmodelServices",
        "mlmodelService",
        "api.services.createMlModelService.CreateMlModelServiceRequest",
        "entity.services.mlmodelService.MlModelService",
    ),
    Kind(
        "mlmodels",
        "mlmodel",
        "api.data.createMlModel.CreateMlModelRequest",
        "entity.data.mlmodel.MlModel",
        "service",
        "mlmodelService",
    ),
    # A contract names its entity by EntityReference {id, type}, any data asset; its FQN is
    # `{entity FQN}.dataContract_{name}` (OM's DataContractRepository).
    Kind(
        "dataContracts",
        "dataContract",
        "api.data.createDataContract.CreateDataContractRequest",
        "entity.data.dataContract.DataContract",
        "entity",
    ),
    Kind(
        "services/searchServices",
        "searchService",
        "api.services.createSearchService.CreateSearchServiceRequest",
        "entity.services.searchService.SearchService",
    ),
    Kind(
        "searchIndexes",
        "searchIndex",
        "api.data.createSearchIndex.CreateSearchIndexRequest",
        "entity.data.searchIndex.SearchIndex",
        "service",
        "searchService",
    ),
)

BY_COLLECTION = {kind.collection: kind for kind in KINDS}
BY_TYPE = {kind.type_name: kind for kind in KINDS}


def match_collection(path: str) -> tuple[Kind, str] | None:
    """Split `tables/name/x.y` into (tables kind, `name/x.y`); longest collection wins."""
    for collection in sorted(BY_COLLECTION, key=len, reverse=True):
        if path == collection or path.startswith(collection + "/"):
            return BY_COLLECTION[collection], path[len(collection) + 1 :]
    return None
