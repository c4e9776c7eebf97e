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
    columns: tuple[str, ...] = ()
    """Tracked field lists recorded as columns are (`ColumnEntityUpdater.updateColumns`:
    matched by name and type, added / deleted / per-column attributes), dotted when nested
    (`dataModel.columns`: the object's other keys are recorded one by one)."""
    named_lists: tuple[str, ...] = ()
    """Tracked lists recorded only when an item of a new name comes or one goes (a
    pipeline's tasks: `taskMatch` is by name; then only descriptions are compared)."""
    unversioned: tuple[str, ...] = ()
    """Fields stored when they change without a new version (`recordChange(…, false)`)."""
    nested_parent: str | None = None
    """Create field naming a parent of the same kind (a container's parent container by
    reference, a term's parent term or a domain's parent by FQN): when set, the FQN is the
    parent's plus the name."""

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

# ServiceEntityRepository.ServiceUpdater: the connection and its ingestion runner.
SERVICE_TRACKED = ("connection", "ingestionRunner")


def _load(dotted: str) -> Any:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(f"metadata.generated.schema.{module}"), name)


KINDS: tuple[Kind, ...] = (
    Kind(
        "services/databaseServices",
        "databaseService",
        "api.services.createDatabaseService.CreateDatabaseServiceRequest",
        "entity.services.databaseService.DatabaseService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "databases",
        "database",
        "api.data.createDatabase.CreateDatabaseRequest",
        "entity.data.database.Database",
        "service",
        "databaseService",
        extra_fields=("databaseSchemas", "location", "databaseProfilerConfig"),
        tracked=("retentionPeriod", "sourceUrl", "sourceHash", "default"),
    ),
    Kind(
        "databaseSchemas",
        "databaseSchema",
        "api.data.createDatabaseSchema.CreateDatabaseSchemaRequest",
        "entity.data.databaseSchema.DatabaseSchema",
        "database",
        "database",
        extra_fields=("tables", "databaseSchemaProfilerConfig"),
        tracked=("retentionPeriod", "sourceUrl", "sourceHash"),
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
        columns=("columns",),
    ),
    Kind(
        "classifications",
        "classification",
        "api.classification.createClassification.CreateClassificationRequest",
        "entity.classification.classification.Classification",
        extra_fields=("termCount", "usageCount"),
        tracked=("mutuallyExclusive", "disabled", "autoClassificationConfig"),
    ),
    Kind(
        "tags",
        "tag",
        "api.classification.createTag.CreateTagRequest",
        "entity.classification.tag.Tag",
        "classification",
        "classification",
        extra_fields=("children", "usageCount"),
        tracked=("mutuallyExclusive", "disabled", "parent", "classification", "recognizers"),
    ),
    Kind(
        "users",
        "user",
        "api.teams.createUser.CreateUserRequest",
        "entity.teams.user.User",
        extra_fields=("profile", "roles", "teams", "personas", "defaultPersona", "follows", "owns"),
        # UserRepository.UserUpdater
        tracked=(
            "profile",
            "timezone",
            "isBot",
            "isAdmin",
            "email",
            "teams",
            "roles",
            "personas",
            "defaultPersona",
            "externalId",
            "scimUserName",
        ),
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
        # TeamRepository.TeamUpdater
        tracked=(
            "profile",
            "isJoinable",
            "teamType",
            "email",
            "parents",
            "children",
            "defaultRoles",
            "users",
            "policies",
            "defaultPersona",
            "externalId",
        ),
    ),
    Kind("bots", "bot", "api.createBot.CreateBot", "entity.bot.Bot", tracked=("botUser",)),
    Kind(
        "services/pipelineServices",
        "pipelineService",
        "api.services.createPipelineService.CreatePipelineServiceRequest",
        "entity.services.pipelineService.PipelineService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "pipelines",
        "pipeline",
        "api.data.createPipeline.CreatePipelineRequest",
        "entity.data.pipeline.Pipeline",
        "service",
        "pipelineService",
        extra_fields=("tasks", "pipelineStatus"),
        # PipelineRepository.PipelineUpdater (tasks: taskMatch by name, then descriptions)
        tracked=("tasks", "state", "sourceUrl", "concurrency", "pipelineLocation", "sourceHash"),
        named_lists=("tasks",),
        unversioned=("sourceHash",),
    ),
    Kind(
        "services/messagingServices",
        "messagingService",
        "api.services.createMessagingService.CreateMessagingServiceRequest",
        "entity.services.messagingService.MessagingService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "topics",
        "topic",
        "api.data.createTopic.CreateTopicRequest",
        "entity.data.topic.Topic",
        "service",
        "messagingService",
        extra_fields=("sampleData",),
        # TopicRepository.TopicUpdater
        tracked=(
            "maximumMessageSize",
            "minimumInSyncReplicas",
            "partitions",
            "replicationFactor",
            "retentionTime",
            "retentionSize",
            "topicConfig",
            "cleanupPolicies",
            "messageSchema",
            "sourceUrl",
            "sourceHash",
        ),
        columns=("messageSchema.schemaFields",),
    ),
    Kind(
        "services/mlmodelServices",
        "mlmodelService",
        "api.services.createMlModelService.CreateMlModelServiceRequest",
        "entity.services.mlmodelService.MlModelService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "mlmodels",
        "mlmodel",
        "api.data.createMlModel.CreateMlModelRequest",
        "entity.data.mlmodel.MlModel",
        "service",
        "mlmodelService",
        extra_fields=("dashboard",),
        # MlModelRepository.MlModelUpdater
        tracked=(
            "algorithm",
            "dashboard",
            "server",
            "target",
            "mlFeatures",
            "mlHyperParameters",
            "mlStore",
            "sourceUrl",
            "sourceHash",
        ),
    ),
    # A contract names its entity by EntityReference {id, type}, any data asset; its FQN is
    # `{entity FQN}.dataContract_{name}` (OM's DataContractRepository).
    Kind(
        "dataContracts",
        "dataContract",
        "api.data.createDataContract.CreateDataContractRequest",
        "entity.data.dataContract.DataContract",
        "entity",
        # DataContractRepository.DataContractUpdater
        tracked=(
            "entityStatus",
            "schema",
            "semantics",
            "qualityExpectations",
            "sla",
            "termsOfUse",
            "security",
            "effectiveFrom",
            "effectiveUntil",
            "sourceUrl",
            "odcsQualityRules",
        ),
    ),
    Kind(
        "services/searchServices",
        "searchService",
        "api.services.createSearchService.CreateSearchServiceRequest",
        "entity.services.searchService.SearchService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "searchIndexes",
        "searchIndex",
        "api.data.createSearchIndex.CreateSearchIndexRequest",
        "entity.data.searchIndex.SearchIndex",
        "service",
        "searchService",
        extra_fields=("fields", "sampleData"),
        # SearchIndexRepository.SearchIndexUpdater
        tracked=("fields", "searchIndexSettings", "indexType", "sourceHash"),
        columns=("fields",),
    ),
    # storage and governance
    Kind(
        "services/storageServices",
        "storageService",
        "api.services.createStorageService.CreateStorageServiceRequest",
        "entity.services.storageService.StorageService",
        tracked=SERVICE_TRACKED,
    ),
    Kind(
        "containers",
        "container",
        "api.data.createContainer.CreateContainerRequest",
        "entity.data.container.Container",
        "service",
        "storageService",
        extra_fields=("parent", "children", "dataModel"),
        # ContainerRepository.ContainerUpdater
        tracked=("dataModel", "prefix", "fileFormats", "sourceUrl"),
        columns=("dataModel.columns",),
        unversioned=("numberOfObjects", "size"),
        nested_parent="parent",
    ),
    Kind(
        "glossaries",
        "glossary",
        "api.data.createGlossary.CreateGlossaryRequest",
        "entity.data.glossary.Glossary",
        extra_fields=("usageCount", "termCount"),
        tracked=("mutuallyExclusive",),  # GlossaryRepository.GlossaryUpdater
    ),
    Kind(
        "glossaryTerms",
        "glossaryTerm",
        "api.data.createGlossaryTerm.CreateGlossaryTermRequest",
        "entity.data.glossaryTerm.GlossaryTerm",
        "glossary",
        "glossary",
        extra_fields=("children", "relatedTerms", "usageCount", "childrenCount"),
        # GlossaryTermRepository.GlossaryTermUpdater
        tracked=(
            "synonyms",
            "references",
            "relatedTerms",
            "mutuallyExclusive",
            "parent",
            "glossary",
            "entityStatus",
            "iri",
            "conceptMappings",
        ),
        nested_parent="parent",
    ),
    Kind(
        "domains",
        "domain",
        "api.domains.createDomain.CreateDomainRequest",
        "entity.domains.domain.Domain",
        extra_fields=("children", "childrenCount"),
        tracked=("domainType", "parent"),  # DomainRepository.DomainUpdater
        nested_parent="parent",
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
