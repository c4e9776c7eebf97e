"""What every source does with what it finds: filter names, build the concrete entity."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from om_ingest.config.models import PROPERTY_MODELS, DiscoveryFilter, EntityConfig, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets_in

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], config: SourceConfig) -> M:
    """A source's `properties` as its plugin's model (its secrets registered for masking),
    or a SourceError naming the source."""
    try:
        props = model.model_validate(config.properties)
    except Exception as exc:
        raise SourceError(f"source {config.name!r}: invalid properties: {exc}") from None
    register_secrets_in(props)
    return props


def selected(candidates: Iterable[str], flt: DiscoveryFilter | None) -> bool:
    """Whether an object passes a discovery's `filter` (include/exclude, glob or `regex`),
    matched against each of its `candidates` (a name, a relative path…)."""
    if flt is None:
        return True
    names = list(candidates)

    def hit(pattern: str) -> bool:
        if flt.regex:
            return any(re.search(pattern, name) is not None for name in names)
        return any(fnmatch.fnmatchcase(name, pattern) for name in names)

    return any(hit(p) for p in flt.include) and not any(hit(p) for p in flt.exclude)


def discovered(
    template: EntityConfig, name: str, found: dict[str, Any], source: str
) -> EntityConfig:
    """The concrete entity `name`: the discovery entity's properties (description, tags,
    owners, custom properties the config sets) with what the source `found` on top, checked
    against the kind's properties model. Custom properties (`extension`) merge, the
    config's winning."""
    props = template.properties
    base = props.model_dump(by_alias=True) if not isinstance(props, dict) else dict(props)
    merged = {**found, **{k: v for k, v in base.items() if v not in (None, [], {})}}
    if isinstance(found.get("extension"), dict) or isinstance(base.get("extension"), dict):
        merged["extension"] = {**(found.get("extension") or {}), **(base.get("extension") or {})}
    model = PROPERTY_MODELS[template.type]
    return template.model_copy(
        update={
            "name": name,
            "discovery": None,
            "properties": model.model_validate(merged),
            "discovered_from": source,
        }
    )


def reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
