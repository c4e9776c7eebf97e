"""The demo-lake writer makes tables hudi-rs reads back exactly, across schema evolution."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa
from hudi import HudiTableBuilder

from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake, write_table

V1 = pa.table(
    {
        "id": pa.array([1, 2, 3], pa.int64()),
        "amount": pa.array([Decimal("1.50"), None, Decimal("3.25")], pa.decimal128(12, 2)),
        "address": pa.array(
            [{"city": "a", "zip": 1}, None, {"city": "c", "zip": 3}],
            pa.struct([("city", pa.string()), ("zip", pa.int32())]),
        ),
        "labels": pa.array([["x"], [], None], pa.list_(pa.string())),
        "attrs": pa.array([[("k", 1)], None, []], pa.map_(pa.string(), pa.int64())),
        "region": pa.array(["eu", "us", "eu"]),
    }
)


def read(path: Path) -> tuple[pa.Schema, pa.Table]:
    table = HudiTableBuilder.from_base_uri(str(path)).build()
    return table.get_schema(), pa.Table.from_batches(table.read()).sort_by("id")


def test_tables_read_back_with_the_same_schema_and_rows(tmp_path: Path) -> None:
    write_table(
        LakeTarget.local(tmp_path), "wh/orders", V1, record_key="id", partition_field="region"
    )
    schema, rows = read(tmp_path / "wh" / "orders")
    assert schema == V1.schema
    assert rows.select(V1.column_names).to_pylist() == V1.sort_by("id").to_pylist()
    assert set(rows.column("_hoodie_partition_path").to_pylist()) == {"eu", "us"}
    hudi = HudiTableBuilder.from_base_uri(str(tmp_path / "wh" / "orders")).build()
    assert hudi.get_partition_schema().names == ["region"]
    assert hudi.hudi_options()["hoodie.table.recordkey.fields"] == "id"


def test_evolution_is_visible_to_hudi_rs(tmp_path: Path) -> None:
    target = LakeTarget.local(tmp_path)
    first = write_table(target, "wh/orders", V1, record_key="id")
    v2 = V1.drop_columns(["amount"]).append_column("channel", pa.array(["web", "app", "web"]))
    v2 = v2.set_column(v2.column_names.index("id"), "id", v2.column("id").cast(pa.int32()))
    second = write_table(target, "wh/orders", v2, record_key="id")
    assert second > first
    schema, rows = read(tmp_path / "wh" / "orders")
    assert schema.names == ["id", "address", "labels", "attrs", "region", "channel"]
    assert schema.field("id").type == pa.int32()
    assert rows.column("channel").to_pylist() == ["web", "app", "web"]
    timeline = (
        HudiTableBuilder.from_base_uri(str(tmp_path / "wh" / "orders")).build().get_timeline()
    )
    assert [i.timestamp for i in timeline.get_completed_commits()] == [first, second]


def test_synthetic_lake(tmp_path: Path) -> None:
    paths = write_synthetic_lake(
        LakeTarget.local(tmp_path), "bench", n_tables=3, n_columns=30, rows_per_table=4
    )
    for path in paths:
        schema, rows = read(tmp_path / path)
        assert len(schema) == 30 and rows.num_rows == 4
