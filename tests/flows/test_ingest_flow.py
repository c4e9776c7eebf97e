"""The ingest flow end to end: YAML → Prefect (ephemeral API) → SDK → sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import get_client

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT, USER_JWT

COLUMNS: list[dict[str, Any]] = [
    {"name": "id", "data_type": "BIGINT", "constraint": "PRIMARY_KEY"},
    {"name": "amount", "data_type": "DECIMAL", "precision": 12, "scale": 2},
    {
        "name": "address",
        "data_type": "STRUCT",
        "children": [{"name": "city", "data_type": "STRING"}, {"name": "zip", "data_type": "INT"}],
    },
    {"name": "labels", "data_type": "ARRAY", "array_data_type": "STRING"},
]


def stack(
    columns: list[dict[str, Any]] = COLUMNS, table_mode: str = "update"
) -> list[dict[str, Any]]:
    return [
        {
            "type": "table",
            "name": "orders",
            "idempotency": table_mode,
            "properties": {
                "database_schema": "sales_svc.sales.core",
                "description": "Orders.",
                "columns": columns,
            },
        },
        {"type": "database_schema", "name": "core", "properties": {"database": "sales_svc.sales"}},
        {"type": "database", "name": "sales", "properties": {"service": "sales_svc"}},
        {
            "type": "database_service",
            "name": "sales_svc",
            "properties": {"service_type": "CustomDatabase"},
        },
    ]


def write_config(
    tmp_path: Path,
    entities: list[dict[str, Any]],
    name: str = "flow-test",
    attempts: int = 4,
    **extra: Any,
) -> str:
    config = {
        "metadata": {"name": name},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "execution": {
            "retries": {
                "max_attempts": attempts,
                "backoff_seconds": 0.01,
                "max_backoff_seconds": 0.05,
            }
        },
        "entities": entities,
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def run(config: str, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = ingest(config, **kwargs)
    return result


def run_failing(config: str, **kwargs: Any) -> IngestionFailed:
    with pytest.raises(IngestionFailed) as info:
        ingest(config, **kwargs)
    return info.value


def audit_events(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's entity and profile events (its closing `RUN` event left out)."""
    events, torn = read_events(summary["audit_file"])
    assert torn == 0 and events[-1]["operation"] == "RUN"
    return [e for e in events if e["operation"] != "RUN"]


def test_first_run_creates_the_tree_in_dependency_order(om_env: Any, tmp_path: Path) -> None:
    summary = run(write_config(tmp_path, stack()))
    puts = [e["path"] for e in om_env.write_calls()]
    assert puts == [
        "/api/v1/services/databaseServices",
        "/api/v1/databases",
        "/api/v1/databaseSchemas",
        "/api/v1/tables",
    ]
    assert summary["operations"] == {"CREATE": 4}
    client = make_sdk_client(om_env.url, JWT)
    from metadata.generated.schema.entity.data.table import Table

    table = client.get_by_name(Table, "sales_svc.sales.core.orders", fields=["columns"])
    by_name = {c.name.root: c for c in table.columns}
    assert by_name["amount"].dataType.value == "DECIMAL" and by_name["amount"].precision == 12
    assert [c.name.root for c in by_name["address"].children] == ["city", "zip"]
    assert by_name["labels"].arrayDataType.value == "STRING"
    events = audit_events(summary)
    assert [e["fqn"] for e in events] == [
        "sales_svc",
        "sales_svc.sales",
        "sales_svc.sales.core",
        "sales_svc.sales.core.orders",
    ]
    assert all(e["outcome"] == "success" and e["operation"] == "CREATE" for e in events)


def test_rerun_makes_zero_writes(om_env: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, stack())
    run(config)
    om_env.clear_requests()
    summary = run(config)
    assert om_env.write_calls() == []
    assert summary["operations"] == {"SKIP": 4}
    # refresh_cache bypasses the cache: the entities are compared again, still no writes
    om_env.clear_requests()
    summary = run(config, refresh_cache=True)
    assert om_env.write_calls() == [] and summary["operations"] == {"SKIP": 4}


