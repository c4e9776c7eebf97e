"""Apache Hudi tables on S3 or in a directory: discovery with boto3 (or the directory
listing), metadata and samples with hudi-rs.

`bucket:` lists S3; `path:` lists a local or mounted directory the same way (same prefix,
filters and caps), and hudi-rs reads its tables from `file://` URIs, which are also what OM
records as their location.

Tables are found by `.hoodie/hoodie.properties`, at any depth under the prefix, walking the
bucket one "directory" at a time (`Delimiter="/"`) so data files are never listed, and never
descending into a table once found. Everything about a table — schema, partition fields,
table type and version, record key, timeline — comes from hudi-rs, not a hand-written parser.
A listing error raises (it must never look like "no tables"); an unreadable table fails alone.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pyarrow as pa

from om_ingest.config.models import (
    EntityConfig,
    SourceConfig,
    TableConstraintSpec,
)
from om_ingest.config.om_types import FILE_FORMATS
from om_ingest.errors import SourceError
from om_ingest.sources.arrow_types import columns_from_schema, om_enum_value
from om_ingest.sources.base import (
    ColumnStatistics,
    DataSource,
    DiscoveredEntity,
    DiscoveryFailure,
    TableStatistics,
)
from om_ingest.sources.helpers import (
    capped,
    discovery_filter,
    passes_filter,
    profile_value,
    reached_cap,
    reason,
)
from om_ingest.sources.parallel import ordered_map
from om_ingest.sources.reads import CountingFile
from om_ingest.sources.registry import register_source_class
from om_ingest.sources.s3_hudi.properties import S3HudiProperties

HOODIE = ".hoodie/"
_UNCHANGED = "Hudi timeline unchanged since the last run"


@register_source_class("s3_hudi", S3HudiProperties)
class S3HudiSource(DataSource):
    properties: S3HudiProperties
    reads_measured = (
        "S3 responses to om-ingest's boto3 calls (listings) and Parquet footer reads; "
        "hudi-rs's own reads (timeline, schema, samples) are not measured"
    )

    def __init__(self, config: SourceConfig, properties: S3HudiProperties) -> None:
        super().__init__(config, properties)
        self._client: Any = None
        self._last_table: tuple[str, Any] | None = None
        self._scopes: list[str] | None = None

    # --- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        if self._client is None and self.properties.path is None:
            self._client = self.properties.s3_client()
            self._client.meta.events.register("after-call.s3", self._count_response)

    def _count_response(self, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        """Bytes of each S3 answer boto3 received (a streamed body: its Content-Length)."""
        if model.has_streaming_output:
            self.count_read(int(parsed.get("ContentLength") or 0))
        else:
            self.count_read(len(http_response.content or b""))

    def validate_connection(self) -> None:
        self.connect()
        if self.properties.path is not None:
            root = self.properties.root
            if not root.is_dir() or not os.access(root, os.R_OK | os.X_OK):
                problem = "is not a directory" if not root.is_dir() else "is not readable"
                raise SourceError(f"source {self.config.name!r}: the lake path {root} {problem}")
            return
        try:
            self._client.head_bucket(Bucket=self.properties.bucket)
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: cannot reach s3://{self.properties.bucket} "
                f"at {self.properties.endpoint_url or 'AWS'}: {reason(exc)}"
            ) from None

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure]:
        self.connect()
        flt = discovery_filter(template)
        known = known_commits or {}
        markers = known_markers or {}

        def selected() -> Iterator[tuple[str, str]]:
            found = 0
            for table_prefix in self._walk(set(markers)):
                location = self.properties.location(table_prefix)
                relative = table_prefix[len(self.properties.normalized_prefix) :].rstrip("/")
                name = relative.rsplit("/", 1)[-1] or self.properties.database_name()
                if not passes_filter(flt, relative, name):
                    continue
                if reached_cap(flt, found):
                    return
                found += 1
                yield name, location

        def describe(item: tuple[str, str]) -> DiscoveredEntity | DiscoveryFailure:
            name, location = item
            try:
                return self._describe(template, name, location, known, markers)
            except Exception as exc:
                return DiscoveryFailure(name, location, f"{location}: {reason(exc)}")

        yield from ordered_map(describe, selected(), self.properties.read_concurrency)

    # --- shards ------------------------------------------------------------------------

    def shard_scopes(self) -> list[str] | None:
        """The directories right under the prefix (one listing); None when the prefix is
        itself a table."""
        self.connect()
        prefix = self.properties.normalized_prefix
        subdirs = self._list_dirs(prefix)
        if prefix + HOODIE in subdirs:
            return None
        return [sub for sub in subdirs if not _hidden(sub[len(prefix) :])]

    def within(self, scopes: list[str]) -> S3HudiSource:
        narrowed = S3HudiSource(self.config, self.properties)
        narrowed._scopes = sorted(scopes)
        return narrowed

    def _walk(self, known: set[str]) -> Iterator[str]:
        """Table prefixes under the prefix, or only under the shard's scopes."""
        if self._scopes is None:
            yield from self._table_prefixes(self.properties.normalized_prefix, known)
            return
        for scope in self._scopes:
            yield from self._visit(scope, known)

    def _table_prefixes(self, prefix: str, known: set[str]) -> Iterator[str]:
        """Depth-first walk of "directories"; a directory holding `.hoodie/` is a table. A
        directory the last run knew as a table (`known` locations) is not listed again: its
        timeline fingerprint lists its `.hoodie/` anyway (gone, it no longer matches and the
        read names the problem)."""
        subdirs = self._list_dirs(prefix)
        if prefix + HOODIE in subdirs:
            yield prefix
            return
        for sub in subdirs:
            if not _hidden(sub[len(prefix) :]):
                yield from self._visit(sub, known)

    def _visit(self, sub: str, known: set[str]) -> Iterator[str]:
        if self.properties.location(sub) in known:
            yield sub
        else:
            yield from self._table_prefixes(sub, known)

    def _list_dirs(self, prefix: str) -> list[str]:
        if self.properties.path is not None:
            return self._local_dirs(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        dirs: list[str] = []
        try:
            for page in paginator.paginate(
                Bucket=self.properties.bucket, Prefix=prefix, Delimiter="/"
            ):
                dirs.extend(cp["Prefix"] for cp in page.get("CommonPrefixes", []))
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: listing s3://{self.properties.bucket}/{prefix} failed: "
                f"{reason(exc)}"
            ) from None
        return dirs

    def _local_dirs(self, prefix: str) -> list[str]:
        """The subdirectories of `prefix` under the lake's `path`, as S3-style prefixes."""
        folder = self.properties.root / prefix
        try:
            with os.scandir(folder) as entries:
                return sorted(f"{prefix}{e.name}/" for e in entries if e.is_dir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise SourceError(
                f"source {self.config.name!r}: listing {folder} failed: {reason(exc)}"
            ) from None

    def _files(self, folder: str) -> list[_File]:
        """Each file directly in `folder` (a key prefix ending in '/'), with its version tag:
        S3's ETag, or a local file's modification time."""
        if self.properties.path is not None:
            try:
                with os.scandir(self.properties.root / folder) as entries:
                    stats = [(e.name, e.stat()) for e in entries if e.is_file()]
            except FileNotFoundError:
                return []
            return sorted(
                _File(
                    name, str(st.st_mtime_ns), st.st_size, datetime.fromtimestamp(st.st_mtime, UTC)
                )
                for name, st in stats
            )
        found = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.properties.bucket, Prefix=folder, Delimiter="/"):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(folder) :]
                found.append(
                    _File(name, str(obj.get("ETag")), int(obj["Size"]), obj["LastModified"])
                )
        return found

    def _describe(
        self,
        template: EntityConfig,
        name: str,
        location: str,
        known: dict[str, str],
        markers: dict[str, str],
    ) -> DiscoveredEntity:
        timeline_files = self._timeline_files(location)
        marker = _fingerprint(timeline_files)
        if (
            not self.properties.full_refresh
            and location in known
            and markers.get(location) == marker
        ):  # nothing under .hoodie/ moved: unchanged, without building the table
            return DiscoveredEntity.unchanged_at(
                template,
                name,
                location,
                known[location],
                marker,
                f"{_UNCHANGED} (commit {known[location]})",
            )
        table = self._hudi_table(location)
        timeline = table.get_timeline()
        instants = [
            *timeline.get_completed_commits(),
            *timeline.get_completed_deltacommits(),
            *timeline.get_completed_replacecommits(),
        ]
        latest = max((i.timestamp for i in instants), default=None)
        if (
            latest is not None
            and known.get(location) == latest
            and not self.properties.full_refresh
        ):
            return DiscoveredEntity.unchanged_at(
                template, name, location, latest, marker, f"{_UNCHANGED} (commit {latest})"
            )
        options = table.hudi_options()
        schema: pa.Schema = (
            table.get_schema_with_meta_fields()
            if self.properties.include_meta_columns
            else table.get_schema()
        )
        columns = columns_from_schema(schema, include_meta=self.properties.include_meta_columns)
        names = {c.name for c in columns}
        record_keys = _split(options.get("hoodie.table.recordkey.fields"))
        partitions = [
            p.split(":", 1)[0] for p in _split(options.get("hoodie.table.partition.fields"))
        ]
        custom = {
            "hudi_table_name": options.get("hoodie.table.name"),
            "hudi_table_type": table.table_type,
            "hudi_table_version": options.get("hoodie.table.version"),
            "hudi_base_path": location,
            "hudi_partition_fields": ",".join(partitions),
            "hudi_record_key_fields": ",".join(record_keys),
            "hudi_precombine_field": options.get("hoodie.table.precombine.field")
            or options.get("hoodie.table.ordering.fields"),
            "hudi_key_generator": options.get("hoodie.table.keygenerator.type")
            or options.get("hoodie.table.keygenerator.class"),
            "hudi_base_file_format": options.get("hoodie.table.base.file.format", "PARQUET"),
            "hudi_last_commit_time": latest,
            "hudi_last_commit_completion_time": _completion_time(timeline_files, latest),
            "hudi_commit_count": len(instants),
        }
        entity = self.table_entity(
            template,
            name,
            columns=[c.model_dump() for c in columns],
            partition_columns=[p for p in partitions if p in names] or partitions,
            table_constraints=(
                [
                    TableConstraintSpec(
                        constraint_type="PRIMARY_KEY", columns=record_keys
                    ).model_dump()
                ]
                if record_keys and set(record_keys) <= names
                else []
            ),
            location_path=location,
            # Any base format hudi-rs reads (Lance, HFILE…) ingests: one OM's FileFormat lacks
            # is left out here and kept as the `hudi_base_file_format` custom property.
            file_format=om_enum_value(str(custom["hudi_base_file_format"]).lower(), FILE_FORMATS),
            custom_properties={k: v for k, v in custom.items() if v not in (None, "")},
        )
        return DiscoveredEntity(entity, location, latest, marker=marker)

    def _timeline_files(self, location: str) -> dict[str, list[_File]]:
        """The files directly under the table's `.hoodie/` and `.hoodie/timeline/` (two
        listings, no Hudi parsing): its change fingerprint and its instants' completion times
        both come from them."""
        prefix = self._hoodie_key(location)
        return {folder: self._files(folder) for folder in (prefix, prefix + "timeline/")}

    def _hoodie_key(self, location: str) -> str:
        """The key prefix of a table's `.hoodie/` folder in the lake (`s3://bucket/a/t` or
        `file:///lake/a/t` → `a/t/.hoodie/`)."""
        root = self.properties.location("")
        return location.removeprefix(root).strip("/") + "/" + HOODIE

    def _hudi_table(self, location: str) -> Any:
        """The hudi-rs table at `location`; the last one is kept, so profiling a table (its
        statistics, then its sample) builds it once."""
        from hudi import HudiTableBuilder

        last = self._last_table
        if last is not None and last[0] == location:
            return last[1]
        builder = HudiTableBuilder.from_base_uri(location)
        for key, value in self.properties.storage_options().items():
            builder = builder.with_storage_option(key, value)
        table = builder.build()
        self._last_table = (location, table)
        return table

    def entity_settings(self) -> dict[str, Any]:
        return {"include_meta_columns": self.properties.include_meta_columns}

    def default_schema_fqn(self) -> str:
        p = self.properties
        return ".".join([p.service_name(self.config.name), p.database_name(), p.schema_name()])

    # --- statistics ----------------------------------------------------------------------

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        """Exact rows and per-column null counts / min / max of the latest snapshot, without a
        table scan: hudi-rs lists its file slices; a slice that is only a base file gives its
        figures from that file's Parquet footer (pyarrow reads the footer alone), a slice with
        uncompacted log files (MOR) is read merged by hudi-rs, projected to the flat columns,
        and counted — a base file's footer does not see its log files' updates and deletes.
        Nested columns have no top-level footer figures and are left out."""
        import pyarrow.parquet as pq

        table = self._hudi_table(location)
        slices = table.get_file_slices()
        filesystem = self.properties.arrow_filesystem()
        root = (
            location.removeprefix("file://")
            if self.properties.path is not None
            else location.removeprefix("s3://")
        ).rstrip("/")
        schema: pa.Schema = table.get_schema()
        flat = [
            name for name in columns if name in schema.names and not _nested(schema.field(name))
        ]
        wanted = set(flat)
        merged: dict[str, ColumnStatistics] = {}
        known_nulls: dict[str, bool] = {}
        rows = 0
        footers = [s for s in slices if s.base_file_relative_path() and not s.has_log_files()]
        with_logs = [s for s in slices if s not in footers]
        for file_slice in footers:
            path = f"{root}/{file_slice.base_file_relative_path()}"
            with filesystem.open_input_file(path) as raw:
                meta = pq.read_metadata(CountingFile(raw, self.count_read))
            rows += meta.num_rows
            for group in range(meta.num_row_groups):
                row_group = meta.row_group(group)
                for index in range(row_group.num_columns):
                    chunk = row_group.column(index)
                    name = chunk.path_in_schema
                    if name not in wanted:  # nested leaves (a.b) and unselected columns
                        continue
                    _merge_chunk(merged.setdefault(name, ColumnStatistics()), known_nulls, chunk)
        if with_logs:
            from hudi import HudiReadOptions

            reader = table.create_file_group_reader_with_options()
            options = HudiReadOptions().with_projection(flat or schema.names[:1])
            for file_slice in with_logs:
                for batch in reader.read_file_slice_stream(file_slice, options):
                    rows += batch.num_rows
                    for name in flat:
                        _merge_array(
                            merged.setdefault(name, ColumnStatistics()),
                            known_nulls,
                            name,
                            batch.column(name),
                        )
        for name, ok in known_nulls.items():
            if not ok:
                merged[name].null_count = None
        origin = f"Parquet footers of {len(footers)} base file(s)"
        if with_logs:
            origin += f" and a merged read of {len(with_logs)} file slice(s) with log files"
        return TableStatistics(
            row_count=rows, exact=True, origin=origin + " at the latest commit", columns=merged
        )

    # --- sampling ------------------------------------------------------------------------

    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        from hudi import HudiReadOptions

        table = self._hudi_table(location)
        if max_rows <= 0:  # no rows wanted: the (projected) schema only, nothing read
            schema = table.get_schema()
            fields = [schema.field(name) for name in columns or schema.names]
            yield pa.RecordBatch.from_pylist([], schema=pa.schema(fields))
            return
        options = HudiReadOptions().with_batch_size(min(max_rows, 8192))
        if columns:
            options = options.with_projection(columns)
        yield from capped(table.read_stream(options), max_rows)


