"""configs/examples/complete_stack.yaml: one entity of every kind, validated and ingested
against the sandbox (its lake on a moto S3), then re-run without a write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flows.ingest import ingest
from om_ingest.cli.main import cli
from om_ingest.config import EntityType, load_config
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT
from tests.flows.test_ingest_flow import audit_events

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "examples" / "complete_stack.yaml"


def test_it_declares_every_kind_and_validates() -> None:
    declared = {e.type for e in load_config(EXAMPLE, env={"OM_JWT": "x"}).config.entities}
    assert declared == set(EntityType)
    result = CliRunner().invoke(cli, ["validate", str(EXAMPLE)], env={"OM_JWT": "x"})
    assert result.exit_code == 0, result.output


def test_it_ingests_against_the_sandbox_and_reruns_without_writes(
    om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metadata.generated.schema.api.services.createDatabaseService import (
        CreateDatabaseServiceRequest,
    )

    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="company-datalake")
        write_synthetic_lake(LakeTarget.s3(s3, "company-datalake"), "raw", 2, 3)
        for key, value in {
            "LAKE_BUCKET": "company-datalake",
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            monkeypatch.setenv(key, value)
        # the config's `external: true` service exists in OpenMetadata already
        make_sdk_client(om_env.url, JWT).create_or_update(
            CreateDatabaseServiceRequest.model_validate(
                {"name": "warehouse", "serviceType": "CustomDatabase"}
            )
        )
        summary = ingest(str(EXAMPLE), audit_dir=str(tmp_path / "audit"))
        events = audit_events(summary)
        assert all(e["outcome"] in ("success", "skipped") for e in events), events
        created = {e["entity_type"] for e in events if e["operation"] == "CREATE"}
        assert created == {kind.value for kind in EntityType}  # the lake brings its service
        om_env.clear_requests()
        again = ingest(str(EXAMPLE), audit_dir=str(tmp_path / "audit"))
        assert om_env.write_calls() == []
        assert set(again["operations"]) == {"SKIP"}
    _the_demo_shows_the_lineage_of_daily_revenue(om_env)


def _the_demo_shows_the_lineage_of_daily_revenue(om_env: Any) -> None:
    """`make demo` ends with this table, read back from OM through the SDK: one row per
    edge, with its pipeline and column mappings."""
    from rich.console import Console

    from om_ingest.demo import lineage_of

    console = Console(record=True, width=250)
    console.print(lineage_of(make_sdk_client(om_env.url, JWT)))
    rows = sorted(
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in console.export_text().splitlines()
        if line.startswith("│") and ("upstream" in line or "downstream" in line)
    )
    marts = "warehouse.analytics.marts"
    assert [row[:4] for row in rows] == sorted(
        [
            ["upstream", f"table {marts}.orders", f"table {marts}.daily_revenue", ""],
            [
                "downstream",
                f"table {marts}.daily_revenue",
                f"table {marts}.channel_revenue",
                "airflow.nightly_revenue",
            ],
            ["downstream", f"table {marts}.daily_revenue", "mlmodel mlflow.revenue_forecast", ""],
        ]
    )
    upstream = next(row for row in rows if row[0] == "upstream")
    assert upstream[4:] == ["order_day → day", "Summed per day"]  # the first mapping's line
