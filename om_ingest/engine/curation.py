"""Who last changed each piece of curated metadata in OpenMetadata, from its version history.

A value is *curated* when someone other than om-ingest changed it in OM after om-ingest last
wrote it. A config edit replaces a value om-ingest wrote, never a curated one (unless
`override: true`), so the engine needs to know, per description, display name, tag and owner
list — on the entity and on every column at any depth — who changed it last.

OM answers that itself: `GET /{collection}/{id}/versions` lists every version as the whole
entity with its `updatedBy`. Walking them oldest first, the author of a value is the
`updatedBy` of the last version in which it differs from the version before (the creator
when it never changed). "om-ingest" is whoever OM says the client's token belongs to
(`GET /v1/users/loggedInUser`), usually the ingestion bot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from om_ingest.comparison import SchemaShape

TEXT_KEYS = ("description", "displayName")


def tag_key(location: str, tag_fqn: str) -> str:
    """The authorship key of one tag at `location` ('' for the entity, a column path else)."""
    return f"{location}#tags#{tag_fqn}".lower()


def text_key(location: str, name: str) -> str:
    return f"{location}#{name}".lower()


def owners_key(location: str = "") -> str:
    return f"{location}#owners"


def metadata_values(entity: Mapping[str, Any], schema_key: str | None) -> dict[str, Any]:
    """The curated metadata of one entity version as authorship key → value."""
    values: dict[str, Any] = {}
    _collect(values, "", entity)
    owners = sorted(o["id"] for o in entity.get("owners") or [] if not o.get("inherited"))
    if owners:
        values[owners_key()] = tuple(owners)
    if schema_key is not None:
        for column in SchemaShape(schema_key).fields_of(entity):
            _collect_column(values, schema_key, column)
    return values


def _collect(values: dict[str, Any], location: str, node: Mapping[str, Any]) -> None:
    for name in TEXT_KEYS:
        if node.get(name):
            values[text_key(location, name)] = node[name]
    for tag in node.get("tags") or []:
        values[tag_key(location, tag["tagFQN"])] = True


def _collect_column(values: dict[str, Any], prefix: str, column: Mapping[str, Any]) -> None:
    location = f"{prefix}.{column['name']}"
    _collect(values, location, column)
    for child in column.get("children") or []:
        _collect_column(values, location, child)


class Authors:
    """Authorship of an entity's curated metadata; `me` is om-ingest's OM user name.

    Without a history (`Authors.unknown()`) every value OM holds counts as curated: nothing is
    replaced or removed, only what OM lacks is added — the safe side.
    """

    def __init__(self, by_key: Mapping[str, str], me: str | None, known: bool = True) -> None:
        self.by_key = dict(by_key)
        self.me = me
        self.known = known and me is not None

    @classmethod
    def unknown(cls) -> Authors:
        return cls({}, None, known=False)

    @classmethod
    def from_versions(
        cls, versions: Iterable[Mapping[str, Any]], schema_key: str | None, me: str | None
    ) -> Authors:
        authors: dict[str, str] = {}
        previous: dict[str, Any] = {}
        for version in sorted(versions, key=lambda v: float(v.get("version") or 0)):
            values = metadata_values(version, schema_key)
            for key in set(values) | set(previous):
                if values.get(key) != previous.get(key):
                    authors[key] = str(version.get("updatedBy") or "")
            previous = values
        return cls(authors, me)

    def author(self, key: str) -> str | None:
        return self.by_key.get(key)

    def may_replace(self, key: str) -> bool:
        """A value OM holds may be replaced or removed: om-ingest wrote it last."""
        return self.known and self.by_key.get(key) == self.me

    def may_restore(self, key: str) -> bool:
        """A value OM lacks may be (re-)added: nobody else removed it after om-ingest."""
        author = self.by_key.get(key)
        return not (self.known and author is not None and author != self.me)


def parse_versions(raw: Iterable[Any]) -> list[dict[str, Any]]:
    """OM's EntityHistory lists versions as JSON strings (some clients decode them)."""
    out = []
    for item in raw:
        if isinstance(item, str):
            item = json.loads(item)
        elif hasattr(item, "model_dump"):
            item = item.model_dump(mode="json", exclude_none=True, by_alias=True)
        out.append(dict(item))
    return out
