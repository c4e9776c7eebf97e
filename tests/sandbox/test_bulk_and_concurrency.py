"""`PUT /{collection}/bulk` (the SDK's bulk_create_or_update) and concurrent creates."""

from __future__ import annotations

import threading
from typing import Any

from metadata.generated.schema.api.data.bulkCreateTable import BulkCreateTable
from metadata.generated.schema.api.data.createTable import CreateTableRequest
from metadata.generated.schema.api.services.createDatabaseService import (
    CreateDatabaseServiceRequest,
)
from metadata.generated.schema.entity.data.table import Table
from metadata.ingestion.ometa.client import APIError

from tests.sandbox.om_helpers import schema, table_request


def test_bulk_rows_follow_single_put_rules_and_fail_alone(client: Any, unique: str) -> None:
    target = schema(client, unique)
    rows = [table_request(unique, name=f"b{i}", description=f"source {i}") for i in range(3)]
    bad = CreateTableRequest.model_validate(
        {"name": "bad", "databaseSchema": target, "columns": [{"name": "v", "dataType": "VARCHAR"}]}
    )
    orphan = CreateTableRequest.model_validate(
        {
            "name": "orphan",
            "databaseSchema": f"{unique}nowhere.db.sch",
            "columns": [{"name": "v", "dataType": "INT"}],
        }
    )
    result = client.bulk_create_or_update([*rows, bad, orphan])
    assert result.numberOfRowsProcessed.root == 5
    assert result.numberOfRowsFailed.root == 2
    assert sorted(r.status for r in result.successRequest) == [201, 201, 201]
    failures = {r.request["name"]: (r.status, r.message) for r in result.failedRequest}
    assert failures["bad"][0] == 400 and "dataLength" in failures["bad"][1]
    assert failures["orphan"][0] == 404
    assert client.get_by_name(Table, f"{target}.bad") is None
    # A second batch by the bot: existing descriptions kept, versions as for single PUTs.
    again = [table_request(unique, name=f"b{i}", description="changed") for i in range(3)]
    second = client.bulk_create_or_update(again)
    assert [r.status for r in second.successRequest] == [200, 200, 200]
    kept = client.get_by_name(Table, f"{target}.{unique}b0")
    assert kept.description.root == "source 0" and kept.version.root == 0.1
    # overrideMetadata lets the bot's rows overwrite curated descriptions.
    client.bulk_create_or_update(again, override_metadata=True)
    overwritten = client.get_by_name(Table, f"{target}.{unique}b0")
    assert overwritten.description.root == "changed" and overwritten.version.root == 0.2
    assert overwritten.changeDescription.fieldsUpdated[0].name.root == "description"


def test_bulk_tables_endpoint_of_the_table_mixin(client: Any, unique: str) -> None:
    target = schema(client, unique)
    result = client.bulk_create_or_update_tables(
        BulkCreateTable(tables=[table_request(unique, name="x"), table_request(unique, name="y")])
    )
    assert result.numberOfRowsPassed.root == 2
    assert sorted(r.request for r in result.successRequest) == [
        f"{target}.{unique}x",
        f"{target}.{unique}y",
    ]


def test_concurrent_creates_of_one_fqn_one_wins_the_others_409(client: Any, unique: str) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def create() -> None:
        barrier.wait()
        try:
            client.create(
                CreateDatabaseServiceRequest(name=f"{unique}race", serviceType="CustomDatabase")
            )
            outcomes.append("created")
        except APIError as exc:
            outcomes.append(str(exc.code))

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["409", "409", "409", "created"]


def test_bulk_skips_rows_whose_source_hash_is_unchanged(
    client: Any, user_client: Any, unique: str
) -> None:
    target = schema(client, unique)
    row = table_request(unique, name="h", sourceHash="abc")
    client.bulk_create_or_update([row])
    fqn = f"{target}.{unique}h"
    curated = user_client.patch_description(
        Table, client.get_by_name(Table, fqn), description="edited in the UI", force=True
    )
    assert curated.version.root == 0.2
    changed_columns = table_request(
        unique, name="h", sourceHash="abc", columns=[{"name": "z", "dataType": "INT"}]
    )
    result = client.bulk_create_or_update([changed_columns], override_metadata=True)
    assert [r.status for r in result.successRequest] == [200]
    same = client.get_by_name(Table, fqn)
    assert same.version.root == 0.2 and [c.name.root for c in same.columns] == ["id", "s"]
    assert same.description.root == "edited in the UI"


def test_bulk_create_drops_column_custom_properties_single_put_keeps_them(
    client: Any, unique: str
) -> None:
    """OM #29492: `PUT /tables/bulk` does not store a new table's column-level extension;
    a single PUT does, and a bulk row updating an existing table keeps what it holds."""
    target = schema(client, unique)
    columns = [{"name": "id", "dataType": "INT", "extension": {"note": "k"}}]
    client.create_or_update(table_request(unique, name="single", columns=columns))
    client.bulk_create_or_update([table_request(unique, name="bulk", columns=columns)])
    single = client.get_by_name(Table, f"{target}.{unique}single", fields=["columns"])
    bulk = client.get_by_name(Table, f"{target}.{unique}bulk", fields=["columns"])
    assert single.columns[0].extension is not None
    assert bulk.columns[0].extension is None
    client.bulk_create_or_update([table_request(unique, name="single", columns=columns)])
    again = client.get_by_name(Table, f"{target}.{unique}single", fields=["columns"])
    assert again.columns[0].extension is not None
