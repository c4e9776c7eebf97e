"""The `iceberg` source without OpenMetadata: types, secrets, namespaces, statistics, the
REST catalog stand-in, and renames by field id in the schema diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyiceberg.schema import Schema
from pyiceberg.types import DecimalType, FixedType, IntegerType, LongType, NestedField, StringType

from om_ingest.comparison import SOURCE_FIELD_IDS, diff_schemas, field_renames
from om_ingest.config.models import EntityConfig, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources import get_source
from om_ingest.sources.iceberg.types import columns_from_schema, field_ids
from om_ingest.sources.reads import measuring
from tests.sources.iceberg_tables import (
    arrow_rows,
    every_type_schema,
    orders_rows,
    sqlite_catalog,
)

TEMPLATE = EntityConfig.model_validate({"type": "table", "discovery": {"source": "ice"}})


def source(catalog: dict[str, Any], schema: str | None = None, **props: Any) -> Any:
    config = SourceConfig.model_validate(
        {"name": "ice", "type": "iceberg", "properties": {"catalog": catalog, **props}}
    )
    return get_source(config, schema)


def test_every_iceberg_type_maps_exactly_with_children_docs_and_field_ids() -> None:
    columns = {c.name: c for c in columns_from_schema(every_type_schema())}
    assert {n: c.data_type for n, c in columns.items()} == {
        "id": "BIGINT", "amount": "DECIMAL", "created_at": "TIMESTAMPZ", "local_ts": "TIMESTAMP",
        "day": "DATE", "at_time": "TIME", "uid": "UUID", "digest": "FIXED", "payload": "BINARY",
        "flag": "BOOLEAN", "score": "DOUBLE", "ratio": "FLOAT", "qty": "INT", "region": "STRING",
        "address": "STRUCT", "tags": "ARRAY", "lines": "ARRAY", "attrs": "MAP",
    }  # fmt: skip
    assert (columns["id"].constraint, columns["qty"].constraint) == ("NOT_NULL", None)
    assert columns["id"].description == "Order id"
    assert columns["digest"].data_length == 16
    assert columns["address"].data_type_display == (
        "struct<city:string,geo:struct<lat:double,lon:double>>"
    )
    geo = columns["address"].children[1]
    assert [(c.name, c.data_type) for c in geo.children] == [("lat", "DOUBLE"), ("lon", "DOUBLE")]
    assert (columns["tags"].array_data_type, columns["tags"].children) == ("STRING", [])
    assert columns["lines"].array_data_type == "STRUCT"
    assert [c.name for c in columns["lines"].children] == ["sku", "n"]
    value = columns["attrs"].children[1]
    assert (value.name, value.data_type, [c.name for c in value.children]) == (
        "value",
        "STRUCT",
        ["v"],
    )
    ids = field_ids(every_type_schema())
    assert (ids[1], ids[16], ids[18], ids[29]) == (
        "id",
        "address.city",
        "address.geo.lat",
        "attrs.value.v",
    )


@given(precision=st.integers(1, 38), data=st.data(), width=st.integers(1, 64))
@settings(max_examples=40, deadline=None)
def test_decimal_and_fixed_keep_their_parameters(precision: int, data: Any, width: int) -> None:
    scale = data.draw(st.integers(0, precision))
    schema = Schema(
        NestedField(1, "d", DecimalType(precision, scale)),
        NestedField(2, "f.x", FixedType(width)),  # a dotted name: quoted in paths
    )
    d, f = columns_from_schema(schema)
    assert (d.precision, d.scale, d.data_type_display) == (
        precision,
        scale,
        f"decimal({precision}, {scale})",
    )
    assert (f.data_type, f.data_length) == ("FIXED", width)
    assert field_ids(schema)[2] == '"f.x"'


def test_catalog_credentials_are_secrets_everywhere() -> None:
    config = SourceConfig.model_validate(
        {
            "name": "ice",
            "type": "iceberg",
            "properties": {
                "catalog": {
                    "type": "sql",
                    "uri": "postgresql+psycopg2://ingest:pg-SECRET-77@127.0.0.1:1/cat",
                    "s3.secret-access-key": "s3-SECRET-12",
                    "s3.endpoint": "http://127.0.0.1:9000",
                    "token": "tok-SECRET-34",
                }
            },
        }
    )
    shown = repr(config) + config.model_dump_json()
    assert not any(s in shown for s in ("pg-SECRET-77", "s3-SECRET-12", "tok-SECRET-34"))
    assert "http://127.0.0.1:9000" in shown  # settings that are not credentials stay visible
    ice = get_source(config)
    with pytest.raises(SourceError) as info:
        ice.validate_connection()
    message = str(info.value)
    assert "postgresql+psycopg2://ingest:***@127.0.0.1:1/cat" in message
    assert "pg-SECRET-77" not in message
    settings_key = json.dumps(ice.entity_settings())
    assert not any(s in settings_key for s in ("pg-SECRET-77", "s3-SECRET-12", "tok-SECRET-34"))


def test_namespaces_become_schemas_and_filter_schema_takes_one(tmp_path: Path) -> None:
    catalog, props = sqlite_catalog(tmp_path)
    for namespace in [("sales",), ("sales", "eu"), ("hr",), ("empty",)]:
        catalog.create_namespace(namespace)
    for identifier in [("sales", "orders"), ("sales", "eu", "orders"), ("hr", "people")]:
        catalog.create_table(identifier, schema=Schema(NestedField(1, "id", LongType())))
    everything = source(props)
    assert [fqn for fqn, _ in everything.targets(None)] == [
        "ice.lakehouse.hr",
        "ice.lakehouse.sales",
        'ice.lakehouse."sales.eu"',  # nested: levels joined by `.`, quoted as an FQN part
    ]  # `empty` holds no table: no schema for it
    ((fqn, narrowed),) = source(props, schema="sales.eu").targets(None)
    assert fqn == 'ice.lakehouse."sales.eu"'
    found = list(narrowed.discover_entities(TEMPLATE))
    assert [(t.location, t.entity.name) for t in found] == [("sales.eu.orders", "orders")]
    assert found[0].entity.properties.database_schema == fqn
    named = source(props, service="lake", database="warehouse")
    assert named.targets(None)[0][0] == "lake.warehouse.hr"  # default: source, catalog name


def test_statistics_from_manifests_across_a_promotion_and_truncated_bounds(tmp_path: Path) -> None:
    catalog, props = sqlite_catalog(tmp_path)
    catalog.create_namespace("s")
    schema = Schema(NestedField(1, "n", IntegerType()), NestedField(2, "label", StringType()))
    table = catalog.create_table(("s", "t"), schema=schema)
    table.append(pa.table({"n": pa.array([5, None, 9], pa.int32()), "label": ["b", "a", None]}))
    with table.update_schema() as update:
        update.update_column("n", field_type=LongType())
    table = catalog.load_table(("s", "t"))
    long_label = "z" * 20  # a bound writers truncate (16 characters): no real max
    table.append(pa.table({"n": pa.array([2**40, 3], pa.int64()), "label": ["c", long_label]}))
    with measuring() as reads:
        stats = source(props).table_statistics("s.t", ["n", "label"])
    assert (stats.row_count, stats.exact) == (5, True)
    # bytes read: the metadata JSON, the manifest list and its manifests, each read whole
    current = catalog.load_table(("s", "t"))
    snapshot = current.current_snapshot()
    files = [current.metadata_location, snapshot.manifest_list]
    files += [m.manifest_path for m in snapshot.manifests(current.io)]
    assert reads.of("ice") == sum(_size(f) for f in files) > 0
    n, label = stats.columns["n"], stats.columns["label"]
    assert (n.null_count, n.min, n.max) == (1, 3, 2**40)  # the int file's bounds decoded as int
    assert (label.null_count, label.min, label.max) == (1, None, None)
    batches = list(source(props).fetch_sample("s.t", 4, ["n"]))
    assert sum(b.num_rows for b in batches) == 4 and batches[0].schema.names == ["n"]
    (empty,) = source(props).fetch_sample("s.t", 0, ["label"])
    assert (empty.num_rows, empty.schema.names) == (0, ["label"])


def _size(uri: str) -> int:
    return Path(uri.removeprefix("file://")).stat().st_size


def test_rest_stand_in_lets_the_real_rest_catalog_list_load_and_scan(tmp_path: Path) -> None:
    from om_ingest.testing.servers import iceberg_rest_catalog

    catalog, _ = sqlite_catalog(tmp_path)
    catalog.create_namespace(("a",))
    catalog.create_namespace(("a", "b"))
    table = catalog.create_table(("a", "b", "t"), schema=every_type_schema())
    rows = orders_rows(7)
    table.append(arrow_rows(table.schema(), rows))
    answered: list[int] = []  # the body sizes the stand-in declared, seen by a test-side hook
    with iceberg_rest_catalog(catalog) as url, measuring() as reads:
        rest = source({"type": "rest", "uri": url})
        rest.connect()
        rest._catalog._session.hooks["response"].insert(
            0, lambda response, **_: answered.append(int(response.headers["Content-Length"]))
        )
        rest.validate_connection()
        ((fqn, narrowed),) = rest.targets(None)
        assert fqn == 'ice.ice."a.b"'
        (found,) = list(narrowed.discover_entities(TEMPLATE))
        assert found.latest_commit == str(table.current_snapshot().snapshot_id)
        sample = pa.Table.from_batches(list(rest.fetch_sample("a.b.t", 100, ["id", "region"])))
        assert sorted(sample.column("id").to_pylist()) == [r["id"] for r in rows]
        assert rest.table_statistics("a.b.t", ["qty"]).columns["qty"].max == 18
    # the catalog's answers, and the files the FileIO read (manifests whole, the data file's
    # footer and columns), are the source's bytes read
    manifests = table.current_snapshot().manifests(table.io)
    files = sum(_size(m.manifest_path) for m in manifests) + _size(
        table.current_snapshot().manifest_list
    )
    assert len(answered) >= 5 and reads.of("ice") > sum(answered) + files


def test_a_table_whose_metadata_is_missing_fails_alone(tmp_path: Path) -> None:
    catalog, props = sqlite_catalog(tmp_path)
    catalog.create_namespace("s")
    for name in ("a", "b"):
        catalog.create_table(("s", name), schema=Schema(NestedField(1, "id", LongType())))
    Path(catalog.load_table(("s", "a")).metadata_location.removeprefix("file://")).unlink()
    ((_, narrowed),) = source(props).targets(None)
    broken, ok = narrowed.discover_entities(TEMPLATE)
    assert broken.location == "s.a" and "s.a" in broken.error and "metadata" in broken.error
    assert ok.entity.name == "b"


def _ids(paths: dict[int, str]) -> dict[str, str]:
    return {SOURCE_FIELD_IDS: json.dumps({str(k): v for k, v in paths.items()})}


def test_renames_by_field_id_are_renames_not_a_drop_and_an_add() -> None:
    before = {"a": "STRUCT", "a.x": "INT", "a.y": "STRING", "q": "INT", "gone": "DATE"}
    after = {"b": "STRUCT", "b.x": "INT", "qty": "BIGINT", "new": "STRING"}
    renames = field_renames(
        _ids({1: "a", 2: "a.x", 3: "a.y", 4: "q", 5: "gone"}),
        _ids({1: "b", 2: "b.x", 4: "qty", 6: "new"}),
    )
    changes = {c.describe() for c in diff_schemas(before, after, renames).changes}
    assert changes == {
        "renamed a → b",  # its child x moved with it
        "removed a.y STRING",  # a child dropped while its struct was renamed
        "renamed q → qty",
        "retyped qty INT → BIGINT",
        "added new STRING",
        "removed gone DATE",
    }
    # Without field ids the same change is a drop and an add.
    plain = {c.describe() for c in diff_schemas(before, after).changes}
    assert "removed q INT" in plain and "added qty BIGINT" in plain


@given(
    names=st.lists(
        st.from_regex(r"[a-z]{1,6}", fullmatch=True), min_size=1, max_size=8, unique=True
    ),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_any_renaming_by_field_id_reports_only_renames(names: list[str], data: Any) -> None:
    new_names = data.draw(
        st.lists(
            st.from_regex(r"[A-Z]{1,6}", fullmatch=True),
            min_size=len(names),
            max_size=len(names),
            unique=True,
        )
    )
    before = dict.fromkeys(names, "INT")
    after = dict.fromkeys(new_names, "INT")
    renames = field_renames(_ids(dict(enumerate(names))), _ids(dict(enumerate(new_names))))
    diff = diff_schemas(before, after, renames)
    assert {(c.kind.value, c.before, c.after) for c in diff.changes} == {
        ("renamed", old, new) for old, new in zip(names, new_names, strict=True)
    }
