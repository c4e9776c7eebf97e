"""Dependency planning: which entity goes first, and which can go together."""

from om_ingest.planning.packed import EntitySpec, PackedEntity, unpacked
from om_ingest.planning.plan import (
    PARENT_FIELD,
    Key,
    Plan,
    PlannedEntity,
    build_plan,
    entity_fqn,
    parent_fqn_of,
    planned,
)

__all__ = [
    "PARENT_FIELD",
    "EntitySpec",
    "Key",
    "PackedEntity",
    "Plan",
    "PlannedEntity",
    "build_plan",
    "entity_fqn",
    "parent_fqn_of",
    "planned",
    "unpacked",
]
