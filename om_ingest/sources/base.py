"""The `DataSource` interface every source plugin implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from om_ingest.config.models import EntityConfig, SourceConfig


@dataclass(frozen=True)
class DiscoveredTable:
    """A concrete entity found by a source, plus the facts incremental runs need."""

    entity: EntityConfig
    location: str
    """Where the object lives, e.g. s3://bucket/warehouse/orders."""
    latest_commit: str | None = None
    unchanged: bool = False
    """The source saw no new commit since the last successful run (nothing to do)."""


@dataclass(frozen=True)
class DiscoveryFailure:
    """An object the source found but could not read; it fails alone."""

    name: str
    location: str
    error: str


class DataSource(ABC):
    """Connect, discover entities (streamed), extract schemas, sample rows, disconnect."""

    def __init__(self, config: SourceConfig, properties: Any) -> None:
        self.config = config
        self.properties = properties

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def validate_connection(self) -> None:
        """Raise SourceError naming the source when it cannot be reached."""

    @abstractmethod
    def discover_entities(
        self, template: EntityConfig, known_commits: dict[str, str] | None = None
    ) -> Iterator[DiscoveredTable | DiscoveryFailure]:
        """Stream what the source holds, one entity at a time."""

    @abstractmethod
    def fetch_sample(
        self, location: str, max_rows: int, columns: list[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """At most `max_rows` rows, as Arrow batches, never the whole table in memory."""

    def disconnect(self) -> None:
        return None

    def __enter__(self) -> DataSource:
        self.connect()
        return self

    def __exit__(self, *_: object) -> None:
        self.disconnect()
