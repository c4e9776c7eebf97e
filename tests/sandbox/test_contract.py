"""The sandbox driven only through the official SDK, the way the engine uses OpenMetadata.

Set OM_URL and OM_JWT to run the same contract against a real OpenMetadata server.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
from metadata.generated.schema.api.data.createDatabaseSchema import CreateDatabaseSchemaRequest
from metadata.generated.schema.api.data.createDataContract import CreateDataContractRequest
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.data.createTableProfile import CreateTableProfileRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)
from metadata.generated.schema.entity.data.database import Database
from metadata.generated.schema.entity.data.dataContract import DataContract
from metadata.generated.schema.entity.data.table import ColumnProfile, Table, TableProfile
from metadata.generated.schema.entity.services.databaseService import DatabaseService
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.conftest import JWT

sys.path.insert(0, str(Path(__file__).parent))
from kinds_data import bodies, load

from tests.sandbox.conftest import sandbox_only


def tree(client: Any, p: str, columns: list[dict[str, Any]] | None = None) -> Table:
    client.create_or_update(
        CreateDatabaseServiceRequest(name=f"{p}svc", serviceType="CustomDatabase")
    )
    client.create_or_update(CreateDatabaseRequest(name=f"{p}db", service=f"{p}svc"))
    client.create_or_update(CreateDatabaseSchemaRequest(name=f"{p}sch", database=f"{p}svc.{p}db"))
    return client.create_or_update(
        CreateTableRequest.model_validate(
            {
                "name": f"{p}tbl",
                "databaseSchema": f"{p}svc.{p}db.{p}sch",
                "columns": columns
                or [
                    {"name": "id", "dataType": "BIGINT"},
                    {
                        "name": "s",
                        "dataType": "STRUCT",
                        "children": [{"name": "a", "dataType": "INT"}],
                    },
                ],
            }
        )
    )


def test_every_kind_round_trips(client: Any, unique: str) -> None:
    for create_module, create_name, entity_module, entity_name, body in bodies(unique):
        entity_class = load(entity_module, entity_name)
        created = client.create_or_update(load(create_module, create_name).model_validate(body))
        fqn = model_str(created.fullyQualifiedName)
        by_name = client.get_by_name(entity_class, fqn)
        assert by_name is not None and model_str(by_name.id) == model_str(created.id), entity_name
        by_id = client.get_by_id(entity_class, model_str(created.id))
        assert model_str(by_id.fullyQualifiedName) == fqn
        listed = [
            model_str(e.fullyQualifiedName) for e in client.list_all_entities(entity=entity_class)
        ]
        assert fqn in listed
        patched = client.patch_description(entity_class, by_id, description="patched", force=True)
        assert patched is not None and model_str(patched.description) == "patched"


def test_create_conflicts_and_missing_parents(client: Any, unique: str) -> None:
    client.create(CreateDatabaseServiceRequest(name=f"{unique}svc", serviceType="CustomDatabase"))
    with pytest.raises(APIError) as conflict:
        client.create(
            CreateDatabaseServiceRequest(name=f"{unique}svc", serviceType="CustomDatabase")
        )
    assert conflict.value.code == 409
    with pytest.raises(APIError) as missing:
        client.create_or_update(CreateDatabaseRequest(name="db", service=f"{unique}ghost"))
    assert missing.value.code == 404 and f"{unique}ghost" in str(missing.value)
    assert client.get_by_name(Database, f"{unique}ghost.db") is None


def test_invalid_bodies_are_400_with_oms_shape(client: Any, server: Any) -> None:
    if server is None:
        pytest.skip("raw HTTP check against the sandbox")
    import requests

    body = {"name": "x", "databaseSchema": "a.b.c", "columns": [], "bogus": 1}
    response = requests.put(
        f"{server.url}/v1/tables", json=body, headers={"Authorization": f"Bearer {JWT}"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json() == {"code": 400, "message": "[bogus] Extra inputs are not permitted"}
    response = requests.put(f"{server.url}/v1/tables", json=body, timeout=10)
    assert response.status_code == 401 and response.json()["code"] == 401


def test_versions_and_change_description(client: Any, unique: str) -> None:
    table = tree(client, unique)
    assert table.version.root == 0.1
    same = client.create_or_update(
        CreateTableRequest.model_validate(
            {
                "name": f"{unique}tbl",
                "databaseSchema": f"{unique}svc.{unique}db.{unique}sch",
                "columns": [
                    {"name": "id", "dataType": "BIGINT"},
                    {
                        "name": "s",
                        "dataType": "STRUCT",
                        "children": [{"name": "a", "dataType": "INT"}],
                    },
                ],
            }
        )
    )
    assert same.version.root == 0.1  # identical PUT: no bump
    added = client.create_or_update(
        CreateTableRequest.model_validate(
            {
                "name": f"{unique}tbl",
                "databaseSchema": f"{unique}svc.{unique}db.{unique}sch",
                "columns": [
                    {"name": "id", "dataType": "BIGINT"},
                    {
                        "name": "s",
                        "dataType": "STRUCT",
                        "children": [{"name": "a", "dataType": "INT"}],
                    },
                    {"name": "n", "dataType": "STRING"},
                ],
            }
        )
    )
    assert added.version.root == pytest.approx(0.2)
    assert [f.name.root for f in added.changeDescription.fieldsAdded] == ["columns"]
    assert added.changeDescription.previousVersion.root == 0.1
    nested = client.create_or_update(
        CreateTableRequest.model_validate(
            {
                "name": f"{unique}tbl",
                "databaseSchema": f"{unique}svc.{unique}db.{unique}sch",
                "columns": [
                    {"name": "id", "dataType": "BIGINT", "description": "key"},
                    {
                        "name": "s",
                        "dataType": "STRUCT",
                        "children": [
                            {"name": "a", "dataType": "INT"},
                            {"name": "b", "dataType": "DATE"},
                        ],
                    },
                    {"name": "n", "dataType": "STRING"},
                ],
            }
        )
    )
    # A nested child added is a minor change, recorded under its parent column's path.
    assert nested.version.root == pytest.approx(0.3)
    added_fields = nested.changeDescription.fieldsAdded
    assert [f.name.root for f in added_fields] == ["columns.id.description", "columns.s"]
    assert added_fields[0].newValue == "key"
    assert [c["name"] for c in json.loads(added_fields[1].newValue)] == ["b"]
    assert nested.changeDescription.fieldsDeleted == []
    retyped = client.create_or_update(
        CreateTableRequest.model_validate(
            {
                "name": f"{unique}tbl",
                "databaseSchema": f"{unique}svc.{unique}db.{unique}sch",
                "columns": [
                    {"name": "id", "dataType": "STRING"},
                    {"name": "n", "dataType": "STRING"},
                ],
            }
        )
    )
    assert retyped.version.root == pytest.approx(1.3)  # removed + retyped: backward-incompatible
    deleted = retyped.changeDescription.fieldsDeleted
    assert [(f.name.root, [c["name"] for c in json.loads(f.oldValue)]) for f in deleted] == [
        ("columns", ["id", "s"])
    ]
    assert [
        (f.name.root, [c["name"] for c in json.loads(f.newValue)])
        for f in retyped.changeDescription.fieldsAdded
    ] == [("columns", ["id"])]  # a retype is a delete plus an add, as in OM
    history = client.list_versions(model_str(retyped.id), Table)
    assert [json.loads(v)["version"] for v in history.versions] == [1.3, 0.3, 0.2, 0.1]
    old = client.get_entity_version(Table, model_str(retyped.id), "0.1")
    assert [c.name.root for c in old.columns] == ["id", "s"]


def test_put_keeps_curated_description_and_merges_tags(client: Any, unique: str) -> None:
    table = tree(client, unique)
    client.patch_description(Table, table, description="curated in the UI", force=True)
    body = {
        "name": f"{unique}tbl",
        "databaseSchema": f"{unique}svc.{unique}db.{unique}sch",
        "description": "from ingestion",
        "columns": [{"name": "id", "dataType": "BIGINT"}],
        "tags": [
            {
                "tagFQN": "PII.Sensitive",
                "source": "Classification",
                "labelType": "Manual",
                "state": "Confirmed",
            }
        ],
    }
    client.create_or_update(CreateTableRequest.model_validate(body))
    body["tags"] = [
        {
            "tagFQN": "Tier.Tier1",
            "source": "Classification",
            "labelType": "Manual",
            "state": "Confirmed",
        }
    ]
    after = client.create_or_update(CreateTableRequest.model_validate(body))
    assert model_str(after.description) == "curated in the UI"
    assert sorted(t.tagFQN.root for t in after.tags) == ["PII.Sensitive", "Tier.Tier1"]


def test_delete_semantics(client: Any, unique: str) -> None:
    table = tree(client, unique)
    service = client.get_by_name(DatabaseService, f"{unique}svc")
    with pytest.raises(APIError) as not_empty:
        client.delete(DatabaseService, model_str(service.id))
    assert not_empty.value.code == 400
    client.delete(Table, model_str(table.id))  # soft
    assert client.get_by_name(Table, model_str(table.fullyQualifiedName)) is None
    hidden = client.get_by_name(
        Table, model_str(table.fullyQualifiedName), fields=["owners"], include="all"
    )
    assert hidden is not None and hidden.deleted
    client.delete(DatabaseService, model_str(service.id), recursive=True, hard_delete=True)
    fqn = model_str(table.fullyQualifiedName)
    assert client.get_by_name(Table, fqn, fields=["owners"], include="all") is None
    assert (
        client.get_by_name(Database, f"{unique}svc.{unique}db", fields=["owners"], include="all")
        is None
    )


def test_paging_over_250_tables(client: Any, unique: str) -> None:
    tree(client, unique)
    schema = f"{unique}svc.{unique}db.{unique}sch"
    for i in range(250):
        client.create_or_update(
            CreateTableRequest(
                name=f"t{i:03d}", databaseSchema=schema, columns=[{"name": "a", "dataType": "INT"}]
            )
        )
    every = [
        t.name.root
        for t in client.list_all_entities(entity=Table, limit=40, params={"databaseSchema": schema})
    ]
    assert sorted(every) == sorted([f"t{i:03d}" for i in range(250)] + [f"{unique}tbl"])
    assert len(every) == len(set(every))
    first = client.list_entities(entity=Table, limit=100, params={"databaseSchema": schema})
    assert first.total == 251 and len(first.entities) == 100 and first.after
    second = client.list_entities(
        entity=Table, limit=100, after=first.after, params={"databaseSchema": schema}
    )
    back = client.list_entities(
        entity=Table, limit=100, before=second.before, params={"databaseSchema": schema}
    )
    assert [t.name.root for t in back.entities] == [t.name.root for t in first.entities]


def test_table_profile_round_trip(client: Any, unique: str) -> None:
    table = tree(client, unique)
    profile = CreateTableProfileRequest.model_validate(
        {
            "tableProfile": {"timestamp": 1_700_000_000_000, "rowCount": 42, "columnCount": 2},
            "columnProfile": [
                {"name": "id", "timestamp": 1_700_000_000_000, "nullCount": 0, "min": 1, "max": 42}
            ],
        }
    )
    client.ingest_profile_data(table, profile)
    latest = client.get_latest_table_profile(table.fullyQualifiedName)
    assert latest.profile.rowCount == 42
    assert next(c for c in latest.columns if c.name.root == "id").profile.max == 42

    with pytest.raises(APIError, match="Invalid column name ghost"):
        client.ingest_profile_data(
            table,
            CreateTableProfileRequest.model_validate(
                {
                    "tableProfile": {"timestamp": 1_700_000_000_001, "rowCount": 1},
                    "columnProfile": [{"name": "ghost", "timestamp": 1_700_000_000_001}],
                }
            ),
        )


def test_profile_history_by_time_range(client: Any, unique: str) -> None:
    table = tree(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    day = 86_400_000
    for n in range(4):
        ts = 1_700_000_000_000 + n * day
        client.ingest_profile_data(
            table,
            CreateTableProfileRequest.model_validate(
                {
                    "tableProfile": {"timestamp": ts, "rowCount": 10 * n},
                    "columnProfile": [{"name": "id", "timestamp": ts, "max": n}],
                }
            ),
        )
    start, end = 1_700_000_000_000 + day, 1_700_000_000_000 + 3 * day
    tables = client.get_profile_data(fqn, start, end, profile_type=TableProfile)
    assert [p.rowCount for p in tables.entities] == [30, 20, 10]  # newest first, inclusive
    assert tables.total == 3
    # OM answers the whole range: `limit` is ignored and `after` is base64(endTs), always.
    column = client.get_profile_data(
        f"{fqn}.id", start, end - 1, limit=1, profile_type=ColumnProfile
    )
    assert [p.max for p in column.entities] == [2, 1] and column.total == 2
    assert base64.b64decode(column.after).decode() == str(end - 1)
    assert client.get_profile_data(f"{fqn}.s", start, end, profile_type=ColumnProfile).total == 0


def test_data_contracts_attach_to_their_table(client: Any, unique: str) -> None:
    table = tree(client, unique)
    fqn = model_str(table.fullyQualifiedName)

    def contract(name: str, columns: list[str], description: str = "v1") -> Any:
        return CreateDataContractRequest.model_validate(
            {
                "name": name,
                "description": description,
                "entity": {"id": model_str(table.id), "type": "table"},
                "schema": [{"name": c, "dataType": "BIGINT"} for c in columns],
            }
        )

    created = client.create_or_update(contract("orders", ["id"]))
    assert model_str(created.fullyQualifiedName) == f"{fqn}.dataContract_orders"
    assert model_str(created.entity.fullyQualifiedName) == fqn
    assert created.version.root == 0.1
    by_entity = client.get_data_contract_by_entity_id(table.id, "table")
    assert by_entity is not None and model_str(by_entity.id) == model_str(created.id)
    same = client.create_or_update(contract("orders", ["id"]))
    assert same.version.root == 0.1  # identical PUT: no new version
    assert client.create_or_update(contract("orders", ["id", "s"], "v2")).version.root == 0.2
    back = client.get_by_name(DataContract, f"{fqn}.dataContract_orders")
    assert back is not None and [c.name.root for c in back.schema_ or []] == ["id", "s"]
    assert model_str(back.description) == "v1"  # PUT never overwrites a description

    with pytest.raises(APIError, match="A data contract already exists for entity 'table'"):
        client.create_or_update(contract("second", ["id"]))
    other = tree(client, unique + "o")
    with pytest.raises(
        APIError, match="fields specified in the data contract do not exist in the table: ghost"
    ):
        client.create_or_update(
            contract("x", ["ghost"]).model_copy(
                update={"entity": {"id": model_str(other.id), "type": "table"}}
            )
        )
    listed = client.list_entities(DataContract, limit=1000).entities
    assert model_str(back.id) in {model_str(c.id) for c in listed}
    patched = client.patch(
        DataContract,
        back,
        back.model_copy(update={"description": type(back.description)("Agreed.")}),
        skip_on_failure=False,
    )
    # The bot's PATCH within 10 minutes of its own PUT is consolidated into that version.
    assert model_str(patched.description) == "Agreed." and patched.version.root == 0.2
    # A table HAS its contract, it does not contain it: a plain delete is allowed.
    client.delete(Table, table.id)
    assert client.get_by_name(Table, fqn) is None
    client.delete(DataContract, back.id, hard_delete=True)
    assert client.get_by_name(DataContract, f"{fqn}.dataContract_orders") is None


def test_extension_needs_custom_properties_of_the_right_type(client: Any, unique: str) -> None:
    from metadata.generated.schema.api.data.createCustomProperty import (
        CreateCustomPropertyRequest,
    )
    from metadata.ingestion.models.custom_properties import (
        CustomPropertyDataTypes,
        OMetaCustomProperties,
    )

    table = tree(client, unique)
    body = {
        "name": model_str(table.name),
        "databaseSchema": model_str(table.databaseSchema.fullyQualifiedName),
        "columns": [{"name": "id", "dataType": "BIGINT"}],
        "extension": {f"{unique}commits": 3},
    }
    with pytest.raises(APIError, match=f"Unknown custom field {unique}commits"):
        client.create_or_update(CreateTableRequest.model_validate(body))

    for name, data_type in ((f"{unique}commits", CustomPropertyDataTypes.INTEGER),):
        client.create_or_update_custom_property(
            OMetaCustomProperties(
                entity_type=Table,
                createCustomPropertyRequest=CreateCustomPropertyRequest.model_validate(
                    {
                        "name": name,
                        "description": "d",
                        "propertyType": client.get_property_type_ref(data_type),
                    }
                ),
            )
        )
    defined = {p["name"]: p for p in client.get_entity_custom_properties(Table)}
    assert defined[f"{unique}commits"]["propertyType"]["name"] == "integer"
    # A bot's PUT never changes custom-property values of an existing entity...
    kept = client.create_or_update(CreateTableRequest.model_validate(body))
    assert kept.extension is None
    # ...but they are set on create.
    created = client.create_or_update(
        CreateTableRequest.model_validate({**body, "name": f"{unique}fresh"})
    )
    assert created.extension.root == {f"{unique}commits": 3}
    with pytest.raises(APIError, match=f"Custom field {unique}commits has invalid JSON"):
        client.create_or_update(
            CreateTableRequest.model_validate({**body, "extension": {f"{unique}commits": "x"}})
        )


def test_bad_token_is_a_clear_401(server: Any) -> None:
    if server is None:
        pytest.skip("needs the sandbox's token")
    from metadata.generated.schema.entity.services.connections.metadata.openMetadataConnection import (
        OpenMetadataConnection,
    )
    from metadata.generated.schema.security.client.openMetadataJWTClientConfig import (
        OpenMetadataJWTClientConfig,
    )
    from metadata.ingestion.ometa.ometa_api import OpenMetadata

    from om_ingest.errors import OpenMetadataError
    from om_ingest.sandbox.testing import make_sdk_client

    # /v1/system/version is not authenticated on OM: the SDK connects with a bad token, and
    # the first entity call is the 401 ...
    raw = OpenMetadata(
        OpenMetadataConnection(
            hostPort=server.url,
            authProvider="openmetadata",
            securityConfig=OpenMetadataJWTClientConfig(jwtToken="not-the-token"),
        )
    )
    with pytest.raises(APIError) as rejected:
        raw.get_by_name(DatabaseService, "anything")
    assert rejected.value.code == 401
    # ... so om-ingest's connection makes one authenticated call and says so at once.
    with pytest.raises(OpenMetadataError, match=r"rejected the JWT \(401\)"):
        make_sdk_client(server.url, "not-the-token")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], exclude_characters='"/\\'),
        min_size=1,
        max_size=20,
    ).filter(lambda s: s.strip() == s and "::" not in s and ">" not in s)
)
def test_names_with_dots_spaces_and_unicode_round_trip(client: Any, name: str) -> None:
    from om_ingest import fqns

    service = client.create_or_update(
        CreateDatabaseServiceRequest(name=name, serviceType="CustomDatabase")
    )
    assert model_str(service.fullyQualifiedName) == fqns.child(None, name)
    database = client.create_or_update(
        CreateDatabaseRequest(name=f"{name}.db", service=model_str(service.fullyQualifiedName))
    )
    expected = fqns.child(fqns.child(None, name), f"{name}.db")
    assert model_str(database.fullyQualifiedName) == expected
    assert client.get_by_name(Database, expected) is not None


@sandbox_only
def test_persistence_across_restart(tmp_path: Path) -> None:
    from om_ingest.sandbox import ThreadedSandbox
    from om_ingest.sandbox.testing import make_sdk_client

    profile = {"tableProfile": {"timestamp": 1_700_000_000_000, "rowCount": 7}}
    with ThreadedSandbox(JWT, data_dir=tmp_path) as first:
        client = make_sdk_client(first.url, JWT)
        table = tree(client, "p_")
        client.ingest_profile_data(table, CreateTableProfileRequest.model_validate(profile))
    with ThreadedSandbox(JWT, data_dir=tmp_path) as second:
        client = make_sdk_client(second.url, JWT)
        fqn = model_str(table.fullyQualifiedName)
        again = client.get_by_name(Table, fqn, fields=["columns"])
        assert again is not None and model_str(again.id) == model_str(table.id)
        assert [c.name.root for c in again.columns] == ["id", "s"]
        history = client.get_profile_data(fqn, 0, 2_000_000_000_000, profile_type=TableProfile)
        assert [p.rowCount for p in history.entities] == [7]


@sandbox_only
def test_fault_injection_is_deterministic_and_logged() -> None:
    from om_ingest.sandbox import FaultConfig, ThreadedSandbox
    from om_ingest.sandbox.testing import make_sdk_client

    def run() -> list[int]:
        with ThreadedSandbox(
            JWT, faults=FaultConfig(fail_rate=0.5, fail_status=503, seed=11)
        ) as flaky:
            client = make_sdk_client(flaky.url, JWT)
            for i in range(20):
                try:
                    client.get_by_name(DatabaseService, f"s{i}")
                except Exception:
                    continue
            log = [e for e in flaky.requests() if e["path"].startswith("/api/v1/services")]
            assert all(e["status"] == 503 for e in log if e["injected"])
            assert all(e["status"] == 404 for e in log if not e["injected"])
            return [e["status"] for e in log]

    first = run()
    assert 503 in first and 404 in first
    assert run() == first


@sandbox_only
def test_request_log_never_holds_the_token(server: Any, client: Any, unique: str) -> None:
    tree(client, unique)
    assert server.requests() and JWT not in json.dumps(server.requests())
