"""Shards of a discovery: which part of which source each child run of a sharded run lists.

A *unit* is the smallest piece a source's discovery splits into: one discovery entity's
source, one OM parent it writes into (a schema: a postgres schema, an iceberg namespace) and,
where the source can split further, one scope of it (s3_hudi: a directory right under its
prefix). `plan_shards` groups units into at most `max_shards` shards, every unit in exactly
one; with `by="source"` the units of one discovery entity stay together. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

ShardBy = Literal["prefix", "source"]


@dataclass(frozen=True)
class ShardUnit:
    entity: int
    """Position of the discovery entity in the config's `entities`."""
    source: str
    target: str
    """The OM parent (schema or service FQN) its entities go to."""
    scope: str | None = None
    """A part of the source (s3_hudi: a sub-prefix such as `warehouse/orders/`); None: all
    of it that goes to `target`."""

    def to_param(self) -> dict[str, Any]:
        """JSON for a flow-run parameter."""
        return asdict(self)

    @classmethod
    def from_param(cls, data: dict[str, Any]) -> ShardUnit:
        return cls(int(data["entity"]), str(data["source"]), str(data["target"]), data.get("scope"))

    def sort_key(self) -> tuple[int, str, str, str]:
        return (self.entity, self.source, self.target, self.scope or "")

    def describe(self) -> str:
        return f"{self.source}:{self.scope}" if self.scope else f"{self.source}:{self.target}"


def plan_shards(units: Iterable[ShardUnit], max_shards: int, by: ShardBy) -> list[list[ShardUnit]]:
    """Units grouped into at most `max_shards` non-empty shards of near-equal size (in units),
    each unit in exactly one, in a stable order; `by="source"` never splits a discovery
    entity's units."""
    if max_shards < 1:
        raise ValueError("max_shards must be at least 1")
    groups = _groups(sorted(set(units), key=ShardUnit.sort_key), by)
    count = min(max_shards, len(groups))
    shards: list[list[ShardUnit]] = [[] for _ in range(count)]
    # largest groups first, each to the currently smallest shard (ties: the first)
    for group in sorted(groups, key=len, reverse=True):
        smallest = min(range(count), key=lambda i: (len(shards[i]), i))
        shards[smallest].extend(group)
    return [sorted(shard, key=ShardUnit.sort_key) for shard in shards]


def _groups(units: Sequence[ShardUnit], by: ShardBy) -> list[list[ShardUnit]]:
    if by == "prefix":
        return [[unit] for unit in units]
    grouped: dict[int, list[ShardUnit]] = {}
    for unit in units:
        grouped.setdefault(unit.entity, []).append(unit)
    return list(grouped.values())


def shard_label(number: int, units: Sequence[ShardUnit]) -> str:
    """How a shard is named in its run's name and in the parent's results."""
    return f"shard {number} ({', '.join(u.describe() for u in units)})"