def test_schema_change_is_applied_in_update_mode_and_reported_in_skip_mode(
    om_env: Any, tmp_path: Path
) -> None:
    run(write_config(tmp_path, stack()))
    evolved = [
        COLUMNS[0],
        {"name": "amount", "data_type": "DECIMAL", "precision": 14, "scale": 2},
        {
            "name": "address",
            "data_type": "STRUCT",
            "children": [
                {"name": "city", "data_type": "STRING"},
                {"name": "zip", "data_type": "STRING"},
            ],
        },
        {"name": "channel", "data_type": "STRING"},
    ]
    expected = {
        ("type_changed", "amount", "DECIMAL(12,2)", "DECIMAL(14,2)"),
        ("type_changed", "address.zip", "INT", "STRING"),
        ("added", "channel", None, "STRING"),
        ("removed", "labels", "ARRAY<STRING>", None),
    }
    om_env.clear_requests()
    skip = run(write_config(tmp_path, stack(evolved, table_mode="skip"), name="evolved-skip"))
    assert om_env.write_calls() == []
    table_event = audit_events(skip)[-1]
    assert table_event["operation"] == "SKIP"
    assert {
        (c["change"], c["path"], c["before"], c["after"]) for c in table_event["schema_changes"]
    } == expected

    om_env.clear_requests()
    update = run(write_config(tmp_path, stack(evolved), name="evolved-update"))
    assert [e["path"] for e in om_env.write_calls()] == ["/api/v1/tables"]
    table_event = audit_events(update)[-1]
    assert table_event["operation"] == "UPDATE" and table_event["outcome"] == "success"
    assert {
        (c["change"], c["path"], c["before"], c["after"]) for c in table_event["schema_changes"]
    } == expected
    assert (
        table_event["version_before"] == 0.1 and table_event["version_after"] == 1.1
    )  # breaking change: +1.0


def test_fail_mode_errors_on_existing_entities(om_env: Any, tmp_path: Path) -> None:
    run(write_config(tmp_path, stack()))
    failure = run_failing(write_config(tmp_path, stack(table_mode="fail"), name="fail-mode"))
    failed = [r for r in failure.results if r.outcome.value == "failed"]
    assert [r.fqn for r in failed] == ["sales_svc.sales.core.orders"]
    assert "already exists and idempotency is 'fail'" in (failed[0].error or "")


def test_missing_external_parent_blocks_its_subtree_only(om_env: Any, tmp_path: Path) -> None:
    entities = [
        {"type": "database", "name": "legacy", "external": True, "properties": {"service": "prod"}},
        {"type": "database_schema", "name": "s", "properties": {"database": "prod.legacy"}},
        {
            "type": "table",
            "name": "t",
            "properties": {
                "database_schema": "prod.legacy.s",
                "columns": [{"name": "a", "data_type": "INT"}],
            },
        },
        {"type": "database_service", "name": "other"},
    ]
    failure = run_failing(write_config(tmp_path, entities))
    outcome = {r.fqn: r.outcome.value for r in failure.results}
    assert outcome == {
        "prod.legacy": "failed",
        "other": "success",
        "prod.legacy.s": "blocked",
        "prod.legacy.s.t": "blocked",
    }
    blocked = next(r for r in failure.results if r.fqn == "prod.legacy.s")
    assert "prod.legacy" in blocked.reason
    assert [e["path"] for e in om_env.write_calls()] == ["/api/v1/services/databaseServices"]


def test_a_name_too_long_for_openmetadata_stops_before_any_write(
    om_env: Any, tmp_path: Path
) -> None:
    from om_ingest.errors import ConfigError

    entities = stack()
    entities.append({"type": "database_service", "name": "s" * 300})  # OM allows 256
    with pytest.raises(ConfigError) as info:
        ingest(write_config(tmp_path, entities))
    assert info.value.path == "entities[4].name" and "256" in info.value.message
    assert om_env.write_calls() == []


