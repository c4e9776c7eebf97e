"""Apache Iceberg tables from any catalog pyiceberg loads (SQL, REST, Glue, Hive).

Namespaces become OM schemas (nested ones joined by `.`), one discovery stream each. Every
fact about a table — schema with field ids and docs, identifier fields, partition spec and
its transforms, sort order, snapshots, properties — comes from pyiceberg's view of the table
metadata; statistics come from the current snapshot's manifests (no data file is read) and a
sample from a pyiceberg scan with a row limit. A catalog that cannot be reached fails the
source; a table whose metadata cannot be loaded fails alone, named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from om_ingest import fqns
from om_ingest.config.models import (
    EntityConfig,
    PartitionColumnSpec,
    SourceConfig,
    TableConstraintSpec,
    TableProperties,
)
from om_ingest.config.om_types import DATABASE_SERVICE_TYPES, FILE_FORMATS
from om_ingest.errors import SourceError
from om_ingest.logs import redact
from om_ingest.sources.arrow_types import om_enum_value
from om_ingest.sources.base import DataSource, DiscoveredEntity, DiscoveryFailure, TableStatistics
from om_ingest.sources.helpers import capped, discovery_filter, passes_filter, reached_cap, reason
from om_ingest.sources.iceberg.properties import IcebergProperties, schema_fqn, schema_name
from om_ingest.sources.iceberg.statistics import manifest_statistics
from om_ingest.sources.iceberg.types import columns_from_schema, field_ids
from om_ingest.sources.parallel import ordered_map
from om_ingest.sources.reads import HTTP_BODIES, count_requests_session
from om_ingest.sources.registry import register_source_class

Identifier = tuple[str, ...]
_TIME_UNITS = {"year", "month", "day", "hour"}


@register_source_class("iceberg", IcebergProperties)
class IcebergSource(DataSource):
    service_type = om_enum_value("Iceberg", DATABASE_SERVICE_TYPES) or "CustomDatabase"
    """OM 1.x had an Iceberg service type; this SDK's `DatabaseServiceType` has none, so
    the service is a CustomDatabase until OM has one again."""
    spans_schemas = True
    properties: IcebergProperties
    reads_measured = (
        "bytes read through pyiceberg's FileIO (metadata JSON, manifest lists, manifests, "
        "sampled data files; not when the catalog sets its own py-io-impl) and a REST "
        f"catalog's {HTTP_BODIES}; a SQL catalog's database queries are not measured"
    )

    def __init__(
        self,
        config: SourceConfig,
        properties: IcebergProperties,
        namespace: Identifier | None = None,
        catalog: Any = None,
        tables: list[Identifier] | None = None,
    ) -> None:
        super().__init__(config, properties)
        self.namespace = namespace
        """The one namespace this source lists (None: every selected namespace)."""
        self._catalog = catalog
        self._tables = tables
        self._last_table: tuple[str, Any] | None = None

    # --- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        if self._catalog is not None:
            return
        from pyiceberg.catalog import load_catalog

        # pyiceberg's PyArrow FileIO imports pandas: only a run that reads Iceberg pays it
        from om_ingest.sources.iceberg.reads import measured_properties

        name = self.properties.catalog_name(self.config.name)
        try:
            properties = self.properties.load_properties()
            catalog = load_catalog(
                name, **measured_properties(properties, self._reads, self.config.name)
            )
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: cannot load Iceberg catalog {name!r} "
                f"({self._where()}): {self._reason(exc)}"
            ) from None
        session = getattr(catalog, "_session", None)  # a REST catalog's requests session
        if session is not None:
            count_requests_session(session, self.count_read)
        self._catalog = catalog

    def validate_connection(self) -> None:
        self.connect()
        try:
            self._catalog.list_namespaces()
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: cannot reach Iceberg catalog "
                f"{self.properties.catalog_name(self.config.name)!r} ({self._where()}): "
                f"{self._reason(exc)}"
            ) from None

    def _where(self) -> str:
        shown = self.properties.shown_catalog()
        kind = shown.get("type", "catalog")
        return f"{kind} at {shown['uri']}" if "uri" in shown else kind

    @staticmethod
    def _reason(exc: BaseException) -> str:
        """An error text without any registered secret (a URL's password, a token)."""
        return redact(reason(exc))

    # --- schemas -------------------------------------------------------------------------

    def targets(self, declared_schema: str | None) -> list[tuple[str, DataSource]]:
        """One stream per selected namespace that holds tables (into its own OM schema), or
        everything into `declared_schema`."""
        if declared_schema is not None:
            return [(declared_schema, self)]
        p, name = self.properties, self.config.name
        out: list[tuple[str, DataSource]] = []
        for namespace in self._namespaces():
            tables = self._list_tables(namespace)
            if tables:
                narrowed = IcebergSource(self.config, p, namespace, self._catalog, tables)
                fqn = schema_fqn(p.service_name(name), p.database_name(name), namespace)
                out.append((fqn, narrowed))
        return out

    def default_schema_fqn(self) -> str | None:
        if self.namespace is None:
            return None
        p, name = self.properties, self.config.name
        return schema_fqn(p.service_name(name), p.database_name(name), self.namespace)

    def _namespaces(self) -> list[Identifier]:
        """Every namespace at any depth (the catalog's listing, level by level), selected."""
        self.connect()
        found: list[Identifier] = []
        pending: list[Identifier] = [()]
        while pending:
            parent = pending.pop()
            try:
                children = [tuple(n) for n in self._catalog.list_namespaces(parent)]
            except Exception as exc:
                raise SourceError(
                    f"source {self.config.name!r}: listing the namespaces under "
                    f"{schema_name(parent) or 'the catalog root'} failed: {self._reason(exc)}"
                ) from None
            for child in sorted(children):
                if child != parent and child not in found:
                    found.append(child)
                    pending.append(child)
        return sorted(n for n in found if self.properties.selected(n))

    def _list_tables(self, namespace: Identifier) -> list[Identifier]:
        try:
            return sorted(tuple(t) for t in self._catalog.list_tables(namespace))
        except Exception as exc:
            raise SourceError(
                f"source {self.config.name!r}: listing the tables of namespace "
                f"{schema_name(namespace)} failed: {self._reason(exc)}"
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
        known, markers = known_commits or {}, known_markers or {}

        def identifiers() -> Iterator[Identifier]:
            namespaces = [self.namespace] if self.namespace is not None else self._namespaces()
            found = 0
            for namespace in namespaces:
                cached = self._tables if namespace == self.namespace else None
                for identifier in cached if cached is not None else self._list_tables(namespace):
                    name = identifier[-1]
                    if not passes_filter(flt, ".".join(identifier), name):
                        continue
                    if reached_cap(flt, found):
                        return
                    found += 1
                    yield identifier

        def describe(identifier: Identifier) -> DiscoveredEntity | DiscoveryFailure:
            location = table_location(identifier)
            try:
                return self._describe(template, identifier, known, markers)
            except Exception as exc:
                return DiscoveryFailure(
                    identifier[-1],
                    location,
                    f"Iceberg table {location}: cannot load its metadata: {self._reason(exc)}",
                )

        yield from ordered_map(describe, identifiers(), self.properties.read_concurrency)

    def _describe(
        self,
        template: EntityConfig,
        identifier: Identifier,
        known: dict[str, str],
        markers: dict[str, str],
    ) -> DiscoveredEntity:
        location = table_location(identifier)
        name = identifier[-1]
        table = self._catalog.load_table(identifier)
        metadata = table.metadata
        snapshot = table.current_snapshot()
        latest = str(snapshot.snapshot_id) if snapshot is not None else None
        marker = _marker(table)
        if (
            not self.properties.full_refresh
            and latest is not None
            and known.get(location) == latest
            and markers.get(location) == marker
        ):
            return DiscoveredEntity.unchanged_at(
                template,
                name,
                location,
                latest,
                marker,
                f"Iceberg snapshot {latest} and table metadata unchanged since the last run",
            )
        schema = table.schema()
        columns = columns_from_schema(schema)
        top_level = {field.field_id: field.name for field in schema.fields}
        keys = [top_level[i] for i in schema.identifier_field_ids if i in top_level]
        spec = table.spec()
        partitions = [_partition(schema, f) for f in spec.fields]
        custom: dict[str, Any] = {
            "iceberg_identifier": location,
            "iceberg_format_version": metadata.format_version,
            "iceberg_schema_id": schema.schema_id,
            "iceberg_partition_spec_id": spec.spec_id,
            "iceberg_partition_spec": ", ".join(
                f"{f.name}: {f.transform}({schema.find_column_name(f.source_id)})"
                for f in spec.fields
            ),
            "iceberg_sort_order": _sort_order(schema, table.sort_order()),
            "iceberg_current_snapshot_id": latest,
            "iceberg_snapshot_timestamp": (
                datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC).isoformat()
                if snapshot is not None
                else None
            ),
            "iceberg_snapshot_summary": (
                _json(snapshot.summary.model_dump()) if snapshot and snapshot.summary else None
            ),
            "iceberg_table_properties": _json(dict(table.properties)) if table.properties else None,
            "iceberg_metadata_location": table.metadata_location,
            "source_field_ids": _json({str(k): v for k, v in field_ids(schema).items()}),
        }
        file_format = str(table.properties.get("write.format.default", "parquet")).lower()
        entity = self.table_entity(
            template,
            name,
            columns=[c.model_dump() for c in columns],
            partition_columns=[p.model_dump() for p in partitions],
            table_constraints=(
                [TableConstraintSpec(constraint_type="PRIMARY_KEY", columns=keys).model_dump()]
                if keys
                else []
            ),
            location_path=table.location(),
            file_format=om_enum_value(file_format, FILE_FORMATS),
            custom_properties={k: v for k, v in custom.items() if v not in (None, "")},
        )
        return DiscoveredEntity(entity, location, latest, marker=marker)

    def entity_settings(self) -> dict[str, Any]:
        """The catalog's settings (never its credentials) decide which tables are read."""
        return {"catalog": self.properties.shown_catalog()}

    # --- profiling -----------------------------------------------------------------------

    def profile_location(self, properties: TableProperties) -> str | None:
        return str(properties.custom_properties.get("iceberg_identifier") or "") or None

    def _table(self, location: str) -> Any:
        """The table a location names (`table_location`); the last one is kept, so profiling
        a table (its statistics, then its sample) loads it once."""
        last = self._last_table
        if last is not None and last[0] == location:
            return last[1]
        self.connect()
        table = self._catalog.load_table(tuple(fqns.unquoted_parts(location)))
        self._last_table = (location, table)
        return table

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        return manifest_statistics(self._table(location), columns)

    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """A pyiceberg scan of the current snapshot, projected, stopped after `max_rows`."""
        table = self._table(location)
        if max_rows <= 0:
            schema = table.schema().as_arrow()
            fields = [schema.field(n) for n in columns or schema.names]
            yield pa.RecordBatch.from_pylist([], schema=pa.schema(fields))
            return
        scan = table.scan(selected_fields=tuple(columns) if columns else ("*",), limit=max_rows)
        yield from capped(scan.to_arrow_batch_reader(), max_rows)


def table_location(identifier: Identifier) -> str:
    """A table's location in the catalog: its namespace levels and name, each quoted like an
    FQN part when it holds a dot (`sales.orders`, `"a.b".t`), so it parses back exactly."""
    return ".".join(fqns.child(None, part) for part in identifier)


def _marker(table: Any) -> str:
    """A fingerprint of what shapes the entity besides the snapshot: schema, partition spec,
    sort order, format version and properties (a schema change makes no new snapshot)."""
    metadata = table.metadata
    facts = {
        "schema": metadata.current_schema_id,
        "spec": metadata.default_spec_id,
        "sort": metadata.default_sort_order_id,
        "format": metadata.format_version,
        "properties": dict(metadata.properties),
        "location": metadata.location,
    }
    return hashlib.sha256(_json(facts).encode()).hexdigest()


def _partition(schema: Any, field: Any) -> PartitionColumnSpec:
    """A partition field as OM's partition column: identity → by value, year/month/day/hour →
    by that time unit, bucket[n] / truncate[w] / void → other, the transform as interval."""
    column = schema.find_column_name(field.source_id) or field.name
    transform = str(field.transform)
    if transform == "identity":
        return PartitionColumnSpec(column=column, interval_type="COLUMN-VALUE")
    if transform in _TIME_UNITS:
        return PartitionColumnSpec(column=column, interval_type="TIME-UNIT", interval=transform)
    return PartitionColumnSpec(column=column, interval_type="OTHER", interval=transform)


def _sort_order(schema: Any, order: Any) -> str:
    return ", ".join(
        f"{f.transform}({schema.find_column_name(f.source_id)}) {f.direction.name} "
        f"{f.null_order.value.upper().replace('-', '_')}"
        for f in order.fields
    )


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
