"""Data sources entities are discovered from (first: Apache Hudi tables on S3)."""

from om_ingest.sources.base import DataSource, DiscoveredTable, DiscoveryFailure
from om_ingest.sources.registry import get_source, register_source, source_types

__all__ = [
    "DataSource",
    "DiscoveredTable",
    "DiscoveryFailure",
    "get_source",
    "register_source",
    "source_types",
]
