"""`iceberg` discovery through the ingest flow: pyiceberg's real SqlCatalog (sqlite and a real
PostgreSQL), warehouses on the local filesystem and on moto S3, the REST catalog stand-in,
and the OM sandbox over HTTP, asserted through the SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyiceberg.schema import Schema
from pyiceberg.table.sorting import NullOrder, SortDirection, SortField, SortOrder
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import LongType, NestedField, StringType

from flows.ingest import IngestionFailed, ingest
from om_ingest.audit import read_events
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.sources.iceberg_tables import (
    CATALOG,
    arrow_rows,
    every_type_schema,
    orders_rows,
    partition_spec,
    sqlite_catalog,
    transform_spec,
)

SERVICE = "ice"
TOKEN = "rest-TOKEN-SECRET-91d2"


def iceberg_config(tmp_path: Path, catalogs: dict[str, dict[str, Any]], **top: Any) -> str:
    """One `iceberg` source per catalog (named by its key), one discovery entity each."""
    config = {
        "metadata": {"name": "iceberg"},
        "openmetadata": {"host": "${OM_HOST}", "jwt_token": "${OM_JWT}"},
        "audit": {"output_dir": str(tmp_path / "audit")},
        "defaults": {"idempotency": "update"},
        "sources": [
            {"name": name, "type": "iceberg", "properties": {"catalog": catalog}}
            for name, catalog in catalogs.items()
        ],
        "entities": [{"type": "table", "discovery": {"source": name}} for name in catalogs],
        **top,
    }
    path = tmp_path / "iceberg.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def table_events(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events, _ = read_events(summary["audit_file"])
    return {e["fqn"]: e for e in events if e["entity_type"] == "table"}


def sales_lake(tmp_path: Path) -> tuple[Any, dict[str, str]]:
    """sales.orders (every type, identity-partitioned, 30 rows) and sales.eu.events (nested
    namespace, bucket + day partitions, no rows)."""
    catalog, props = sqlite_catalog(tmp_path)
    catalog.create_namespace("sales")
    catalog.create_namespace(("sales", "eu"))
    orders = catalog.create_table(
        ("sales", "orders"),
        schema=every_type_schema(),
        partition_spec=partition_spec(),
        sort_order=SortOrder(
            SortField(3, IdentityTransform(), SortDirection.DESC, NullOrder.NULLS_LAST)
        ),
        properties={"owner-team": "sales-eng"},
    )
    orders.append(arrow_rows(orders.schema(), orders_rows()))
    catalog.create_table(
        ("sales", "eu", "events"), schema=every_type_schema(), partition_spec=transform_spec()
    )
    return catalog, props


def test_every_type_nested_namespaces_and_partitions_then_unchanged_skips(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table
    from metadata.generated.schema.entity.services.databaseService import DatabaseService

    catalog, props = sales_lake(tmp_path)
    config = iceberg_config(tmp_path, {SERVICE: props})
    first = ingest(config)
    # service, database, two schemas (one per namespace), two tables
    assert first["operations"] == {"CREATE": 6}
    sdk = make_sdk_client(om_env.url, JWT)
    # This SDK's DatabaseServiceType has no Iceberg: the closest honest one.
    assert sdk.get_by_name(DatabaseService, SERVICE).serviceType.value == "CustomDatabase"
    fields = ["columns", "tableConstraints", "tablePartition", "extension"]
    orders = sdk.get_by_name(Table, f"{SERVICE}.{CATALOG}.sales.orders", fields=fields)
    events = sdk.get_by_name(Table, f'{SERVICE}.{CATALOG}."sales.eu".events', fields=fields)
    assert orders is not None and events is not None
    cols = {c.name.root: c for c in orders.columns}
    assert (cols["amount"].dataType.value, cols["amount"].precision, cols["amount"].scale) == (
        "DECIMAL",
        12,
        2,
    )
    assert cols["amount"].description.root == "Total in EUR"
    assert {n: cols[n].dataType.value for n in ("created_at", "local_ts", "uid", "payload")} == {
        "created_at": "TIMESTAMPZ",
        "local_ts": "TIMESTAMP",
        "uid": "UUID",
        "payload": "BINARY",
    }
    assert (cols["digest"].dataType.value, cols["digest"].dataLength) == ("FIXED", 16)
    assert cols["digest"].dataTypeDisplay == "fixed[16]"
    assert cols["id"].constraint.value == "NOT_NULL"
    geo = next(c for c in cols["address"].children if c.name.root == "geo")
    assert [c.name.root for c in geo.children] == ["lat", "lon"]
    city = next(c for c in cols["address"].children if c.name.root == "city")
    assert city.description.root == "City name"
    assert (cols["lines"].dataType.value, cols["lines"].arrayDataType.value) == ("ARRAY", "STRUCT")
    assert [c.name.root for c in cols["lines"].children] == ["sku", "n"]
    attrs = cols["attrs"]
    assert attrs.dataTypeDisplay == "map<string,struct<v:long>>"
    assert [c.name.root for c in attrs.children] == ["key", "value"]
    assert [c.name.root for c in attrs.children[1].children] == ["v"]
    assert orders.tableConstraints[0].constraintType.value == "PRIMARY_KEY"
    assert orders.tableConstraints[0].columns == ["id"]
    assert [(p.columnName, p.intervalType.value) for p in orders.tablePartition.columns] == [
        ("region", "COLUMN-VALUE")
    ]
    assert [
        (p.columnName, p.intervalType.value, p.interval) for p in events.tablePartition.columns
    ] == [("id", "OTHER", "bucket[4]"), ("created_at", "TIME-UNIT", "day")]
    ext = orders.extension.root
    snapshot = catalog.load_table(("sales", "orders")).current_snapshot()
    assert ext["iceberg_current_snapshot_id"] == str(snapshot.snapshot_id)
    assert ext["iceberg_format_version"] == 2
    assert json.loads(ext["iceberg_snapshot_summary"])["added-records"] == "30"
    assert ext["iceberg_partition_spec"] == "region: identity(region)"
    assert ext["iceberg_sort_order"] == "identity(created_at) DESC NULLS_LAST"
    assert json.loads(ext["iceberg_table_properties"])["owner-team"] == "sales-eng"
    assert ext["source_field_ids"] and orders.fileFormat.value == "parquet"
    assert "iceberg_current_snapshot_id" not in events.extension.root  # no snapshot yet

    om_env.clear_requests()
    again = ingest(config)
    assert om_env.write_calls() == []
    reasons = {fqn: e["reason"] for fqn, e in table_events(again).items()}
    assert reasons[f"{SERVICE}.{CATALOG}.sales.orders"].startswith(
        f"Iceberg snapshot {snapshot.snapshot_id} and table metadata unchanged"
    )


def test_evolution_by_field_id_rename_add_drop_promote_and_partitions(
    om_env: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    catalog, props = sales_lake(tmp_path)
    config = iceberg_config(tmp_path, {SERVICE: props})
    ingest(config)
    fqn = f"{SERVICE}.{CATALOG}.sales.orders"
    orders = catalog.load_table(("sales", "orders"))
    with orders.update_schema() as update:
        update.rename_column("qty", "quantity")
        update.rename_column("address", "shipping")
        update.add_column("channel", StringType(), doc="Sales channel")
        update.delete_column("payload")
        update.update_column("qty", field_type=LongType())  # int → long promotion
    with orders.update_spec() as spec:
        spec.add_field("created_at", DayTransform(), "created_day")
    om_env.clear_requests()
    second = ingest(config)
    event = table_events(second)[fqn]
    assert event["operation"] == "UPDATE"
    changes = {(c["change"], c["path"], c["before"], c["after"]) for c in event["schema_changes"]}
    assert changes == {
        ("renamed", "quantity", "qty", "quantity"),
        ("type_changed", "quantity", "INT", "BIGINT"),
        ("renamed", "shipping", "address", "shipping"),  # its children move along, unreported
        ("added", "channel", None, "STRING"),
        ("removed", "payload", "BINARY(1)", None),  # OM requires a length for BINARY
    }
    changed = {c["field"] for c in event["field_changes"]}
    assert {"extension.iceberg_partition_spec", "extension.iceberg_schema_id"} <= changed
    sdk = make_sdk_client(om_env.url, JWT)
    table = sdk.get_by_name(Table, fqn, fields=["columns", "extension"])
    names = [c.name.root for c in table.columns]
    assert "quantity" in names and "qty" not in names and "payload" not in names
    shipping = next(c for c in table.columns if c.name.root == "shipping")
    city = next(c for c in shipping.children if c.name.root == "city")
    assert city.description.root == "City name"  # kept through the rename
    assert table.extension.root["iceberg_partition_spec"] == (
        "region: identity(region), created_day: day(created_at)"
    )
    # Evolved again without a change: nothing is written.
    om_env.clear_requests()
    ingest(config)
    assert om_env.write_calls() == []


def test_metadata_and_sampled_profiles_match_the_rows_written(om_env: Any, tmp_path: Path) -> None:
    _, props = sales_lake(tmp_path)
    rows = orders_rows()
    profiling = {
        "enabled": True,
        "sample_rows": 0,  # metadata only: the manifests, no data file read
        "storage": {"base_path": str(tmp_path / "profiles")},
    }
    config = iceberg_config(tmp_path, {SERVICE: props}, profiling=profiling)
    summary = ingest(config)
    by_fqn = {p["fqn"]: p for p in summary["profiles"]}
    fqn = f"{SERVICE}.{CATALOG}.sales.orders"
    assert by_fqn[fqn]["pushed"] is True and by_fqn[fqn]["rows"] == 0
    sdk = make_sdk_client(om_env.url, JWT)
    table = sdk.get_latest_table_profile(fqn)
    assert table.profile.rowCount == len(rows)
    cols = {c.name.root: c.profile for c in table.columns if c.profile is not None}
    amounts = [r["amount"] for r in rows if r["amount"] is not None]
    assert cols["amount"].nullCount == len(rows) - len(amounts)
    assert (cols["amount"].min, cols["amount"].max) == (float(min(amounts)), float(max(amounts)))
    scores = [r["score"] for r in rows if r["score"] is not None]
    assert cols["score"].nullCount == len(rows) - len(scores)
    assert (cols["score"].min, cols["score"].max) == (min(scores), max(scores))
    assert (cols["id"].min, cols["id"].max) == (1, len(rows))
    days = sorted(r["day"].isoformat() for r in rows)
    assert (cols["day"].min, cols["day"].max) == (days[0], days[-1])

    config_data = yaml.safe_load(Path(config).read_text())
    config_data["profiling"].update(sample_rows=10, metadata_stats=False)
    config_data["audit"]["output_dir"] = str(tmp_path / "fresh")  # no state: read again
    Path(config).write_text(yaml.safe_dump(config_data))
    sampled = {p["fqn"]: p for p in ingest(config)["profiles"]}
    assert sampled[fqn]["rows"] == 10  # a pyiceberg scan with a row limit


def test_catalog_on_postgres_with_a_warehouse_on_moto_s3(om_env: Any, tmp_path: Path) -> None:
    from metadata.generated.schema.entity.data.table import Table

    from om_ingest.testing.moto_s3 import MotoS3Server
    from om_ingest.testing.servers import postgres_server
    from tests.sources.iceberg_tables import sql_catalog

    with postgres_server() as pg, MotoS3Server() as moto:
        moto.s3_client().create_bucket(Bucket="warehouse")
        s3 = {
            "s3.endpoint": moto.endpoint_url,
            "s3.access-key-id": "testing",
            "s3.secret-access-key": "s3-SECRET-key-4c1b",
            "s3.region": "us-east-1",
        }
        catalog = sql_catalog(pg.url, "s3://warehouse/lake", **s3)
        catalog.create_namespace("sales")
        orders = catalog.create_table(("sales", "orders"), schema=every_type_schema())
        orders.append(arrow_rows(orders.schema(), orders_rows(12)))
        props = {"type": "sql", "uri": pg.url, "warehouse": "s3://warehouse/lake", **s3}
        props["name"] = CATALOG  # SqlCatalog keeps each catalog's tables apart by name
        profiling = {"enabled": True, "sample_rows": 5, "storage": {"base_path": str(tmp_path)}}
        summary = ingest(iceberg_config(tmp_path, {SERVICE: props}, profiling=profiling))
        assert summary["outcomes"] == {"success": 4}
        fqn = f"{SERVICE}.{CATALOG}.sales.orders"  # database: the catalog's name
        sdk = make_sdk_client(om_env.url, JWT)
        table = sdk.get_by_name(Table, fqn, fields=["columns"])
        assert table.locationPath.startswith("s3://warehouse/lake/sales")
        assert sdk.get_latest_table_profile(fqn).profile.rowCount == 12
    texts = [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]
    assert not any(secret in t for t in texts for secret in ("s3-SECRET-key-4c1b", pg.password))


def test_rest_catalog_stand_in_with_a_token(om_env: Any, tmp_path: Path) -> None:
    from metadata.generated.schema.entity.data.table import Table

    from om_ingest.testing.servers import iceberg_rest_catalog

    catalog, _ = sales_lake(tmp_path)
    with iceberg_rest_catalog(catalog, token=TOKEN) as url:
        rest = {"name": CATALOG, "type": "rest", "uri": url, "token": TOKEN}
        summary = ingest(iceberg_config(tmp_path, {SERVICE: rest}))
        assert summary["outcomes"] == {"success": 6}
        sdk = make_sdk_client(om_env.url, JWT)
        table = sdk.get_by_name(Table, f'{SERVICE}.{CATALOG}."sales.eu".events', fields=["columns"])
        assert [c.name.root for c in table.columns][:3] == ["id", "amount", "created_at"]
        wrong = {**rest, "token": "not-the-token"}
        with pytest.raises(IngestionFailed) as info:
            ingest(iceberg_config(tmp_path, {SERVICE: wrong}))
    (failed,) = info.value.results
    assert failed.fqn == SERVICE and "cannot" in (failed.error or "")
    texts = [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]
    assert not any(TOKEN in t or "not-the-token" in t for t in texts)


def test_unreachable_catalog_fails_alone_and_a_broken_table_names_itself(
    om_env: Any, tmp_path: Path
) -> None:
    from om_ingest.testing.servers import free_port

    catalog, props = sales_lake(tmp_path)
    broken = catalog.create_table(
        ("sales", "broken"), schema=Schema(NestedField(1, "id", LongType()))
    )
    Path(broken.metadata_location.removeprefix("file://")).unlink()
    down = {"type": "rest", "uri": f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(IngestionFailed) as info:
        ingest(iceberg_config(tmp_path, {"down": down, SERVICE: props}))
    results = {r.fqn: r for r in info.value.results}
    assert results["down"].outcome.value == "failed"
    assert "cannot" in (results["down"].error or "") and "down" in (results["down"].error or "")
    bad = results[f"{SERVICE}.{CATALOG}.sales.broken"]
    assert bad.outcome.value == "failed" and "sales.broken" in (bad.error or "")
    assert "metadata" in (bad.error or "")
    ok = results[f"{SERVICE}.{CATALOG}.sales.orders"]
    assert ok.outcome.value == "success"


def test_a_dropped_table_is_reported_stale(om_env: Any, tmp_path: Path) -> None:
    catalog, props = sales_lake(tmp_path)
    config = iceberg_config(tmp_path, {SERVICE: props})
    ingest(config)
    catalog.drop_table(("sales", "orders"))
    events = table_events(ingest(config))
    stale = events[f"{SERVICE}.{CATALOG}.sales.orders"]
    assert stale["operation"] == "SKIP" and stale["reason"].startswith("stale")
    assert "sales.orders" in stale["reason"]


def test_the_readme_example_works_as_written(
    om_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first YAML block of the README's Iceberg section, run as it is (OM from the
    environment), on a lake built where `ICEBERG_HOME` points."""
    import re

    from metadata.generated.schema.entity.data.table import Table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Iceberg source", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    home = tmp_path / "iceberg"
    home.mkdir()
    catalog, _ = sqlite_catalog(home)  # catalog.db and warehouse/ under ICEBERG_HOME
    catalog.create_namespace("sales")
    catalog.create_table(("sales", "orders"), schema=every_type_schema())
    # The README's catalog has no `name`: the source name is the catalog name.
    assert "name: lakehouse" in example.group(1) and CATALOG == "lakehouse"
    monkeypatch.setenv("ICEBERG_HOME", str(home))
    config = yaml.safe_load(example.group(1))
    config["audit"] = {"output_dir": str(tmp_path / "audit")}
    path = tmp_path / "readme.yaml"
    path.write_text(yaml.safe_dump(config))
    summary = ingest(str(path))
    assert summary["outcomes"] == {"success": 4}
    sdk = make_sdk_client(om_env.url, JWT)
    assert sdk.get_by_name(Table, "lakehouse.lakehouse.sales.orders") is not None
