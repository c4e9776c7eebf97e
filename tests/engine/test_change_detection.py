"""Config edits reach OM at every depth; curated values (changed by people) survive.

Runs the ingest flow against the sandbox with two tokens, as a real OM would see them: the
ingestion bot (om-ingest's JWT) and an admin user (`USER_JWT`) standing in for a person
editing in the UI.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from metadata.generated.schema.entity.data.table import Table

from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT, USER_JWT
from tests.flows.test_ingest_flow import COLUMNS, audit_events, run, stack, write_config

FQN = "sales_svc.sales.core.orders"
FIELDS = ["columns", "tags", "owners", "extension"]


def _columns() -> list[dict[str, Any]]:
    columns = copy.deepcopy(COLUMNS)
    columns[0]["description"] = "Order id."
    columns[2]["children"][0]["description"] = "City."
    return columns


def _table_event(summary: dict[str, Any]) -> dict[str, Any]:
    (event,) = [e for e in audit_events(summary) if e["fqn"] == FQN]
    return event


def _column(table: Any, *path: str) -> Any:
    columns = table.columns
    for name in path:
        column = next(c for c in columns if c.name.root == name)
        columns = column.children or []
    return column


def _latest_artifact(key: str) -> str:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read() -> str:
        async with get_client() as client:
            (artifact,) = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                sort=ArtifactSort.CREATED_DESC,
                limit=1,
            )
            return str(artifact.data)

    return asyncio.run(read())


def _tags(node: Any) -> set[str]:
    return {t.tagFQN.root for t in node.tags or []}


def test_column_metadata_edits_are_detected_previewed_applied_and_audited(
    om_env: Any, tmp_path: Path
) -> None:
    entities = stack(_columns())
    run(write_config(tmp_path, entities))

    edited = _columns()
    edited[2]["children"][0]["description"] = "Town."  # nested description
    edited[0]["tags"] = ["PII.Sensitive"]  # a column tag
    edited[1]["constraint"] = "NOT_NULL"  # a column constraint
    entities[0]["properties"]["columns"] = edited
    config = write_config(tmp_path, entities)

    om_env.clear_requests()
    preview = run(config, dry_run=True)
    assert om_env.write_calls() == []
    changes = {
        c["field"]: (c["before"], c["after"]) for c in _table_event(preview)["field_changes"]
    }
    assert changes["columns.address.city.description"] == ("City.", "Town.")
    assert changes["columns.id.tags"] == ([], ["PII.Sensitive"])
    assert changes["columns.amount.constraint"] == (None, "NOT_NULL")
    diff = _latest_artifact("dry-run-flow-test")
    assert "| field | `columns.address.city.description` | City. | Town. |" in diff

    applied = _table_event(run(config))
    assert applied["operation"] == "UPDATE" and applied["outcome"] == "success"
    assert {c["field"] for c in applied["field_changes"]} == set(changes)
    client = make_sdk_client(om_env.url, JWT)
    table = client.get_by_name(Table, FQN, fields=FIELDS)
    assert _column(table, "address", "city").description.root == "Town."
    assert _tags(_column(table, "id")) == {"PII.Sensitive"}
    assert _column(table, "amount").constraint.value == "NOT_NULL"

    om_env.clear_requests()
    again = run(config, refresh_cache=True)
    assert om_env.write_calls() == []  # in step: nothing more to write
    assert _table_event(again)["operation"] == "SKIP"


def test_curated_values_are_kept_and_own_values_replaced(om_env: Any, tmp_path: Path) -> None:
    columns = _columns()
    columns[0]["tags"] = ["PII.Sensitive"]
    entities = stack(columns)
    entities[0]["properties"]["tags"] = ["Tier.Tier2"]
    run(write_config(tmp_path, entities))

    # A person curates in the UI: the id column's description, and adds a tag of their own.
    user = make_sdk_client(om_env.url, USER_JWT)
    table = user.get_by_name(Table, FQN, fields=FIELDS)
    curated = table.model_copy(deep=True)
    _column(curated, "id").description = type(table.description)("Curated id.")
    curated.tags = [
        *table.tags,
        table.tags[0].model_copy(update={"tagFQN": "PersonalData.Personal"}),
    ]
    assert user.patch(Table, table, curated, skip_on_failure=False) is not None

    # The config edits both descriptions, drops its own table tag and its column tag.
    edited = _columns()
    edited[0]["description"] = "The order's id."
    edited[2]["children"][0]["description"] = "Town."
    entities[0]["properties"]["columns"] = edited
    entities[0]["properties"]["tags"] = []
    summary = run(write_config(tmp_path, entities))
    event = _table_event(summary)
    kept = {c["field"] for c in event["kept_curated"]}
    assert kept == {"columns.id.description"}
    bot = make_sdk_client(om_env.url, JWT)
    after = bot.get_by_name(Table, FQN, fields=FIELDS)
    assert _column(after, "id").description.root == "Curated id."  # curated: kept
    assert _column(after, "address", "city").description.root == "Town."  # ours: replaced
    assert _tags(after) == {"PersonalData.Personal"}  # ours removed, theirs kept
    assert _tags(_column(after, "id")) == set()

    # override: true makes the config's values exact, curated or not.
    entities[0]["override"] = True
    summary = run(write_config(tmp_path, entities))
    assert _table_event(summary)["kept_curated"] == []
    exact = bot.get_by_name(Table, FQN, fields=FIELDS)
    assert _column(exact, "id").description.root == "The order's id."
    assert _tags(exact) == set()


def test_a_changed_custom_property_reaches_om_under_a_bot_token(
    om_env: Any, tmp_path: Path
) -> None:
    """A bot's PUT never changes `extension`: the new value goes by JSON Patch."""
    entities = stack()
    entities[0]["properties"]["custom_properties"] = {"refresh": "daily", "rows": 5}
    run(write_config(tmp_path, entities))
    entities[0]["properties"]["custom_properties"] = {"refresh": "hourly", "rows": 5}
    config = write_config(tmp_path, entities)
    changes = _table_event(run(config))["field_changes"]
    assert [(c["field"], c["before"], c["after"]) for c in changes] == [
        ("extension.refresh", "daily", "hourly")
    ]
    table = make_sdk_client(om_env.url, JWT).get_by_name(Table, FQN, fields=["extension"])
    assert table.extension.root["refresh"] == "hourly"
    om_env.clear_requests()
    run(config, refresh_cache=True)
    assert om_env.write_calls() == []


