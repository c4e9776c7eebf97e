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
