"""`s3_hudi` discovery through the ingest flow: moto S3 + sandbox OM, both over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.moto_s3 import MotoS3Server, upload_fixture_zip
from tests.conftest import JWT, SHARED

FIXTURES = SHARED / "fixtures" / "hudi"
AWS_SECRET = "aws-SECRET-e2e-51c0"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason=f"shared Hudi fixtures not found at {FIXTURES}"
)


def lake_config(tmp_path: Path, moto: MotoS3Server, prefix: str, schema: str | None = None) -> str:
    entity: dict[str, Any] = {"type": "table", "discovery": {"source": "lake"}}
    if schema:
        entity["properties"] = {"database_schema": schema}
    config = {
        "metadata": {"name": "lake"},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "defaults": {"idempotency": "update"},
        "sources": [
            {
                "name": "lake",
                "type": "s3_hudi",
                "properties": {
                    "bucket": "lake",
                    "prefix": prefix,
                    "endpoint_url": moto.endpoint_url,
                    "aws_access_key_id": "testing",
                    "aws_secret_access_key": AWS_SECRET,
                },
            }
        ],
        "entities": [entity],
    }
    path = tmp_path / "lake.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_lake_of_real_hudi_tables_builds_the_tree_then_skips_unchanged(
    om_env: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        zips = [
            z for z in sorted(FIXTURES.glob("*.zip")) if "mor__avro__v9" not in z.name
        ]  # same dir name as the COW v9
        for zip_path in zips:
            upload_fixture_zip(client, "lake", zip_path, f"warehouse/{zip_path.stem}")
        config = lake_config(tmp_path, moto, "warehouse/", "lake_svc.warehouse.hudi")
        summary = ingest(config)
        assert summary["outcomes"] == {"success": 3 + len(zips)}
        # one probe found the schema empty: no GET per table before its PUT
        table_gets = [r for r in om_env.requests() if r["path"].startswith("/api/v1/tables/name/")]
        assert table_gets == []
        sdk = make_sdk_client(om_env.url, JWT)
        from metadata.generated.schema.entity.data.table import Table
        from metadata.generated.schema.entity.services.databaseService import DatabaseService

        service = sdk.get_by_name(DatabaseService, "lake_svc")
        assert service.serviceType.value == "Datalake"
        table = sdk.get_by_name(
            Table,
            "lake_svc.warehouse.hudi.v9_txns_simple_meta",
            fields=["columns", "tableConstraints", "tablePartition", "extension"],
        )
        amount = next(c for c in table.columns if c.name.root == "amount")
        assert (amount.dataType.value, amount.precision, amount.scale) == ("DECIMAL", 15, 2)
        assert table.tableConstraints[0].columns == ["txn_id"]
        assert table.locationPath.endswith(
            "/warehouse/sample_table__cow__v9_txns_simple_meta/v9_txns_simple_meta"
        )
        assert [c.columnName for c in table.tablePartition.columns] == ["region"]
        # Hudi facts are table custom properties, defined once (OM rejects unknown ones).
        assert table.extension.root["hudi_table_type"] == "COPY_ON_WRITE"
        defined = {
            p["name"]: p["propertyType"]["name"] for p in sdk.get_entity_custom_properties(Table)
        }
        assert defined["hudi_commit_count"] == "integer"
        assert defined["hudi_table_type"] == defined["hudi_base_path"] == "string"
        definitions = [
            r for r in om_env.requests() if r["path"].startswith("/api/v1/metadata/types/")
        ]
        assert sum(r["method"] == "PUT" for r in definitions) == len(defined)

        om_env.clear_requests()
        again = ingest(config)
        table_calls = [r for r in om_env.requests() if "/tables" in r["path"]]
        # tables with a commit are skipped on their timeline once one listing of the schema's
        # names shows OM still holds them; the empty table (no commit yet) is compared (a
        # probe finds the schema populated, so its batch lists the schema with the fields
        # the comparison reads, instead of a GET per table) and left alone.
        assert [(r["method"], r["path"].split("/")[-1]) for r in table_calls] == [
            ("GET", "tables"),
            ("GET", "tables"),
            ("GET", "tables"),
        ]
        assert om_env.write_calls() == []
        events, _ = read_events(again["audit_file"])
        reasons = [e["reason"] for e in events if e["entity_type"] == "table"]
        assert sum("Hudi timeline unchanged" in r for r in reasons) == len(zips) - 1
        texts = [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]
        assert all(AWS_SECRET not in t and JWT not in t for t in texts)


def test_unreachable_s3_fails_the_source_not_the_run_silently(om_env: Any, tmp_path: Path) -> None:
    moto = MotoS3Server()  # never started: nothing listens on its port
    config = lake_config(tmp_path, moto, "warehouse/", "lake_svc.warehouse.hudi")
    with pytest.raises(IngestionFailed) as info:
        ingest(config)
    (failed,) = info.value.results
    assert failed.outcome.value == "failed" and moto.endpoint_url in (failed.error or "")
    assert AWS_SECRET not in (failed.error or "")


def test_evolving_one_table_updates_exactly_that_table(om_env: Any, tmp_path: Path) -> None:
    import pyarrow as pa

    from om_ingest.testing.lake_writer import LakeTarget, write_table

    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        target = LakeTarget.s3(client, "lake")
        base = pa.table(
            {
                "id": pa.array([1, 2], pa.int64()),
                "name": pa.array(["a", "b"]),
                "info": pa.array([{"zip": 1}, {"zip": 2}], pa.struct([("zip", pa.int32())])),
            }
        )
        for name in ("customers", "orders", "payments"):
            write_table(target, f"warehouse/sales/{name}", base, record_key="id")
        config = lake_config(tmp_path, moto, "warehouse/")
        first = ingest(config)
        assert first["operations"] == {"CREATE": 6}  # service, database, schema, 3 tables

        evolved = pa.table(
            {
                "id": pa.array([1, 2], pa.int64()),
                "channel": pa.array(["web", "app"]),
                "info": pa.array([{"zip": "1"}, {"zip": "2"}], pa.struct([("zip", pa.string())])),
            }
        )
        write_table(target, "warehouse/sales/orders", evolved, record_key="id")
        om_env.clear_requests()
        second = ingest(config)
        # One PUT for the schema; one PATCH for the custom properties the new commit moved
        # (a bot's PUT never changes them), both on that table alone.
        writes = [(e["method"], e["path"]) for e in om_env.write_calls()]
        table_id = writes[-1][1].rsplit("/", 1)[-1]
        assert writes == [("PUT", "/api/v1/tables"), ("PATCH", f"/api/v1/tables/{table_id}")]
        events, _ = read_events(second["audit_file"])
        updated = [e for e in events if e["operation"] == "UPDATE"]
        assert [e["fqn"] for e in updated] == ["lake.lake.warehouse.orders"]
        assert {(c["change"], c["path"]) for c in updated[0]["schema_changes"]} == {
            ("added", "channel"),
            ("removed", "name"),
            ("type_changed", "info.zip"),
        }
        assert any(c["field"].startswith("extension.") for c in updated[0]["field_changes"])


def test_profiles_are_computed_stored_and_pushed(om_env: Any, tmp_path: Path) -> None:
    import pyarrow as pa

    from om_ingest.testing.lake_writer import LakeTarget, write_table

    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        rows = pa.table(
            {
                "id": pa.array(range(50), pa.int64()),
                "score": pa.array([float(i % 7) for i in range(50)]),
            }
        )
        write_table(LakeTarget.s3(client, "lake"), "warehouse/scores", rows, record_key="id")
        config_path = Path(lake_config(tmp_path, moto, "warehouse/"))
        config = yaml.safe_load(config_path.read_text())
        config["profiling"] = {
            "enabled": True,
            "sample_rows": 20,
            "storage": {"base_path": str(tmp_path / "profiles")},
        }
        config_path.write_text(yaml.safe_dump(config))

        dry = ingest(str(config_path), dry_run=True)
        assert [p["pushed"] for p in dry["profiles"]] == [False] and om_env.write_calls() == []
        summary = ingest(str(config_path))
        (profile,) = summary["profiles"]
        assert profile["pushed"] is True and profile["rows"] == 20
        assert Path(profile["file"]).is_file() and Path(profile["file"]).is_relative_to(
            tmp_path / "profiles"
        )
        sdk = make_sdk_client(om_env.url, JWT)
        table = sdk.get_latest_table_profile("lake.lake.warehouse.scores")
        # the whole table's rows, exact from the Parquet footers; the sample was 20
        assert (table.profile.rowCount, table.profile.profileSample) == (50, 20)
        score = next(c for c in table.columns if c.name.root == "score")
        expected = [float(i % 7) for i in range(20)]
        assert score.profile.max == max(expected) and score.profile.mean == pytest.approx(
            sum(expected) / 20
        )


def test_schema_history_across_evolved_runs(om_env: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    from click.testing import CliRunner

    from om_ingest.cli.main import cli
    from om_ingest.testing.lake_writer import LakeTarget, write_table

    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="lake")
        target = LakeTarget.s3(client, "lake")
        config_path = Path(lake_config(tmp_path, moto, "warehouse/"))
        config = yaml.safe_load(config_path.read_text())
        config["profiling"] = {"storage": {"base_path": str(tmp_path / "profiles")}}
        config_path.write_text(yaml.safe_dump(config))
        versions = [
            pa.table(
                {
                    "id": pa.array([1], pa.int64()),
                    "s": pa.array([{"a": 1}], pa.struct([("a", pa.int32())])),
                }
            ),
            pa.table(
                {
                    "id": pa.array([1], pa.int64()),
                    "s": pa.array([{"a": "1"}], pa.struct([("a", pa.string())])),
                    "n": pa.array(["x"]),
                }
            ),
            pa.table({"id": pa.array([1], pa.int64()), "n": pa.array(["x"])}),
        ]
        for number, version in enumerate(versions):
            write_table(target, "warehouse/t", version, record_key="id")
            if number != 1:
                ingest(str(config_path))
                continue
            # The CLI names each schema change and prints the run's data profiles.
            config["profiling"]["enabled"] = True
            config_path.write_text(yaml.safe_dump(config))
            cli_run = CliRunner().invoke(cli, ["ingest", str(config_path)], env={"COLUMNS": "250"})
            assert cli_run.exit_code == 0, cli_run.output
            assert "schema change in lake.lake.warehouse.t: added n: STRING" in cli_run.stderr
            assert "lake.lake.warehouse.t: type_changed s.a: INT → STRING" in cli_run.stderr
            profiles_part = cli_run.stdout.split("Data profiles", 1)[1].splitlines()
            (profile_row,) = [r for r in profiles_part if "warehouse.t " in r]
            cells = [cell.strip() for cell in profile_row.split("│")[1:-1]]
            assert cells[:3] + cells[4:5] == ["lake.lake.warehouse.t", "1", "3", "yes"], cells
            assert int(cells[3]) > 0  # the struct column's metrics are recorded as not computed
            assert Path(cells[5]).is_relative_to(tmp_path / "profiles" / "data")
            config["profiling"]["enabled"] = False
            config_path.write_text(yaml.safe_dump(config))
        ingest(str(config_path))  # unchanged: no new snapshot
    result = CliRunner().invoke(
        cli,
        ["history", "lake.lake.warehouse.t", "--profiles-dir", str(tmp_path / "profiles")],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    rows = [
        [cell.strip() for cell in line.split("│")[2:6]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        ["created", "id", "", "BIGINT"],
        ["created", "s", "", "STRUCT"],
        ["created", "s.a", "", "INT"],
        ["added", "n", "", "STRING"],  # changes come in path order
        ["type_changed", "s.a", "INT", "STRING"],
        ["removed", "s", "STRUCT", ""],
    ]
