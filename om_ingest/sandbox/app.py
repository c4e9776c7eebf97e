"""The sandbox's HTTP API: the subset of OpenMetadata's REST API the SDK uses here.

Bodies are parsed with the SDK's generated Create…Request models (extra fields forbidden)
and answers are built as the SDK's entity models, so the SDK cannot tell the difference for
what om-ingest does. The server rules follow OM 2.0 rule by rule (see README, "The OM API
sandbox"): who is calling (bot or user) decides what a PUT may overwrite (`updater`), reads
project `fields=` (`reads`), creates are validated as OM does (`validation`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import jsonpatch
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from metadata.utils.fqn import quote_name
from pydantic import ValidationError

from om_ingest.sandbox import (
    pipeline_status,
    profiles,
    reads,
    seed,
    table_data,
    types,
    validation,
)
from om_ingest.sandbox.auth import Caller, Principals
from om_ingest.sandbox.bulk import bulk_put
from om_ingest.sandbox.data_quality import DataQualityApi, contract_results
from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.faults import FaultConfig
from om_ingest.sandbox.kinds import BY_TYPE, Kind, match_collection
from om_ingest.sandbox.lineage import Lineage
from om_ingest.sandbox.request_log import RequestLog
from om_ingest.sandbox.store import EntityStore
from om_ingest.sandbox.updater import (
    SERVER_MANAGED,
    SESSION_MS,
    any_change,
    changes,
    content,
    next_version,
    put_merge,
    unversioned_change,
)

UNAUTHENTICATED = ("/api/v1/system/version",)
"""JwtFilter.EXCLUDED_ENDPOINTS that the SDK calls: a bad token shows at the first entity call."""
# Create fields naming other entities by UUID, per kind: field → the referenced kind.
UUID_LINKS = {
    "team": {"users": "user", "parents": "team", "children": "team", "defaultRoles": "role"},
    "user": {"teams": "team", "roles": "role", "personas": "persona"},
}
# Create fields naming other entities by FQN or name, per kind: field → the referenced kind.
NAMED_LINKS = {
    "domain": {"experts": "user"},
    "glossaryTerm": {"relatedTerms": "glossaryTerm"},
}
# PATCH cannot move an entity (EntityRepository.restorePatchAttributes).
PATCH_RESTORED = (
    "id",
    "name",
    "fullyQualifiedName",
    "service",
    "serviceType",
    "database",
    "parent",
    "glossary",
)


def sdk_version() -> str:
    """major.minor.patch of the installed SDK: the SDK accepts a server of its major.minor."""
    from metadata.__version__ import get_client_version

    return ".".join(get_client_version().split(".")[:3])


def create_app(
    store: EntityStore,
    jwt_token: str,
    faults: FaultConfig | None = None,
    user_tokens: Iterable[str] = (),
) -> FastAPI:
    """`jwt_token` is the ingestion bot's token; `user_tokens` belong to the admin user."""
    app = FastAPI(
        title="om-ingest OpenMetadata API sandbox", docs_url=None, redoc_url=None, openapi_url=None
    )
    log = RequestLog()
    app.state.request_log = log
    faults = faults or FaultConfig()
    principals = Principals(jwt_token, user_tokens)

    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        path = request.url.path
        injected = False
        api = path.startswith("/api/v1/")
        if api and not path.startswith("/api/v1/system/") and faults.latency_ms:
            import asyncio

            await asyncio.sleep(faults.latency_ms / 1000)
        caller = principals.resolve(request.headers.get("authorization"))
        request.state.caller = caller
        if api and caller is None and path not in UNAUTHENTICATED:
            response: Response = _error(
                401, "Not authorized; the bearer token is missing or invalid"
            )
        elif (
            api
            and not path.startswith("/api/v1/system/")
            and (faults.should_fail() or faults.should_fail_path(path))
        ):
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
                request.url.query,
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

    api = EntityApi(store, faults.reject_names)

    @app.api_route("/api/v1/{rest:path}", methods=["GET", "PUT", "POST", "PATCH", "DELETE"])
    async def entities(rest: str, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode().split("?", 1)[0]
        rest = raw_path.removeprefix("/api/v1/") or rest
        body = await request.body()
        try:
            with store.lock:
                status, payload = api.handle(
                    request.method,
                    rest,
                    dict(request.query_params),
                    body,
                    str(request.base_url),
                    request.state.caller,
                )
        except ApiError as exc:
            return _error(exc.code, exc.message)
        if payload is None:  # e.g. PUT /lineage: OM answers 200 without a body
            return Response(status_code=status)
        return JSONResponse(payload, status_code=status)

    return app


def _without_extensions(columns: list[Any]) -> list[Any]:
    """Columns (at every depth) without their custom properties, as OM's bulk create stores
    them (`createManyEntitiesFlush` never calls `storeColumnExtensions`)."""
    return [
        {
            k: _without_extensions(v) if k == "children" and isinstance(v, list) else v
            for k, v in column.items()
            if k != "extension"
        }
        if isinstance(column, dict)
        else column
        for column in columns
    ]


def _error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=code)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _flag(params: dict[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


class EntityApi:
    """Collection semantics over the store; every method returns (status, JSON)."""

    def __init__(self, store: EntityStore, rejected: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.rejected = rejected
        self.base = ""
        self._seeded = False
        self.lineage = Lineage(store, self._ref)
        self.data_quality = DataQualityApi(store, self._ref, lambda: self.base)

    def handle(
        self,
        method: str,
        rest: str,
        params: dict[str, str],
        body: bytes,
        base: str,
        caller: Caller,
    ) -> tuple[int, Any]:
        status, payload = self._dispatch(method, rest, params, body, base, caller)
        matched = match_collection(rest)
        if not caller.is_bot and matched is not None and "connection" in matched[0].entity_fields:
            kind = matched[0]
            if isinstance(payload, dict) and isinstance(payload.get("data"), list):
                payload = {
                    **payload,
                    "data": [reads.mask_secrets(kind, e) for e in payload["data"]],
                }
            elif isinstance(payload, dict) and "id" in payload:
                payload = reads.mask_secrets(kind, payload)
        return status, payload

    def _dispatch(
        self,
        method: str,
        rest: str,
        params: dict[str, str],
        body: bytes,
        base: str,
        caller: Caller,
    ) -> tuple[int, Any]:
        self.base = base.rstrip("/")
        if not self._seeded:
            types.seed_types(self.store, self.base)
            seed.seed_builtins(self)
            self._seeded = True
        if rest.startswith("metadata/types/"):
            return self._types(method, rest.removeprefix("metadata/types/"), body)
        if rest.startswith("dataQuality/"):
            payload = _json(body) if method in ("PUT", "POST") else None
            return self.data_quality.handle(
                method, rest.removeprefix("dataQuality/"), params, payload, caller.name
            )
        if rest == "lineage" or rest.startswith("lineage/"):
            payload = _json(body) if method in ("PUT", "PATCH") else None
            tail = rest.removeprefix("lineage").strip("/")
            return 200, self.lineage.handle(method, tail, params, payload, caller)
        matched = match_collection(rest)
        if matched is None:
            raise ApiError(404, f"no such endpoint /api/v1/{rest}")
        kind, tail = matched
        include = params.get("include", "non-deleted")
        if method == "GET" and tail == "":
            return 200, self._list(kind, params, include)
        if kind.type_name == "dataContract" and method == "GET" and tail == "entity":
            return 200, self._contract_of(params)
        if method == "PUT" and tail == "bulk":
            override = _flag(params, "overrideMetadata")
            return 200, bulk_put(
                _json(body), lambda row: self._bulk_row(kind, row, caller, override)
            )
        if method in {"PUT", "POST"} and tail == "":
            status, written = self.write(kind, _json(body), caller, create_only=method == "POST")
            return status, reads.with_empty_lists(kind, written)
        fields = reads.requested(kind, params.get("fields"))
        if kind.type_name == "user" and tail == "loggedInUser" and method == "GET":
            me = self._visible(kind, self._by_name(kind, caller.name), caller.name, include)
            return 200, reads.project(self.store, kind, me, fields)  # UserResource.getCurrentUser
        if tail.startswith("name/"):
            key = unquote(tail[5:])
            if method == "GET":
                named = self._visible(kind, self._by_name(kind, key), key, include)
                return 200, reads.project(self.store, kind, named, fields)
            raise ApiError(405, f"{method} not allowed on {rest}")
        parts = tail.split("/")
        if kind.type_name == "table" and len(parts) >= 2 and parts[1] in profiles.SERIES:
            return self._profile(method, parts, params, body)
        if kind.type_name == "table" and len(parts) == 2 and parts[1] in table_data.ITEMS:
            table = self.store.get("table", parts[0])
            table = self._visible(kind, table, parts[0], "non-deleted")
            if method not in ("GET", "PUT", "DELETE"):
                raise ApiError(405, f"{method} not allowed on {rest}")
            body_json = _json(body) if method == "PUT" else None
            return 200, table_data.handle(self.store, table, parts[1], method, body_json)
        if kind.type_name == "topic" and len(parts) == 2 and parts[1] == "sampleData":
            topic = self._visible(kind, self.store.get("topic", parts[0]), parts[0], "non-deleted")
            if method not in ("GET", "PUT"):
                raise ApiError(405, f"{method} not allowed on {rest}")
            body_json = _json(body) if method == "PUT" else None
            return 200, table_data.handle_topic(self.store, topic, method, body_json)
        if kind.type_name == "dataContract" and len(parts) >= 2 and parts[1] == "results":
            contract = self._visible(
                kind, self.store.get(kind.type_name, parts[0]), parts[0], "non-deleted"
            )
            payload = _json(body) if method == "PUT" else None
            return contract_results(
                self.store, contract, method, "/".join(parts[2:]), params, payload
            )
        if kind.type_name == "pipeline" and len(parts) >= 2 and parts[1] == "status":
            return self._pipeline_status(method, parts, params, body)
        entity = self.store.get(kind.type_name, parts[0])
        if len(parts) >= 2 and parts[1] == "versions":
            return 200, self._versions(kind, entity, parts)
        if method == "GET":
            found = self._visible(kind, entity, parts[0], include)
            return 200, reads.project(self.store, kind, found, fields)
        if entity is None:
            raise ApiError(404, f"{kind.type_name} instance for {parts[0]} not found")
        if method == "PATCH":
            patched = self._patch(kind, entity, _json(body), caller)
            return 200, reads.with_empty_lists(kind, patched)
        if method == "DELETE":
            return 200, self._delete(kind, entity, params, caller)
        raise ApiError(405, f"{method} not allowed on {rest}")

    def _types(self, method: str, tail: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and tail.startswith("name/"):
            return 200, types.by_name(self.store, unquote(tail.removeprefix("name/")))
        if method == "PUT" and "/" not in tail:
            return 200, types.add_custom_property(self.store, tail, _json(body))
        raise ApiError(405, f"{method} not allowed on /api/v1/metadata/types/{tail}")

    # --- reads ---------------------------------------------------------------------------

    def _by_name(self, kind: Kind, key: str) -> dict[str, Any] | None:
        """By FQN; users, teams and bots by name with OM's quoting (`quoteFqn`), users
        lower-cased. The SDK's `name/{fqn}&include=…` quirk is an FQN no entity has."""
        if kind.type_name in ("user", "team", "bot"):
            if kind.type_name == "user":
                key = key.lower()
            if not (key.startswith('"') and key.endswith('"') and len(key) > 1):
                key = quote_name(key)
        return self.store.get_by_fqn(kind.type_name, key)

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
        fields = reads.requested(kind, params.get("fields"))
        items = [
            e
            for e in self.store.all_of(kind.type_name)
            if include == "all" or bool(e.get("deleted")) == (include == "deleted")
        ]
        for key in (
            "service",
            "database",
            "databaseSchema",
            "classification",
            "glossary",
            "parent",
        ):
            if key in params:
                items = [
                    e for e in items if (e.get(key) or {}).get("fullyQualifiedName") == params[key]
                ]
        chosen, paging = reads.page(items, params)
        data = [reads.project(self.store, kind, e, fields) for e in chosen]
        return {"data": data, "paging": paging}

    def _versions(self, kind: Kind, entity: dict[str, Any] | None, parts: list[str]) -> Any:
        self._visible(kind, entity, parts[0], "all")
        history = self.store.versions.get(parts[0], [])
        if len(parts) == 3:
            match = [v for v in history if str(v["version"]) == parts[2]]
            if not match:
                raise ApiError(404, f"{kind.type_name} version {parts[2]} not found")
            return match[0]
        return {
            "entityType": kind.type_name,
            "versions": [json.dumps(v) for v in reversed(history)],
        }

    # --- writes --------------------------------------------------------------------------

    def write(
        self,
        kind: Kind,
        body: Any,
        caller: Caller,
        create_only: bool = False,
        override: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """One create (POST) or create-or-update (PUT): (201 or 200, the stored entity)."""
        try:
            request = kind.create_model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ApiError(400, f"[{where}] {first['msg']}") from None
        create = request.model_dump(mode="json", exclude_none=True, by_alias=True)
        if create.get("name") in self.rejected:
            raise ApiError(400, f"injected rejection of {create['name']} (sandbox faults)")
        if kind.type_name == "user":
            create["name"] = create["name"].lower()
        types.check_extension(self.store, kind.type_name, create.get("extension"))
        if create.get("extension"):
            create["extension"] = types.normalize_extension(
                self.store, kind.type_name, create["extension"]
            )
        parent = self._parent(kind, create)
        nested = self._nested_parent(kind, create)
        if nested is not None:
            fqn = f"{nested['fullyQualifiedName']}.{quote_name(create['name'])}"
        elif parent is None:
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
        entity = self._build(kind, create, parent, fqn)
        if nested is not None and kind.nested_parent:
            entity[kind.nested_parent] = self._ref(nested, kind.type_name)
        if existing is None:
            entity.update(id=str(uuid.uuid4()), version=0.1)
            self._stamp(kind, entity, caller)
            self.store.put(kind.type_name, entity)
            return 201, entity
        was_deleted = bool(existing.get("deleted"))
        proposed = put_merge(kind, existing, entity, caller, override)
        validation.check_tags(self.store, proposed.get("tags"))  # the merged labels
        validation.check_column_tags(self.store, proposed.get("columns"))
        updated = self.commit(kind, existing, proposed, caller, "PUT")
        if was_deleted:
            self._restore_children(updated["id"], caller)
        return 200, updated

    def _bulk_row(
        self, kind: Kind, row: dict[str, Any], caller: Caller, override: bool
    ) -> tuple[int, dict[str, Any]]:
        """One bulk row; since OM 2.0 a row whose `sourceHash` equals the stored one is
        skipped unread (so edits made in the UI are not restored from source, OM #32246), and
        a new table's column-level custom properties are not stored (OM #29492)."""
        if row.get("sourceHash") and kind.parent_field and isinstance(row.get("name"), str):
            parent = row.get(kind.parent_field)
            fqn = f"{parent}.{quote_name(row['name'])}" if isinstance(parent, str) else None
            stored = self.store.get_by_fqn(kind.type_name, fqn) if fqn else None
            if stored is not None and stored.get("sourceHash") == row["sourceHash"]:
                return 200, stored
        if kind.type_name == "table" and isinstance(row.get("columns"), list):
            parent = row.get("databaseSchema")
            fqn = f"{parent}.{quote_name(str(row.get('name')))}" if isinstance(parent, str) else ""
            if self.store.get_by_fqn("table", fqn) is None:  # OM #29492: lost on bulk create
                row = {**row, "columns": _without_extensions(row["columns"])}
        return self.write(kind, row, caller, override=override)

    def _parent(self, kind: Kind, create: dict[str, Any]) -> dict[str, Any] | None:
        """The parent by FQN, soft-deleted ones included (TableRepository.prepare: ALL)."""
        if kind.type_name == "dataContract":
            ref = create["entity"]
            target = self.store.get(ref["type"], ref["id"])
            if target is None or target.get("deleted"):
                raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
            return target
        if kind.type_name == "tag" and create.get("parent"):
            parent_tag = self.store.get_by_fqn("tag", create["parent"])
            if parent_tag is None:
                raise ApiError(404, f"tag instance for {create['parent']} not found")
            return parent_tag
        if kind.parent_field is None or kind.parent_kind is None:
            return None
        parent_fqn = create.get(kind.parent_field)
        if isinstance(parent_fqn, dict):
            parent_fqn = parent_fqn.get("fullyQualifiedName")
        parent = self.store.get_by_fqn(kind.parent_kind, str(parent_fqn))
        if parent is None:
            raise ApiError(404, f"{kind.parent_kind} instance for {parent_fqn} not found")
        return parent

    def _nested_parent(self, kind: Kind, create: dict[str, Any]) -> dict[str, Any] | None:
        """The same-kind parent a create names (a container's by reference {id, type}, a
        glossary term's or a domain's by FQN), soft-deleted ones included; None: a root."""
        value = create.get(kind.nested_parent or "")
        if not value:
            return None
        if isinstance(value, dict):
            found = self.store.get(kind.type_name, value["id"])
            key = value["id"]
        else:
            found, key = self.store.get_by_fqn(kind.type_name, value), value
        if found is None:
            raise ApiError(404, f"{kind.type_name} instance for {key} not found")
        return found

    def _build(
        self, kind: Kind, create: dict[str, Any], parent: dict[str, Any] | None, fqn: str
    ) -> dict[str, Any]:
        """The entity a create request describes, references resolved and validated."""
        skipped = {kind.parent_field, kind.nested_parent}
        entity = {k: v for k, v in create.items() if k not in skipped and k in kind.entity_fields}
        entity["fullyQualifiedName"] = fqn
        if "deleted" in kind.entity_fields:  # domains have no soft delete
            entity["deleted"] = False
        if parent is not None and kind.type_name == "dataContract":
            entity["entity"] = self._ref(parent, create["entity"]["type"])
        elif parent is not None and kind.type_name == "tag" and create.get("parent"):
            entity["parent"] = self._ref(parent, "tag")
            entity["classification"] = parent["classification"]
        elif parent is not None and kind.parent_field is not None:
            entity[kind.parent_field] = self._ref(parent, kind.parent_kind or "")
            for inherited in ("service", "database"):
                if inherited in parent and inherited != kind.parent_field:
                    entity[inherited] = parent[inherited]
            if "serviceType" in parent:
                entity["serviceType"] = parent["serviceType"]
        for field, target in UUID_LINKS.get(kind.type_name, {}).items():
            if field in entity:
                entity[field] = [self._ref_by_id(target, value) for value in entity[field]]
        if kind.type_name == "bot":
            user = self._by_name(BY_TYPE["user"], create["botUser"])
            if user is None:
                raise ApiError(404, f"user instance for {create['botUser']} not found")
            entity["botUser"] = self._ref(user, "user")
        if "columns" in entity and kind.type_name == "table":
            entity["columns"] = _column_fqns(validation.validate_columns(entity["columns"]), fqn)
        if (entity.get("dataModel") or {}).get("columns"):  # ContainerRepository: FQNs only
            model = entity["dataModel"]
            entity["dataModel"] = {**model, "columns": _column_fqns(model["columns"], fqn)}
        for field, target in NAMED_LINKS.get(kind.type_name, {}).items():
            if entity.get(field):
                entity[field] = [self._named_link(target, name) for name in entity[field]]
        if kind.type_name == "mlmodel" and entity.get("mlFeatures"):
            entity["mlFeatures"] = [self._ml_feature(f, fqn) for f in entity["mlFeatures"]]
        self._check_links(entity)
        return entity

    def _ml_feature(self, feature: dict[str, Any], model_fqn: str) -> dict[str, Any]:
        """MlModelRepository: a feature's FQN is under its model's (setMlFeatureFQN); each
        source's data source must exist, not deleted (validateMlDataSource → 404), and names
        the source's FQN: the data source's plus the source's name, else the name alone
        (setMlFeatureSourcesFQN)."""
        feature = {**feature, "fullyQualifiedName": f"{model_fqn}.{quote_name(feature['name'])}"}
        sources = []
        for source in feature.get("featureSources") or []:
            source = dict(source)
            ref = source.get("dataSource")
            if ref is not None:
                found = self.store.get(ref["type"], ref["id"])
                if found is None or found.get("deleted"):
                    raise ApiError(404, f"{ref['type']} instance for {ref['id']} not found")
                source["dataSource"] = self._ref(found, ref["type"])
                source["fullyQualifiedName"] = (
                    f"{found['fullyQualifiedName']}.{quote_name(source['name'])}"
                )
            elif source.get("name"):
                source["fullyQualifiedName"] = quote_name(source["name"])
            sources.append(source)
        if sources:
            feature["featureSources"] = sources
        return feature

    def _named_link(self, target: str, name: str) -> dict[str, Any]:
        """A reference to the entity a create names by FQN (a user by name), or a 404."""
        found = self._by_name(BY_TYPE[target], name)
        if found is None:
            raise ApiError(404, f"{target} instance for {name} not found")
        if target == "glossaryTerm":  # TermRelation
            return {"relationType": "relatedTo", "term": self._ref(found, target)}
        return self._ref(found, target)

    def _check_links(self, entity: dict[str, Any]) -> None:
        """Tags exist and respect mutual exclusion; owners exist and are users or Groups;
        reviewers exist."""
        validation.check_tags(self.store, entity.get("tags"))
        validation.check_column_tags(self.store, entity.get("columns"))
        validation.check_column_tags(self.store, (entity.get("dataModel") or {}).get("columns"))
        if entity.get("reviewers"):
            entity["reviewers"] = [
                self._ref_by_id(ref["type"], ref["id"]) for ref in entity["reviewers"]
            ]
        if entity.get("owners"):
            entity["owners"] = [
                self._ref(validation.owner_entity(self.store, ref), ref["type"])
                for ref in entity["owners"]
                if not ref.get("inherited")
            ]

    def commit(
        self,
        kind: Kind,
        existing: dict[str, Any],
        proposed: dict[str, Any],
        caller: Caller,
        op: str,
    ) -> dict[str, Any]:
        """Store `proposed` as the next version of `existing` if a tracked field changed.

        A PATCH by the same user within SESSION_MS of their last change is consolidated
        into that change (EntityUpdater.consolidateChanges): compared with, and versioned
        from, the version before it.
        """
        managed = {k: existing[k] for k in SERVER_MANAGED if k in existing}
        proposed = self._normalize(kind, {**proposed, **managed})
        history = self.store.versions.get(existing["id"], [])
        consolidate = (
            op == "PATCH"
            and existing["version"] > 0.1
            and not existing.get("deleted")
            and existing.get("updatedBy") == caller.name
            and _now_ms() - existing.get("updatedAt", 0) <= SESSION_MS
            and len(history) >= 2
        )
        base = history[-2] if consolidate else existing
        change, major = changes(kind, content(base), content(proposed))
        if not any_change(change):
            if not consolidate and unversioned_change(kind, content(base), content(proposed)):
                entity = {**content(proposed), **managed}  # stored, same version
                self.store.put(kind.type_name, entity)
                return entity
            if not consolidate:
                return existing  # nothing OM's updater records: the proposal is dropped
            self.store.drop_last_version(existing["id"])
            entity = {**content(proposed), **{k: base[k] for k in SERVER_MANAGED if k in base}}
            self.store.put(kind.type_name, entity)
            return entity
        if consolidate:
            self.store.drop_last_version(existing["id"])
        entity = {**content(proposed), "id": existing["id"]}
        entity["version"] = next_version(base["version"], major)
        change["previousVersion"] = base["version"]
        entity["changeDescription"] = change
        self._stamp(kind, entity, caller)
        self.store.put(kind.type_name, entity)
        return entity

    def _stamp(self, kind: Kind, entity: dict[str, Any], caller: Caller) -> None:
        entity["updatedAt"] = _now_ms()
        entity["updatedBy"] = caller.name
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

    def _ref_by_id(self, type_name: str, entity_id: str) -> dict[str, Any]:
        found = self.store.get(type_name, entity_id)
        if found is None:
            raise ApiError(404, f"{type_name} instance for {entity_id} not found")
        return self._ref(found, type_name)

    def _ref(self, entity: dict[str, Any], type_name: str) -> dict[str, Any]:
        return {
            "id": entity["id"],
            "type": type_name,
            "name": entity["name"],
            "fullyQualifiedName": entity["fullyQualifiedName"],
            "href": entity["href"],
            "deleted": bool(entity.get("deleted")),
        }

    def _patch(
        self, kind: Kind, entity: dict[str, Any], operations: Any, caller: Caller
    ) -> dict[str, Any]:
        """JSON Patch on a non-deleted entity (404 otherwise), as read with every field."""
        if entity.get("deleted"):
            raise ApiError(404, f"{kind.type_name} instance for {entity['id']} not found")
        source = reads.project(self.store, kind, entity, kind.fields | {"profile"})
        try:
            patched = jsonpatch.apply_patch(source, operations)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(400, f"invalid JSON patch: {exc}") from None
        if not isinstance(patched, dict):
            raise ApiError(400, "invalid JSON patch: the result is not an object")
        for key in (*PATCH_RESTORED, kind.parent_field or "", "deleted"):
            if key in entity:
                patched[key] = entity[key]
        if "columns" in patched:
            patched["columns"] = _column_fqns(patched["columns"], entity["fullyQualifiedName"])
        if (patched.get("dataModel") or {}).get("columns"):
            model = patched["dataModel"]
            columns = _column_fqns(model["columns"], entity["fullyQualifiedName"])
            patched["dataModel"] = {**model, "columns": columns}
        self._check_links(patched)
        for name in reads.LIST_FIELDS:
            if patched.get(name) == []:
                patched.pop(name)
        types.check_extension(self.store, kind.type_name, patched.get("extension"))
        if patched.get("extension"):
            patched["extension"] = types.normalize_extension(
                self.store, kind.type_name, patched["extension"]
            )
        return self.commit(kind, entity, patched, caller, "PATCH")

    def _delete(
        self, kind: Kind, entity: dict[str, Any], params: dict[str, str], caller: Caller
    ) -> dict[str, Any]:
        recursive, hard = _flag(params, "recursive"), _flag(params, "hardDelete")
        hard |= "deleted" not in kind.entity_fields  # e.g. domains: never soft-deleted
        children = self._children(entity["id"])
        if children and not recursive:
            raise ApiError(
                400, f"Entity {entity['fullyQualifiedName']} is not empty; use recursive=true"
            )
        for child_kind, child in children:
            self._delete(BY_TYPE[child_kind], child, params, caller)
        if hard:
            self.store.delete(kind.type_name, entity["id"])
            self.lineage.forget(entity["id"])
            return entity
        if entity.get("deleted"):
            return entity
        return self.commit(kind, entity, {**entity, "deleted": True}, caller, "DELETE")

    def _restore_children(self, entity_id: str, caller: Caller) -> None:
        """EntityRepository.restoreChildren: a restored entity brings back its children."""
        for child_kind, child in self._children(entity_id):
            if child.get("deleted"):
                kind = BY_TYPE[child_kind]
                self.commit(kind, child, {**child, "deleted": False}, caller, "RESTORE")
            self._restore_children(child["id"], caller)

    def _children(self, entity_id: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for record in list(self.store.by_id.values()):
            child = record["entity"]
            kind = BY_TYPE.get(record["kind"])
            if kind is None or kind.type_name == "dataContract":
                continue  # types; and an entity HAS its contract, it does not contain it
            nested = child.get(kind.nested_parent or "") or {}
            if nested:  # a nested container is its parent container's child only
                if nested.get("id") == entity_id:
                    found.append((record["kind"], child))
            elif kind.parent_field and (child.get(kind.parent_field) or {}).get("id") == entity_id:
                found.append((record["kind"], child))
        return found

    # --- data contracts ------------------------------------------------------------------

    def _check_contract_schema(self, create: dict[str, Any], target: dict[str, Any]) -> None:
        """OM rejects a contract whose schema names a column its table does not have."""
        if create["entity"]["type"] != "table" or not target.get("columns"):
            return
        names = {column["name"] for column in target["columns"]}
        missing = [c["name"] for c in create.get("schema") or [] if c["name"] not in names]
        if missing:
            raise ApiError(
                400,
                "Schema validation failed. The following fields specified in the data contract "
                f"do not exist in the table: {', '.join(missing)}",
            )

    def _contract_of(self, params: dict[str, str]) -> dict[str, Any]:
        """`GET /dataContracts/entity?entityId=&entityType=`: the entity's contract."""
        for contract in self.store.all_of("dataContract"):
            if contract["entity"]["id"] == params.get("entityId") and not contract.get("deleted"):
                return contract
        raise ApiError(404, f"dataContract instance for {params.get('entityId')} not found")

    # --- table profiles ------------------------------------------------------------------

    def _profile(
        self, method: str, parts: list[str], params: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        key, series = unquote(parts[0]), parts[1]
        if series == "tableProfile" and method == "PUT" and len(parts) == 2:
            table = self.store.get("table", key)
            if table is None or table.get("deleted"):
                raise ApiError(404, f"table instance for {key} not found")
            return 200, profiles.put_profile(self.store, table, _json(body))
        if series == "tableProfile" and method == "GET" and parts[2:] == ["latest"]:
            table = self._visible(
                BY_TYPE["table"], self.store.get_by_fqn("table", key), key, "non-deleted"
            )
            return 200, table
        if method == "GET" and len(parts) == 2:
            return 200, profiles.series(self.store, series, key, params)
        raise ApiError(405, f"{method} not allowed on tables/{'/'.join(parts)}")

    def _pipeline_status(
        self, method: str, parts: list[str], params: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        key = unquote(parts[0])
        pipeline = self._visible(
            BY_TYPE["pipeline"], self.store.get_by_fqn("pipeline", key), key, "non-deleted"
        )
        if method == "PUT" and parts[2:] in ([], ["bulk"]):
            return 200, pipeline_status.put_status(
                self.store, pipeline, _json(body), bulk=parts[2:] == ["bulk"]
            )
        if method == "GET" and len(parts) == 2:
            return 200, pipeline_status.series(self.store, pipeline, params)
        raise ApiError(405, f"{method} not allowed on pipelines/{'/'.join(parts)}")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from None


def _column_fqns(columns: list[dict[str, Any]], parent: str) -> list[dict[str, Any]]:
    out = []
    for column in columns:
        column = {**column, "fullyQualifiedName": f"{parent}.{quote_name(column['name'])}"}
        if column.get("children"):
            column["children"] = _column_fqns(column["children"], column["fullyQualifiedName"])
        out.append(column)
    return out
