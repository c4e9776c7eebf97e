"""Reliability against real parts misbehaving: a flaky OpenMetadata, OM down, S3 down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox import FaultConfig, ThreadedSandbox
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT

TABLES = 8
RETRIES = {"max_attempts": 10, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05}


@pytest.fixture(scope="module")
def lake() -> Iterator[MotoS3Server]:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        write_synthetic_lake(LakeTarget.s3(client, "lake"), "warehouse", TABLES, 6)
        yield moto


def s3_source(name: str, endpoint_url: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "s3_hudi",
        "properties": {
            "bucket": "lake",
            "prefix": "warehouse/",
            "endpoint_url": endpoint_url,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        },
    }


def write_config(
    tmp_path: Path,
    sources: list[dict[str, Any]],
    host: str = "${OM_HOST}",
    bulk_size: int = 100,
) -> Path:
    entities: list[dict[str, Any]] = [
        {"type": "database_service", "name": "ops", "properties": {"service_type": "Mysql"}},
        {"type": "database", "name": "ops_db", "properties": {"service": "ops"}},
    ]
    entities += [
        {
            "type": "table",
            "discovery": {"source": source["name"]},
            "properties": {"database_schema": f"{source['name']}_svc.lake.warehouse"},
        }
        for source in sources
    ]
    path = tmp_path / "reliability.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "metadata": {"name": "reliability"},
                "openmetadata": {"host": host, "jwt_token": "${OM_JWT}"},
                "audit": {"output_dir": str(tmp_path / "audit")},
                "execution": {"max_concurrency": 4, "retries": RETRIES, "bulk_size": bulk_size},
                "sources": sources,
                "entities": entities,
            }
        )
    )
    return path


def entities_in_om(url: str) -> list[str]:
    from metadata.generated.schema.entity.data.database import Database
    from metadata.generated.schema.entity.data.databaseSchema import DatabaseSchema
    from metadata.generated.schema.entity.data.table import Table
    from metadata.generated.schema.entity.services.databaseService import DatabaseService

    sdk = make_sdk_client(url, JWT)
    return [
        entity.fullyQualifiedName.root
        for kind in (DatabaseService, Database, DatabaseSchema, Table)
        for entity in sdk.list_all_entities(entity=kind)
    ]


@pytest.mark.parametrize("bulk_size", [1, 4])
def test_flaky_openmetadata_every_entity_exactly_once_and_audit_matches(
    lake: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_size: int
) -> None:
    faults = FaultConfig(fail_rate=0.10, latency_ms=20, fail_status=503, seed=20261123)
    with ThreadedSandbox(JWT, faults=faults) as om:
        monkeypatch.setenv("OM_HOST", om.host_port)
        monkeypatch.setenv("OM_JWT", JWT)
        config = write_config(tmp_path, [s3_source("lake", lake.endpoint_url)], bulk_size=bulk_size)
        summary = ingest(str(config))
        faults.fail_rate, faults.latency_ms = 0.0, 0  # read the end state without faults
        injected = [r for r in om.requests() if r["injected"]]
        assert len(injected) >= 3, "too few faults were injected for the test to mean anything"

        expected = 2 + 3 + TABLES  # declared service+database, implied service/db/schema, tables
        assert summary["outcomes"] == {"success": expected}
        events, torn = read_events(summary["audit_file"])
        assert torn == 0 and events.pop()["operation"] == "RUN"  # entity events, then the run's
        in_om = entities_in_om(om.url)
        assert len(in_om) == len(set(in_om)) == expected  # each exactly once
        assert sorted(in_om) == sorted(e["fqn"] for e in events)  # audit == OM's state
        # 4 tables at a time, some retried: still audited in discovery (S3 key) order
        tables = [e["fqn"] for e in events if e["entity_type"] == "table"]
        assert tables == sorted(tables) and len(tables) == TABLES
        created = [w for w in om.write_calls() if w["status"] == 201]
        # in batches (bulk_size 4), the tables are created by bulk calls answered 200
        assert len(created) == (expected if bulk_size == 1 else expected - TABLES)
        retried = [e for e in events if e["attempts"] > 1]
        assert retried, "injected 503s must show up as retries in the audit"


def test_openmetadata_down_at_start_exits_1_naming_the_host(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        host = f"http://127.0.0.1:{probe.getsockname()[1]}"
    config = write_config(tmp_path, [], host=host)
    env = {**os.environ, "OM_JWT": JWT, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    run = subprocess.run(
        [sys.executable, "-m", "om_ingest.cli", "ingest", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and f"cannot reach OpenMetadata at {host}/api" in errors[0]
    assert "Traceback" not in run.stderr + run.stdout
    assert "attempt 1/10" in run.stderr  # the connection was retried before giving up
    assert not (tmp_path / "audit").exists()  # nothing half-written


def test_s3_down_fails_its_source_alone(
    lake: MotoS3Server, om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    offline = MotoS3Server()  # never started: nothing listens on its port
    sources = [s3_source("offline", offline.endpoint_url), s3_source("lake", lake.endpoint_url)]
    with pytest.raises(IngestionFailed) as info:
        ingest(str(write_config(tmp_path, sources)))
    failed = [r for r in info.value.results if r.outcome.value == "failed"]
    assert [r.fqn for r in failed] == ["offline"]
    assert offline.endpoint_url in (failed[0].error or "")
    tables = [r for r in info.value.results if r.entity_type == "table"]
    assert len(tables) == TABLES and all(r.outcome.value == "success" for r in tables)
    in_lake = [f for f in entities_in_om(om_env.url) if f.split(".")[0] == "lake_svc"]
    assert len(in_lake) == 3 + TABLES
