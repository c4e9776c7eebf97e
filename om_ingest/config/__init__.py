"""The ingestion YAML: models, loading with positions, env substitution and templates."""

from om_ingest.config.loader import LoadedConfig, format_path, load_config
from om_ingest.config.models import (
    AuditConfig,
    ColumnSpec,
    DefaultsConfig,
    EntityConfig,
    EntityType,
    ExecutionConfig,
    IdempotencyMode,
    IngestionConfig,
    ProfilingConfig,
    SourceConfig,
    TableProperties,
)

__all__ = [
    "AuditConfig",
    "ColumnSpec",
    "DefaultsConfig",
    "EntityConfig",
    "EntityType",
    "ExecutionConfig",
    "IdempotencyMode",
    "IngestionConfig",
    "LoadedConfig",
    "ProfilingConfig",
    "SourceConfig",
    "TableProperties",
    "format_path",
    "load_config",
]
