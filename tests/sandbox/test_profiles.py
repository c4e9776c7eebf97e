"""Table profiles as OM 2.0 keeps and serves them (TableRepository.addTableProfileData)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from metadata.generated.schema.api.data.createTableProfile import CreateTableProfileRequest
from metadata.generated.schema.entity.data.table import (
    ColumnProfile,
    SystemProfile,
    Table,
    TableProfile,
)
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import put_table

TS = 1_700_000_000_000


def profile(ts: int, **extra: Any) -> CreateTableProfileRequest:
    return CreateTableProfileRequest.model_validate(
        {"tableProfile": {"timestamp": ts, "rowCount": 5}, **extra}
    )


def test_timestamps_must_be_milliseconds(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    with pytest.raises(APIError, match="milliseconds") as seconds:
        client.ingest_profile_data(table, profile(TS // 1000))
    assert seconds.value.code == 400
    with pytest.raises(APIError) as column_seconds:
        client.ingest_profile_data(
            table, profile(TS, columnProfile=[{"name": "id", "timestamp": TS // 1000}])
        )
    assert column_seconds.value.code == 400


def test_nested_column_profiles_and_system_profiles(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    client.ingest_profile_data(
        table,
        profile(
            TS,
            columnProfile=[{"name": "s.a", "timestamp": TS, "max": 9}],
            systemProfile=[{"timestamp": TS, "operation": "INSERT", "rowsAffected": 3}],
        ),
    )
    nested = client.get_profile_data(f"{fqn}.s.a", TS - 1, TS + 1, profile_type=ColumnProfile)
    assert [p.max for p in nested.entities] == [9]
    system = client.get_profile_data(fqn, TS - 1, TS + 1, profile_type=SystemProfile)
    assert [(p.operation.value, p.rowsAffected) for p in system.entities] == [("INSERT", 3)]
    assert base64.b64decode(system.after).decode() == str(TS + 1)
    with pytest.raises(APIError, match="Invalid column name a"):
        client.ingest_profile_data(
            table, profile(TS, columnProfile=[{"name": "a", "timestamp": TS}])
        )


def test_profile_series_ignore_limit_and_always_carry_after(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    for n in range(3):
        client.ingest_profile_data(table, profile(TS + n))
    series = client.get_profile_data(fqn, TS, TS + 10, limit=1, profile_type=TableProfile)
    assert len(series.entities) == 3 and series.total == 3
    assert base64.b64decode(series.after).decode() == str(TS + 10)


def test_profile_put_on_a_deleted_table_is_404(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    client.delete(Table, model_str(table.id))
    with pytest.raises(APIError) as gone:
        client.ingest_profile_data(table, profile(TS))
    assert gone.value.code == 404
