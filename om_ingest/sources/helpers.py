"""Small pieces every source plugin shares: properties, filters, the concrete entity, error
texts, row caps, profile values."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import pyarrow as pa
from pydantic import BaseModel, SecretStr

from om_ingest.config.models import PROPERTY_MODELS, DiscoveryFilter, EntityConfig, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.logs import register_secrets_in

M = TypeVar("M", bound=BaseModel)


def source_properties(model: type[M], config: SourceConfig) -> M:
    """A source's `properties` as its plugin's model (its secrets registered for masking);
    invalid ones name the source."""
    try:
        props = model.model_validate(config.properties)
    except Exception as exc:
        raise SourceError(
            f"source {config.name!r}: invalid properties: {first_error(exc)}"
        ) from None
    register_secrets_in(props)
    return props


def capped(batches: Iterable[pa.RecordBatch], max_rows: int) -> Iterator[pa.RecordBatch]:
    """The first `max_rows` rows of a stream of batches, reading no batch past them."""
    remaining = max_rows
    for batch in batches:
        if remaining <= 0:
            return
        if batch.num_rows > remaining:
            batch = batch.slice(0, remaining)
        remaining -= batch.num_rows
        yield batch


def discovery_filter(template: EntityConfig) -> DiscoveryFilter | None:
    """The filter of a discovery entity (None: everything the source holds)."""
    return template.discovery.filter if template.discovery else None


def reached_cap(flt: DiscoveryFilter | None, found: int) -> bool:
    """Whether `found` entities already fill the filter's `max_tables`."""
    return flt is not None and flt.max_tables is not None and found >= flt.max_tables


def passes_filter(flt: DiscoveryFilter | None, *names: str) -> bool:
    """Whether a discovery filter's include/exclude patterns (globs, or regular expressions
    with `regex: true`) let an object through, matched on any of its `names` (its name, its
    path in the source…)."""
    if flt is None:
        return True

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


def unreachable(exc: BaseException) -> str:
    """Why an HTTP client could not reach a server, without its pool and retry chatter
    (`connection refused`, `timed out`, …; else the error's first line)."""
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    for marker in ("Name or service not known", "timed out", "certificate verify failed"):
        if marker in text:
            return marker
    return text.splitlines()[0][:300] if text else type(exc).__name__


def first_error(exc: Exception) -> str:
    """A properties model's first validation error, `path: message` (or the error text)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


def empty_as_unset(value: Any) -> Any:
    """A property given as an empty string (`${VAR:-}`) means "not set" (the default)."""
    plain = value.get_secret_value() if isinstance(value, SecretStr) else value
    return None if plain == "" else value


def profile_value(value: Any) -> Any:
    """Metadata values as profile values: numbers and strings; dates and times in ISO form."""
    from datetime import date, datetime, time
    from decimal import Decimal

    if isinstance(value, bool | bytes):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value if isinstance(value, int | float | str) else None


def lineage_edge(
    template: EntityConfig,
    source: str,
    upstream: tuple[str, str],
    downstream: tuple[str, str],
    pipeline: str | None = None,
) -> EntityConfig:
    """A discovered lineage edge (`type: lineage`) `upstream` → `downstream`, each a
    (config type, FQN), with the pipeline that moves the data on it: written by the lineage
    kind, under the discovery entity's idempotency mode. Its name is a readable label (OM's
    name length; no double quotes, which OM names cannot hold)."""
    import hashlib

    label = f"{upstream[1]} → {downstream[1]}" + (f" via {pipeline}" if pipeline else "")
    label = label.replace('"', "'")
    if len(label) > 256:
        digest = hashlib.sha256(label.encode()).hexdigest()[:12]
        label = f"{label[:240]}… {digest}"
    props: dict[str, Any] = {
        "from": {"type": upstream[0], "fqn": upstream[1]},
        "to": {"type": downstream[0], "fqn": downstream[1]},
    }
    if pipeline is not None:
        props["pipeline"] = {"type": "pipeline", "fqn": pipeline}
    return EntityConfig.model_validate(
        {
            "type": "lineage",
            "name": label,
            "properties": props,
            "idempotency": template.idempotency,
            "override": template.override,
            "discovered_from": source,
        }
    )
