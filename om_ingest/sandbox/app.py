"""The sandbox's HTTP API: the subset of OpenMetadata's REST API the SDK uses here.

Bodies are parsed with the SDK's generated Create…Request models (extra fields forbidden)
and answers are built as the SDK's entity models, so the SDK cannot tell the difference for
what om-ingest does. Server semantics follow OM: PUT creates (201) or updates (200) and keeps
existing descriptions while merging tags; versions start at 0.1, +0.1 per change, +1.0 for a
backward-incompatible one; a no-op PUT keeps the version.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import unquote

import jsonpatch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from metadata.utils.fqn import quote_name
from pydantic import ValidationError

from om_ingest import fqns
from om_ingest.sandbox import types
from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.faults import FaultConfig
from om_ingest.sandbox.kinds import BY_TYPE, Kind, match_collection
from om_ingest.sandbox.request_log import RequestLog
from om_ingest.sandbox.store import EntityStore

SERVER_MANAGED = {
    "id",
    "version",
    "updatedAt",
    "updatedBy",
    "changeDescription",
    "href",
    "incrementalChangeDescription",
}
CURATED = ("description", "displayName")


def sdk_version() -> str:
    """major.minor.patch of the installed SDK: the SDK accepts a server of its major.minor."""
    from metadata.__version__ import get_client_version

    return ".".join(get_client_version().split(".")[:3])


def create_app(store: EntityStore, jwt_token: str, faults: FaultConfig | None = None) -> FastAPI:
    app = FastAPI(
        title="om-ingest OpenMetadata API sandbox", docs_url=None, redoc_url=None, openapi_url=None
    )
    log = RequestLog()
    app.state.request_log = log
    faults = faults or FaultConfig()

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        path = request.url.path
        injected = False
        api = path.startswith("/api/v1/")
        if api and not path.startswith("/api/v1/system/") and faults.latency_ms:
            import asyncio

            await asyncio.sleep(faults.latency_ms / 1000)
        if api and request.headers.get("authorization") != f"Bearer {jwt_token}":
            response: Response = _error(
                401, "Not authorized; the bearer token is missing or invalid"
            )
        elif api and not path.startswith("/api/v1/system/") and faults.should_fail():
            injected = True
            response = _error(faults.fail_status, f"injected fault ({faults.fail_status})")
            if faults.fail_status == 429:  # as a rate-limiting server tells clients
                response.headers["Retry-After"] = "1"
        else:
            response = await call_next(request)
        if api:
            log.add(
                request.method,
                path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                injected,
            )
        return response

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "healthy"}

    @app.get("/sandbox/requests")
    def requests_log() -> list[dict[str, Any]]:
        return log.entries()

    @app.delete("/sandbox/requests")
    def clear_log() -> dict[str, int]:
        return {"cleared": log.clear()}

    @app.get("/api/v1/system/version")
    def version() -> dict[str, Any]:
        return {"version": sdk_version(), "revision": "om-ingest-sandbox", "timestamp": 0}

    @app.get("/api/v1/search/fieldQuery")
    def field_query() -> dict[str, Any]:
        return {"hits": {"hits": [], "total": {"value": 0}}}

    api = EntityApi(store)

    @app.api_route("/api/v1/{rest:path}", methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
    async def entities(rest: str, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode().split("?", 1)[0]
        rest = raw_path.removeprefix("/api/v1/") or rest
        params = dict(request.query_params)
        if "&" in rest:  # the SDK's quirk: `/name/{fqn}&include=all` with no `?`
            rest, _, extra = rest.partition("&")
            for pair in extra.split("&"):
                name, _, value = pair.partition("=")
                params[name] = value
        body = await request.body()
        try:
            with store.lock:
                status, payload = api.handle(
                    request.method, rest, params, body, str(request.base_url)
                )
        except ApiError as exc:
            return _error(exc.code, exc.message)
        return JSONResponse(payload, status_code=status)

    return app


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=code)


def _now_ms() -> int:
    return int(time.time() * 1000)


class EntityApi:
    """Collection semantics over the store; every method returns (status, JSON)."""

    def __init__(self, store: EntityStore) -> None:
        self.store = store
        self._types_seeded = False

    def handle(
        self, method: str, rest: str, params: dict[str, str], body: bytes, base: str
    ) -> tuple[int, Any]:
        self.base = base.rstrip("/")
        if not self._types_seeded:
            types.seed_types(self.store, self.base)
            self._types_seeded = True
        if rest.startswith("metadata/types/"):
            return self._types(method, rest.removeprefix("metadata/types/"), body)
        matched = match_collection(rest)
        if matched is None:
            raise ApiError(404, f"no such endpoint /api/v1/{rest}")
        kind, tail = matched
        include = params.get("include", "non-deleted")
        if method == "GET" and tail == "":
            return 200, self._list(kind, params, include)
        if kind.type_name == "dataContract" and method == "GET" and tail == "entity":
            return 200, self._contract_of(params)
        if method in {"PUT", "POST"} and tail == "":
            return self._write(kind, _json(body), create_only=method == "POST")
        if tail.startswith("name/"):
            entity = self.store.get_by_fqn(kind.type_name, unquote(tail[5:]))
            if method == "GET":
                return 200, self._visible(kind, entity, unquote(tail[5:]), include)
            raise ApiError(405, f"{method} not allowed on {rest}")
        parts = tail.split("/")
        if kind.type_name == "table" and len(parts) >= 2 and parts[1] in PROFILE_SERIES:
            if parts[1] == "tableProfile" and (method == "PUT" or parts[2:] == ["latest"]):
                return self._profile(method, unquote(parts[0]), parts[2:], body)
            if method == "GET" and len(parts) == 2:
                return 200, self._profile_series(parts[1], unquote(parts[0]), params)
            raise ApiError(405, f"{method} not allowed on {rest}")
        entity = self.store.get(kind.type_name, parts[0])
        if len(parts) >= 2 and parts[1] == "versions":
            self._visible(kind, entity, parts[0], "all")
            history = self.store.versions.get(parts[0], [])
            if len(parts) == 3:
                match = [v for v in history if str(v["version"]) == parts[2]]
                if not match:
                    raise ApiError(404, f"{kind.type_name} version {parts[2]} not found")
                return 200, match[0]
            return 200, {
                "entityType": kind.type_name,
                "versions": [json.dumps(v) for v in reversed(history)],
            }
        if method == "GET":
            return 200, self._visible(kind, entity, parts[0], include)
        if entity is None:
            raise ApiError(404, f"{kind.type_name} instance for {parts[0]} not found")
        if method == "PATCH":
            return 200, self._patch(kind, entity, _json(body))
        if method == "DELETE":
            return 200, self._delete(kind, entity, params)
        raise ApiError(405, f"{method} not allowed on {rest}")

    def _types(self, method: str, tail: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and tail.startswith("name/"):
            return 200, types.by_name(self.store, unquote(tail.removeprefix("name/")))
        if method == "PUT" and "/" not in tail:
            return 200, types.add_custom_property(self.store, tail, _json(body))
        raise ApiError(405, f"{method} not allowed on /api/v1/metadata/types/{tail}")

    # --- reads ---------------------------------------------------------------------------

    def _visible(
        self, kind: Kind, entity: dict[str, Any] | None, key: str, include: str
    ) -> dict[str, Any]:
        if (
            entity is None
            or (entity.get("deleted") and include == "non-deleted")
            or (not entity.get("deleted") and include == "deleted")
        ):
            raise ApiError(404, f"{kind.type_name} instance for {key} not found")
        return entity

    def _list(self, kind: Kind, params: dict[str, str], include: str) -> dict[str, Any]:
        items = [
            e
            for e in self.store.all_of(kind.type_name)
            if include == "all" or bool(e.get("deleted")) == (include == "deleted")
        ]
        for key in ("service", "database", "databaseSchema", "classification"):
            if key in params:
                items = [
                    e for e in items if (e.get(key) or {}).get("fullyQualifiedName") == params[key]
                ]
        items.sort(key=lambda e: e["fullyQualifiedName"])
        limit = max(1, min(int(params.get("limit", 10)), 1000000))
        keys = [e["fullyQualifiedName"] for e in items]
        if "after" in params:
            start = _after_index(keys, _decode(params["after"]))
        elif "before" in params:
            end = _before_index(keys, _decode(params["before"]))
            start = max(0, end - limit)
        else:
            start = 0
        page = items[start : start + limit]
        paging: dict[str, Any] = {"total": len(items)}
        if start + limit < len(items):
            paging["after"] = _encode(page[-1]["fullyQualifiedName"])
        if start > 0 and page:
            paging["before"] = _encode(page[0]["fullyQualifiedName"])
        return {"data": page, "paging": paging}

    # --- writes --------------------------------------------------------------------------

    def _write(
        self, kind: Kind, body: dict[str, Any], create_only: bool
    ) -> tuple[int, dict[str, Any]]:
        try:
            request = kind.create_model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ApiError(400, f"[{where}] {first['msg']}") from None
        create = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        types.check_extension(self.store, kind.type_name, create.get("extension"))
        parent = self._parent(kind, create)
        if parent is None:
            fqn = quote_name(create["name"])
        elif kind.type_name == "dataContract":
            fqn = f"{parent['fullyQualifiedName']}.dataContract_{create['name']}"
            self._check_contract_schema(create, parent)
        else:
            fqn = f"{parent['fullyQualifiedName']}.{quote_name(create['name'])}"
        existing = self.store.get_by_fqn(kind.type_name, fqn)
        if existing is not None and create_only:
            raise ApiError(409, f"Entity already exists: {kind.type_name} {fqn}")
        if existing is None and kind.type_name == "dataContract":
            ref = create["entity"]
            if any(c["entity"]["id"] == ref["id"] for c in self.store.all_of("dataContract")):
                raise ApiError(
                    400,
                    f"A data contract already exists for entity '{ref['type']}' "
                    f"with ID {ref['id']}",
                )
        entity = self._build(kind, create, parent, fqn, existing)
        if existing is None:
            entity.update(id=str(uuid.uuid4()), version=0.1)
            self._stamp(kind, entity)
            self.store.put(kind.type_name, entity)
            return 201, entity
        return 200, self._commit(kind, existing, entity)

    def _parent(self, kind: Kind, create: dict[str, Any]) -> dict[str, Any] | None:
        if kind.type_name == "dataContract":
            ref = create["entity"]
            target = self.store.get(ref["type"], ref["id"])
            if target is None or target.get("deleted"):
                raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
            return target
        if kind.parent_field is None or kind.parent_kind is None:
            return None
        parent_fqn = create.get(kind.parent_field)
        if isinstance(parent_fqn, dict):
            parent_fqn = parent_fqn.get("fullyQualifiedName")
        parent = self.store.get_by_fqn(kind.parent_kind, str(parent_fqn))
        if parent is None or parent.get("deleted"):
            raise ApiError(404, f"{kind.parent_kind} instance for {parent_fqn} not found")
        return parent

    def _build(
        self,
        kind: Kind,
        create: dict[str, Any],
        parent: dict[str, Any] | None,
        fqn: str,
        existing: dict[str, Any] | None,
    ) -> dict[str, Any]:
        entity = {
            k: v for k, v in create.items() if k != kind.parent_field and k in kind.entity_fields
        }
        entity["fullyQualifiedName"] = fqn
        entity["deleted"] = False
        if parent is not None and kind.type_name == "dataContract":
            entity["entity"] = self._ref(parent, create["entity"]["type"])
        elif parent is not None and kind.parent_field is not None:
            entity[kind.parent_field] = self._ref(parent, kind.parent_kind or "")
            for inherited in ("service", "database"):
                if inherited in parent and inherited != kind.parent_field:
                    entity[inherited] = parent[inherited]
            if "serviceType" in parent:
                entity["serviceType"] = parent["serviceType"]
        if "columns" in entity:
            entity["columns"] = _column_fqns(entity["columns"], fqn)
        if entity.get("owners"):
            entity["owners"] = [self._owner(ref) for ref in entity["owners"]]
        if existing is not None:
            for key in CURATED:
                if existing.get(key):
                    entity[key] = existing[key]
            entity["tags"] = _merge_tags(existing.get("tags"), entity.get("tags"))
            if not entity["tags"]:
                entity.pop("tags")
            if "owners" not in entity and existing.get("owners"):
                entity["owners"] = existing["owners"]
            if "columns" in entity and existing.get("columns"):
                entity["columns"] = _keep_column_descriptions(
                    entity["columns"], existing["columns"]
                )
            for key in ("profile",):
                if key in existing:
                    entity[key] = existing[key]
        return entity

    def _commit(
        self, kind: Kind, existing: dict[str, Any], proposed: dict[str, Any]
    ) -> dict[str, Any]:
        """Store `proposed` as the next version of `existing`, unless nothing changed.

        Both sides go through the entity model first, so defaults the model adds are not
        mistaken for changes.
        """
        managed = {k: existing[k] for k in SERVER_MANAGED if k in existing}
        proposed = self._normalize(kind, {**proposed, **managed})
        content_old = {k: v for k, v in existing.items() if k not in SERVER_MANAGED}
        content_new = {k: v for k, v in proposed.items() if k not in SERVER_MANAGED}
        if content_old == content_new:
            return existing
        change, breaking = _change_description(content_old, content_new)
        previous = existing["version"]
        entity = {**content_new, "id": existing["id"]}
        entity["version"] = round(previous + (1.0 if breaking else 0.1), 1)
        change["previousVersion"] = previous
        entity["changeDescription"] = change
        self._stamp(kind, entity)
        self.store.put(kind.type_name, entity)
        return entity

    def _stamp(self, kind: Kind, entity: dict[str, Any]) -> None:
        entity["updatedAt"] = _now_ms()
        entity["updatedBy"] = "admin"
        entity["href"] = f"{self.base}/api/v1/{kind.collection}/{entity['id']}"
        normalized = self._normalize(kind, entity)
        entity.clear()
        entity.update(normalized)

    def _normalize(self, kind: Kind, entity: dict[str, Any]) -> dict[str, Any]:
        """The entity as the SDK's model serialises it (what clients will read back)."""
        try:
            validated = kind.entity_model.model_validate(entity)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
        normalized: dict[str, Any] = validated.model_dump(
            mode="json", exclude_none=True, by_alias=True
        )
        return normalized

    def _owner(self, ref: dict[str, Any]) -> dict[str, Any]:
        """An owner given as {id, type} (a user or a team) as OM stores it: a full reference."""
        owner = self.store.get(ref["type"], ref["id"]) if ref["type"] in ("user", "team") else None
        if owner is None or owner.get("deleted"):
            raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
        return self._ref(owner, ref["type"])

    def _ref(self, entity: dict[str, Any], type_name: str) -> dict[str, Any]:
        return {
            "id": entity["id"],
            "type": type_name,
            "name": entity["name"],
            "fullyQualifiedName": entity["fullyQualifiedName"],
            "href": entity["href"],
            "deleted": bool(entity.get("deleted")),
        }

    def _patch(self, kind: Kind, entity: dict[str, Any], operations: Any) -> dict[str, Any]:
        try:
            patched = jsonpatch.apply_patch(entity, operations)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(400, f"invalid JSON patch: {exc}") from None
        if "columns" in patched:
            patched["columns"] = _column_fqns(patched["columns"], entity["fullyQualifiedName"])
        if patched.get("owners"):
            patched["owners"] = [self._owner(ref) for ref in patched["owners"]]
        types.check_extension(self.store, kind.type_name, patched.get("extension"))
        return self._commit(kind, entity, patched)

    def _delete(self, kind: Kind, entity: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
        recursive = params.get("recursive", "false") == "true"
        hard = params.get("hardDelete", "false") == "true"
        children = self._children(entity["id"])
        if children and not recursive:
            raise ApiError(
                400, f"Entity {entity['fullyQualifiedName']} is not empty; use recursive=true"
            )
        for child_kind, child in children:
            self._delete(BY_TYPE[child_kind], child, params)
        if hard:
            self.store.delete(kind.type_name, entity["id"])
            return entity
        return self._commit(kind, entity, {**entity, "deleted": True})

    def _children(self, entity_id: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for record in list(self.store.by_id.values()):
            child = record["entity"]
            kind = BY_TYPE.get(record["kind"])
            if kind is None or kind.type_name == "dataContract":
                continue  # types; and an entity HAS its contract, it does not contain it
            if kind.parent_field and (child.get(kind.parent_field) or {}).get("id") == entity_id:
                found.append((record["kind"], child))
        return found

    # --- data contracts ------------------------------------------------------------------

    def _check_contract_schema(self, create: dict[str, Any], target: dict[str, Any]) -> None:
        """OM rejects a contract whose schema names a column its table does not have."""
        if create["entity"]["type"] != "table" or not target.get("columns"):
            return
        names = {column["name"] for column in target["columns"]}
        for column in create.get("schema") or []:
            if column["name"] not in names:
                raise ApiError(
                    400,
                    f"Field '{column['name']}' specified in the data contract does not exist "
                    f"in table '{target['name']}'",
                )

    def _contract_of(self, params: dict[str, str]) -> dict[str, Any]:
        """`GET /dataContracts/entity?entityId=&entityType=`: the entity's contract."""
        for contract in self.store.all_of("dataContract"):
            if contract["entity"]["id"] == params.get("entityId") and not contract.get("deleted"):
                return contract
        raise ApiError(404, f"dataContract instance for {params.get('entityId')} not found")

    # --- table profiles ------------------------------------------------------------------

    def _profile(self, method: str, key: str, tail: list[str], body: bytes) -> tuple[int, Any]:
        table = self.store.get("table", key) or self.store.get_by_fqn("table", key)
        if table is None:
            raise ApiError(404, f"table instance for {key} not found")
        if method == "PUT":
            from metadata.generated.schema.api.data.createTableProfile import (
                CreateTableProfileRequest,
            )

            try:
                profile = CreateTableProfileRequest.model_validate(_json(body))
            except ValidationError as exc:
                raise ApiError(400, str(exc.errors()[0]["msg"])) from None
            data = profile.model_dump(mode="json", exclude_none=True, by_alias=True)
            table["profile"] = data.get("tableProfile")
            by_name = {c["name"]: c for c in data.get("columnProfile") or []}
            known = {column["name"] for column in table.get("columns", [])}
            for name in by_name:
                if name not in known:  # OM validates every column profile against the table
                    raise ApiError(400, f"Invalid column name {name}")
            for column in table.get("columns", []):
                if column["name"] in by_name:
                    column["profile"] = by_name[column["name"]]
            self.store.put("table", table)
            self.store.add_profile(
                table["id"],
                table["profile"]["timestamp"],
                {"table": table["profile"], "columns": by_name},
            )
        return 200, table

    def _profile_series(self, series: str, fqn: str, params: dict[str, str]) -> dict[str, Any]:
        """`GET /tables/{fqn}/tableProfile|systemProfile` and `/tables/{column fqn}/columnProfile`
        between `startTs` and `endTs` (ms, inclusive), newest first, paged like a list."""
        column = None
        table = self.store.get_by_fqn("table", fqn)
        if series == "columnProfile":
            parts = fqns.split(fqn)
            table = self.store.get_by_fqn("table", ".".join(parts[:-1]))
            column = fqns.unquoted_parts(fqn)[-1]
        if table is None:
            raise ApiError(404, f"table instance for {fqn} not found")
        try:
            start, end = int(params["startTs"]), int(params["endTs"])
        except (KeyError, ValueError):
            raise ApiError(400, "query parameters startTs and endTs (ms) are required") from None
        points: dict[int, dict[str, Any]] = (
            {} if series == "systemProfile" else self.store.profiles.get(table["id"], {})
        )
        data = [
            point["table"] if column is None else point["columns"][column]
            for timestamp, point in sorted(points.items(), reverse=True)
            if start <= timestamp <= end and (column is None or column in point["columns"])
        ]
        offset = int(_decode(params["after"])) if params.get("after") else 0
        limit = int(params.get("limit", 10))
        page: dict[str, Any] = {"total": len(data)}
        if offset + limit < len(data):
            page["after"] = _encode(str(offset + limit))
        return {"data": data[offset : offset + limit], "paging": page}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None


PROFILE_SERIES = ("tableProfile", "columnProfile", "systemProfile")


def _encode(fqn: str) -> str:
    return base64.urlsafe_b64encode(fqn.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def _after_index(keys: list[str], after: str) -> int:
    return next((i for i, k in enumerate(keys) if k > after), len(keys))


def _before_index(keys: list[str], before: str) -> int:
    return next((i for i, k in enumerate(keys) if k >= before), len(keys))


def _column_fqns(columns: list[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
    out = []
    for column in columns:
        column = {**column, "fullyQualifiedName": f"{parent}.{quote_name(column['name'])}"}
        if column.get("children"):
            column["children"] = _column_fqns(column["children"], column["fullyQualifiedName"])
        out.append(column)
    return out


def _keep_column_descriptions(
    new: list[dict[str, Any]], old: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    before = {c["name"]: c for c in old}
    out = []
    for column in new:
        prior = before.get(column["name"])
        if prior is not None:
            column = dict(column)
            if prior.get("description") and not column.get("description"):
                column["description"] = prior["description"]
            tags = _merge_tags(prior.get("tags"), column.get("tags"))
            if tags:
                column["tags"] = tags
            if column.get("children"):
                column["children"] = _keep_column_descriptions(
                    column["children"], prior.get("children") or []
                )
        out.append(column)
    return out


def _merge_tags(
    old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for tag in [*(old or []), *(new or [])]:
        merged.setdefault(tag["tagFQN"], tag)
    return list(merged.values())


def _change_description(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """OM's changeDescription and whether the change is backward-incompatible (major)."""
    change: dict[str, list[dict[str, Any]]] = {
        "fieldsAdded": [],
        "fieldsUpdated": [],
        "fieldsDeleted": [],
    }
    for key in sorted((set(old) | set(new)) - {"columns"}):
        _record(change, key, old.get(key), new.get(key))
    breaking = False
    if old.get("columns") != new.get("columns"):
        breaking = _column_changes(change, "columns", old.get("columns"), new.get("columns"))
        if not any(change.values()):  # only untracked column attributes (e.g. dataTypeDisplay)
            _record(change, "columns", old.get("columns"), new.get("columns"))
    return change, breaking


def _record(change: dict[str, list[dict[str, Any]]], name: str, before: Any, after: Any) -> bool:
    """One field's FieldChange (OM's recordChange): lists and objects as JSON strings."""

    def value(v: Any) -> Any:
        return json.dumps(v) if isinstance(v, (list, dict)) else v

    empty: tuple[Any, ...] = (None, [], "")
    if before == after or (before in empty and after in empty):
        return False
    if before in empty:
        change["fieldsAdded"].append({"name": name, "newValue": value(after)})
    elif after in empty:
        change["fieldsDeleted"].append({"name": name, "oldValue": value(before)})
    else:
        change["fieldsUpdated"].append(
            {"name": name, "oldValue": value(before), "newValue": value(after)}
        )
    return True


def _column_changes(
    change: dict[str, list[dict[str, Any]]],
    field: str,
    before: list[dict[str, Any]] | None,
    after: list[dict[str, Any]] | None,
) -> bool:
    """OM's ColumnEntityUpdater.updateColumns: columns match on name, dataType and
    arrayDataType (so a retype is a delete plus an add); added and deleted ones are recorded as
    one list each under `field`, matched ones attribute by attribute, children recursively
    (`columns.address` for children of `address`). Deleting a column, or shrinking its
    length, precision or scale, is a major change; adding one, nested or not, is not."""

    def match(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return all(a.get(k) == b.get(k) for k in ("name", "dataType", "arrayDataType"))

    before, after = before or [], after or []
    added = [c for c in after if not any(match(o, c) for o in before)]
    deleted = [c for c in before if not any(match(c, n) for n in after)]
    if added:
        change["fieldsAdded"].append({"name": field, "newValue": json.dumps(added)})
    if deleted:
        change["fieldsDeleted"].append({"name": field, "oldValue": json.dumps(deleted)})
    breaking = bool(deleted)
    for column in after:
        stored = next((o for o in before if match(o, column)), None)
        if stored is None:
            continue
        prefix = f"{field}.{quote_name(column['name'])}"
        for key in ("description", "displayName", "tags", "constraint"):
            _record(change, f"{prefix}.{key}", stored.get(key), column.get(key))
        for key in ("dataLength", "precision", "scale"):
            old_value, new_value = stored.get(key), column.get(key)
            if _record(change, f"{prefix}.{key}", old_value, new_value):
                shrunk = new_value is not None and old_value is not None and new_value < old_value
                breaking |= shrunk or (key == "dataLength" and old_value is None)
        if stored.get("children") is not None and column.get("children") is not None:
            nested = f"{field}.{column['name']}"
            breaking |= _column_changes(change, nested, stored["children"], column["children"])
    return breaking
