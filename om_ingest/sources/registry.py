"""Source plugins by type name: `@register_source_class("s3_hudi", S3HudiProperties)` on the
source's class.

A plugin declares its `properties` model. Its `SecretStr` fields are the source's secret
properties (kept as `SecretStr` in the loaded config, so no repr, dump or log shows them);
a model with a `for_schema(properties, schema)` classmethod supports `filter.schema`, and one
with a `hide_secrets(properties)` classmethod hides secrets nested deeper (e.g. in a dict of a
library's own settings).
"""

from __future__ import annotations

import importlib
import re
import typing
from collections.abc import Callable
from difflib import get_close_matches
from typing import Any

from pydantic import BaseModel, SecretStr

from om_ingest.config.models import EntityType, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources.base import DataSource
from om_ingest.sources.helpers import source_properties

SourceFactory = Callable[[SourceConfig], DataSource]
_SOURCES: dict[str, SourceFactory] = {}
_PROPERTIES: dict[str, type[BaseModel]] = {}
_DISCOVERS: dict[str, EntityType] = {}
_MEASURED: dict[str, str | None] = {}


def register_source(
    name: str,
    properties: type[BaseModel] | None = None,
    discovers: EntityType = EntityType.TABLE,
) -> Callable[[SourceFactory], SourceFactory]:
    """Register a source factory; `properties` (its pydantic model) lets `validate` check a
    source's `properties:` before anything runs; `discovers`: the entity type its discovery
    yields (its `DataSource.discovers`), checked against each discovery entity's type."""

    def decorate(factory: SourceFactory) -> SourceFactory:
        _SOURCES[name] = factory
        _DISCOVERS[name] = discovers
        if properties is not None:
            _PROPERTIES[name] = properties
        return factory

    return decorate


def register_source_class(
    name: str, properties: type[BaseModel]
) -> Callable[[type[DataSource]], type[DataSource]]:
    """Register a `DataSource` class built from its validated `properties` model (invalid
    properties fail that source with the first error, `source 'x': invalid properties: …`);
    it discovers its class's `discovers`."""

    def decorate(cls: type[DataSource]) -> type[DataSource]:
        def factory(config: SourceConfig) -> DataSource:
            return cls(config, source_properties(properties, config))

        register_source(name, properties, cls.discovers)(factory)
        _MEASURED[name] = cls.reads_measured
        return cls

    return decorate


def reads_measured(source_type: str) -> str | None:
    """What a source type counts of its reads (`DataSource.reads_measured`); None: nothing."""
    _load_builtin(source_type)
    return _MEASURED.get(source_type)


def properties_model(source_type: str) -> type[BaseModel] | None:
    _load_builtin(source_type)
    return _PROPERTIES.get(source_type)


def is_source_type(name: str) -> bool:
    _load_builtin(name)
    return name in _SOURCES


def source_types() -> list[str]:
    _load_builtin()
    return sorted(_SOURCES)


_SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|private_key|credential)")
"""Secret-looking property names, for a source type without a plugin (so an unknown type's
`password` is not shown either while its error is reported)."""


def secret_properties(source_type: str, names: typing.Iterable[str]) -> set[str]:
    """Which of `names` hold secrets: the plugin's `SecretStr` fields (by name or alias), or
    for an unknown type, the secret-looking names."""
    model = properties_model(source_type)
    if model is None:
        return {name for name in names if _SECRET_NAME.search(name)}
    secret: set[str] = set()
    for name, info in model.model_fields.items():
        if _holds_secret(info.annotation):
            secret.update([name] + ([info.alias] if info.alias else []))
    return secret & set(names)


def hide_secrets(source_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    """`properties` with every secret of the plugin as a `SecretStr`: its secret properties,
    and what its model's `hide_secrets` finds deeper."""
    secret = secret_properties(source_type, properties)
    hidden = {
        key: SecretStr(value) if key in secret and isinstance(value, str) else value
        for key, value in properties.items()
    }
    model = properties_model(source_type)
    deeper = getattr(model, "hide_secrets", None)
    return deeper(hidden) if callable(deeper) else hidden


def _holds_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_holds_secret(a) for a in typing.get_args(annotation))


def discovers(source_type: str) -> frozenset[str]:
    """Entity types a source's discovery yields."""
    _load_builtin(source_type)
    found = _DISCOVERS.get(source_type)
    return frozenset({found.value}) if found is not None else frozenset()


def supports_schema(source_type: str) -> bool:
    """Whether the plugin can narrow its discovery to one schema (`filter.schema`)."""
    return hasattr(properties_model(source_type), "for_schema")


def get_source(config: SourceConfig, schema: str | None = None) -> DataSource:
    """The plugin's source for `config`; `schema` (a discovery's `filter.schema`) narrows
    it to that schema."""
    _load_builtin(config.type)
    factory = _SOURCES.get(config.type)
    if factory is None:
        raise SourceError(f"source {config.name!r}: {unknown_type_message(config.type)}")
    if schema is not None:
        model = properties_model(config.type)
        if model is None or not hasattr(model, "for_schema"):
            raise SourceError(f"source {config.name!r}: {config.type} has no schemas to filter by")
        narrowed = model.for_schema(config.properties, schema)
        config = config.model_copy(update={"properties": narrowed})
    return factory(config)


def unknown_type_message(source_type: str) -> str:
    _load_builtin()
    hint = get_close_matches(source_type, list(_SOURCES), n=1)
    suffix = (
        f" (did you mean {hint[0]!r}?)" if hint else f" (available: {', '.join(sorted(_SOURCES))})"
    )
    return f"unknown source type {source_type!r}{suffix}"


_BUILTIN = {
    "airflow": "om_ingest.sources.airflow_dags.connector",
    "iceberg": "om_ingest.sources.iceberg.connector",
    "kafka": "om_ingest.sources.kafka_topics.connector",
    "mlflow": "om_ingest.sources.mlflow_registry.connector",
    "opensearch": "om_ingest.sources.opensearch_indexes.connector",
    "postgres": "om_ingest.sources.postgres.connector",
    "s3_hudi": "om_ingest.sources.s3_hudi.connector",
}
"""The built-in plugins' modules by the type each registers."""


def _load_builtin(source_type: str | None = None) -> None:
    """Import the built-in plugin of `source_type`, or all of them (no type, or one none of
    them registers): loading a config naming one type does not import the other plugins'
    libraries (pyiceberg, psycopg2, confluent-kafka…: ~0.5 s)."""
    if source_type is not None and source_type in _SOURCES:
        return
    wanted = [_BUILTIN[source_type]] if source_type in _BUILTIN else list(_BUILTIN.values())
    for module in wanted:
        importlib.import_module(module)