def test_a_cache_hit_on_a_recreated_entity_is_not_trusted(om_env: Any, tmp_path: Path) -> None:
    """Deleted and re-created out of band, an entity is back at version 0.1 with another id:
    the cached write must not pass for it."""
    config = write_config(tmp_path, stack())
    run(config)
    client = make_sdk_client(om_env.url, JWT)
    table = client.get_by_name(Table, FQN, fields=["columns"])
    client.delete(Table, table.id, hard_delete=True)
    from metadata.generated.schema.api.data.createTable import CreateTableRequest

    recreated = client.create_or_update(
        CreateTableRequest(
            name="orders", databaseSchema="sales_svc.sales.core", columns=table.columns
        )
    )
    assert recreated.version.root == table.version.root  # same version, another entity
    event = _table_event(run(config))
    assert "cache hit" not in event["reason"]
    assert event["entity_id"] == str(recreated.id.root)
    assert event["operation"] == "UPDATE"  # the config's description is back
    restored = client.get_by_name(Table, FQN)
    assert restored.description.root == "Orders."


def test_inherited_owners_do_not_count_as_set(om_env: Any, tmp_path: Path) -> None:
    """OM shows a table without owners with its schema's, marked inherited: the config's
    owners for the table must still be set, and a table without config owners is left be."""
    from metadata.generated.schema.api.teams.createTeam import CreateTeamRequest
    from metadata.generated.schema.api.teams.createUser import CreateUserRequest

    client = make_sdk_client(om_env.url, JWT)
    client.create_or_update(CreateUserRequest(name="alice", email="alice@example.com"))
    team = client.create_or_update(CreateTeamRequest(name="finance", teamType="Group"))
    entities = stack()
    entities[1]["properties"]["owners"] = ["alice"]  # the schema's
    config = write_config(tmp_path, entities)
    run(config)
    table = client.get_by_name(Table, FQN, fields=["owners"])
    assert [(o.name, o.inherited) for o in table.owners.root] == [("alice", True)]
    om_env.clear_requests()
    run(config, refresh_cache=True)
    assert om_env.write_calls() == []  # inherited owners are no difference

    entities[0]["properties"]["owners"] = ["finance"]
    event = _table_event(run(write_config(tmp_path, entities)))
    assert [(c["field"], c["before"], c["after"]) for c in event["field_changes"]] == [
        ("owners", [], ["finance"])
    ]
    table = client.get_by_name(Table, FQN, fields=["owners"])
    assert [(str(o.id.root), bool(o.inherited)) for o in table.owners.root] == [
        (str(team.id.root), False)
    ]
