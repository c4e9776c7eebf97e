"""The `DataSource` interface every source plugin implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pyarrow as pa

from om_ingest.config.models import EntityConfig, EntityType, SourceConfig


@dataclass(frozen=True)
class DiscoveredEntity:
    """A concrete entity (a table, a pipeline, an ML model…) found by a source, plus the facts
    incremental runs need."""

    entity: EntityConfig
    location: str
    """Where the object lives at the source, e.g. s3://bucket/warehouse/orders, an Airflow
    DAG's or an MLflow model's URL: stale detection compares these between runs."""
    latest_commit: str | None = None
    unchanged: bool = False
    """The source saw no new commit since the last successful run (nothing to do)."""
    marker: str | None = None
    """A cheap fingerprint of the table's change log (e.g. its timeline listing): equal to
    the last run's, the table is unchanged without reading it."""


DiscoveredTable = DiscoveredEntity
"""The name table sources were written against (same class)."""


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

    discovers: ClassVar[EntityType] = EntityType.TABLE
    """The entity type discovery yields; its parent chain up to a service (schema, database,
    database service for tables; the pipeline or ML model service for those) is implied."""
    service_type: ClassVar[str] = "Datalake"
    """OM's service type (DatabaseServiceType for tables, PipelineServiceType for pipelines,
    …) of the service a discovery adds when the config declares none."""

    def __init__(self, config: SourceConfig, properties: Any) -> None:
        self.config = config
        self.properties = properties

    def default_schema_fqn(self) -> str | None:
        """The OM parent discovered entities go to when the config names none: a table
        source's schema, a pipeline or ML model source's service."""
        return None

    def targets(self, declared_schema: str | None) -> list[tuple[str, DataSource]]:
        """Each OM parent (a schema; a service for pipelines and ML models) this discovery
        writes into, with the source that lists its entities (one stream each). A source
        whose tables span schemas (a database's schemas, a catalog's namespaces) returns one
        narrowed source per schema; `declared_schema` (the discovery entity's parent, e.g.
        `database_schema`) puts everything into that one parent."""
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
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure]:
        """Stream what the source holds, one entity at a time; `known_*` (by location) are the
        last successful run's, for incremental discovery."""

    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """At most `max_rows` rows, as Arrow batches, never the whole table in memory (table
        sources; others have no rows to sample)."""
        raise NotImplementedError(f"{type(self).__name__} has no rows to sample")

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        """Row count and per-column null counts / min / max from metadata, when the source
        keeps them (no data is scanned); None when it does not."""
        return None

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


class ServiceLevelSource(DataSource):
    """A source whose entities sit right under their service (pipelines, ML models): the
    service is named like the source unless the discovery entity names one."""

    def default_schema_fqn(self) -> str | None:
        from om_ingest import fqns

        return fqns.child(None, self.config.name)
