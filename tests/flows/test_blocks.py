"""Blocks: registration, and an ingest whose OpenMetadata connection comes from a saved block."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from blocks.openmetadata import OpenMetadataConnection
from flows.ingest import ingest
from om_ingest.cli.main import cli
from tests.conftest import JWT


def test_register_and_ingest_through_a_saved_block(om_sandbox: Any, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["blocks", "register"], env={"OM_HOST": om_sandbox.host_port, "OM_JWT": JWT}
    )
    assert result.exit_code == 0, result.output
    assert "registered block type openmetadata-connection" in result.output
    assert "saved block openmetadata-connection/om-ingest-openmetadata" in result.output
    assert JWT not in result.output

    block = OpenMetadataConnection.load("om-ingest-openmetadata")
    assert block.jwt_token.get_secret_value() == JWT and JWT not in repr(block)

    config = tmp_path / "block.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "metadata": {"name": "via-block"},
                "openmetadata": {"block": "om-ingest-openmetadata"},
                "audit": {"output_dir": str(tmp_path / "audit")},
                "entities": [{"type": "database_service", "name": "from_block"}],
            }
        )
    )
    summary = ingest(str(config))
    assert summary["operations"] == {"CREATE": 1}
    assert [e["path"] for e in om_sandbox.write_calls()] == ["/api/v1/services/databaseServices"]


def test_unknown_block_is_a_config_error(tmp_path: Path) -> None:
    from om_ingest.errors import ConfigError

    config = tmp_path / "missing.yaml"
    config.write_text(yaml.safe_dump({"openmetadata": {"block": "nope"}, "entities": []}))
    try:
        ingest(str(config))
    except ConfigError as exc:
        assert "OpenMetadataConnection block 'nope' not found" in str(exc)
    else:
        raise AssertionError("a missing block must fail the run")


def test_s3_source_reads_its_keys_from_an_aws_credentials_block(
    om_env: Any, tmp_path: Path
) -> None:
    from prefect_aws import AwsCredentials

    from flows.ingest import IngestionFailed
    from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
    from om_ingest.testing.moto_s3 import MotoS3Server

    secret = "aws-block-SECRET-51f0c2"
    AwsCredentials(aws_access_key_id="AKIABLOCKKEY", aws_secret_access_key=secret).save(
        "lake-creds", overwrite=True
    )
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        write_synthetic_lake(LakeTarget.s3(client, "lake"), "warehouse", 2, 4)

        def config(block: str) -> str:
            path = tmp_path / f"{block}.yaml"
            path.write_text(
                yaml.safe_dump(
                    {
                        "metadata": {"name": f"aws-{block}"},
                        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
                        "audit": {"output_dir": str(tmp_path / "audit")},
                        "sources": [
                            {
                                "name": "lake",
                                "type": "s3_hudi",
                                "properties": {
                                    "bucket": "lake",
                                    "prefix": "warehouse/",
                                    "endpoint_url": moto.endpoint_url,
                                    "block": block,
                                },
                            }
                        ],
                        "entities": [{"type": "table", "discovery": {"source": "lake"}}],
                    }
                )
            )
            return str(path)

        summary = ingest(config("lake-creds"))
        assert summary["outcomes"] == {"success": 3 + 2}
        texts = [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]
        assert texts and all(secret not in t for t in texts)

        try:
            ingest(config("no-such-creds"))
        except IngestionFailed as exc:
            (failed,) = exc.results
            assert "AwsCredentials block 'no-such-creds' not found" in (failed.error or "")
        else:
            raise AssertionError("a missing AwsCredentials block must fail its source")


def test_write_cache_lives_in_an_s3_bucket_block(om_env: Any, tmp_path: Path) -> None:
    """`execution.result_storage: s3-bucket/NAME`: the idempotency records go to S3, and a
    re-run (e.g. by another worker) finds them there and writes nothing."""
    from prefect_aws import AwsCredentials, S3Bucket

    from om_ingest.errors import ConfigError
    from om_ingest.testing.moto_s3 import MotoS3Server

    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="results")
        credentials = AwsCredentials(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_client_parameters={"endpoint_url": moto.endpoint_url},
        )
        S3Bucket(bucket_name="results", bucket_folder="om-ingest", credentials=credentials).save(
            "om-results", overwrite=True
        )

        def config(storage: str) -> str:
            path = tmp_path / "cached.yaml"
            path.write_text(
                yaml.safe_dump(
                    {
                        "metadata": {"name": "s3-cache"},
                        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
                        "audit": {"output_dir": str(tmp_path / "audit")},
                        "execution": {"result_storage": storage},
                        "entities": [{"type": "database_service", "name": "cached_svc"}],
                    }
                )
            )
            return str(path)

        assert ingest(config("s3-bucket/om-results"))["operations"] == {"CREATE": 1}
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="results").get("Contents", [])]
        assert any(k.startswith("om-ingest/om-ingest-write-entity-") for k in keys), keys
        om_env.clear_requests()
        summary = ingest(config("s3-bucket/om-results"))
        assert summary["operations"] == {"SKIP": 1} and om_env.write_calls() == []
        (event, run_event) = [
            json.loads(line) for line in Path(summary["audit_file"]).read_text().splitlines()
        ]
        assert run_event["operation"] == "RUN"  # the run's closing event
        assert "cache hit" in (event.get("reason") or "")

        try:
            ingest(config("s3-bucket/no-such-bucket-block"))
        except ConfigError as exc:
            assert "result storage block 's3-bucket/no-such-bucket-block' not found" in str(exc)
        else:
            raise AssertionError("a missing result storage block must be a config error")
