"""Small pieces every source plugin shares: table filters, error texts, profile values."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import pyarrow as pa
from pydantic import BaseModel

from om_ingest.config.models import SourceConfig
from om_ingest.errors import SourceError

M = TypeVar("M", bound=BaseModel)


def source_properties(model: type[M], config: SourceConfig) -> M:
    """A source's `properties` as its plugin's model; invalid ones name the source."""
    try:
        return model.model_validate(config.properties)
    except Exception as exc:
        raise SourceError(
            f"source {config.name!r}: invalid properties: {first_error(exc)}"
        ) from None


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


def table_selected(
    relative: str, name: str, include: list[str], exclude: list[str], regex: bool
) -> bool:
    """A discovery filter's verdict on a table, matched by its path in the source
    (`relative`) or its name: globs, or regular expressions when `regex`."""

    def hit(pattern: str) -> bool:
        if regex:
            return re.search(pattern, relative) is not None or re.search(pattern, name) is not None
        return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(name, pattern)

    return any(hit(p) for p in include) and not any(hit(p) for p in exclude)


def reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def first_error(exc: Exception) -> str:
    """A properties model's first validation error, `path: message` (or the error text)."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


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
