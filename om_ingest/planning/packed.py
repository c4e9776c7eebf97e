"""Discovered entity configs held compressed until the task that writes them.

A lake holds thousands of tables; a 30-column table config is ~50 KB of live pydantic objects
and ~10 ms for Prefect to walk as a task parameter. Pickled and zlib-compressed it is ~1 KB
of bytes that Prefect passes through untouched, and unpacking it takes well under a
millisecond. Pickle (not JSON) so the config comes back exactly as discovery built it.
"""

from __future__ import annotations

import pickle
import zlib
from dataclasses import dataclass

from om_ingest.config.models import EntityConfig


@dataclass(frozen=True)
class PackedEntity:
    blob: bytes
    key: tuple[str, str] | None = None
    """(kind, FQN), when the packer knew them: a reader can skip the entity without unpacking."""

    @classmethod
    def pack(cls, entity: EntityConfig, key: tuple[str, str] | None = None) -> PackedEntity:
        blob = zlib.compress(pickle.dumps(entity, protocol=pickle.HIGHEST_PROTOCOL))
        return cls(blob, key)

    def unpack(self) -> EntityConfig:
        entity: EntityConfig = pickle.loads(zlib.decompress(self.blob))
        return entity


EntitySpec = EntityConfig | PackedEntity
"""An entity as the planner receives it: as configured, or packed by discovery."""


def unpacked(spec: EntitySpec) -> EntityConfig:
    return spec.unpack() if isinstance(spec, PackedEntity) else spec
