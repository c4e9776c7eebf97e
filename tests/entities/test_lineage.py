"""Lineage edges (`type: lineage`) through the flow against the sandbox: every shape the
plan names, re-runs without writes or duplicate edges, updates shown in the dry run, and
ends that are missing or failed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from metadata.generated.schema.entity.data.mlmodel import MlModel
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.data.topic import Topic
from metadata.generated.schema.type.entityLineage import EntityLineage

from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events, run, write_config


def _table(name: str, *columns: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "table",
        "name": name,
        "properties": {"database_schema": "wh.db.s", "columns": list(columns)},
    }


def _edge(name: str, source: tuple[str, str], target: tuple[str, str], **props: Any) -> dict:
    return {
        "type": "lineage",
        "name": name,
        "idempotency": "update",
        "properties": {
            "from": {"type": source[0], "fqn": source[1]},
            "to": {"type": target[0], "fqn": target[1]},
            **props,
        },
    }


EDGES = [
    _edge(
        "raw_to_orders",
        ("table", "wh.db.s.raw_orders"),
        ("table", "wh.db.s.orders"),
        columns=[
            {"from": ["id"], "to": "id"},
            {"from": ["amount", "fee"], "to": "total"},
            {"from": "customer.city", "to": "wh.db.s.orders.city"},  # a full column FQN
        ],
        description="Cleaned orders",
    ),
    _edge(
        "orders_to_daily",
        ("table", "wh.db.s.orders"),
        ("table", "wh.db.s.daily"),
        pipeline={"type": "pipeline", "fqn": "airflow.nightly"},
    ),
    _edge("events_to_raw", ("topic", "kafka.events"), ("table", "wh.db.s.raw_orders")),
    _edge("orders_to_churn", ("table", "wh.db.s.orders"), ("mlmodel", "mlflow.churn")),
]


def lineage_stack() -> list[dict[str, Any]]:
    """The edges first: the planner puts them after their ends."""
    return [
        *copy.deepcopy(EDGES),
        {"type": "database_service", "name": "wh", "properties": {"service_type": "Mysql"}},
        {"type": "database", "name": "db", "properties": {"service": "wh"}},
        {"type": "database_schema", "name": "s", "properties": {"database": "wh.db"}},
        _table(
            "raw_orders",
            {"name": "id", "data_type": "BIGINT"},
            {"name": "amount", "data_type": "DOUBLE"},
            {"name": "fee", "data_type": "DOUBLE"},
            {
                "name": "customer",
                "data_type": "STRUCT",
                "children": [{"name": "city", "data_type": "STRING"}],
            },
        ),
        _table(
            "orders",
            {"name": "id", "data_type": "BIGINT"},
            {"name": "total", "data_type": "DOUBLE"},
            {"name": "city", "data_type": "STRING"},
        ),
        _table("daily", {"name": "day", "data_type": "DATE"}),
        {"type": "pipeline_service", "name": "airflow", "properties": {"service_type": "Airflow"}},
        {"type": "pipeline", "name": "nightly", "properties": {"service": "airflow"}},
        {"type": "messaging_service", "name": "kafka", "properties": {"service_type": "Kafka"}},
        {"type": "topic", "name": "events", "properties": {"service": "kafka", "partitions": 1}},
        {"type": "mlmodel_service", "name": "mlflow", "properties": {"service_type": "Mlflow"}},
        {"type": "mlmodel", "name": "churn", "properties": {"service": "mlflow", "algorithm": "x"}},
    ]


def _graph(om_env: Any, entity: Any, fqn: str) -> EntityLineage:
    client = make_sdk_client(om_env.url, JWT)
    return EntityLineage.model_validate(client.get_lineage_by_name(entity, fqn, 3, 3))


def _pairs(lineage: EntityLineage) -> list[tuple[str, str]]:
    """Every edge around the entity as (from, to) FQNs; duplicates kept, to be seen."""
    names = {str(n.id.root): n.fullyQualifiedName for n in lineage.nodes or []}
    names[str(lineage.entity.id.root)] = lineage.entity.fullyQualifiedName
    edges = [*(lineage.upstreamEdges or []), *(lineage.downstreamEdges or [])]
    return sorted((names[str(e.fromEntity.root)], names[str(e.toEntity.root)]) for e in edges)


def _details(lineage: EntityLineage, to_fqn: str) -> Any:
    (edge,) = [
        e
        for e in lineage.downstreamEdges or []
        if str(e.toEntity.root)
        in {str(n.id.root) for n in lineage.nodes or [] if n.fullyQualifiedName == to_fqn}
    ]
    return edge.lineageDetails


def _events(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["fqn"]: e for e in audit_events(summary) if e["entity_type"] == "lineage"}


EXPECTED_PAIRS = [
    ("kafka.events", "wh.db.s.raw_orders"),
    ("wh.db.s.orders", "mlflow.churn"),
    ("wh.db.s.orders", "wh.db.s.daily"),
    ("wh.db.s.raw_orders", "wh.db.s.orders"),
]


def test_every_shape_is_created_after_its_ends_and_rerun_without_writes(
    om_env: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, lineage_stack())
    preview = run(config, dry_run=True)
    assert om_env.write_calls() == []
    previewed = _events(preview)
    assert {e["operation"] for e in previewed.values()} == {"CREATE"}

    summary = run(config)
    events = audit_events(summary)
    order = [e["fqn"] for e in events]
    for edge in ("raw_to_orders", "orders_to_daily", "events_to_raw", "orders_to_churn"):
        assert next(e for e in events if e["fqn"] == edge)["operation"] == "CREATE"
    assert order.index("orders_to_daily") > order.index("airflow.nightly")
    assert order.index("orders_to_churn") > order.index("mlflow.churn")
    assert order.index("events_to_raw") > order.index("kafka.events")

    around_orders = _graph(om_env, Table, "wh.db.s.orders")
    around_raw = _graph(om_env, Table, "wh.db.s.raw_orders")
    assert set(_pairs(around_raw)) | set(_pairs(around_orders)) == set(EXPECTED_PAIRS)
    columns = _details(around_raw, "wh.db.s.orders")
    assert sorted(
        (sorted(c.fromColumns and [f.root for f in c.fromColumns]), c.toColumn.root)
        for c in columns.columnsLineage
    ) == [
        (["wh.db.s.raw_orders.amount", "wh.db.s.raw_orders.fee"], "wh.db.s.orders.total"),
        (["wh.db.s.raw_orders.customer.city"], "wh.db.s.orders.city"),
        (["wh.db.s.raw_orders.id"], "wh.db.s.orders.id"),
    ]
    assert columns.description == "Cleaned orders"
    assert _details(around_orders, "wh.db.s.daily").pipeline.fullyQualifiedName == (
        "airflow.nightly"
    )
    assert ("kafka.events", "wh.db.s.raw_orders") in _pairs(_graph(om_env, Topic, "kafka.events"))
    assert ("wh.db.s.orders", "mlflow.churn") in _pairs(_graph(om_env, MlModel, "mlflow.churn"))

    om_env.clear_requests()
    again = run(config)
    assert om_env.write_calls() == []
    assert {e["reason"] for e in _events(again).values()} == {"up to date"}
    third = run(config, refresh_cache=True)  # compared again, without the write cache
    assert {e["reason"] for e in _events(third).values()} == {"up to date"}
    assert om_env.write_calls() == []
    # no duplicate edge after three runs: each pair once around each end
    assert _pairs(_graph(om_env, Table, "wh.db.s.raw_orders")) == EXPECTED_PAIRS
