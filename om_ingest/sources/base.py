"""The `DataSource` interface every source plugin implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from om_ingest.config.models import (
    ColumnSpec,
    EntityConfig,
    EntityType,
    ProfilingConfig,
    SourceConfig,
    TableProperties,
)

if TYPE_CHECKING:
    from om_ingest.profiling.data_profiler import TableProfileResult


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
    """A cheap fingerprint of the table's change log (e.g. its timeline listing) or of its
    catalog definition: equal to the last run's, the table is unchanged."""
    unchanged_reason: str | None = None
    """Why the source holds the table unchanged, said in the skip's result."""

    @classmethod
    def unchanged_at(
        cls, template: EntityConfig, name: str, location: str, commit: str | None,
        marker: str | None, reason: str,
    ) -> DiscoveredEntity:  # fmt: skip
        """A table the source saw unchanged since the last run: a named placeholder, no facts."""
        entity = template.model_copy(update={"name": name, "discovery": None})
        return cls(entity, location, commit, True, marker, reason)


@dataclass(frozen=True)
class DiscoveryFailure:
    """An object the source found but could not read; it fails alone."""

    name: str
    location: str
    error: str


@dataclass(frozen=True)
class DiscoveryWarning:
    """Something the source found and leaves out without failing (an Airflow asset that
    names no table): said in the run's results and summary."""

    name: str
    location: str
    message: str


@dataclass
class ColumnStatistics:
    """Whole-table figures of one column from file metadata (None: not recorded)."""

    null_count: int | None = None
    min: Any = None
    max: Any = None
    null_fraction: float | None = None
    distinct_count: int | None = None
    """Set by sources whose metadata knows them (e.g. a database's planner statistics)."""


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
    spans_schemas: ClassVar[bool] = False
    """The source maps its own schemas (a catalog's namespaces): `targets` finding none means
    the source holds no tables, not that the config lacks a `database_schema`."""

    reads_measured: ClassVar[str | None] = None
    """What of its reads the source counts into the run's `bytes_read` (None: nothing
    measurable, reported as "not measured")."""

    def __init__(self, config: SourceConfig, properties: Any) -> None:
        from om_ingest.sources.reads import current_reads

        self.config = config
        self.properties = properties
        self._reads = current_reads()  # the meter of the run that opened this source

    def count_read(self, count: int) -> None:
        """Add `count` bytes received from the source to the run's `bytes_read`."""
        if self._reads is not None:
            self._reads.add(self.config.name, count)

    def owns_pipeline_lineage(self) -> bool:
        """Whether every lineage edge carrying one of its discovered pipelines is the
        source's to derive (Airflow with `lineage` on): one it no longer derives is stale."""
        return False

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

    def shard_scopes(self) -> list[str] | None:
        """The parts this source's discovery can be split into for a sharded run (each listed
        by `within`); None: it is listed whole."""
        return None

    def within(self, scopes: list[str]) -> DataSource:
        """This source limited to some of its `shard_scopes` (entities named as before)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be split into scopes")

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
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure | DiscoveryWarning]:
        """Stream what the source holds, one entity at a time; `known_*` (by location) are the
        last successful run's, for incremental discovery. A source may stream entities of
        another kind it derives (lineage edges), after the entities they name."""

    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """At most `max_rows` rows, as Arrow batches, never the whole table in memory (table
        sources; others have no rows to sample)."""
        raise NotImplementedError(f"{type(self).__name__} has no rows to sample")

    def profile_location(self, properties: TableProperties) -> str | None:
        """What `fetch_sample` and `table_statistics` take for a table this source discovered
        (default: its `location_path`)."""
        return properties.location_path

    def table_statistics(self, location: str, columns: list[str]) -> TableStatistics | None:
        """Row count and per-column null counts / min / max from metadata, when the source
        keeps them (no data is scanned); None when it does not."""
        return None

    def exact_row_count(self, location: str) -> tuple[int, str] | None:
        """The whole table's row count and where it comes from, when the source can tell it
        exactly and cheaply (default: from `table_statistics` when exact); None otherwise."""
        statistics = self.table_statistics(location, [])
        if statistics is None or not statistics.exact:
            return None
        return statistics.row_count, statistics.origin

    def profile(
        self, fqn: str, location: str, columns: list[ColumnSpec], settings: ProfilingConfig
    ) -> TableProfileResult | None:
        """A profile computed where the data lives (a database runs the statistics itself);
        None: the source has none, and its `fetch_sample` rows are profiled instead."""
        return None

    def table_entity(self, template: EntityConfig, name: str, **facts: Any) -> EntityConfig:
        """The discovery entity `template` made a concrete table `name` of this source: the
        source's `facts` (columns, constraints, location, custom properties, …) with what the
        config sets on top, as for every discovered kind (`helpers.discovered`): its
        description and schema win over the source's, and its custom properties merge over
        the source's. Without either, the schema is the source's default."""
        props = template.properties
        configured = props.model_dump() if isinstance(props, TableProperties) else dict(props)
        merged = {**configured, **facts}
        for key in ("description", "database_schema"):
            if configured.get(key):
                merged[key] = configured[key]
        merged["database_schema"] = merged.get("database_schema") or self.default_schema_fqn()
        merged["custom_properties"] = {
            **(facts.get("custom_properties") or {}),
            **(configured.get("custom_properties") or {}),
        }
        return template.model_copy(
            update={
                "name": name,
                "discovery": None,
                "properties": TableProperties.model_validate(merged),
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


class ServiceLevelSource(DataSource):
    """A source whose entities sit right under their service (pipelines, ML models): the
    service is named like the source unless the discovery entity names one."""

    def default_schema_fqn(self) -> str | None:
        from om_ingest import fqns

        return fqns.child(None, self.config.name)
