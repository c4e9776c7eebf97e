"""Compare the desired request with the entity in OM; decide what an update writes, and how.

What the config controls, at every depth:
- structure (a kind's `schema_key`, e.g. a table's columns): names, types, nesting — a
  schema change, applied by PUT;
- owned facts (table type, constraints, location, a column's constraint): applied by PUT;
- metadata people curate in OM too — descriptions and display names, tags, owners, on the
  entity and on every column — and the entity's custom-property values the config sets:
  applied by a JSON Patch, because a bot's PUT keeps a non-empty description, merges tags
  and never changes `extension` (OM's EntityUpdater).

A config edit replaces a value om-ingest wrote; a *curated* one (changed in OM by someone
else after om-ingest last wrote it: `curation.Authors`) is kept and reported, unless
`override: true`, which makes the config's metadata exact. A tag om-ingest added and the
config no longer lists is removed; a tag someone else added stays. Authorship costs one
version-history read, made only when a decision needs it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from om_ingest.comparison import SchemaDiff, diff_schemas, flatten_fields
from om_ingest.engine.curation import TEXT_KEYS, Authors, owners_key, tag_key, text_key
from om_ingest.engine.results import FieldChange
from om_ingest.entities.base import EntityHandler

Location = tuple[str, ...]
"""Lower-cased column names from the entity down to one column; () is the entity itself.
OM matches columns by name, ignoring case."""

COLUMN_FACTS = ("constraint",)
"""Column attributes that are source facts, applied by PUT (types are structure)."""


@dataclass
class _Edits:
    """The metadata changes decided for one location (the entity or one column)."""

    text: dict[str, str] = field(default_factory=dict)
    add_tags: list[dict[str, Any]] = field(default_factory=list)
    remove_tags: set[str] = field(default_factory=set)


@dataclass
class Comparison:
    schema_diff: SchemaDiff = field(default_factory=SchemaDiff)
    field_changes: list[FieldChange] = field(default_factory=list)
    """Every difference the update applies, by path (`columns.address.city.description`)."""
    kept_curated: list[FieldChange] = field(default_factory=list)
    """Differences left alone because the value in OM is curated."""
    needs_put: bool = False
    """Structure or owned facts differ: the update PUTs the request."""
    edits: dict[Location, _Edits] = field(default_factory=dict)
    owners: list[dict[str, Any]] | None = None
    extension: dict[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.schema_diff) or bool(self.field_changes)

    @property
    def needs_patch(self) -> bool:
        """Metadata or custom properties differ: the update ends with a JSON Patch."""
        return bool(self.edits) or self.owners is not None or self.extension is not None


def as_json(model: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    return dumped


def compare(
    handler: EntityHandler,
    desired: dict[str, Any],
    current: dict[str, Any],
    override: bool,
    authors: Callable[[], Authors] | None = None,
) -> Comparison:
    """Every difference between what the config asks for and what OM holds, decided."""
    result = Comparison()
    decide = _Decider(result, override, authors or Authors.unknown)
    schema = handler.schema_key
    if schema is not None:
        result.schema_diff = diff_schemas(
            flatten_fields(current.get(schema) or []), flatten_fields(desired.get(schema) or [])
        )
    decide.metadata((), "", desired, current)
    decide.owners(desired, current)
    for key in sorted(handler.owned_fields()):
        if desired.get(key) != current.get(key):
            result.field_changes.append(
                FieldChange(field=key, before=current.get(key), after=desired.get(key))
            )
            result.needs_put = True
    wanted_ext = desired.get("extension") or {}
    have_ext = current.get("extension") or {}
    changed_ext = {k: v for k, v in wanted_ext.items() if have_ext.get(k) != v}
    if changed_ext:
        result.extension = changed_ext
        result.field_changes.extend(
            FieldChange(field=f"extension.{k}", before=have_ext.get(k), after=v)
            for k, v in sorted(changed_ext.items())
        )
    if schema is not None:
        decide.columns((), schema, desired.get(schema) or [], current.get(schema) or [])
    result.needs_put |= bool(result.schema_diff)
    return result


class _Decider:
    """Walks the entity and its columns, recording each difference as applied or kept."""

    def __init__(self, result: Comparison, override: bool, authors: Callable[[], Authors]):
        self.result = result
        self.override = override
        self._authors_source = authors
        self._authors: Authors | None = None

    @property
    def authors(self) -> Authors:
        if self._authors is None:
            self._authors = self._authors_source()
        return self._authors

    def _edits(self, location: Location) -> _Edits:
        return self.result.edits.setdefault(location, _Edits())

    def _report(self, applied: bool, path: str, before: Any, after: Any) -> None:
        target = self.result.field_changes if applied else self.result.kept_curated
        target.append(FieldChange(field=path, before=before, after=after))

    def metadata(
        self, location: Location, path: str, desired: dict[str, Any], current: dict[str, Any]
    ) -> None:
        """Descriptions, display names and tags of one location (`path` '' = the entity)."""
        for name in TEXT_KEYS:
            wanted, have = desired.get(name), current.get(name)
            if not wanted or wanted == have:
                continue
            key = text_key(path, name)
            if have:
                applied = self.override or self.authors.may_replace(key)
            else:
                applied = self.override or self.authors.may_restore(key)
            self._report(applied, _join(path, name), have, wanted)
            if applied:
                self._edits(location).text[name] = wanted
        self.tags(location, path, desired, current)

    def tags(
        self, location: Location, path: str, desired: dict[str, Any], current: dict[str, Any]
    ) -> None:
        """Config tags are added unless someone else removed them; tags om-ingest added
        and the config no longer lists are removed; other tags stay (override: exact)."""
        wanted = {t["tagFQN"]: t for t in desired.get("tags") or []}
        have = {t["tagFQN"] for t in current.get("tags") or []}
        missing, extra = set(wanted) - have, have - set(wanted)
        if not missing and not extra:
            return
        add = [
            wanted[t]
            for t in sorted(missing)
            if self.override or self.authors.may_restore(tag_key(path, t))
        ]
        remove = {t for t in extra if self.override or self.authors.may_replace(tag_key(path, t))}
        final = (have - remove) | {t["tagFQN"] for t in add}
        if final != have:
            self._report(True, _join(path, "tags"), sorted(have), sorted(final))
            edits = self._edits(location)
            edits.add_tags, edits.remove_tags = add, remove
        if missing - final:
            self._report(False, _join(path, "tags"), sorted(have), sorted(final | missing))

    def owners(self, desired: dict[str, Any], current: dict[str, Any]) -> None:
        wanted = desired.get("owners") or []
        have = [o for o in current.get("owners") or [] if not o.get("inherited")]
        if not wanted or {o["id"] for o in wanted} == {o["id"] for o in have}:
            return
        if have:
            applied = self.override or self.authors.may_replace(owners_key())
        else:
            applied = self.override or self.authors.may_restore(owners_key())
        self._report(applied, "owners", _names(have), _names(wanted))
        if applied:
            self.result.owners = [{"id": o["id"], "type": o["type"]} for o in wanted]

    def columns(
        self,
        location: Location,
        prefix: str,
        desired: list[dict[str, Any]],
        current: list[dict[str, Any]],
    ) -> None:
        """Matched columns (by name, ignoring case, as OM matches): their metadata and
        facts, children at every depth. Added and removed ones are schema changes."""
        have = {c["name"].lower(): c for c in current}
        for column in desired:
            stored = have.get(column["name"].lower())
            if stored is None:
                continue
            path = f"{prefix}.{column['name']}"
            here = (*location, column["name"].lower())
            self.metadata(here, path, column, stored)
            for key in COLUMN_FACTS:
                if column.get(key) != stored.get(key):
                    self._report(True, f"{path}.{key}", stored.get(key), column.get(key))
                    self.result.needs_put = True
            self.columns(here, path, column.get("children") or [], stored.get("children") or [])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _names(owners: list[dict[str, Any]]) -> list[str]:
    return sorted(o.get("name") or o["id"] for o in owners)


def put_request(
    handler: EntityHandler, desired: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """The PUT body of an update: the config's structure and facts, with the metadata OM
    holds now on every entity and column it already has (metadata edits follow by PATCH).
    Owners and custom properties are left out: OM keeps them when a PUT omits them (and a
    user's PUT would otherwise replace every custom property, not only the config's)."""
    body = {k: v for k, v in desired.items() if k not in ("owners", "extension")}
    _carry_metadata(body, current)
    schema = handler.schema_key
    if schema is not None and schema in body:
        body[schema] = _carry_columns(body[schema], current.get(schema) or [])
    return body


def _carry_metadata(node: dict[str, Any], stored: dict[str, Any]) -> None:
    for key in (*TEXT_KEYS, "tags"):
        if stored.get(key):
            node[key] = stored[key]
        else:
            node.pop(key, None)


def _carry_columns(
    desired: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    have = {c["name"].lower(): c for c in current}
    out = []
    for column in desired:
        column = dict(column)
        stored = have.get(column["name"].lower())
        if stored is not None:
            _carry_metadata(column, stored)
            if column.get("children"):
                column["children"] = _carry_columns(
                    column["children"], stored.get("children") or []
                )
        out.append(column)
    return out


def patched(
    handler: EntityHandler, entity: dict[str, Any], comparison: Comparison
) -> dict[str, Any]:
    """`entity` (as OM holds it) with the comparison's metadata edits applied: the PATCH
    destination."""
    out = copy.deepcopy(entity)
    for location, edits in comparison.edits.items():
        node = _find(out, handler.schema_key, location)
        if node is None:
            continue  # the column went away meanwhile; nothing to edit
        node.update(edits.text)
        tags = [t for t in node.get("tags") or [] if t["tagFQN"] not in edits.remove_tags]
        known = {t["tagFQN"] for t in tags}
        tags += [t for t in edits.add_tags if t["tagFQN"] not in known]
        node["tags"] = tags
    if comparison.owners is not None:
        out["owners"] = comparison.owners
    if comparison.extension is not None:
        out["extension"] = {**(out.get("extension") or {}), **comparison.extension}
    return out


def _find(entity: dict[str, Any], schema: str | None, location: Location) -> dict[str, Any] | None:
    node: dict[str, Any] | None = entity
    children = schema
    for name in location:
        if node is None or children is None:
            return None
        node = next((c for c in node.get(children) or [] if c["name"].lower() == name), None)
        children = "children"
    return node
