"""Source plugins by type name: `@register_source("s3_hudi")`."""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches

from pydantic import BaseModel

from om_ingest.config.models import SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources.base import DataSource

SourceFactory = Callable[[SourceConfig], DataSource]
_SOURCES: dict[str, SourceFactory] = {}
_PROPERTIES: dict[str, type[BaseModel]] = {}


def register_source(
    name: str, properties: type[BaseModel] | None = None
) -> Callable[[SourceFactory], SourceFactory]:
    """Register a source factory; `properties` (its pydantic model) lets `validate` check a
    source's `properties:` before anything runs."""

    def decorate(factory: SourceFactory) -> SourceFactory:
        _SOURCES[name] = factory
        if properties is not None:
            _PROPERTIES[name] = properties
        return factory

    return decorate


def properties_model(source_type: str) -> type[BaseModel] | None:
    _load_builtin()
    return _PROPERTIES.get(source_type)


def source_types() -> list[str]:
    _load_builtin()
    return sorted(_SOURCES)


def get_source(config: SourceConfig) -> DataSource:
    _load_builtin()
    factory = _SOURCES.get(config.type)
    if factory is None:
        raise SourceError(f"source {config.name!r}: {unknown_type_message(config.type)}")
    return factory(config)


def unknown_type_message(source_type: str) -> str:
    _load_builtin()
    hint = get_close_matches(source_type, list(_SOURCES), n=1)
    suffix = (
        f" (did you mean {hint[0]!r}?)" if hint else f" (available: {', '.join(sorted(_SOURCES))})"
    )
    return f"unknown source type {source_type!r}{suffix}"


def _load_builtin() -> None:
    from om_ingest.sources.s3_hudi import connector  # noqa: F401  (registers s3_hudi)
