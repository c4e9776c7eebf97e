"""Who calls decides what a PUT may change (EntityUpdater), and what a fresh OM has.

Driven through the SDK as the ingestion bot (`client`) and as a non-bot admin
(`user_client`); set OM_URL, OM_JWT and OM_USER_JWT to run against a real OpenMetadata.
"""

from __future__ import annotations

from typing import Any

from metadata.generated.schema.api.data.createCustomProperty import CreateCustomPropertyRequest
from metadata.generated.schema.entity.bot import Bot
from metadata.generated.schema.entity.classification.classification import Classification
from metadata.generated.schema.entity.classification.tag import Tag
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.teams.team import Team
from metadata.generated.schema.entity.teams.user import User
from metadata.ingestion.models.custom_properties import (
    CustomPropertyDataTypes,
    OMetaCustomProperties,
)
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.conftest import REAL_OM, sandbox_only
from tests.sandbox.om_helpers import put_table, table_request


def test_a_fresh_om_has_its_builtins(client: Any) -> None:
    admin = client.get_by_name(User, "admin")
    bot_user = client.get_by_name(User, "ingestion-bot")
    assert admin is not None and bot_user is not None and bot_user.isBot
    bot = client.get_by_name(Bot, "ingestion-bot")
    assert bot is not None and model_str(bot.botUser.name) == "ingestion-bot"
    organization = client.get_by_name(Team, "Organization")
    assert organization is not None and organization.teamType.value == "Organization"
    expected = {
        "Tier": (True, {f"Tier{n}" for n in range(1, 6)}),
        "PII": (True, {"Sensitive", "NonSensitive", "None"}),
        "PersonalData": (False, {"Personal", "SpecialCategory"}),
    }
    for name, (exclusive, tags) in expected.items():
        classification = client.get_by_name(Classification, name)
        assert classification is not None and bool(classification.mutuallyExclusive) is exclusive
        for tag in tags:
            assert client.get_by_name(Tag, f"{name}.{tag}") is not None, f"{name}.{tag}"


def test_bot_put_keeps_a_description_a_user_put_overwrites_it(
    client: Any, user_client: Any, unique: str
) -> None:
    created = put_table(client, unique, description="from source")
    assert created.updatedBy == "ingestion-bot"
    again = client.create_or_update(table_request(unique, description="changed at source"))
    assert model_str(again.description) == "from source" and again.version.root == 0.1
    by_user = user_client.create_or_update(table_request(unique, description="curated"))
    assert model_str(by_user.description) == "curated" and by_user.updatedBy == "admin"
    assert by_user.version.root == 0.2
    erased = user_client.create_or_update(table_request(unique))
    assert erased.description is None  # a user's PUT without one deletes it
    filled = client.create_or_update(table_request(unique, description="from source"))
    assert model_str(filled.description) == "from source"  # empty: the bot may fill it


def test_bot_column_descriptions_are_kept_too(client: Any, user_client: Any, unique: str) -> None:
    columns = [{"name": "id", "dataType": "BIGINT", "description": "curated key"}]
    put_table(user_client, unique, columns=columns)
    plain = [{"name": "id", "dataType": "BIGINT", "description": "source key"}]
    kept = client.create_or_update(table_request(unique, columns=plain))
    assert model_str(kept.columns[0].description) == "curated key"
    overwritten = user_client.create_or_update(table_request(unique, columns=plain))
    assert model_str(overwritten.columns[0].description) == "source key"


def test_any_put_without_display_name_erases_it(client: Any, unique: str) -> None:
    created = put_table(client, unique, displayName="Nice name")
    assert created.displayName == "Nice name"
    again = client.create_or_update(table_request(unique))
    assert again.displayName is None and again.version.root == 0.2


def test_bot_put_never_changes_extension_user_put_and_patch_do(
    client: Any, user_client: Any, unique: str
) -> None:
    prop = f"{unique}commits"
    client.create_or_update_custom_property(
        OMetaCustomProperties(
            entity_type=Table,
            createCustomPropertyRequest=CreateCustomPropertyRequest.model_validate(
                {
                    "name": prop,
                    "description": "d",
                    "propertyType": client.get_property_type_ref(CustomPropertyDataTypes.INTEGER),
                }
            ),
        )
    )
    created = put_table(client, unique, extension={prop: 1})
    assert created.extension.root == {prop: 1}
    bot_put = client.create_or_update(table_request(unique, extension={prop: 2}))
    assert bot_put.extension.root == {prop: 1} and bot_put.version.root == 0.1
    user_put = user_client.create_or_update(table_request(unique, extension={prop: 3}))
    assert user_put.extension.root == {prop: 3} and user_put.updatedBy == "admin"
    no_extension = user_client.create_or_update(table_request(unique))
    assert no_extension.extension.root == {prop: 3}  # a null extension on PUT keeps it
    read = client.get_by_name(Table, model_str(created.fullyQualifiedName), fields=["extension"])
    patched = client.patch(
        Table,
        read,
        read.model_copy(update={"extension": type(read.extension)({prop: 4})}),
        skip_on_failure=False,
    )
    assert patched.extension.root == {prop: 4}  # values change by PATCH


@sandbox_only
def test_cli_user_tokens_are_users_and_the_jwt_token_is_the_bot() -> None:
    from om_ingest.sandbox import SandboxServer
    from om_ingest.sandbox.testing import make_sdk_client
    from tests.conftest import JWT
    from tests.sandbox.conftest import USER_JWT

    with SandboxServer(JWT, user_tokens=[USER_JWT, "second-user-token"]) as server:
        bot = make_sdk_client(server.url, JWT)
        user = make_sdk_client(server.url, "second-user-token")
        created = put_table(bot, "cli_")
        assert created.updatedBy == "ingestion-bot"
        edited = user.create_or_update(table_request("cli_", description="by a user"))
        assert edited.updatedBy == "admin" and model_str(edited.description) == "by a user"


def test_logged_in_user_is_the_tokens_owner(client: Any, user_client: Any) -> None:
    bot = User.model_validate(client.client.get("/users/loggedInUser"))
    assert model_str(bot.name) == "ingestion-bot" and bot.isBot
    person = User.model_validate(user_client.client.get("/users/loggedInUser"))
    assert not person.isBot and (REAL_OM or model_str(person.name) == "admin")