class _File(NamedTuple):
    name: str
    tag: str
    """What changes when the file is rewritten: S3's ETag, a local file's mtime in ns."""
    size: int
    modified: datetime
    """S3's LastModified, or a local file's modification time."""


def _fingerprint(timeline: dict[str, list[_File]]) -> str:
    """A fingerprint of every file of the timeline folders (key, tag, size): a new, completed
    or archived instant changes it, and the table is then read again with hudi-rs."""
    digest = hashlib.sha256()
    for folder, files in timeline.items():
        for file in files:
            digest.update(f"{folder}{file.name}\0{file.tag}\0{file.size}\n".encode())
    return digest.hexdigest()


def _completion_time(timeline: dict[str, list[_File]], instant: str | None) -> str | None:
    """Hudi ≥ 1.0 names completed instants `<start>_<completion>.<action>`; older ones
    don't record it, so the commit file's last-modified time stands in."""
    if instant is None:
        return None
    completed = re.compile(rf"{instant}_(\d+)\.(commit|deltacommit|replacecommit)$")
    legacy = re.compile(rf"{instant}\.(commit|deltacommit|replacecommit)$")
    for files in reversed(timeline.values()):  # `timeline/` (Hudi ≥ 1.0) first
        for file in files:
            if not file.name.startswith(instant):
                continue
            match = completed.match(file.name)
            if match:
                return match.group(1)
            if legacy.match(file.name):
                return file.modified.isoformat()
    return None


