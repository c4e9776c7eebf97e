"""Names in a config resolved to what OpenMetadata knows them by (ids, references).

In a dry run nothing is written, so an entity the same config declares earlier (a user who
owns a classification, the table a contract covers) is not in OM yet: its lookup gets a
stand-in id instead of failing the preview. Outside a dry run an unknown name fails the
entity that names it, with the name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from om_ingest import fqns
from om_ingest.errors import OpenMetadataError

if TYPE_CHECKING:
    from om_ingest.openmetadata import OMClient

STAND_IN_ID = "00000000-0000-0000-0000-000000000000"
"""The id a dry run gives an entity declared earlier in the run (OM does not have it yet)."""


@dataclass(frozen=True)
class Resolver:
    client: OMClient
    pending: frozenset[tuple[str, str]] = frozenset()
    """(config type, FQN) of what a dry run would have created before this entity (its
    planned dependencies: `planning.Key`s)."""

    def owners(self, names: list[str]) -> list[dict[str, str]]:
        """Owner (or reviewer) references: a user of that name, else a team."""
        refs = []
        for name in names:
            try:
                refs += self.client.owner_refs([name])
            except OpenMetadataError:
                kind = next(
                    (k for k in ("user", "team") if (k, fqns.child(None, name)) in self.pending),
                    None,
                )
                if kind is None:
                    raise
                refs.append({"id": STAND_IN_ID, "type": kind, "name": name})
        return refs

    def entity(self, entity_class: type[BaseModel], fqn: str, what: str) -> str:
        """The id of the entity `fqn` (`what`: its config type), or a stand-in for a pending
        one."""
        found = self.find(entity_class, fqn, what)
        return STAND_IN_ID if found is None else str(found.id.root)

    def find(
        self, entity_class: type[BaseModel], fqn: str, what: str, fields: list[str] | None = None
    ) -> Any:
        """The entity `fqn` of config type `what` as OM holds it (with `fields`), or None for
        a pending one; an unknown one raises `OpenMetadataError` naming it."""
        found: Any = self.client.get_by_name(entity_class, fqn, fields=fields)
        if found is not None:
            return found
        if (what, fqns.normalize(fqn)) in self.pending:
            return None
        raise OpenMetadataError(f"{what} {fqn} was not found in OpenMetadata")
