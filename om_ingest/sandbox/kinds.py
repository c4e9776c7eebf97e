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
    extra_fields: tuple[str, ...] = ()
    """Fields besides COMMON_FIELDS that OM returns only when `fields=` names them
    (the kind's `*Resource.FIELDS`)."""
    tracked: tuple[str, ...] | None = None
    """Fields besides COMMON_TRACKED its updater records (`entitySpecificUpdate`); None:
    every field is compared (kinds whose updater we have not transcribed)."""

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

    @cached_property
    def create_fields(self) -> frozenset[str]:
        return frozenset(f.alias or name for name, f in self.create_model.model_fields.items())

    @cached_property
    def fields(self) -> frozenset[str]:
        """The entity's `fields=` values: absent from reads unless requested."""
        required = {
            f.alias or n for n, f in self.entity_model.model_fields.items() if f.is_required()
        }
        return frozenset((*COMMON_FIELDS, *self.extra_fields)) & self.entity_fields - required

    @cached_property
    def tracked_fields(self) -> frozenset[str] | None:
        if self.tracked is None:
            return None
        return frozenset((*COMMON_TRACKED, *self.tracked))


# Relationship fields every entity resource serves only on request (EntityResource).
COMMON_FIELDS = (
    "owners",
    "followers",
    "tags",
    "extension",
    "domains",
    "dataProducts",
    "votes",
    "experts",
    "reviewers",
    "certification",
    "lifeCycle",
    "usageSummary",
    "sourceHash",
)
# Fields EntityRepository.EntityUpdater.updateInternal records for every entity.
COMMON_TRACKED = (
    "description",
    "displayName",
    "tags",
    "owners",
    "extension",
    "domains",
    "dataProducts",
    "followers",
    "experts",
    "reviewers",
    "deleted",
    "style",
    "lifeCycle",
    "certification",
)


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
        extra_fields=("databaseSchemas", "location", "databaseProfilerConfig"),
    ),
    Kind(
        "databaseSchemas",
        "databaseSchema",
        "api.data.createDatabaseSchema.CreateDatabaseSchemaRequest",
        "entity.data.databaseSchema.DatabaseSchema",
        "database",
        "database",
        extra_fields=("tables", "databaseSchemaProfilerConfig"),
    ),
    Kind(
        "tables",
        "table",
        "api.data.createTable.CreateTableRequest",
        "entity.data.table.Table",
        "databaseSchema",
        "databaseSchema",
        extra_fields=(
            "tableConstraints",
            "tablePartition",
            "customMetrics",
            "joins",
            "schemaDefinition",
            "dataModel",
            "testSuite",
            "profile",
            "sampleData",
            "tableProfilerConfig",
        ),
        # TableRepository.TableUpdater.entitySpecificUpdate
        tracked=(
            "tableType",
            "tableConstraints",
            "columns",
            "sourceUrl",
            "retentionPeriod",
            "sourceHash",
            "locationPath",
            "processedLineage",
        ),
    ),
    Kind(
        "classifications",
        "classification",
        "api.classification.createClassification.CreateClassificationRequest",
        "entity.classification.classification.Classification",
        extra_fields=("termCount", "usageCount"),
    ),
    Kind(
        "tags",
        "tag",
        "api.classification.createTag.CreateTagRequest",
        "entity.classification.tag.Tag",
        "classification",
        "classification",
        extra_fields=("children", "usageCount"),
    ),
    Kind(
        "users",
        "user",
        "api.teams.createUser.CreateUserRequest",
        "entity.teams.user.User",
        extra_fields=("profile", "roles", "teams", "personas", "defaultPersona", "follows", "owns"),
    ),
    Kind(
        "teams",
        "team",
        "api.teams.createTeam.CreateTeamRequest",
        "entity.teams.team.Team",
        extra_fields=(
            "profile",
            "users",
            "owns",
            "defaultRoles",
            "parents",
            "children",
            "policies",
            "userCount",
            "childrenCount",
        ),
    ),
    Kind("bots", "bot", "api.createBot.CreateBot", "entity.bot.Bot"),
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
        extra_fields=("tasks", "pipelineStatus"),
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
        extra_fields=("sampleData",),
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
        extra_fields=("dashboard",),
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
        extra_fields=("fields", "sampleData"),
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
