"""Small builders shared by the OM-rule contract tests (a service → database → schema tree)."""

from __future__ import annotations

from typing import Any

from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "dataType": "BIGINT"},
    {"name": "s", "dataType": "STRUCT", "children": [{"name": "a", "dataType": "INT"}]},
]


def schema(client: Any, p: str) -> str:
    """Create `{p}svc.{p}db.{p}sch` (idempotent) and return the schema FQN."""
    client.create_or_update(
        CreateDatabaseServiceRequest(name=f"{p}svc", serviceType="CustomDatabase")
    )
    client.create_or_update(CreateDatabaseRequest(name=f"{p}db", service=f"{p}svc"))
    client.create_or_update(CreateDatabaseSchemaRequest(name=f"{p}sch", database=f"{p}svc.{p}db"))
    return f"{p}svc.{p}db.{p}sch"


def table_request(p: str, name: str = "tbl", **fields: Any) -> CreateTableRequest:
    body = {"name": f"{p}{name}", "databaseSchema": f"{p}svc.{p}db.{p}sch", "columns": COLUMNS}
    return CreateTableRequest.model_validate({**body, **fields})


def put_table(client: Any, p: str, name: str = "tbl", **fields: Any) -> Any:
    schema(client, p)
    return client.create_or_update(table_request(p, name, **fields))


def label(fqn: str) -> dict[str, str]:
    return {"tagFQN": fqn, "source": "Classification", "labelType": "Manual", "state": "Confirmed"}
