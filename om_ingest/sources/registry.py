"""Source plugins by type name: `@register_source("s3_hudi")`."""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches

from om_ingest.config.models import SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources.base import DataSource

SourceFactory = Callable[[SourceConfig], DataSource]
_SOURCES: dict[str, SourceFactory] = {}


def register_source(name: str) -> Callable[[SourceFactory], SourceFactory]:
    def decorate(factory: SourceFactory) -> SourceFactory:
        _SOURCES[name] = factory
        return factory

    return decorate


def source_types() -> list[str]:
    _load_builtin()
    return sorted(_SOURCES)


def get_source(config: SourceConfig) -> DataSource:
    _load_builtin()
    factory = _SOURCES.get(config.type)
    if factory is None:
        hint = get_close_matches(config.type, list(_SOURCES), n=1)
        suffix = (
            f" (did you mean {hint[0]!r}?)"
            if hint
            else f" (available: {', '.join(sorted(_SOURCES))})"
        )
        raise SourceError(f"source {config.name!r}: unknown source type {config.type!r}{suffix}")
    return factory(config)


def _load_builtin() -> None:
    from om_ingest.sources.s3_hudi import connector  # noqa: F401  (registers s3_hudi)
