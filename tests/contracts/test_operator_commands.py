"""`om-ingest discover`, `list-sources` and `list-entities` on the example configs: what a
source would produce without touching OpenMetadata, and the plugins' and kinds' properties
from their own models."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
from click.testing import CliRunner

from om_ingest.cli.main import cli
from om_ingest.config.models import PROPERTY_MODELS, EntityType
from om_ingest.sources.registry import properties_model, source_types
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"


def test_discover_prints_what_the_example_source_would_produce_without_om(
    tmp_path: Path,
) -> None:
    rows = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "amount": pa.array([1.5, 2.5], pa.float64()),
            "address": pa.array([{"city": "Oslo"}, {"city": "Rome"}]),
        }
    )
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="company-datalake")
        write_table(
            LakeTarget.s3(s3, "company-datalake"), "warehouse/orders", rows, record_key="id"
        )
        env = {
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "OM_HOST": "http://127.0.0.1:9",  # nothing listens: discover must not call it
            "OM_JWT": "unused",
        }
        config = str(EXAMPLES / "s3_hudi_simple.yaml")
        result = CliRunner().invoke(cli, ["discover", config, "--json"], env=env)
        text = CliRunner().invoke(cli, ["discover", config, "--source", "lake"], env=env)
        wrong = CliRunner().invoke(cli, ["discover", config, "--source", "lakes"], env=env)
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.output.splitlines()]
    assert record["fqn"] == "lake_svc.warehouse.hudi.orders"
    assert record["source"] == "lake" and record["type"] == "table"
    assert record["columns"] == ["id BIGINT", "amount DOUBLE", "address STRUCT <city STRING>"]
    assert record["properties"]["location_path"] == "s3://company-datalake/warehouse/orders"
    assert record["properties"]["custom_properties"]["hudi_table_type"] == "COPY_ON_WRITE"
    assert text.exit_code == 0
    assert "table lake_svc.warehouse.hudi.orders (from lake)" in text.output
    assert "  column id BIGINT" in text.output
    assert wrong.exit_code == 2 and "no source named 'lakes'" in wrong.output


def test_discover_on_a_config_without_sources_prints_nothing() -> None:
    result = CliRunner().invoke(
        cli, ["discover", str(EXAMPLES / "simple_database.yaml")], env={"OM_JWT": "x"}
    )
    assert result.exit_code == 0 and result.output == ""


def test_list_sources_prints_every_plugin_with_its_properties() -> None:
    result = CliRunner().invoke(cli, ["list-sources"])
    assert result.exit_code == 0
    expected = {
        "airflow": "pipeline",
        "mlflow": "mlmodel",
        "opensearch": "search_index",
        "kafka": "topic",
    }
    for source_type in source_types():
        kind = expected.get(source_type, "table")
        assert f"{source_type}: discovers {kind}" in result.output
        model = properties_model(source_type)
        assert model is not None
        for name, info in model.model_fields.items():
            assert f"\n  {info.alias or name}: " in result.output
    assert "  aws_secret_access_key: string (secret)" in result.output
    assert "  host: string (non-empty) (default required)" in result.output  # airflow's
    assert "  path: string (non-empty) (default null) — Instead of bucket" in result.output


def test_list_entities_prints_every_kind_with_its_properties() -> None:
    result = CliRunner().invoke(cli, ["list-entities"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    headers = [line.split(" ")[0] for line in lines if not line.startswith(" ")]
    assert headers == [kind.value for kind in EntityType]
    assert "table (parent: database_schema)" in lines
    assert "data_contract (parent: entity)" in lines
    table_keys = {
        line.split(":")[0].strip()
        for line in lines[lines.index("table (parent: database_schema)") + 1 :]
        if line.startswith("  ")
    }
    assert set(PROPERTY_MODELS[EntityType.TABLE].model_fields) <= table_keys
