"""What reads return, as OM 2.0 does: `fields=` projection, inherited owners, name lookups,
cursor paging. Driven through the SDK; runs against a real OM with OM_URL + OM_JWT."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.teams.createUser import CreateUserRequest
from metadata.generated.schema.entity.data.database import Database
from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.teams.user import User
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import label, put_table, schema, table_request


def owner_ref(user: Any) -> dict[str, str]:
    return {"id": model_str(user.id), "type": "user"}


def make_user(client: Any, name: str) -> Any:
    return client.create_or_update(
        CreateUserRequest(name=name, email=f"{name.replace('.', '_')}@example.com")
    )


def test_fields_returns_only_what_was_asked(client: Any, unique: str) -> None:
    put_table(
        client,
        unique,
        tags=[label("PII.Sensitive")],
        tablePartition={"columns": [{"columnName": "id", "intervalType": "COLUMN-VALUE"}]},
    )
    fqn = f"{unique}svc.{unique}db.{unique}sch.{unique}tbl"
    bare = client.get_by_name(Table, fqn)
    assert bare.tags is None and bare.owners is None and bare.tablePartition is None
    assert [c.name.root for c in bare.columns] == ["id", "s"]  # required: always there
    assert (
        model_str(bare.databaseSchema.fullyQualifiedName) == f"{unique}svc.{unique}db.{unique}sch"
    )
    asked = client.get_by_name(Table, fqn, fields=["tags", "owners", "tablePartition"])
    assert [t.tagFQN.root for t in asked.tags] == ["PII.Sensitive"]
    assert asked.owners.root == []  # requested and empty: [] (a JSON Patch add /owners/0 needs it)
    assert asked.tablePartition is not None
    listed = client.list_entities(Table, params={"databaseSchema": schema(client, unique)}).entities
    assert listed[0].tags is None
    with pytest.raises(APIError) as invalid:
        client.client.get(f"/tables/name/{fqn}?fields=bogus")
    assert invalid.value.code == 400


def test_a_table_without_owners_shows_its_schemas_marked_inherited(
    client: Any, unique: str
) -> None:
    owner = make_user(client, f"{unique}owner")
    put_table(client, unique)
    schema_fqn = f"{unique}svc.{unique}db.{unique}sch"
    fqn = f"{schema_fqn}.{unique}tbl"
    database = client.get_by_name(Database, f"{unique}svc.{unique}db", fields=["owners"])
    assert database.owners.root == []
    client.patch(
        Database,
        database,
        database.model_copy(update={"owners": type(database.owners)([owner_ref(owner)])}),
        skip_on_failure=False,
    )
    via_database = client.get_by_name(Table, fqn, fields=["owners"]).owners.root
    assert [(model_str(o.name), o.inherited) for o in via_database] == [(f"{unique}owner", True)]
    sch = client.get_by_name(DatabaseSchema, schema_fqn, fields=["owners"])
    assert [o.inherited for o in sch.owners.root] == [True]
    other = make_user(client, f"{unique}other")
    client.create_or_update(
        CreateDatabaseSchemaRequest(
            name=f"{unique}sch", database=f"{unique}svc.{unique}db", owners=[owner_ref(other)]
        )
    )
    inherited = client.get_by_name(Table, fqn, fields=["owners"]).owners.root
    assert [(model_str(o.name), o.inherited) for o in inherited] == [(f"{unique}other", True)]
    own = client.create_or_update(table_request(unique, owners=[owner_ref(owner)]))
    assert [o.inherited for o in own.owners.root] in ([None], [False])
    read = client.get_by_name(Table, fqn, fields=["owners"]).owners.root
    assert [(model_str(o.name), bool(o.inherited)) for o in read] == [(f"{unique}owner", False)]


def test_include_without_fields_is_the_sdks_404(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    # The SDK sends `/name/{fqn}&include=all` (no `?`): OM looks up that FQN and finds nothing.
    assert client.get_by_name(Table, fqn, include="all") is None
    assert client.get_by_name(Table, fqn, fields=["owners"], include="all") is not None


def test_users_are_found_by_name_with_oms_quoting(client: Any, unique: str) -> None:
    created = make_user(client, f"{unique}John.Doe")
    assert model_str(created.name) == f"{unique}john.doe"
    assert model_str(created.fullyQualifiedName) == f'"{unique}john.doe"'
    for name in (f"{unique}john.doe", f"{unique}John.Doe", f'"{unique}john.doe"'):
        found = client.get_by_name(User, name)
        assert found is not None and model_str(found.id) == model_str(created.id), name


def test_paging_cursors_are_name_then_id(client: Any, unique: str) -> None:
    schema(client, unique)
    other = schema(client, unique + "b")
    for target in (f"{unique}svc.{unique}db.{unique}sch", other):
        for name in ("b", "a"):
            client.create_or_update(
                CreateTableRequest(
                    name=name, databaseSchema=target, columns=[{"name": "x", "dataType": "INT"}]
                )
            )
    first = client.list_entities(Table, limit=1, params={"databaseSchema": other})
    cursor = json.loads(base64.urlsafe_b64decode(first.after + "=" * (-len(first.after) % 4)))
    assert set(cursor) == {"name", "id"} and cursor["name"] == "a"
    assert [t.name.root for t in first.entities] == ["a"] and first.total == 2
    second = client.list_entities(
        Table, limit=1, after=first.after, params={"databaseSchema": other}
    )
    assert [t.name.root for t in second.entities] == ["b"] and second.after is None
    with pytest.raises(APIError) as both:
        client.client.get(
            "/tables", data={"limit": 1, "after": first.after, "before": second.before}
        )
    assert both.value.code == 400
    only_total = client.client.get("/tables", data={"limit": 0, "databaseSchema": other})
    assert only_total == {"data": [], "paging": {"total": 2}}
    with pytest.raises(APIError) as negative:
        client.client.get("/tables", data={"limit": -1})
    assert negative.value.code == 400
