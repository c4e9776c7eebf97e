"""The `DataSource` interface every source plugin implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from om_ingest.config.models import EntityConfig, SourceConfig, TableProperties


@dataclass(frozen=True)
class DiscoveredTable:
    """A concrete entity found by a source, plus the facts incremental runs need."""

    entity: EntityConfig
    location: str
    """Where the object lives, e.g. s3://bucket/warehouse/orders."""
    latest_commit: str | None = None
    unchanged: bool = False
    """The source saw no new commit since the last successful run (nothing to do)."""
    marker: str | None = None
    """A cheap fingerprint of the table's change log (e.g. its timeline listing): equal to
    the last run's, the table is unchanged without reading it."""
    unchanged_because: str = "unchanged since the last run"
    """Why the source saw no change, in its own terms (said in the skip's audit reason)."""


@dataclass(frozen=True)
class DiscoveryFailure:
    """An object the source found but could not read; it fails alone."""

    name: str
    location: str
    error: str


@dataclass
class ColumnStatistics:
    """Whole-table figures of one column from file metadata (None: not recorded)."""

    null_count: int | None = None
    min: Any = None
    max: Any = None


@dataclass
class TableStatistics:
    """What a table's metadata says without reading its data."""

    row_count: int
    exact: bool
    """False when the metadata cannot see every row (e.g. MOR log files not yet compacted)."""
    origin: str
    """Where the figures come from, said in the profile."""
    columns: dict[str, ColumnStatistics] = field(default_factory=dict)


class DataSource(ABC):
    """Connect, discover entities (streamed), extract schemas, sample rows, disconnect."""

    service_type: ClassVar[str] = "Datalake"
    """OM's DatabaseServiceType of the service a discovery adds when the config declares none."""
    spans_schemas: ClassVar[bool] = False
    """The source maps its own schemas (a catalog's namespaces): `targets` finding none means
    the source holds no tables, not that the config lacks a `database_schema`."""

    def __init__(self, config: SourceConfig, properties: Any) -> None:
        self.config = config
        self.properties = properties

    def default_schema_fqn(self) -> str | None:
        """The OM schema discovered tables go to when the config names none."""
        return None

    def targets(self, declared_schema: str | None) -> list[tuple[str, DataSource]]:
        """Each OM schema this discovery writes into, with the source that lists its tables
        (one stream each). A source whose tables span schemas (a database's schemas, a
        catalog's namespaces) returns one narrowed source per schema; `declared_schema` (the
        discovery entity's `database_schema`) puts everything into that one schema."""
        schema = declared_schema or self.default_schema_fqn()
        return [(schema, self)] if schema is not None else []

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def validate_connection(self) -> None:
        """Raise SourceError naming the source when it cannot be reached."""

    @abstractmethod
    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredTable | DiscoveryFailure]:
        """Stream what the source holds, one entity at a time; `known_*` (by location) are the
        last successful run's, for incremental discovery."""

    @abstractmethod
    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """At most `max_rows` rows, as Arrow batches, never the whole table in memory."""

    def profile_location(self, properties: TableProperties) -> str | None:
        """What `fetch_sample` and `table_statistics` take for a table this source discovered
        (default: its `location_path`)."""
        return properties.location_path

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        """Row count and per-column null counts / min / max from metadata, when the source
        keeps them (no data is scanned); None when it does not."""
        return None

    def table_entity(self, template: EntityConfig, name: str, **facts: Any) -> EntityConfig:
        """The discovery entity `template` made a concrete table `name` of this source: its
        properties (description, tags, … as configured) with the source's `facts` (columns,
        constraints, location, custom properties, …) and, unless configured, the schema."""
        props = template.properties
        base = props.model_dump() if isinstance(props, TableProperties) else dict(props)
        base.setdefault("database_schema", self.default_schema_fqn())
        base.update(facts)
        return template.model_copy(
            update={
                "name": name,
                "discovery": None,
                "properties": TableProperties.model_validate(base),
                "discovered_from": self.config.name,
            }
        )

    def entity_settings(self) -> dict[str, Any]:
        """Settings of this source that change the entities it discovers (e.g. whether meta
        columns are included): part of the incremental key, so changing one re-reads tables.
        Never credentials."""
        return {}

    def disconnect(self) -> None:
        return None

    def __enter__(self) -> DataSource:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.disconnect()
