"""What OM records and versions: tracked fields only, column matching, PATCH consolidation,
restores. Driven through the SDK as bot and user."""

from __future__ import annotations

import json
from typing import Any

import pytest
from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
from metadata.generated.schema.entity.data.table import Table
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import label, put_table, schema, table_request

PARTITION = {"columns": [{"columnName": "id", "intervalType": "COLUMN-VALUE"}]}


def test_untracked_fields_alone_are_dropped_not_versioned(client: Any, unique: str) -> None:
    created = put_table(client, unique)
    fqn = model_str(created.fullyQualifiedName)
    same = client.create_or_update(
        table_request(unique, tablePartition=PARTITION, fileFormat="parquet")
    )
    assert same.version.root == 0.1
    read = client.get_by_name(Table, fqn, fields=["tablePartition"])
    assert read.tablePartition is None and read.fileFormat is None
    display = [
        {"name": "id", "dataType": "BIGINT", "dataTypeDisplay": "long"},
        {"name": "s", "dataType": "STRUCT", "children": [{"name": "a", "dataType": "INT"}]},
    ]
    assert client.create_or_update(table_request(unique, columns=display)).version.root == 0.1
    # With a tracked change the whole proposal is stored, the untracked part unversioned.
    changed = client.create_or_update(
        table_request(unique, tablePartition=PARTITION, tableType="External")
    )
    assert changed.version.root == 0.2
    recorded = [*changed.changeDescription.fieldsAdded, *changed.changeDescription.fieldsUpdated]
    assert [f.name.root for f in recorded] == ["tableType"]
    assert client.get_by_name(Table, fqn, fields=["tablePartition"]).tablePartition is not None


def test_columns_match_ignoring_case_and_retype_is_delete_plus_add(
    client: Any, unique: str
) -> None:
    columns = [
        {
            "name": "id",
            "dataType": "BIGINT",
            "description": "key",
            "tags": [label("PII.Sensitive")],
        },
        {"name": "n", "dataType": "STRING"},
    ]
    put_table(client, unique, columns=columns)
    upper = [{**columns[0], "name": "ID"}, columns[1]]
    assert client.create_or_update(table_request(unique, columns=upper)).version.root == 0.1
    retyped = client.create_or_update(
        table_request(
            unique,
            columns=[{"name": "id", "dataType": "STRING"}, {"name": "n", "dataType": "STRING"}],
        )
    )
    assert retyped.version.root == 1.1  # a retype deletes a column: major
    change = retyped.changeDescription
    assert [f.name.root for f in change.fieldsDeleted] == ["columns"]
    assert [c["dataType"] for c in json.loads(change.fieldsAdded[0].newValue)] == ["STRING"]
    column = retyped.columns[0]
    assert model_str(column.description) == "key"  # carried over
    assert not column.tags  # curated tags are not


def test_patch_by_the_same_user_within_ten_minutes_is_consolidated(
    client: Any, user_client: Any, unique: str
) -> None:
    put_table(client, unique)
    put = client.create_or_update(table_request(unique, tableType="External"))
    assert put.version.root == 0.2
    read = client.get_by_name(Table, model_str(put.fullyQualifiedName))
    patched = client.patch_description(Table, read, description="by the bot", force=True)
    assert patched.version.root == 0.2  # PUT then PATCH by one user: one version
    fields = {f.name.root for f in patched.changeDescription.fieldsAdded}
    fields |= {f.name.root for f in patched.changeDescription.fieldsUpdated}
    assert fields == {"description", "tableType"}
    assert patched.changeDescription.previousVersion.root == 0.1
    history = client.list_versions(model_str(put.id), Table)
    assert [json.loads(v)["version"] for v in history.versions] == [0.2, 0.1]
    by_user = user_client.patch_description(Table, patched, description="by a user", force=True)
    assert by_user.version.root == 0.3  # another user: a new version
    again = user_client.patch_description(Table, by_user, description="by a user, 2", force=True)
    assert again.version.root == 0.3
    # PUTs are never consolidated.
    second_put = user_client.create_or_update(table_request(unique, tableType="Regular"))
    assert second_put.version.root == 0.4


def test_put_restores_a_soft_deleted_entity_and_its_children(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    fqn = model_str(table.fullyQualifiedName)
    sch = client.get_by_name(DatabaseSchema, f"{unique}svc.{unique}db.{unique}sch")
    client.delete(DatabaseSchema, model_str(sch.id), recursive=True)
    assert client.get_by_name(Table, fqn) is None
    # A PUT under the soft-deleted schema works (the parent is looked up with include=all)...
    under = client.create_or_update(table_request(unique, name="new"))
    assert under.version.root == 0.1
    # ...and a PUT of the schema restores it and, recursively, its soft-deleted tables.
    schema(client, unique)
    restored = client.get_by_name(Table, fqn)
    assert restored is not None and not restored.deleted


def test_patch_on_a_deleted_entity_is_404_and_cannot_rename(client: Any, unique: str) -> None:
    table = put_table(client, unique)
    renamed = client.patch(
        Table,
        table,
        table.model_copy(update={"name": type(table.name)("other")}),
        skip_on_failure=False,
    )
    assert model_str(renamed.name) == f"{unique}tbl"
    client.delete(Table, model_str(table.id))
    gone = client.patch_description(Table, table, description="late", force=True)
    assert gone is None  # the SDK swallows the 404
    with pytest.raises(RuntimeError, match=r"table instance for .* not found"):
        client.patch(
            Table, table, table.model_copy(update={"displayName": "x"}), skip_on_failure=False
        )
