"""Schema history of kinds other than tables: a topic's message schema and a pipeline's tasks
are snapshotted on every run that leaves them in step, and `om-ingest history` shows their
structural changes the way it shows a table's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from om_ingest.cli.main import cli
from tests.entities.test_derived_kinds import kinds_stack
from tests.flows.test_ingest_flow import run, write_config


def _stack() -> list[dict[str, Any]]:
    """The kinds test's topic `kafka.orders`, and a pipeline `kafka.orders` under a pipeline
    service also named `kafka`: same FQN, each with a history of its own."""
    kinds = {e["type"]: e for e in kinds_stack()}
    pipeline = {**kinds["pipeline"], "name": "orders"}
    pipeline["properties"].update(
        service="kafka", tasks=[{"name": "load", "task_type": "PythonOperator"}]
    )
    service = {**kinds["pipeline_service"], "name": "kafka"}
    return [kinds["messaging_service"], kinds["topic"], service, pipeline]


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
    run(write_config(tmp_path, _stack(), **extra))
    evolved = _stack()
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
