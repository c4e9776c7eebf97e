"""Schema history of kinds other than tables: a topic's message schema and a pipeline's tasks
are snapshotted on every run that leaves them in step, and `om-ingest history` shows their
structural changes the way it shows a table's."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from om_ingest.cli.main import cli
from tests.flows.test_ingest_flow import run, write_config

STACK: list[dict[str, Any]] = [
    {"type": "messaging_service", "name": "kafka", "properties": {"service_type": "Kafka"}},
    {
        "type": "topic",
        "name": "orders",
        "idempotency": "update",
        "properties": {
            "service": "kafka",
            "partitions": 1,
            "message_schema": {
                "schema_type": "Avro",
                "schema_fields": [
                    {
                        "name": "order",
                        "data_type": "RECORD",
                        "children": [
                            {"name": "id", "data_type": "LONG"},
                            {"name": "amount", "data_type": "DOUBLE"},
                        ],
                    }
                ],
            },
        },
    },
    # a pipeline service named like the topic's service: its history is its own
    {"type": "pipeline_service", "name": "kafka", "properties": {"service_type": "Airflow"}},
    {
        "type": "pipeline",
        "name": "orders",
        "idempotency": "update",
        "properties": {
            "service": "kafka",
            "tasks": [{"name": "load", "task_type": "PythonOperator"}],
        },
    },
]


def _history(profiles: Path, *args: str) -> tuple[int, list[list[str]], str]:
    result = CliRunner().invoke(
        cli, ["history", *args, "--profiles-dir", str(profiles)], env={"COLUMNS": "200"}
    )
    rows = [
        [cell.strip() for cell in line.split("│")[2:6]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    return result.exit_code, rows, result.output


def test_topic_schema_changes_across_runs_appear_in_history(om_env: Any, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    extra = {"profiling": {"storage": {"base_path": str(profiles)}}}
    run(write_config(tmp_path, STACK, **extra))
    evolved = copy.deepcopy(STACK)
    evolved[1]["properties"]["message_schema"]["schema_fields"][0]["children"] = [
        {"name": "id", "data_type": "STRING"},
        {"name": "currency", "data_type": "STRING"},
    ]
    evolved[3]["properties"]["tasks"].append({"name": "notify", "task_type": "EmailOperator"})
    run(write_config(tmp_path, evolved, name="evolved", **extra))
    run(write_config(tmp_path, evolved, name="evolved", **extra))  # unchanged: no snapshot

    code, rows, output = _history(profiles, "kafka.orders", "--type", "topic")
    assert code == 0, output
    assert "Schema history of kafka.orders (topic)" in output
    assert rows == [
        ["created", "order", "", "RECORD"],
        ["created", "order.amount", "", "DOUBLE"],
        ["created", "order.id", "", "LONG"],
        ["added", "order.currency", "", "STRING"],  # changes come in path order
        ["type_changed", "order.id", "LONG", "STRING"],
        ["removed", "order.amount", "DOUBLE", ""],
    ]
    code, rows, output = _history(profiles, "kafka.orders", "--type", "pipeline")
    assert code == 0, output
    assert rows == [
        ["created", "load", "", "PythonOperator"],
        ["added", "notify", "", "EmailOperator"],
    ]
    code, rows, output = _history(profiles, "kafka.orders")  # both kinds, one table each
    assert code == 0 and "(pipeline)" in output and "(topic)" in output and len(rows) == 8
    code, _, output = _history(profiles, "kafka.orders", "--type", "search_index")
    assert code == 1 and "no schema snapshots of search_index kafka.orders" in output
