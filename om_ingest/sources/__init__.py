"""Data sources entities are discovered from (Hudi tables on S3, Airflow pipelines, MLflow
models, OpenSearch indexes, …)."""

from om_ingest.sources.base import (
    DataSource,
    DiscoveredEntity,
    DiscoveryFailure,
    DiscoveryWarning,
)
from om_ingest.sources.registry import get_source, register_source, source_types

__all__ = [
    "DataSource",
    "DiscoveredEntity",
    "DiscoveryFailure",
    "DiscoveryWarning",
    "get_source",
    "register_source",
    "source_types",
]
