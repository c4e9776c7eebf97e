"""Minimal create requests for every entity kind the sandbox serves (shared by the tests)."""

from __future__ import annotations

from typing import Any

# (create module path, request class, entity module path, entity class, body(prefix, parents))
PARENTS = "parents"


def bodies(p: str) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """(create module, request class, entity module, entity class, body); parents first."""
    return [
        (
            "api.services.createDatabaseService",
            "CreateDatabaseServiceRequest",
            "entity.services.databaseService",
            "DatabaseService",
            {"name": f"{p}svc", "serviceType": "CustomDatabase"},
        ),
        (
            "api.data.createDatabase",
            "CreateDatabaseRequest",
            "entity.data.database",
            "Database",
            {"name": f"{p}db", "service": f"{p}svc"},
        ),
        (
            "api.data.createDatabaseSchema",
            "CreateDatabaseSchemaRequest",
            "entity.data.databaseSchema",
            "DatabaseSchema",
            {"name": f"{p}sch", "database": f"{p}svc.{p}db"},
        ),
        (
            "api.data.createTable",
            "CreateTableRequest",
            "entity.data.table",
            "Table",
            {
                "name": f"{p}tbl",
                "databaseSchema": f"{p}svc.{p}db.{p}sch",
                "columns": [{"name": "a", "dataType": "INT"}],
            },
        ),
        (
            "api.classification.createClassification",
            "CreateClassificationRequest",
            "entity.classification.classification",
            "Classification",
            {"name": f"{p}cls", "description": "d"},
        ),
        (
            "api.classification.createTag",
            "CreateTagRequest",
            "entity.classification.tag",
            "Tag",
            {"name": f"{p}tag", "description": "d", "classification": f"{p}cls"},
        ),
        (
            "api.teams.createUser",
            "CreateUserRequest",
            "entity.teams.user",
            "User",
            {"name": f"{p}user", "email": f"{p}user@example.com"},
        ),
        (
            "api.teams.createTeam",
            "CreateTeamRequest",
            "entity.teams.team",
            "Team",
            {"name": f"{p}team", "teamType": "Group"},
        ),
        (
            "api.services.createPipelineService",
            "CreatePipelineServiceRequest",
            "entity.services.pipelineService",
            "PipelineService",
            {"name": f"{p}psvc", "serviceType": "CustomPipeline"},
        ),
        (
            "api.data.createPipeline",
            "CreatePipelineRequest",
            "entity.data.pipeline",
            "Pipeline",
            {"name": f"{p}pipe", "service": f"{p}psvc", "tasks": [{"name": "t1"}]},
        ),
        (
            "api.services.createMessagingService",
            "CreateMessagingServiceRequest",
            "entity.services.messagingService",
            "MessagingService",
            {"name": f"{p}msvc", "serviceType": "CustomMessaging"},
        ),
        (
            "api.data.createTopic",
            "CreateTopicRequest",
            "entity.data.topic",
            "Topic",
            {"name": f"{p}topic", "service": f"{p}msvc", "partitions": 1},
        ),
        (
            "api.services.createMlModelService",
            "CreateMlModelServiceRequest",
            "entity.services.mlmodelService",
            "MlModelService",
            {"name": f"{p}mlsvc", "serviceType": "CustomMlModel"},
        ),
        (
            "api.data.createMlModel",
            "CreateMlModelRequest",
            "entity.data.mlmodel",
            "MlModel",
            {"name": f"{p}model", "service": f"{p}mlsvc", "algorithm": "gbm"},
        ),
        (
            "api.services.createSearchService",
            "CreateSearchServiceRequest",
            "entity.services.searchService",
            "SearchService",
            {"name": f"{p}ssvc", "serviceType": "CustomSearch"},
        ),
        (
            "api.data.createSearchIndex",
            "CreateSearchIndexRequest",
            "entity.data.searchIndex",
            "SearchIndex",
            {
                "name": f"{p}idx",
                "service": f"{p}ssvc",
                "fields": [{"name": "f", "dataType": "TEXT"}],
            },
        ),
        (
            "api.services.createStorageService",
            "CreateStorageServiceRequest",
            "entity.services.storageService",
            "StorageService",
            {"name": f"{p}stsvc", "serviceType": "S3"},
        ),
        (
            "api.data.createContainer",
            "CreateContainerRequest",
            "entity.data.container",
            "Container",
            {
                "name": f"{p}bucket",
                "service": f"{p}stsvc",
                "dataModel": {"columns": [{"name": "c", "dataType": "INT"}]},
            },
        ),
        (
            "api.data.createGlossary",
            "CreateGlossaryRequest",
            "entity.data.glossary",
            "Glossary",
            {"name": f"{p}gloss", "description": "d"},
        ),
        (
            "api.data.createGlossaryTerm",
            "CreateGlossaryTermRequest",
            "entity.data.glossaryTerm",
            "GlossaryTerm",
            {"name": f"{p}term", "glossary": f"{p}gloss", "description": "d"},
        ),
        (
            "api.domains.createDomain",
            "CreateDomainRequest",
            "entity.domains.domain",
            "Domain",
            {"name": f"{p}dom", "description": "d", "domainType": "Aggregate"},
        ),
    ]


def load(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(f"metadata.generated.schema.{module}"), name)
