"""Whole-table figures of an Iceberg table from its current snapshot's manifests.

The way DataHub profiles Iceberg: every live data file's entry in the manifests carries its
record count and, per field id, null counts and lower/upper bounds; they are summed and
folded here, bounds decoded by pyiceberg (`conversions.from_bytes`). No data file is read.
Figures are exact unless the snapshot has delete files (their rows are still counted).
Bounds a writer may have truncated (strings and binaries of 16+ characters, pyiceberg's and
Spark's default `truncate(16)` metrics) are not used: they are no real minimum or maximum.
"""

from __future__ import annotations

from typing import Any

from pyiceberg.conversions import from_bytes
from pyiceberg.manifest import DataFileContent, ManifestContent
from pyiceberg.types import (
    BinaryType,
    DateType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    PrimitiveType,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
)
from pyiceberg.utils.datetime import (
    days_to_date,
    micros_to_time,
    micros_to_timestamp,
    micros_to_timestamptz,
)

from om_ingest.sources.base import ColumnStatistics, TableStatistics
from om_ingest.sources.helpers import profile_value

TRUNCATED_AT = 16


def manifest_statistics(table: Any, columns: list[str]) -> TableStatistics:
    """Rows, null counts and min / max of the flat `columns` at the current snapshot."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return TableStatistics(0, True, "Iceberg table metadata (no snapshot yet)")
    schema = table.schema()
    wanted: dict[int, tuple[str, PrimitiveType]] = {}
    for name in columns:
        field = schema.find_field(name) if name in schema.column_names else None
        if field is not None and isinstance(field.field_type, PrimitiveType):
            wanted[field.field_id] = (name, field.field_type)
    merged = {name: ColumnStatistics() for name, _ in wanted.values()}
    nulls_known = dict.fromkeys(merged, True)
    bounds_known = dict.fromkeys(merged, True)
    rows = files = deletes = 0
    for manifest in snapshot.manifests(table.io):
        if manifest.content != ManifestContent.DATA:
            deletes += 1
            continue
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            data = entry.data_file
            if data.content != DataFileContent.DATA:
                continue
            files += 1
            rows += data.record_count
            null_counts = data.null_value_counts or {}
            lower, upper = data.lower_bounds or {}, data.upper_bounds or {}
            for field_id, (name, kind) in wanted.items():
                into = merged[name]
                if field_id in null_counts:
                    into.null_count = (into.null_count or 0) + null_counts[field_id]
                elif data.record_count:
                    nulls_known[name] = False
                low, high = _bound(kind, lower.get(field_id)), _bound(kind, upper.get(field_id))
                if data.record_count > null_counts.get(field_id, 0) and (
                    low is None or high is None
                ):
                    bounds_known[name] = False  # a file with values and no usable bounds
                if low is not None:
                    into.min = low if into.min is None else min(into.min, low)
                if high is not None:
                    into.max = high if into.max is None else max(into.max, high)
    for name, stats in merged.items():
        if not nulls_known[name]:
            stats.null_count = None
        if not bounds_known[name]:
            stats.min = stats.max = None
        stats.min, stats.max = profile_value(stats.min), profile_value(stats.max)
    origin = f"Iceberg manifests of snapshot {snapshot.snapshot_id} ({files} data file(s)"
    origin += f", {deletes} delete manifest(s))" if deletes else ")"
    return TableStatistics(rows, exact=not deletes, origin=origin, columns=merged)


def _bound(kind: PrimitiveType, raw: bytes | None) -> Any:
    """A bound as a comparable Python value, or None when absent or possibly truncated. A
    file written before a promotion (int → long, float → double) keeps the narrower bytes."""
    if raw is None:
        return None
    if isinstance(kind, LongType) and len(raw) == 4:
        kind = IntegerType()
    elif isinstance(kind, DoubleType) and len(raw) == 4:
        kind = FloatType()
    try:
        value: Any = from_bytes(kind, raw)
    except Exception:
        return None
    if isinstance(kind, StringType | BinaryType) and len(value) >= TRUNCATED_AT:
        return None
    if isinstance(kind, DateType):
        return days_to_date(value)
    if isinstance(kind, TimeType):
        return micros_to_time(value)
    if isinstance(kind, TimestamptzType):
        return micros_to_timestamptz(value)
    if isinstance(kind, TimestampType):
        return micros_to_timestamp(value)
    return value
