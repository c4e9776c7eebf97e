"""Entities of different kinds sharing one name run side by side (OM's FQN namespaces are
per entity type), and a failure blocks only what depends on that kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.flows.test_ingest_flow import audit_events, run, run_failing, write_config


def test_a_team_and_services_named_alike_all_run(om_env: Any, tmp_path: Path) -> None:
    entities: list[dict[str, Any]] = [
        {"type": "team", "name": "ops", "properties": {"team_type": "Group"}},
        {"type": "pipeline_service", "name": "ops", "properties": {"service_type": "Airflow"}},
        {
            "type": "pipeline",
            "name": "etl",
            "properties": {"service": "ops", "owners": ["ops"]},
        },
    ]
    config = write_config(tmp_path, entities)
    summary = run(config)
    created = {(e["entity_type"], e["fqn"]) for e in audit_events(summary)}
    assert created == {("team", "ops"), ("pipeline_service", "ops"), ("pipeline", "ops.etl")}
    assert summary["operations"] == {"CREATE": 3}
    om_env.clear_requests()
    assert run(config)["operations"] == {"SKIP": 3} and om_env.write_calls() == []

    # a failed messaging service `ops` blocks its topic, not the pipeline under the
    # pipeline service of the same name
    entities += [
        {"type": "messaging_service", "name": "ops", "external": True},
        {"type": "topic", "name": "t", "properties": {"service": "ops", "partitions": 1}},
    ]
    failure = run_failing(write_config(tmp_path, entities, name="more"))
    outcome = {(r.entity_type, r.fqn): r.outcome.value for r in failure.results}
    assert outcome == {
        ("team", "ops"): "skipped",
        ("pipeline_service", "ops"): "skipped",
        ("pipeline", "ops.etl"): "skipped",
        ("messaging_service", "ops"): "failed",
        ("topic", "ops.t"): "blocked",
    }