def test_dry_run_writes_nothing_and_publishes_the_diff(om_env: Any, tmp_path: Path) -> None:
    run(write_config(tmp_path, stack()))
    evolved = [*COLUMNS, {"name": "channel", "data_type": "STRING"}]
    entities = stack(evolved)
    entities.append(
        {
            "type": "table",
            "name": "fresh",
            "properties": {
                "database_schema": "sales_svc.sales.core",
                "columns": [{"name": "a", "data_type": "INT"}],
            },
        }
    )
    om_env.clear_requests()
    summary = run(write_config(tmp_path, entities, name="Dry Run Demo"), dry_run=True)
    assert om_env.write_calls() == []
    assert summary["operations"] == {"SKIP": 3, "UPDATE": 1, "CREATE": 1}
    assert summary["dry_run"] is True

    async def latest() -> Any:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["dry-run-dry-run-demo"]))
            )
            return found[-1]

    import asyncio

    artifact = asyncio.run(latest())
    assert "| UPDATE | table | `sales_svc.sales.core.orders`" in artifact.data
    assert "| added | `channel` |  | STRING |" in artifact.data
    assert "| CREATE | table | `sales_svc.sales.core.fresh`" in artifact.data
    assert JWT not in artifact.data


def test_cache_hit_is_revalidated_after_an_out_of_band_delete(om_env: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, stack())
    run(config)
    client = make_sdk_client(om_env.url, JWT)
    from metadata.generated.schema.entity.data.table import Table

    table = client.get_by_name(Table, "sales_svc.sales.core.orders")
    client.delete(entity=Table, entity_id=table.id, hard_delete=True)
    om_env.clear_requests()
    summary = run(config)
    assert [e["path"] for e in om_env.write_calls()] == ["/api/v1/tables"]
    assert summary["operations"] == {"SKIP": 3, "CREATE": 1}
    assert client.get_by_name(Table, "sales_svc.sales.core.orders") is not None


