"""Tables streamed into a schema OM does not hold yet: one probe replaces a GET per table."""

from __future__ import annotations

from typing import Any

import pytest

from om_ingest.config.models import EntityConfig, IdempotencyMode
from om_ingest.engine.executor import EntityTask, apply_entity, probe_parent
from om_ingest.engine.results import Operation
from om_ingest.openmetadata import OMClient
from om_ingest.planning import PackedEntity, build_plan
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT

SCHEMA = "svc.db.core"


def parents() -> list[EntityConfig]:
    return [
        EntityConfig.model_validate(e)
        for e in (
            {"type": "database_service", "name": "svc"},
            {"type": "database", "name": "db", "properties": {"service": "svc"}},
            {"type": "database_schema", "name": "core", "properties": {"database": "svc.db"}},
        )
    ]


def table(name: str, column_type: str = "STRING") -> PackedEntity:
    return PackedEntity.pack(
        EntityConfig.model_validate(
            {
                "type": "table",
                "name": name,
                "discovered_from": "lake",
                "properties": {
                    "database_schema": SCHEMA,
                    "columns": [
                        {"name": "id", "data_type": "BIGINT"},
                        {"name": "v", "data_type": column_type},
                    ],
                },
            }
        )
    )


def run(client: OMClient, specs: list[Any], group: bool = True) -> dict[str, Operation]:
    plan = build_plan([*parents(), *specs])
    tasks = [
        EntityTask(node=n, mode=IdempotencyMode.UPDATE, override=False, dry_run=False)
        for n in plan.order
    ]
    for task in tasks[:3]:
        apply_entity(client.scoped(), task)
    if group:  # what the flow does before a discovery entity's tables stream in
        placeholder = build_plan(
            [
                *parents(),
                EntityConfig.model_validate(
                    {
                        "type": "table",
                        "discovery": {"source": "lake"},
                        "properties": {"database_schema": SCHEMA},
                    }
                ),
            ]
        ).order[-1]
        probe_parent(client, placeholder)
    return {t.node.fqn: apply_entity(client.scoped(), t).operation for t in tasks[3:]}


def table_gets(sandbox: Any) -> list[str]:
    return [
        r["path"]
        for r in sandbox.requests()
        if r["method"] == "GET" and r["path"].startswith("/api/v1/tables/name/")
    ]


def listings(sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["method"] == "GET" and r["path"] == "/api/v1/tables"]


@pytest.fixture()
def client(om_sandbox: Any) -> OMClient:
    return OMClient(make_sdk_client(om_sandbox.url, JWT), om_sandbox.url)


def test_a_new_schema_costs_one_listing_and_a_put_per_table(
    om_sandbox: Any, client: OMClient
) -> None:
    names = [f"t{i}" for i in range(5)]
    om_sandbox.clear_requests()
    ops = run(client, [table(n) for n in names])
    assert set(ops.values()) == {Operation.CREATE} and len(ops) == 5
    assert table_gets(om_sandbox) == []
    assert len(listings(om_sandbox)) == 1
    # what was learnt is used once: a later lookup asks OM again (and finds the table)
    from metadata.generated.schema.entity.data.table import Table

    assert client.get_by_name(Table, f"{SCHEMA}.t0") is not None


def test_a_schema_holding_tables_gets_each_table_looked_up(
    om_sandbox: Any, client: OMClient
) -> None:
    run(client, [table("t0"), table("t1")], group=False)
    om_sandbox.clear_requests()
    ops = run(client, [table("t0", "INT"), table("t1"), table("t2")])
    assert ops == {
        f"{SCHEMA}.t0": Operation.UPDATE,
        f"{SCHEMA}.t1": Operation.SKIP,
        f"{SCHEMA}.t2": Operation.CREATE,
    }
    # each looked up once; the updated t0 read back after its PUT (did OM apply it all?)
    gets = sorted(p.rsplit(".", 1)[-1] for p in table_gets(om_sandbox))
    assert gets == ["t0", "t0", "t1", "t2"]
    assert len(listings(om_sandbox)) == 1


def test_a_retried_table_is_looked_up_again(om_sandbox: Any, client: OMClient) -> None:
    """The lookup is skipped once per table: a retry may follow a PUT that landed."""
    from metadata.generated.schema.entity.data.table import Table

    run(client, [table("t0")])
    assert client.surely_absent(Table, f"{SCHEMA}.t0", SCHEMA) is False
    assert client.surely_absent(Table, f"{SCHEMA}.t1", SCHEMA) is True
    assert client.surely_absent(Table, f"{SCHEMA}.t1", SCHEMA) is False
