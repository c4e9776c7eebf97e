"""OM's checks on create and update: columns, tags, owners, reference shapes, enum values.
Driven through the SDK; runs against a real OM with OM_URL + OM_JWT."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metadata.generated.schema.api.classification.createClassification import (
    CreateClassificationRequest,
)
from metadata.generated.schema.api.classification.createTag import CreateTagRequest
from metadata.generated.schema.api.data.createCustomProperty import CreateCustomPropertyRequest
from metadata.generated.schema.api.teams.createTeam import CreateTeamRequest
from metadata.generated.schema.api.teams.createUser import CreateUserRequest
from metadata.generated.schema.entity.classification.tag import Tag
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.teams.team import Team
from metadata.generated.schema.entity.teams.user import User
from metadata.ingestion.models.custom_properties import (
    CustomPropertyDataTypes,
    OMetaCustomProperties,
)
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import label, put_table, schema, table_request

BAD_COLUMNS = [
    ([{"name": "a", "dataType": "INT"}, {"name": "a", "dataType": "INT"}], "repeated"),
    ([{"name": "a", "dataType": "VARCHAR"}], "dataLength must not be null"),
    ([{"name": "a", "dataType": "CHAR"}], "dataLength must not be null"),
    ([{"name": "a", "dataType": "BINARY"}], "dataLength must not be null"),
    ([{"name": "a", "dataType": "ARRAY"}], "arrayDataType must not be null"),
    ([{"name": "a", "dataType": "STRUCT"}], "children must not be null"),
    ([{"name": "a", "dataType": "DECIMAL", "precision": 2, "scale": 3}], "Scale"),
]


@pytest.mark.parametrize(("columns", "message"), BAD_COLUMNS)
def test_bad_columns_are_400(client: Any, unique: str, columns: Any, message: str) -> None:
    schema(client, unique)
    with pytest.raises(APIError, match=message) as bad:
        client.create_or_update(table_request(unique, columns=columns))
    assert bad.value.code == 400


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data_type=st.sampled_from(["INT", "BIGINT", "STRING", "DATE", "TIMESTAMP", "BOOLEAN"]),
    display=st.one_of(st.none(), st.from_regex(r"[A-Za-z][A-Za-z0-9<>(), ]{0,15}", fullmatch=True)),
)
def test_data_type_display_is_defaulted_and_lower_cased(
    client: Any, data_type: str, display: str | None
) -> None:
    p = "disp_"
    schema(client, p)
    column = {"name": "c", "dataType": data_type}
    if display is not None:
        column["dataTypeDisplay"] = display
    table = client.create_or_update(table_request(p, name=f"t_{data_type}", columns=[column]))
    fqn = model_str(table.fullyQualifiedName)
    client.delete(Table, model_str(table.id), hard_delete=True)
    created = client.create_or_update(table_request(p, name=f"t_{data_type}", columns=[column]))
    assert created.columns[0].dataTypeDisplay == (display or data_type).lower(), fqn


def test_tags_must_exist_and_respect_mutual_exclusion(client: Any, unique: str) -> None:
    schema(client, unique)
    with pytest.raises(APIError) as unknown:
        client.create_or_update(table_request(unique, tags=[label("Tier.Tier9")]))
    assert unknown.value.code == 404
    with pytest.raises(APIError, match="mutually exclusive") as exclusive:
        client.create_or_update(
            table_request(unique, tags=[label("Tier.Tier1"), label("Tier.Tier2")])
        )
    assert exclusive.value.code == 400
    column = [
        {
            "name": "c",
            "dataType": "INT",
            "tags": [label("PII.Sensitive"), label("PII.NonSensitive")],
        }
    ]
    with pytest.raises(APIError) as in_column:
        client.create_or_update(table_request(unique, columns=column))
    assert in_column.value.code == 400
    fine = client.create_or_update(
        table_request(
            unique,
            tags=[
                label("Tier.Tier1"),
                label("PersonalData.Personal"),
                label("PersonalData.SpecialCategory"),
            ],
        )
    )
    assert len(fine.tags) == 3
    # PUT merges tags, so a second Tier tag on PUT makes the pair: 400 as well.
    with pytest.raises(APIError) as merged:
        client.create_or_update(table_request(unique, tags=[label("Tier.Tier3")]))
    assert merged.value.code == 400


def test_owners_are_users_or_group_teams_deleted_ones_allowed(client: Any, unique: str) -> None:
    organization = client.get_by_name(Team, "Organization")
    schema(client, unique)
    with pytest.raises(APIError, match="Only Team of type Group") as org:
        client.create_or_update(
            table_request(unique, owners=[{"id": model_str(organization.id), "type": "team"}])
        )
    assert org.value.code == 400
    group = client.create_or_update(CreateTeamRequest(name=f"{unique}group", teamType="Group"))
    owned = client.create_or_update(
        table_request(unique, owners=[{"id": model_str(group.id), "type": "team"}])
    )
    assert [model_str(o.name) for o in owned.owners.root] == [f"{unique}group"]
    user = client.create_or_update(
        CreateUserRequest(name=f"{unique}gone", email=f"{unique}gone@example.com")
    )
    client.delete(User, model_str(user.id))
    by_deleted = client.create_or_update(
        table_request(unique, name="t2", owners=[{"id": model_str(user.id), "type": "user"}])
    )
    assert [model_str(o.name) for o in by_deleted.owners.root] == [f"{unique}gone"]


def test_create_shapes_the_sdk_sends(client: Any, unique: str) -> None:
    user = client.create_or_update(
        CreateUserRequest(name=f"{unique}member", email=f"{unique}member@example.com")
    )
    team = client.create_or_update(
        CreateTeamRequest(name=f"{unique}team", teamType="Group", users=[user.id])
    )
    read = client.get_by_name(Team, f"{unique}team", fields=["users"])
    assert [model_str(u.id) for u in read.users.root] == [model_str(user.id)]
    assert model_str(team.fullyQualifiedName) == f"{unique}team"
    client.create_or_update(CreateClassificationRequest(name=f"{unique}cls", description="c"))
    client.create_or_update(
        CreateTagRequest(classification=f"{unique}cls", name="parent", description="p")
    )
    child = client.create_or_update(
        CreateTagRequest(
            classification=f"{unique}cls", parent=f"{unique}cls.parent", name="kid", description="k"
        )
    )
    assert model_str(child.fullyQualifiedName) == f"{unique}cls.parent.kid"
    assert client.get_by_name(Tag, f"{unique}cls.parent.kid") is not None


def test_enum_custom_property_values_come_back_sorted(client: Any, unique: str) -> None:
    prop = f"{unique}colors"
    client.create_or_update_custom_property(
        OMetaCustomProperties(
            entity_type=Table,
            createCustomPropertyRequest=CreateCustomPropertyRequest.model_validate(
                {
                    "name": prop,
                    "description": "d",
                    "propertyType": client.get_property_type_ref(CustomPropertyDataTypes.ENUM),
                    "customPropertyConfig": {
                        "config": {"values": ["red", "green", "blue"], "multiSelect": True}
                    },
                }
            ),
        )
    )
    created = put_table(client, unique, extension={prop: ["red", "blue"]})
    assert created.extension.root == {prop: ["blue", "red"]}


def test_service_secrets_are_masked_for_users_not_for_the_bot(
    client: Any, user_client: Any, unique: str
) -> None:
    from metadata.generated.schema.api.services.createDatabaseService import (
        CreateDatabaseServiceRequest,
    )
    from metadata.generated.schema.entity.services.databaseService import DatabaseService

    request = CreateDatabaseServiceRequest.model_validate(
        {
            "name": f"{unique}mysql",
            "serviceType": "Mysql",
            "connection": {
                "config": {
                    "type": "Mysql",
                    "username": "u",
                    "authType": {"password": "hunter2"},
                    "hostPort": "db:3306",
                }
            },
        }
    )
    client.create_or_update(request)
    as_user = user_client.get_by_name(DatabaseService, f"{unique}mysql")
    as_bot = client.get_by_name(DatabaseService, f"{unique}mysql")
    assert as_user.connection.config.authType.password.get_secret_value() == "*********"
    assert as_bot.connection.config.authType.password.get_secret_value() == "hunter2"
