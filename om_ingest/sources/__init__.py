"""Data sources entities are discovered from (Hudi tables on S3, Airflow pipelines, MLflow
models, OpenSearch indexes, …)."""

from om_ingest.sources.base import (
    DataSource,
    DiscoveredEntity,
    DiscoveryFailure,
)
from om_ingest.sources.registry import get_source, register_source, source_types

__all__ = [
    "DataSource",
    "DiscoveredEntity",
    "DiscoveryFailure",
    "get_source",
    "register_source",
    "source_types",
]
