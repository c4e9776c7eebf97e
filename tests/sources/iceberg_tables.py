"""Real Iceberg tables for the `iceberg` source tests, written with pyiceberg itself.

`every_type_schema` has each Iceberg type (nested at several depths, docs, an identifier
field); `orders_rows` are rows the tests compute expected profile figures from.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import BucketTransform, DayTransform, IdentityTransform
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

CATALOG = "lakehouse"


def sql_catalog(uri: str, warehouse: str, **extra: str) -> SqlCatalog:
    return SqlCatalog(CATALOG, uri=uri, warehouse=warehouse, **extra)


def sqlite_catalog(tmp_path: Path) -> tuple[SqlCatalog, dict[str, str]]:
    """A SqlCatalog on sqlite with a local warehouse, and the source's `catalog` properties."""
    (tmp_path / "warehouse").mkdir(exist_ok=True)
    props = {
        "name": CATALOG,  # a SqlCatalog keeps each catalog's tables apart by its name
        "type": "sql",
        "uri": f"sqlite:///{tmp_path / 'catalog.db'}",
        "warehouse": f"file://{tmp_path / 'warehouse'}",
    }
    return sql_catalog(props["uri"], props["warehouse"]), props


def every_type_schema() -> Schema:
    return Schema(
        NestedField(1, "id", LongType(), required=True, doc="Order id"),
        NestedField(2, "amount", DecimalType(12, 2), doc="Total in EUR"),
        NestedField(3, "created_at", TimestamptzType()),
        NestedField(4, "local_ts", TimestampType()),
        NestedField(5, "day", DateType()),
        NestedField(6, "at_time", TimeType()),
        NestedField(7, "uid", UUIDType()),
        NestedField(8, "digest", FixedType(16)),
        NestedField(9, "payload", BinaryType()),
        NestedField(10, "flag", BooleanType()),
        NestedField(11, "score", DoubleType()),
        NestedField(12, "ratio", FloatType()),
        NestedField(13, "qty", IntegerType()),
        NestedField(14, "region", StringType(), required=True),
        NestedField(
            15,
            "address",
            StructType(
                NestedField(16, "city", StringType(), doc="City name"),
                NestedField(
                    17,
                    "geo",
                    StructType(
                        NestedField(18, "lat", DoubleType()), NestedField(19, "lon", DoubleType())
                    ),
                ),
            ),
        ),
        NestedField(20, "tags", ListType(21, StringType())),
        NestedField(
            22,
            "lines",
            ListType(
                23,
                StructType(
                    NestedField(24, "sku", StringType()), NestedField(25, "n", IntegerType())
                ),
            ),
        ),
        NestedField(
            26,
            "attrs",
            MapType(27, StringType(), 28, StructType(NestedField(29, "v", LongType()))),
        ),
        identifier_field_ids=[1],
    )


def partition_spec() -> PartitionSpec:
    """identity(region): the transform pyiceberg writes rows into without pyiceberg-core."""
    return PartitionSpec(PartitionField(14, 1000, IdentityTransform(), "region"))


def transform_spec() -> PartitionSpec:
    """bucket[4](id), day(created_at). Writing rows into these needs pyiceberg-core (not in
    the lock), so the tables partitioned so stay empty: their metadata is what is ingested."""
    return PartitionSpec(
        PartitionField(1, 1000, BucketTransform(4), "id_bucket"),
        PartitionField(3, 1001, DayTransform(), "created_day"),
    )


def orders_rows(count: int = 30) -> list[dict[str, Any]]:
    """Rows of `every_type_schema`, some nulls, three regions."""
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(count):
        rows.append(
            {
                "id": i + 1,
                "amount": None if i % 5 == 0 else Decimal(f"{i * 10}.25"),
                "created_at": base + dt.timedelta(days=i % 3, hours=i),
                "local_ts": dt.datetime(2026, 2, 1) + dt.timedelta(minutes=i),
                "day": dt.date(2026, 3, 1) + dt.timedelta(days=i),
                "at_time": dt.time(8, i % 60),
                "uid": uuid.UUID(int=i).bytes,
                "digest": bytes([i]) * 16,
                "payload": b"x" * i,
                "flag": i % 2 == 0,
                "score": None if i % 4 == 0 else i / 2,
                "ratio": float(i) / 4,
                "qty": i * 3,
                "region": ["eu", "us", "apac"][i % 3],
                "address": {"city": f"c{i % 4}", "geo": {"lat": 1.0 * i, "lon": -1.0 * i}},
                "tags": ["a", "b"][: i % 3],
                "lines": [{"sku": f"s{i}", "n": i}],
                "attrs": {"k": {"v": i}},
            }
        )
    return rows


def arrow_rows(schema: Schema, rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema.as_arrow())
