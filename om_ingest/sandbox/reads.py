"""What a read returns: OM's field projection, inherited owners, and cursor paging.

`EntityRepository.setFieldsInternal`/`clearFields`: the kind's relationship fields (its
`*Resource.FIELDS`) come back only when `fields=` names them, empty lists as `[]`; a table or
schema without owners shows its parent's, marked `inherited: true`
(`TableRepository.setInheritedFields`). Lists are ordered by name, then id; cursors are
base64 of `{"name", "id"}` (`EntityRepository.listAfter/listBefore`).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.kinds import Kind
from om_ingest.sandbox.store import EntityStore

LIST_FIELDS = ("owners", "tags", "followers", "domains", "dataProducts", "experts", "reviewers")
# Where a kind inherits owners from: (its field naming the parent, the parent's kind).
OWNER_PARENT = {
    "table": ("databaseSchema", "databaseSchema"),
    "databaseSchema": ("database", "database"),
}
MAX_LIMIT = 1_000_000


def requested(kind: Kind, param: str | None) -> frozenset[str]:
    """The `fields=` names, each one a property of the entity (else 400, as OM)."""
    names = frozenset(f.strip() for f in (param or "").split(",") if f.strip())
    for name in sorted(names):
        if name not in kind.entity_fields:
            raise ApiError(400, f"Invalid field name {name}")
    return names


def project(
    store: EntityStore, kind: Kind, entity: dict[str, Any], fields: frozenset[str]
) -> dict[str, Any]:
    """`entity` as OM returns it for `fields`."""
    out = {k: v for k, v in entity.items() if k not in kind.fields or k in fields}
    for name in LIST_FIELDS:
        if name in fields and name in kind.entity_fields:
            out.setdefault(name, [])
    if "owners" in fields and not out.get("owners"):
        out["owners"] = inherited_owners(store, kind.type_name, entity)
    if "pipelineStatus" in fields and kind.type_name == "pipeline":
        runs = store.profiles.get(entity["id"])
        if runs:
            out["pipelineStatus"] = max(runs.items())[1]["pipelineStatus"]
    if "columns" in out and "profile" not in fields:
        out["columns"] = _without_profiles(out["columns"])
    return out


def with_empty_lists(kind: Kind, entity: dict[str, Any]) -> dict[str, Any]:
    """A write's answer: the whole entity, `tags` and `owners` as `[]` when empty."""
    out = dict(entity)
    for name in ("owners", "tags"):
        if name in kind.entity_fields:
            out.setdefault(name, [])
    return out


def inherited_owners(store: EntityStore, type_name: str, entity: dict[str, Any]) -> list[Any]:
    link = OWNER_PARENT.get(type_name)
    if link is None:
        return []
    ref = entity.get(link[0]) or {}
    parent = store.get(link[1], ref.get("id", ""))
    if parent is None:
        return []
    owners = parent.get("owners") or inherited_owners(store, link[1], parent)
    return [{**owner, "inherited": True} for owner in owners]


def _without_profiles(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for column in columns:
        column = {k: v for k, v in column.items() if k != "profile"}
        if column.get("children"):
            column["children"] = _without_profiles(column["children"])
        out.append(column)
    return out


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        raise ApiError(400, f"Invalid cursor {cursor}") from None


def _key(entity: dict[str, Any]) -> tuple[str, str]:
    return entity["name"], entity["id"]


def _cursor(entity: dict[str, Any]) -> str:
    return encode_cursor(json.dumps({"name": entity["name"], "id": entity["id"]}))


def _uncursor(cursor: str) -> tuple[str, str]:
    try:
        value = json.loads(decode_cursor(cursor))
        return str(value["name"]), str(value["id"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, f"Invalid cursor {cursor}") from None


def page(items: list[dict[str, Any]], params: dict[str, str]) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` (RestUtil.validateCursors, @Min(0) @Max(1000000) limit)."""
    if "before" in params and "after" in params:
        raise ApiError(400, "Only one of before or after query parameter allowed")
    try:
        limit = int(params.get("limit", 10))
    except ValueError:
        raise ApiError(400, "query param limit must be an integer") from None
    if limit < 0:
        raise ApiError(400, "query param limit must be greater than or equal to 0")
    if limit > MAX_LIMIT:
        raise ApiError(400, f"query param limit must be less than or equal to {MAX_LIMIT}")
    items = sorted(items, key=_key)
    paging: dict[str, Any] = {"total": len(items)}
    if limit == 0:
        return [], paging
    if "before" in params:
        bound = _uncursor(params["before"])
        earlier = [e for e in items if _key(e) < bound]
        chosen = earlier[-limit:]
        start = len(earlier) - len(chosen)
    else:
        start = 0
        if "after" in params:
            bound = _uncursor(params["after"])
            start = next((i for i, e in enumerate(items) if _key(e) > bound), len(items))
        chosen = items[start : start + limit]
    if chosen and start + len(chosen) < len(items):
        paging["after"] = _cursor(chosen[-1])
    if chosen and start > 0:
        paging["before"] = _cursor(chosen[0])
    return chosen, paging


PASSWORD_MASK = "*********"
"""PasswordEntityMasker.PASSWORD_MASK: what a non-bot caller sees of a service's secrets."""


def mask_secrets(kind: Kind, entity: dict[str, Any]) -> dict[str, Any]:
    """A service with every secret of its connection masked (bots see them: ingestion needs
    them, `DefaultAuthorizer.shouldMaskPasswords`)."""
    if "connection" not in entity:
        return entity
    model = kind.entity_model.model_validate(entity)
    out: dict[str, Any] = json.loads(json.dumps(entity))
    for path in _secret_paths(getattr(model, "connection", None), ("connection",)):
        target: Any = out
        for step in path[:-1]:
            target = target[step]
        if path[-1] in target:
            target[path[-1]] = PASSWORD_MASK
    return out


def _secret_paths(value: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    from pydantic import BaseModel, RootModel, SecretStr

    if isinstance(value, SecretStr):
        return [path]
    if isinstance(value, RootModel):
        return _secret_paths(value.root, path)
    if isinstance(value, BaseModel):
        found = []
        for name, field in type(value).model_fields.items():
            found += _secret_paths(getattr(value, name), (*path, field.alias or name))
        return found
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _secret_paths(item, (*path, i))]
    return []
