"""Lineage edges (`type: lineage`) through the flow against the sandbox: every shape the
plan names, re-runs without writes or duplicate edges, updates shown in the dry run, and
ends that are missing or failed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from metadata.generated.schema.entity.data.mlmodel import MlModel
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.entity.data.topic import Topic
from metadata.generated.schema.type.entityLineage import EntityLineage

from om_ingest.cli.main import cli
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events, run, run_failing, write_config


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


def test_changed_details_are_shown_in_the_dry_run_then_applied_once(
    om_env: Any, tmp_path: Path
) -> None:
    run(write_config(tmp_path, lineage_stack()))
    edited = lineage_stack()
    raw_to_orders = edited[0]["properties"]
    raw_to_orders["columns"] = [{"from": ["id"], "to": "id"}]
    raw_to_orders["description"] = "Orders, deduplicated"
    edited[1]["properties"].pop("pipeline")
    config = write_config(tmp_path, edited, name="edited")

    om_env.clear_requests()
    preview = _events(run(config, dry_run=True))
    assert om_env.write_calls() == []
    assert preview["raw_to_orders"]["operation"] == "UPDATE"
    changes = {
        c["field"]: (c["before"], c["after"]) for c in preview["raw_to_orders"]["field_changes"]
    }
    assert changes == {
        "lineageDetails.columnsLineage": (
            [
                "wh.db.s.raw_orders.amount, wh.db.s.raw_orders.fee → wh.db.s.orders.total",
                "wh.db.s.raw_orders.customer.city → wh.db.s.orders.city",
                "wh.db.s.raw_orders.id → wh.db.s.orders.id",
            ],
            ["wh.db.s.raw_orders.id → wh.db.s.orders.id"],
        ),
        "lineageDetails.description": ("Cleaned orders", "Orders, deduplicated"),
    }
    assert [
        (c["field"], c["before"], c["after"]) for c in preview["orders_to_daily"]["field_changes"]
    ] == [("lineageDetails.pipeline", "airflow.nightly", None)]
    assert {preview[e]["operation"] for e in ("events_to_raw", "orders_to_churn")} == {"SKIP"}

    skipped = _events(run(config, idempotency="skip"))
    assert "2 change(s) detected, not applied" in skipped["raw_to_orders"]["reason"]
    assert om_env.write_calls() == []

    applied = _events(run(config))
    assert {fqn for fqn, e in applied.items() if e["operation"] == "UPDATE"} == {
        "raw_to_orders",
        "orders_to_daily",
    }
    assert [c["path"] for c in om_env.write_calls()] == ["/api/v1/lineage", "/api/v1/lineage"]
    details = _details(_graph(om_env, Table, "wh.db.s.raw_orders"), "wh.db.s.orders")
    assert [c.toColumn.root for c in details.columnsLineage] == ["wh.db.s.orders.id"]
    assert _details(_graph(om_env, Table, "wh.db.s.orders"), "wh.db.s.daily").pipeline is None
    om_env.clear_requests()
    settled = _events(run(config, refresh_cache=True))
    assert om_env.write_calls() == [] and {e["operation"] for e in settled.values()} == {"SKIP"}
    assert _pairs(_graph(om_env, Table, "wh.db.s.raw_orders")) == EXPECTED_PAIRS


def test_a_missing_end_fails_the_edge_and_a_failed_end_blocks_it(
    om_env: Any, tmp_path: Path
) -> None:
    entities = [
        *lineage_stack(),
        _edge("from_nowhere", ("table", "wh.db.s.gone"), ("table", "wh.db.s.orders")),
        _edge(
            "bad_column",
            ("table", "wh.db.s.raw_orders"),
            ("table", "wh.db.s.orders"),
            columns=[{"from": ["nope"], "to": "id"}],
        ),
        # an end declared in the config that fails (its service does not exist): blocked
        {"type": "messaging_service", "name": "legacy", "external": True},
        {"type": "topic", "name": "clicks", "properties": {"service": "legacy", "partitions": 1}},
        _edge("clicks_to_raw", ("topic", "legacy.clicks"), ("table", "wh.db.s.raw_orders")),
    ]
    failure = run_failing(write_config(tmp_path, entities))
    results = {r.fqn: r for r in failure.results if r.entity_type == "lineage"}
    missing = results["from_nowhere"]
    assert missing.outcome.value == "failed"
    assert missing.error == "lineage `from`: table wh.db.s.gone was not found in OpenMetadata"
    bad = results["bad_column"]
    assert bad.outcome.value == "failed"
    assert "table wh.db.s.raw_orders has no column nope" in (bad.error or "")
    assert "amount, customer, customer.city, fee, id" in (bad.error or "")
    blocked = results["clicks_to_raw"]
    assert blocked.outcome.value == "blocked"
    assert "legacy.clicks failed or is blocked" in blocked.reason
    assert {results[e].outcome.value for e in ("raw_to_orders", "events_to_raw")} == {"success"}
    assert not any("Traceback" in (r.error or "") for r in results.values())


def _validate(tmp_path: Path, entities: list[dict[str, Any]]) -> tuple[int, str]:
    path = write_config(tmp_path, entities)
    result = CliRunner().invoke(
        cli, ["validate", path], env={"OM_HOST": "http://127.0.0.1:1", "OM_JWT": "x"}
    )
    return result.exit_code, result.stderr.strip()


def test_bad_edges_are_located_config_errors(tmp_path: Path) -> None:
    topic_columns = _edge(
        "e", ("topic", "k.t"), ("table", "a.b.c.d"), columns=[{"from": ["x"], "to": "y"}]
    )
    code, line = _validate(tmp_path, [topic_columns])
    assert code == 2
    assert "entities[0].properties.columns: " in line
    assert "column mappings are between tables only (this edge is topic → table)" in line
    assert line.startswith(f"error: {tmp_path}")

    unknown = _edge("e", ("table", "a.b.c.d"), ("table", "a.b.c.e"), colour="blue")
    code, line = _validate(tmp_path, [unknown])
    assert code == 2 and "entities[0].properties.colour: unknown key" in line

    not_a_pipeline = _edge(
        "e", ("table", "a.b.c.d"), ("table", "a.b.c.e"), pipeline={"type": "topic", "fqn": "k.t"}
    )
    code, line = _validate(tmp_path, [not_a_pipeline])
    assert code == 2 and "entities[0].properties.pipeline" in line and "type: pipeline" in line

    external = {**_edge("e", ("table", "a.b.c.d"), ("table", "a.b.c.e")), "external": True}
    code, line = _validate(tmp_path, [external])
    assert code == 2 and "not `external`" in line


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcXYZ_09 .-", min_size=1, max_size=8).filter(lambda s: s.strip()),
        min_size=1,
        max_size=3,
    )
)
def test_a_column_named_relative_or_by_fqn_is_the_same_column(path: list[str]) -> None:
    """`a.b` (nested) or `"a.b"` (a dotted name) relative to the table, or the column's full
    FQN: one column FQN, the table's FQN followed by the quoted path."""
    from metadata.utils.fqn import quote_name

    from om_ingest.entities.lineage import _column

    relative = ".".join(quote_name(part) for part in path)
    end = {"fqn": 'svc.db.s."t.1"', "columns": {relative}, "which": "from"}
    expected = f'svc.db.s."t.1".{relative}'
    assert _column(end, relative) == expected
    assert _column(end, expected) == expected