def test_transient_503s_are_retried_to_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from om_ingest.sandbox import FaultConfig, ThreadedSandbox

    with ThreadedSandbox(JWT, faults=FaultConfig(fail_rate=0.15, fail_status=503, seed=7)) as flaky:
        monkeypatch.setenv("OM_HOST", flaky.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        entities = stack()
        entities += [{"type": "database_service", "name": f"svc{i}"} for i in range(10)]
        summary = run(write_config(tmp_path, entities, name="flaky", attempts=8))
        injected = [e for e in flaky.requests() if e["injected"]]
        assert injected, "the sandbox injected no fault; the test proves nothing"
        assert summary["outcomes"] == {"success": 14}
        events = audit_events(summary)
        assert max(e["attempts"] for e in events) > 1
        creates = [e for e in flaky.write_calls() if e["status"] == 201]
        assert len(creates) == 14  # every entity exists exactly once


def test_no_secret_in_audit_artifacts_or_logs(
    om_env: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    config = write_config(tmp_path, stack())
    run(config)
    run(config, dry_run=True)
    texts = [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]
    texts.append(caplog.text)

    async def artifacts() -> list[str]:
        async with get_client() as client:
            return [json.dumps(a.data) for a in await client.read_artifacts()]

    import asyncio

    texts += asyncio.run(artifacts())
    assert texts and all(JWT not in text for text in texts)


def test_owners_curation_and_override(om_env: Any, tmp_path: Path) -> None:
    """Config owners are looked up (user, else team); what people curate in OM survives
    updates; `override: true` makes the config's descriptions, tags and owners exact."""
    from metadata.generated.schema.api.teams.createTeam import CreateTeamRequest
    from metadata.generated.schema.api.teams.createUser import CreateUserRequest
    from metadata.generated.schema.entity.data.table import Table

    client = make_sdk_client(om_env.url, JWT)
    alice = client.create_or_update(CreateUserRequest(name="alice", email="alice@example.com"))
    team = client.create_or_update(CreateTeamRequest(name="finance", teamType="Group"))
    columns = [
        {**COLUMNS[0], "description": "Order id.", "tags": ["PII.NonSensitive"]},
        *COLUMNS[1:],
    ]
    entities = stack(columns)
    entities[0]["properties"].update(owners=["alice"], tags=["Tier.Tier2"])
    entities[2]["properties"]["owners"] = ["finance"]  # a team
    config = write_config(tmp_path, entities)
    run(config)
    fields = ["owners", "tags", "columns"]
    table = client.get_by_name(Table, "sales_svc.sales.core.orders", fields=fields)
    assert [(o.name, o.type, str(o.id.root)) for o in table.owners.root] == [
        ("alice", "user", str(alice.id.root))
    ]
    from metadata.generated.schema.entity.data.database import Database

    db = client.get_by_name(Database, "sales_svc.sales", fields=["owners"])
    assert [(o.name, str(o.id.root)) for o in db.owners.root] == [("finance", str(team.id.root))]

    # People curate in OM (as the UI does, by PATCH, with their own token): description, a
    # tag, another owner.
    person = make_sdk_client(om_env.url, USER_JWT)
    curated = table.model_copy(deep=True)
    curated.description = type(table.description)("Curated in the UI.")
    curated.owners = type(table.owners)(root=[{"id": team.id, "type": "team"}])
    curated.tags = [
        *table.tags,
        table.tags[0].model_copy(update={"tagFQN": "PersonalData.Personal"}),
    ]
    curated.columns[0].description = type(table.description)("Curated id.")
    assert person.patch(Table, table, curated, skip_on_failure=False) is not None

    # An update without override (a schema change forces one) keeps all of it.
    entities[0]["properties"]["columns"] = [*columns, {"name": "n", "data_type": "STRING"}]
    run(write_config(tmp_path, entities))
    kept = client.get_by_name(Table, "sales_svc.sales.core.orders", fields=fields)
    assert kept.description.root == "Curated in the UI."
    assert [o.name for o in kept.owners.root] == ["finance"]
    assert {t.tagFQN.root for t in kept.tags} == {"Tier.Tier2", "PersonalData.Personal"}
    assert kept.columns[0].description.root == "Curated id."
    assert [c.name.root for c in kept.columns][-1] == "n"

    # override: true — the config's curated metadata, exactly.
    entities[0]["override"] = True
    summary = run(write_config(tmp_path, entities))
    (event,) = [e for e in audit_events(summary) if e["fqn"].endswith(".orders")]
    changed = {c["field"] for c in event["field_changes"]}
    assert {"description", "tags", "owners"} <= changed
    exact = client.get_by_name(Table, "sales_svc.sales.core.orders", fields=fields)
    assert exact.description.root == "Orders."
    assert [o.name for o in exact.owners.root] == ["alice"]
    assert {t.tagFQN.root for t in exact.tags} == {"Tier.Tier2"}
    assert exact.columns[0].description.root == "Order id."
    assert [t.tagFQN.root for t in exact.columns[0].tags] == ["PII.NonSensitive"]
    om_env.clear_requests()
    assert run(write_config(tmp_path, entities), refresh_cache=True)["operations"] == {"SKIP": 4}
    assert om_env.write_calls() == []  # and then it is in step: no write

    # An owner OM does not know fails that entity alone, naming the owner.
    entities[0]["properties"]["owners"] = ["nobody"]
    failure = run_failing(write_config(tmp_path, entities))
    (failed,) = [r for r in failure.results if r.outcome.value != "skipped"]
    assert failed.fqn.endswith(".orders")
    assert "owner 'nobody' is neither a user nor a team" in (failed.error or "")