def _hidden(leaf: str) -> bool:
    """Directories never walked: `.hoodie`, `.tmp`-style folders and archive debris."""
    return leaf.rstrip("/").startswith((".", "__MACOSX"))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _merge_chunk(into: ColumnStatistics, known_nulls: dict[str, bool], chunk: Any) -> None:
    """Fold one column chunk's footer statistics into the column's running totals."""
    stats = chunk.statistics
    name = chunk.path_in_schema
    if stats is None or not stats.has_null_count:
        known_nulls[name] = False
    else:
        known_nulls.setdefault(name, True)
        into.null_count = (into.null_count or 0) + stats.null_count
    if stats is not None and stats.has_min_max:
        low, high = profile_value(stats.min), profile_value(stats.max)
        if low is not None:
            into.min = low if into.min is None else min(into.min, low)
        if high is not None:
            into.max = high if into.max is None else max(into.max, high)


def _merge_array(
    into: ColumnStatistics, known_nulls: dict[str, bool], name: str, values: pa.Array
) -> None:
    """Fold one merged-read batch of a flat column into the column's running totals."""
    import pyarrow.compute as pc

    known_nulls.setdefault(name, True)
    into.null_count = (into.null_count or 0) + values.null_count
    if pa.types.is_binary(values.type) or pa.types.is_boolean(values.type):
        return
    bounds = pc.min_max(values)
    low, high = profile_value(bounds["min"].as_py()), profile_value(bounds["max"].as_py())
    if low is not None:
        into.min = low if into.min is None else min(into.min, low)
    if high is not None:
        into.max = high if into.max is None else max(into.max, high)


def _nested(field: pa.Field) -> bool:
    return bool(pa.types.is_nested(field.type))
