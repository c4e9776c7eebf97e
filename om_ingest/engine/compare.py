"""Compare the desired request with the entity in OM; decide what an update writes, and how.

What the config controls, at every depth:
- structure (a kind's `schema_shape`: a table's columns, a topic's
  `messageSchema.schemaFields`, a search index's fields, an ML model's features, a
  pipeline's tasks): names, types, nesting — a schema change, applied by PUT;
- owned facts (table type, constraints, location, a column's constraint, a task's
  downstream tasks, a topic's partitions, …): applied by PUT;
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

from metadata.utils.fqn import quote_name, split, unquote_name
from pydantic import BaseModel

from om_ingest.comparison import (
    ChangeKind,
    SchemaDiff,
    SchemaShape,
    diff_schemas,
    field_renames,
)
from om_ingest.engine.curation import TEXT_KEYS, Authors, owners_key, tag_key, text_key
from om_ingest.engine.results import FieldChange
from om_ingest.entities.base import EntityHandler

Location = tuple[str, ...]
"""Lower-cased column names from the entity down to one column; () is the entity itself.
OM matches columns by name, ignoring case."""


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
    unstorable: list[FieldChange] = field(default_factory=list)
    """Differences OM stores neither by PUT nor by PATCH (`EntityHandler.
    schema_stored_on_add_or_remove`): not written, reported as a warning."""
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
    shape = handler.schema_shape
    if shape is not None:
        result.schema_diff = diff_schemas(
            shape.flatten(current),
            shape.flatten(desired),
            field_renames(current.get("extension"), desired.get("extension")),
        )
    decide.metadata((), "", desired, current)
    decide.owners(desired, current)
    set_only = handler.owned_when_set()
    for key in sorted(handler.owned_fields() | set_only):
        if key in set_only and key not in desired:
            continue
        before, after = _fact(current.get(key), key, shape), _fact(desired.get(key), key, shape)
        if _references(after) != _references(before, like=after):
            result.field_changes.append(FieldChange(field=key, before=before, after=after))
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
    owned_put = result.needs_put
    if shape is not None:
        decide.columns((), shape, shape.path, shape.fields_of(desired), shape.fields_of(current))
        if handler.schema_stored_on_add_or_remove:
            _hold_unstorable(result, shape, owned_put)
    result.needs_put |= bool(result.schema_diff)
    return result


def _hold_unstorable(result: Comparison, shape: SchemaShape, owned_put: bool) -> None:
    """OM's updater stores the kind's schema (a pipeline's tasks: PipelineUpdater.updateTasks)
    only when an item is added or removed by name; a PATCH runs the same updater. Without
    such a change, kept items' facts and types cannot change in OM: they move from the
    changes to `unstorable`, and the update PUTs only for what else differs."""
    structural = (ChangeKind.ADDED, ChangeKind.REMOVED, ChangeKind.RENAMED)
    if any(change.kind in structural for change in result.schema_diff.changes):
        return
    prefix = f"{shape.path}."
    facts = [
        change
        for change in result.field_changes
        if change.field.startswith(prefix) and change.field.rsplit(".", 1)[-1] in shape.facts
    ]
    retyped = [
        FieldChange(field=f"{shape.path}.{c.path}.{shape.type_key}", before=c.before, after=c.after)
        for c in result.schema_diff.changes
    ]
    if not facts and not retyped:
        return
    result.unstorable = retyped + facts
    result.field_changes = [c for c in result.field_changes if c not in facts]
    result.schema_diff = SchemaDiff()
    result.needs_put = owned_put


def _fact(value: Any, key: str, shape: SchemaShape | None) -> Any:
    """An owned value without the schema it may hold (a topic's `messageSchema` keeps its
    fields: those are structure, compared field by field)."""
    if shape is None or not isinstance(value, dict) or not shape.path.startswith(f"{key}."):
        return value
    inner = shape.path.removeprefix(f"{key}.")
    return {k: v for k, v in value.items() if k != inner}


def _references(value: Any, like: Any = None) -> Any:
    """A value with every entity reference reduced to its id, so what a request names by id
    (a user's teams) equals the references OM answers with; lists of ids compare as sets.
    Where the request (`like`) names the entity by FQN or name (a term's parent, a domain's
    experts, related terms), the reference is reduced to its FQN instead."""
    if isinstance(value, dict):
        if isinstance(like, str):
            ref = value.get("term", value)  # a related term: {relationType, term}
            return ref.get("fullyQualifiedName") if isinstance(ref, dict) else value
        if "id" in value and "type" in value:
            return value["id"]
        return {  # a nested item's FQN is OM's to compute (an ML feature source's)
            k: _references(v, like.get(k) if isinstance(like, dict) else None)
            for k, v in value.items()
            if k != "fullyQualifiedName"
        }
    if isinstance(value, list):
        first = like[0] if isinstance(like, list) and like else None
        items = [_references(v, first if isinstance(first, str) else None) for v in value]
        return sorted(items) if all(isinstance(i, str) for i in items) else items
    return value


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
        shape: SchemaShape,
        prefix: str,
        desired: list[dict[str, Any]],
        current: list[dict[str, Any]],
    ) -> None:
        """Matched fields (by name, ignoring case, as OM matches columns): their metadata
        and facts, children at every depth. Added and removed ones are schema changes."""
        have = {c["name"].lower(): c for c in current}
        for column in desired:
            stored = have.get(column["name"].lower())
            if stored is None:
                continue
            path = f"{prefix}.{column['name']}"
            here = (*location, column["name"].lower())
            self.metadata(here, path, column, stored)
            for key in shape.facts:
                if _references(column.get(key)) != _references(stored.get(key)):
                    self._report(True, f"{path}.{key}", stored.get(key), column.get(key))
                    self.result.needs_put = True
            if shape.children:
                self.columns(
                    here,
                    shape,
                    path,
                    column.get(shape.children) or [],
                    stored.get(shape.children) or [],
                )


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
    body = copy.deepcopy({k: v for k, v in desired.items() if k not in ("owners", "extension")})
    _carry_metadata(body, current)
    shape = handler.schema_shape
    if shape is not None:
        *outer, last = shape.keys
        node: Any = body
        for key in outer:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and last in node:
            renamed = {
                new: old
                for old, new in field_renames(
                    current.get("extension"), desired.get("extension")
                ).items()
            }
            node[last] = _carry_columns(
                node[last], shape.fields_of(current), shape.children, renamed
            )
    return body


def _carry_metadata(node: dict[str, Any], stored: dict[str, Any]) -> None:
    for key in (*TEXT_KEYS, "tags"):
        if stored.get(key):
            node[key] = stored[key]
        else:
            node.pop(key, None)


def _carry_columns(
    desired: list[dict[str, Any]],
    current: list[dict[str, Any]],
    children: str | None,
    renamed: dict[str, str] | None = None,
    prefix: str = "",
    old_prefix: str = "",
) -> list[dict[str, Any]]:
    """Desired columns with the metadata OM holds on the same columns; a renamed one (new
    path → old path in `renamed`) keeps what its old name had."""
    have = {c["name"].lower(): c for c in current}
    out = []
    for column in desired:
        column = dict(column)
        path = f"{prefix}{quote_name(column['name'])}"
        stored = have.get(column["name"].lower())
        old_path = (renamed or {}).get(path)
        if old_path is not None:
            *parents, leaf = split(old_path)
            if ".".join(parents) + ("." if parents else "") == old_prefix:
                stored = have.get(unquote_name(leaf).lower(), stored)
        else:
            old_path = f"{old_prefix}{quote_name(column['name'])}"
        if stored is not None:
            _carry_metadata(column, stored)
            if children and column.get(children):
                column[children] = _carry_columns(
                    column[children],
                    stored.get(children) or [],
                    children,
                    renamed,
                    f"{path}.",
                    f"{old_path}.",
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
        node = _find(out, handler.schema_shape, location)
        if node is None:
            continue  # the column went away meanwhile; nothing to edit
        node.update(edits.text)
        if not edits.add_tags and not edits.remove_tags:
            continue  # (users and teams have no tags at all)
        tags = [t for t in node.get("tags") or [] if t["tagFQN"] not in edits.remove_tags]
        known = {t["tagFQN"] for t in tags}
        tags += [t for t in edits.add_tags if t["tagFQN"] not in known]
        node["tags"] = tags
    if comparison.owners is not None:
        out["owners"] = comparison.owners
    if comparison.extension is not None:
        out["extension"] = {**(out.get("extension") or {}), **comparison.extension}
    return out


def _find(
    entity: dict[str, Any], shape: SchemaShape | None, location: Location
) -> dict[str, Any] | None:
    if not location:
        return entity
    if shape is None:
        return None
    node: dict[str, Any] | None = None
    fields = shape.fields_of(entity)
    for name in location:
        node = next((c for c in fields if c["name"].lower() == name), None)
        if node is None:
            return None
        fields = node.get(shape.children) or [] if shape.children else []
    return node
