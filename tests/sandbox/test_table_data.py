"""A table's sample data and profiler config, kept beside it (TableRepository), via the SDK."""

from __future__ import annotations

from typing import Any

import pytest
from metadata.generated.schema.entity.data.table import Table, TableData, TableProfilerConfig
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import put_table, table_request


def test_sample_data_round_trips_and_names_real_columns(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    stored = client.ingest_table_sample_data(table, TableData(columns=["id"], rows=[[1], [2]]))
    assert stored is not None and stored.rows == [[1], [2]]
    read = client.get_sample_data(table)
    assert [c.root for c in read.sampleData.columns] == ["id"] and read.version.root == 0.1
    assert client.get_by_name(Table, model_str(table.fullyQualifiedName)).sampleData is None
    assert client.ingest_table_sample_data(table, TableData(columns=["ghost"], rows=[[1]])) is None
    with pytest.raises(APIError, match="Invalid column name ghost"):
        client.client.put(
            f"/tables/{model_str(table.id)}/sampleData",
            data=TableData(columns=["ghost"], rows=[[1]]).model_dump_json(),
        )
    client.delete_sample_data(table)
    assert client.get_sample_data(table).sampleData is None


def test_profiler_config_survives_table_puts(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    configured = client.create_or_update_table_profiler_config(
        fqn, TableProfilerConfig(sampleDataCount=50, excludeColumns=["s"])
    )
    assert configured.tableProfilerConfig.sampleDataCount == 50
    assert configured.version.root == 0.1  # not versioned
    client.create_or_update(table_request(unique, tableType="External"))
    read = client.get_by_name(Table, fqn, fields=["tableProfilerConfig"])
    assert read.tableProfilerConfig.sampleDataCount == 50
    with pytest.raises(APIError, match="Invalid column name ghost"):
        client.client.put(
            f"/tables/{model_str(table.id)}/tableProfilerConfig",
            data=TableProfilerConfig(excludeColumns=["ghost"]).model_dump_json(),
        )


def test_topic_sample_data_is_replaced_read_with_the_topic_and_needs_a_known_topic(
    client: Any, unique: str
) -> None:
    from metadata.generated.schema.api.data.createTopic import CreateTopicRequest
    from metadata.generated.schema.api.services.createMessagingService import (
        CreateMessagingServiceRequest,
    )
    from metadata.generated.schema.entity.data.topic import Topic, TopicSampleData
    from metadata.generated.schema.entity.services.messagingService import MessagingServiceType

    service = client.create_or_update(
        CreateMessagingServiceRequest(name=f"{unique}_mq", serviceType=MessagingServiceType.Kafka)
    )
    topic = client.create_or_update(
        CreateTopicRequest(name="events", service=service.fullyQualifiedName, partitions=1)
    )
    assert client.get_topic_sample_data(topic).sampleData is None
    stored = client.ingest_topic_sample_data(topic, TopicSampleData(messages=["a", "b", "c"]))
    assert stored.messages == ["a", "b", "c"]
    replaced = client.ingest_topic_sample_data(topic, TopicSampleData(messages=["d"]))
    assert replaced.messages == ["d"]
    read = client.get_topic_sample_data(topic)
    assert read.sampleData.messages == ["d"] and read.version.root == 0.1  # not versioned
    assert read.fullyQualifiedName.root == f"{unique}_mq.events"
    assert client.get_by_name(Topic, f"{unique}_mq.events").sampleData is None
    ghost = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(APIError) as raised:
        client.client.put(
            f"/topics/{ghost}/sampleData", data=TopicSampleData(messages=["x"]).model_dump_json()
        )
    assert raised.value.status_code == 404
    with pytest.raises(APIError) as raised:
        client.client.get(f"/topics/{ghost}/sampleData")
    assert raised.value.status_code == 404
