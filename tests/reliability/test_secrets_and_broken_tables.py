"""Planted secrets never leak, and broken Hudi tables fail alone, naming their S3 location.

Every CLI command (validate, plan, dry run, a real run that fails on broken tables and
profiles the rest, a run with a rejected JWT, a broken config, all at DEBUG) runs with
distinctive secrets for the JWT and the AWS keys; stdout, stderr, audit files, profiles,
incremental state, Prefect artifacts and Prefect's stored flow-run logs are scanned.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from prefect.client.orchestration import get_client

from om_ingest.audit import read_events
from om_ingest.cli.main import cli
from om_ingest.sandbox import ThreadedSandbox
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server

PLANTED_JWT = "eyJ-planted-JWT-SECRET-4d1e0b"
WRONG_JWT = "eyJ-planted-WRONG-jwt-77aa31"
AWS_KEY_ID = "AKIAPLANTEDKEY7Q3ZX"
AWS_SECRET = "aws-planted-SECRET-9b8c7d6e"
SECRETS = [PLANTED_JWT, WRONG_JWT, AWS_KEY_ID, AWS_SECRET]


@pytest.fixture(scope="module")
def lake() -> Iterator[MotoS3Server]:
    """Three good tables, one without hoodie.properties, one with a truncated commit file,
    one whose data file is not Parquet."""
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        target = LakeTarget.s3(client, "lake")
        write_synthetic_lake(target, "warehouse", 5, 6)
        client.put_object(
            Bucket="lake", Key="warehouse/broken/.hoodie/20240101000000000.commit", Body=b"{"
        )
        for key in target.list_keys("warehouse/table_00003/.hoodie/"):
            if key.endswith(".commit"):
                body = client.get_object(Bucket="lake", Key=key)["Body"].read()
                client.put_object(Bucket="lake", Key=key, Body=body[: len(body) // 2])
        for key in target.list_keys("warehouse/table_00004/"):
            if key.endswith(".parquet"):
                client.put_object(Bucket="lake", Key=key, Body=b"definitely not parquet")
        yield moto


def config_text(tmp_path: Path, moto: MotoS3Server) -> str:
    return yaml.safe_dump(
        {
            "metadata": {"name": "secrets-scan"},
            "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
            "audit": {"output_dir": str(tmp_path / "out" / "audit")},
            "execution": {"retries": {"max_attempts": 2, "backoff_seconds": 0.01}},
            "profiling": {
                "enabled": True,
                "sample_rows": 100,
                "storage": {"base_path": str(tmp_path / "out" / "profiles")},
            },
            "sources": [
                {
                    "name": "lake",
                    "type": "s3_hudi",
                    "properties": {
                        "bucket": "lake",
                        "prefix": "warehouse/",
                        "endpoint_url": moto.endpoint_url,
                        "aws_access_key_id": "${AWS_KEY_ID}",
                        "aws_secret_access_key": "${AWS_SECRET}",
                    },
                }
            ],
            "entities": [
                {
                    "type": "table",
                    "discovery": {"source": "lake"},
                    "properties": {"database_schema": "lake_svc.lake.warehouse"},
                }
            ],
        }
    )


def run(args: list[str], env: dict[str, str]) -> Any:
    return CliRunner().invoke(cli, ["--log-level", "DEBUG", *args], env=env)


def prefect_records() -> list[str]:
    async def read() -> list[str]:
        async with get_client() as client:
            artifacts = [json.dumps(a.data) for a in await client.read_artifacts()]
            logs = [log.message for log in await client.read_logs()]
            return artifacts + logs

    return asyncio.run(read())


def test_no_secret_anywhere_and_broken_tables_fail_alone(
    lake: MotoS3Server, tmp_path: Path
) -> None:
    config = tmp_path / "secrets.yaml"
    config.write_text(config_text(tmp_path, lake))
    outputs: list[str] = []
    with ThreadedSandbox(PLANTED_JWT) as om:
        env = {
            "OM_HOST": om.host_port,
            "OM_JWT": PLANTED_JWT,
            "AWS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET": AWS_SECRET,
        }
        for args, code in (
            (["validate", str(config)], 0),
            (["plan", str(config)], 0),
            (["ingest", str(config), "--dry-run"], 1),
            (["ingest", str(config)], 1),
        ):
            result = run(args, env)
            outputs.append(result.output)
            assert result.exit_code == code, (args, result.output[-3000:])
        assert "failed or were blocked" in result.stderr.splitlines()[-1], result.stderr[-2000:]

        rejected = run(["ingest", str(config)], {**env, "OM_JWT": WRONG_JWT})
        outputs.append(rejected.output)
        assert rejected.exit_code == 1 and "rejected the JWT (401)" in rejected.stderr

    bad = tmp_path / "bad.yaml"
    broken = yaml.safe_load(config_text(tmp_path, lake))
    broken["sources"][0]["properties"]["aws_secret_access_key"] = {"nested": "${AWS_SECRET}"}
    bad.write_text(yaml.safe_dump(broken))
    broken_config = run(["validate", str(bad)], env)
    outputs.append(broken_config.output)
    assert broken_config.exit_code == 2
    assert "sources[0].properties.aws_secret_access_key" in broken_config.stderr

    # The failing real run: every broken table named by its location, the good ones done.
    audit_files = sorted((tmp_path / "out" / "audit").rglob("*.jsonl"))
    events, torn = read_events(audit_files[-1])
    assert torn == 0
    tables = {e["fqn"].rsplit(".", 1)[-1]: e for e in events if e["entity_type"] == "table"}
    assert sorted(tables) == ["broken", *(f"table_0000{i}" for i in range(5))]
    failed = {name: e["error"] for name, e in tables.items() if e["outcome"] == "failed"}
    for name in failed:
        assert f"s3://lake/warehouse/{name}" in failed[name]
    assert {"broken", "table_00003"} <= set(failed)
    good = [f"table_0000{i}" for i in range(3)]
    assert all(tables[name]["outcome"] == "success" for name in good)
    profiles = list((tmp_path / "out" / "profiles").rglob("*.json"))
    assert {p.name.split("_2")[0].rsplit(".", 1)[-1] for p in profiles} >= set(good)
    records = prefect_records()
    if "table_00004" not in failed:  # its schema is in the commit; the sample read fails
        assert any(
            "s3://lake/warehouse/table_00004: cannot read a sample" in t for t in records + outputs
        )

    texts = outputs + records
    texts += [p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*") if p.is_file()]
    for secret in SECRETS:
        leaks = [t[max(0, t.find(secret) - 200) :][:400] for t in texts if secret in t]
        assert not leaks, f"{secret} leaked: {leaks[0]}"
