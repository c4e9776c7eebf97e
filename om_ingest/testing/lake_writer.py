"""Write small but valid Copy-on-Write Hudi tables (table version 6) with pyarrow.

hudi-rs is read-only, so demo lakes, schema-evolution tests and benchmarks make their own
tables: `.hoodie/hoodie.properties`, one completed commit per write (with the Avro schema in
its metadata), and parquet base files carrying Hudi's `_hoodie_*` meta fields. Every write is
a new commit whose file slice supersedes the previous one, so hudi-rs sees the latest schema.
Tests prove the tables read back through hudi-rs.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pat

META_FIELDS = (
    "_hoodie_commit_time",
    "_hoodie_commit_seqno",
    "_hoodie_record_key",
    "_hoodie_partition_path",
    "_hoodie_file_name",
)


@dataclass(frozen=True)
class LakeTarget:
    """Where tables go: a local directory or an S3 bucket (any boto3 client, e.g. moto)."""

    put: Callable[[str, bytes], None]
    list_keys: Callable[[str], list[str]]
    uri: Callable[[str], str]

    @classmethod
    def local(cls, root: str | Path) -> LakeTarget:
        base = Path(root)

        def put(key: str, data: bytes) -> None:
            path = base / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        def list_keys(prefix: str) -> list[str]:
            folder = base / prefix
            return (
                [str(p.relative_to(base)) for p in folder.rglob("*") if p.is_file()]
                if folder.exists()
                else []
            )

        return cls(put, list_keys, lambda key: str(base / key))

    @classmethod
    def s3(cls, client: Any, bucket: str) -> LakeTarget:
        def put(key: str, data: bytes) -> None:
            client.put_object(Bucket=bucket, Key=key, Body=data)

        def list_keys(prefix: str) -> list[str]:
            keys: list[str] = []
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            ):
                keys.extend(obj["Key"] for obj in page.get("Contents", []))
            return keys

        return cls(put, list_keys, lambda key: f"s3://{bucket}/{key}")


def write_table(
    target: LakeTarget,
    table_path: str,
    data: pa.Table,
    record_key: str,
    partition_field: str | None = None,
    precombine_field: str | None = None,
    base_file_format: str = "PARQUET",
) -> str:
    """Write `data` as the next commit of the COW table at `table_path`; returns the instant.
    `base_file_format` is what `hoodie.properties` declares (e.g. LANCE, as Hudi 1.x may);
    the files written are Parquet whatever it says, so only the metadata differs."""
    table_path = table_path.strip("/")
    name = table_path.rsplit("/", 1)[-1]
    hoodie = f"{table_path}/.hoodie"
    existing = target.list_keys(hoodie + "/")
    if f"{hoodie}/hoodie.properties" not in existing:
        target.put(
            f"{hoodie}/hoodie.properties",
            _properties(name, record_key, partition_field, precombine_field, base_file_format),
        )
    instant = _next_instant(
        [k.rsplit("/", 1)[-1].split(".")[0] for k in existing if k.endswith(".commit")]
    )
    file_id = str(uuid.uuid5(uuid.NAMESPACE_URL, table_path)) + "-0"
    partitions = (
        [""]
        if partition_field is None
        else sorted({str(v) for v in data.column(partition_field).to_pylist()})
    )
    stats: dict[str, list[dict[str, Any]]] = {}
    for partition in partitions:
        rows = (
            data
            if partition_field is None
            else data.filter(
                pa.compute.equal(data.column(partition_field).cast(pa.string()), partition)
            )
        )
        file_name = f"{file_id}_0-0-0_{instant}.parquet"
        folder = f"{table_path}/{partition}".rstrip("/")
        body = _parquet_with_meta(rows, instant, record_key, partition, file_name)
        target.put(f"{folder}/{file_name}", body)
        target.put(
            f"{folder}/.hoodie_partition_metadata",
            f"commitTime={instant}\npartitionDepth={0 if not partition else 1}\n".encode(),
        )
        stats[partition] = [
            {
                "fileId": file_id,
                "path": f"{partition}/{file_name}".lstrip("/"),
                "prevCommit": "null",
                "numWrites": rows.num_rows,
                "numDeletes": 0,
                "numUpdateWrites": 0,
                "numInserts": rows.num_rows,
                "totalWriteBytes": len(body),
                "totalWriteErrors": 0,
                "partitionPath": partition,
                "fileSizeInBytes": len(body),
            }
        ]
    commit = {
        "partitionToWriteStats": stats,
        "compacted": False,
        "extraMetadata": {"schema": json.dumps(avro_schema(data.schema, name))},
        "operationType": "UPSERT",
    }
    target.put(f"{hoodie}/{instant}.commit.requested", b"")
    target.put(f"{hoodie}/{instant}.inflight", b"")
    target.put(f"{hoodie}/{instant}.commit", json.dumps(commit).encode())
    return instant


def write_synthetic_lake(
    target: LakeTarget,
    prefix: str,
    n_tables: int,
    n_columns: int,
    rows_per_table: int = 5,
    first: int = 0,
) -> list[str]:
    """N tables x C columns (a mix of types), named table_{first:05d} on, for benchmarks and
    scale tests."""
    kinds = [
        pa.int64(),
        pa.string(),
        pa.float64(),
        pa.int32(),
        pa.bool_(),
        pa.decimal128(12, 2),
        pa.date32(),
    ]
    paths = []
    for t in range(first, first + n_tables):
        columns: dict[str, pa.Array] = {"id": pa.array(range(rows_per_table), pa.int64())}
        for c in range(1, n_columns):
            kind = kinds[c % len(kinds)]
            columns[f"c{c:03d}"] = pa.array([_value(kind, r) for r in range(rows_per_table)], kind)
        path = f"{prefix.strip('/')}/table_{t:05d}"
        write_table(target, path, pa.table(columns), record_key="id")
        paths.append(path)
    return paths


def _value(kind: pa.DataType, row: int) -> Any:
    from datetime import date
    from decimal import Decimal

    if pat.is_decimal(kind):
        return Decimal(row) / 4
    if pat.is_date(kind):
        return date(2024, 1, 1 + row % 28)
    if pat.is_boolean(kind):
        return row % 2 == 0
    if pat.is_string(kind):
        return f"v{row}"
    return row


def _properties(
    name: str,
    record_key: str,
    partition_field: str | None,
    precombine: str | None,
    base_file_format: str = "PARQUET",
) -> bytes:
    lines = {
        "hoodie.table.name": name,
        "hoodie.table.type": "COPY_ON_WRITE",
        "hoodie.table.version": "6",
        "hoodie.timeline.layout.version": "1",
        "hoodie.table.recordkey.fields": record_key,
        "hoodie.table.base.file.format": base_file_format,
        "hoodie.archivelog.folder": "archived",
        "hoodie.database.name": "default",
        "hoodie.datasource.write.hive_style_partitioning": "false",
        "hoodie.datasource.write.partitionpath.urlencode": "false",
        "hoodie.datasource.write.drop.partition.columns": "false",
        "hoodie.table.keygenerator.class": "org.apache.hudi.keygen.SimpleKeyGenerator"
        if partition_field
        else "org.apache.hudi.keygen.NonpartitionedKeyGenerator",
    }
    if partition_field:
        lines["hoodie.table.partition.fields"] = partition_field
    if precombine:
        lines["hoodie.table.precombine.field"] = precombine
    return ("\n".join(f"{k}={v}" for k, v in lines.items()) + "\n").encode()


def _next_instant(previous: list[str]) -> str:
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
    latest = max(previous, default="0")
    if now <= latest:
        now = str(int(latest) + 1)
    time.sleep(0.002)  # instants are millisecond timestamps: keep them unique
    return now


def _parquet_with_meta(
    rows: pa.Table, instant: str, record_key: str, partition: str, file_name: str
) -> bytes:
    n = rows.num_rows
    meta = {
        "_hoodie_commit_time": pa.array([instant] * n, pa.string()),
        "_hoodie_commit_seqno": pa.array([f"{instant}_0_{i}" for i in range(n)], pa.string()),
        "_hoodie_record_key": rows.column(record_key).cast(pa.string()),
        "_hoodie_partition_path": pa.array([partition] * n, pa.string()),
        "_hoodie_file_name": pa.array([file_name] * n, pa.string()),
    }
    full = pa.table({**meta, **{name: rows.column(name) for name in rows.column_names}})
    sink = io.BytesIO()
    pq.write_table(full, sink)
    return sink.getvalue()


def avro_schema(schema: pa.Schema, name: str) -> dict[str, Any]:
    """The Avro record schema Hudi stores in commit metadata (every field nullable)."""
    return {
        "type": "record",
        "name": f"{name}_record",
        "namespace": f"hoodie.{name}",
        "fields": [
            {
                "name": f.name,
                "type": ["null", _avro_type(f.type, f"{name}.{f.name}")],
                "default": None,
            }
            for f in schema
        ],
    }


def _avro_type(arrow: pa.DataType, path: str) -> Any:
    if pat.is_boolean(arrow):
        return "boolean"
    if pat.is_integer(arrow):
        return "long" if arrow.bit_width == 64 else "int"
    if pat.is_float32(arrow):
        return "float"
    if pat.is_floating(arrow):
        return "double"
    if pat.is_string(arrow) or pat.is_large_string(arrow):
        return "string"
    if pat.is_binary(arrow) or pat.is_large_binary(arrow):
        return "bytes"
    if pat.is_decimal(arrow):
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": arrow.precision,
            "scale": arrow.scale,
        }
    if pat.is_date(arrow):
        return {"type": "int", "logicalType": "date"}
    if pat.is_timestamp(arrow):
        return {
            "type": "long",
            "logicalType": "timestamp-micros" if arrow.unit == "us" else "timestamp-millis",
        }
    if pat.is_struct(arrow):
        return {
            "type": "record",
            "name": path.replace(".", "_"),
            "fields": [
                {
                    "name": f.name,
                    "type": ["null", _avro_type(f.type, f"{path}.{f.name}")],
                    "default": None,
                }
                for f in arrow
            ],
        }
    if pat.is_list(arrow) or pat.is_large_list(arrow):
        return {"type": "array", "items": ["null", _avro_type(arrow.value_type, f"{path}_item")]}
    if pat.is_map(arrow):
        return {"type": "map", "values": ["null", _avro_type(arrow.item_type, f"{path}_value")]}
    raise ValueError(f"no Avro type for {arrow}")
