"""What OM records and versions for kinds other than tables (each kind's EntityUpdater): a
tracked change is a new version with its changeDescription, an untracked one alone is
dropped, a container's object count is stored without a version; nested names follow OM's
FQN rules (a glossary term under its parent term, a container under its parent container).
Driven through the SDK as the ingestion bot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from metadata.generated.schema.api.data.createContainer import CreateContainerRequest
from metadata.generated.schema.api.data.createGlossary import CreateGlossaryRequest
from metadata.generated.schema.api.data.createGlossaryTerm import CreateGlossaryTermRequest
from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
from metadata.generated.schema.api.data.createTopic import CreateTopicRequest
from metadata.generated.schema.api.domains.createDomain import CreateDomainRequest
from metadata.generated.schema.api.services.createMessagingService import (
    CreateMessagingServiceRequest,
)
from metadata.generated.schema.api.services.createPipelineService import (
    CreatePipelineServiceRequest,
)
from metadata.generated.schema.api.services.createStorageService import (
    CreateStorageServiceRequest,
)
from metadata.generated.schema.entity.data.container import Container
from metadata.generated.schema.entity.data.glossaryTerm import GlossaryTerm
from metadata.generated.schema.entity.data.pipeline import Pipeline
from metadata.generated.schema.entity.data.topic import Topic
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str


def _names(changes: list[Any]) -> list[str]:
    return [change.name.root for change in changes]


def _topic(p: str, **fields: Any) -> CreateTopicRequest:
    schema = {
        "schemaType": "Avro",
        "schemaFields": [
            {
                "name": "order",
                "dataType": "RECORD",
                "children": [{"name": "id", "dataType": "LONG", "dataTypeDisplay": "long"}],
            }
        ],
    }
    body = {"name": f"{p}topic", "service": f"{p}mq", "partitions": 1, "messageSchema": schema}
    return CreateTopicRequest.model_validate({**body, **fields})


def test_topic_partitions_are_tracked_a_field_s_display_type_is_not(
    client: Any, unique: str
) -> None:
    client.create_or_update(CreateMessagingServiceRequest(name=f"{unique}mq", serviceType="Kafka"))
    assert client.create_or_update(_topic(unique)).version.root == 0.1
    display = _topic(unique)
    display.messageSchema.schemaFields[0].children[0].dataTypeDisplay = "bigint"
    assert client.create_or_update(display).version.root == 0.1  # untracked: dropped
    stored = client.get_by_name(Topic, f"{unique}mq.{unique}topic")
    assert stored.messageSchema.schemaFields[0].children[0].dataTypeDisplay == "long"
    more = client.create_or_update(_topic(unique, partitions=3))
    assert more.version.root == 0.2
    assert [
        (c.name.root, c.oldValue, c.newValue) for c in more.changeDescription.fieldsUpdated
    ] == [("partitions", 1, 3)]
    retyped = _topic(unique, partitions=3)
    retyped.messageSchema.schemaFields[0].children[0].dataType = "STRING"
    change = client.create_or_update(retyped)
    assert change.version.root == 1.2  # a nested field deleted (retyped): major
    assert _names(change.changeDescription.fieldsDeleted) == ["messageSchema.schemaFields.order"]


def _pipeline(p: str, tasks: list[dict[str, Any]], **fields: Any) -> CreatePipelineRequest:
    body = {"name": f"{p}pipe", "service": f"{p}airflow", "tasks": tasks}
    return CreatePipelineRequest.model_validate({**body, **fields})


def test_pipeline_tasks_are_tracked_by_name_a_schedule_is_not(client: Any, unique: str) -> None:
    client.create_or_update(
        CreatePipelineServiceRequest(name=f"{unique}airflow", serviceType="Airflow")
    )
    tasks = [{"name": "extract", "downstreamTasks": ["load"]}, {"name": "load"}]
    assert client.create_or_update(_pipeline(unique, tasks)).version.root == 0.1
    # PipelineUpdater: no recordChange for scheduleInterval; tasks matched by name only
    rescheduled = _pipeline(unique, tasks, scheduleInterval="@daily")
    assert client.create_or_update(rescheduled).version.root == 0.1
    rewired = [{"name": "extract"}, {"name": "load", "downstreamTasks": ["extract"]}]
    assert client.create_or_update(_pipeline(unique, rewired)).version.root == 0.1
    stored = client.get_by_name(Pipeline, f"{unique}airflow.{unique}pipe", fields=["tasks"])
    assert stored.scheduleInterval is None and stored.tasks[0].downstreamTasks == ["load"]
    grown = client.create_or_update(_pipeline(unique, [*tasks, {"name": "publish"}]))
    assert grown.version.root == 0.2
    (added,) = grown.changeDescription.fieldsAdded
    assert added.name.root == "tasks"
    assert [t["name"] for t in json.loads(added.newValue)] == ["publish"]


def _container(p: str, columns: list[dict[str, Any]], **fields: Any) -> CreateContainerRequest:
    body = {
        "name": f"{p}bucket",
        "service": f"{p}s3",
        "dataModel": {"isPartitioned": False, "columns": columns},
    }
    return CreateContainerRequest.model_validate({**body, **fields})


NESTED = [{"name": "event", "dataType": "STRUCT", "children": [{"name": "id", "dataType": "INT"}]}]


def test_container_columns_are_tracked_as_columns_its_size_without_a_version(
    client: Any, unique: str
) -> None:
    client.create_or_update(CreateStorageServiceRequest(name=f"{unique}s3", serviceType="S3"))
    created = client.create_or_update(_container(unique, NESTED, numberOfObjects=1))
    assert created.version.root == 0.1
    moved = client.create_or_update(_container(unique, NESTED, numberOfObjects=1, fullPath="x"))
    assert moved.version.root == 0.1 and moved.fullPath is None  # untracked: dropped
    counted = client.create_or_update(_container(unique, NESTED, numberOfObjects=5))
    assert counted.version.root == 0.1 and counted.numberOfObjects == 5  # stored, unversioned
    added = [
        {**NESTED[0], "children": [*NESTED[0]["children"], {"name": "at", "dataType": "DATE"}]}
    ]
    grown = client.create_or_update(_container(unique, added, numberOfObjects=5))
    assert grown.version.root == 0.2
    assert _names(grown.changeDescription.fieldsAdded) == ["dataModel.columns.event"]
    described = [{**added[0], "description": "an event"}]
    change = client.create_or_update(_container(unique, described, numberOfObjects=5))
    assert change.version.root == 0.3
    assert _names(change.changeDescription.fieldsAdded) == ["dataModel.columns.event.description"]
    child = client.create_or_update(
        CreateContainerRequest.model_validate(
            {
                "name": "part",
                "service": f"{unique}s3",
                "parent": {"id": model_str(created.id), "type": "container"},
            }
        )
    )
    assert model_str(child.fullyQualifiedName) == f"{unique}s3.{unique}bucket.part"
    read = client.get_by_name(Container, f"{unique}s3.{unique}bucket.part", fields=["parent"])
    assert read.parent.name == f"{unique}bucket"


def test_glossary_terms_nest_and_track_synonyms_not_their_provider(
    client: Any, unique: str
) -> None:
    client.create_or_update(CreateGlossaryRequest(name=f"{unique}biz", description="terms"))
    root = client.create_or_update(
        CreateGlossaryTermRequest(glossary=f"{unique}biz", name="Revenue", description="in")
    )
    assert model_str(root.fullyQualifiedName) == f"{unique}biz.Revenue"

    def net(**fields: Any) -> CreateGlossaryTermRequest:
        body = {
            "glossary": f"{unique}biz",
            "parent": f"{unique}biz.Revenue",
            "name": "Net",
            "description": "after costs",
        }
        return CreateGlossaryTermRequest.model_validate({**body, **fields})

    term = client.create_or_update(net(relatedTerms=[f"{unique}biz.Revenue"]))
    assert model_str(term.fullyQualifiedName) == f"{unique}biz.Revenue.Net"
    assert term.parent.name == "Revenue"
    related = client.get_by_name(
        GlossaryTerm, f"{unique}biz.Revenue.Net", fields=["relatedTerms"]
    ).relatedTerms
    assert [r.term.fullyQualifiedName for r in related] == [f"{unique}biz.Revenue"]
    same = net(relatedTerms=[f"{unique}biz.Revenue"], provider="system")
    assert client.create_or_update(same).version.root == 0.1  # provider: untracked
    synonyms = client.create_or_update(net(relatedTerms=[f"{unique}biz.Revenue"], synonyms=["n"]))
    assert synonyms.version.root == 0.2
    assert _names(synonyms.changeDescription.fieldsAdded) == ["synonyms"]


def test_missing_parents_and_unknown_names_are_oms_404s(client: Any, unique: str) -> None:
    with pytest.raises(APIError, match=f"glossary instance for {unique}none not found"):
        client.create_or_update(
            CreateGlossaryTermRequest(glossary=f"{unique}none", name="t", description="d")
        )
    client.create_or_update(CreateGlossaryRequest(name=f"{unique}g", description="d"))
    with pytest.raises(APIError, match=f"glossaryTerm instance for {unique}g.gone not found"):
        client.create_or_update(
            CreateGlossaryTermRequest(
                glossary=f"{unique}g", parent=f"{unique}g.gone", name="t", description="d"
            )
        )
    with pytest.raises(APIError, match="user instance for nobody not found"):
        client.create_or_update(
            CreateDomainRequest(
                name=f"{unique}d", description="d", domainType="Aggregate", experts=["nobody"]
            )
        )
    with pytest.raises(APIError, match=f"domain instance for {unique}up not found"):
        client.create_or_update(
            CreateDomainRequest(
                name=f"{unique}d", description="d", domainType="Aggregate", parent=f"{unique}up"
            )
        )
    client.create_or_update(CreateStorageServiceRequest(name=f"{unique}s3", serviceType="S3"))
    tagged = [{"name": "c", "dataType": "INT", "tags": [_label("PII.NoSuchTag")]}]
    with pytest.raises(APIError, match=r"tag instance for PII\.NoSuchTag not found"):
        client.create_or_update(_container(unique, tagged))


def _label(fqn: str) -> dict[str, str]:
    return {"tagFQN": fqn, "source": "Classification", "labelType": "Manual", "state": "Confirmed"}
