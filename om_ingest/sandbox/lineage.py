"""`/v1/lineage`: edges between entities (LineageResource, LineageRepository).

PUT adds or replaces the edge `fromEntity → toEntity` (both must exist and not be deleted;
an empty 200 answers), as `LineageRepository.addLineage` does: the details are replaced
(created/updated at and by: now, the caller), a pipeline on the edge must exist and is stored
as its full reference, and column mappings naming a column an end does not have are dropped
without an error (`validateLineageDetails`: an unknown `toColumn` drops the mapping, unknown
`fromColumns` are left out of it); GET `/{type}/{id}` or `/{type}/name/{fqn}` answers OM's
`EntityLineage` (the entity, the other nodes, up- and downstream edges as id pairs) to
`upstreamDepth`/`downstreamDepth` (0 to 3, default 1), leaving soft-deleted entities out (a
pipeline's or stored procedure's first level, as `findFromPipeline`/`findToPipeline`: the ends
of the edges carrying it in `lineageDetails.pipeline`, or touching it, each edge answered as
end → pipeline or pipeline → end with the carried edge's details); edges
are deleted one by one (by ids or by names) or all of one `lineageDetails.source` touching an
entity. `getLineageEdge/{fromId}/{toId}` and PATCH of an edge's details serve the SDK's
`check_patch` path. A hard-deleted entity loses its edges.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import jsonpatch
from pydantic import ValidationError

from om_ingest.sandbox.auth import Caller
from om_ingest.sandbox.errors import ApiError
from om_ingest.sandbox.store import EntityStore

STORE_KIND = "lineageEdge"
MAX_DEPTH = 3
Ref = Callable[[dict[str, Any], str], dict[str, Any]]


class Lineage:
    def __init__(self, store: EntityStore, ref: Ref) -> None:
        self.store = store
        self.ref = ref

    def handle(
        self, method: str, tail: str, params: dict[str, str], body: Any, caller: Caller
    ) -> Any:
        parts = tail.split("/") if tail else []
        if method == "PUT" and not parts:
            return self.add(body, caller)
        if method == "GET" and len(parts) == 3 and parts[0] == "getLineageEdge":
            return self._edge_answer(self._edge(parts[1], parts[2]))
        if len(parts) == 6 and parts[0] == "source" and parts[1] == "name" and method == "DELETE":
            entity = self._entity(parts[2], unquote(parts[3]), by_name=True)
            return self.delete_by_source(entity["id"], parts[5])
        if len(parts) == 4 and parts[2] == "type" and method == "DELETE":
            return self.delete_by_source(self._entity(parts[0], parts[1])["id"], parts[3])
        if len(parts) in (4, 6) and method in ("DELETE", "PATCH"):
            by_name = len(parts) == 6
            if by_name and (parts[1] != "name" or parts[4] != "name"):
                raise ApiError(404, f"no such endpoint /api/v1/lineage/{tail}")
            source = self._entity(parts[0], unquote(parts[2 if by_name else 1]), by_name)
            target = self._entity(parts[3 if by_name else 2], unquote(parts[-1]), by_name)
            edge = self._edge(source["id"], target["id"])
            if method == "DELETE":
                self.store.delete(STORE_KIND, edge["id"])
                return None
            return self._patch(edge, body, caller)
        if method == "GET" and len(parts) in (2, 3):
            by_name = len(parts) == 3 and parts[1] == "name"
            entity = self._entity(parts[0], unquote(parts[-1]), by_name)
            return self.graph(parts[0], entity, params)
        raise ApiError(405, f"{method} not allowed on /api/v1/lineage/{tail}")

    # --- writes --------------------------------------------------------------------------

    def add(self, body: Any, caller: Caller) -> None:
        from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest

        try:
            request = AddLineageRequest.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(400, f"[{'.'.join(map(str, first['loc']))}] {first['msg']}") from None
        edge = request.model_dump(mode="json", exclude_none=True, by_alias=True)["edge"]
        source = self._entity(edge["fromEntity"]["type"], edge["fromEntity"]["id"])
        target = self._entity(edge["toEntity"]["type"], edge["toEntity"]["id"])
        key = f"{source['id']}>{target['id']}"
        now = int(time.time() * 1000)
        details = dict(edge.get("lineageDetails") or {})
        details.setdefault("source", "Manual")
        if details.get("pipeline"):
            pipeline = details["pipeline"]
            details["pipeline"] = self.ref(
                self._entity(pipeline["type"], pipeline["id"]), pipeline["type"]
            )
        if details.get("columnsLineage"):
            details["columnsLineage"] = _known_columns(
                details["columnsLineage"],
                (source, edge["fromEntity"]["type"]),
                (target, edge["toEntity"]["type"]),
            )
        details.update(createdAt=now, createdBy=caller.name, updatedAt=now, updatedBy=caller.name)
        record = {
            "id": key,
            "fullyQualifiedName": key,
            "version": 0.1,
            "fromEntity": {"id": source["id"], "type": edge["fromEntity"]["type"]},
            "toEntity": {"id": target["id"], "type": edge["toEntity"]["type"]},
            "lineageDetails": details,
        }
        if edge.get("description"):
            record["description"] = edge["description"]
        self.store.put(STORE_KIND, record)

    def _patch(self, edge: dict[str, Any], operations: Any, caller: Caller) -> None:
        try:
            details = jsonpatch.apply_patch(edge.get("lineageDetails") or {}, operations)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(400, f"invalid JSON patch: {exc}") from None
        details.update(updatedAt=int(time.time() * 1000), updatedBy=caller.name)
        self.store.put(STORE_KIND, {**edge, "lineageDetails": details})

    def delete_by_source(self, entity_id: str, source: str) -> None:
        for edge in self.store.all_of(STORE_KIND):
            touches = entity_id in (edge["fromEntity"]["id"], edge["toEntity"]["id"])
            if touches and (edge.get("lineageDetails") or {}).get("source") == source:
                self.store.delete(STORE_KIND, edge["id"])

    def forget(self, entity_id: str) -> None:
        """A hard-deleted entity's edges go with it."""
        for edge in self.store.all_of(STORE_KIND):
            if entity_id in (edge["fromEntity"]["id"], edge["toEntity"]["id"]):
                self.store.delete(STORE_KIND, edge["id"])

    # --- reads ---------------------------------------------------------------------------

    def graph(self, type_name: str, entity: dict[str, Any], params: dict[str, str]) -> Any:
        up = _depth(params, "upstreamDepth")
        down = _depth(params, "downstreamDepth")
        nodes: dict[str, dict[str, Any]] = {}
        if type_name in CARRIERS:
            upstream = self._carried(entity["id"], up, "toEntity", "fromEntity", nodes)
            downstream = self._carried(entity["id"], down, "fromEntity", "toEntity", nodes)
        else:
            upstream = self._walk(entity["id"], up, "toEntity", "fromEntity", nodes)
            downstream = self._walk(entity["id"], down, "fromEntity", "toEntity", nodes)
        nodes.pop(entity["id"], None)
        return {
            "entity": self.ref(entity, type_name),
            "nodes": list(nodes.values()),
            "upstreamEdges": upstream,
            "downstreamEdges": downstream,
        }

    def _carried(
        self, start: str, depth: int, near: str, far: str, nodes: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """A pipeline's lineage one way: the `far` end of each edge carrying it (or whose
        `near` end it is), the edge answered as that end and the pipeline; then on from
        those ends as from any entity."""
        if depth == 0:
            return []
        edges: list[dict[str, Any]] = []
        ends: set[str] = set()
        for edge in sorted(self.store.all_of(STORE_KIND), key=lambda e: e["id"]):
            pipeline = (edge.get("lineageDetails") or {}).get("pipeline") or {}
            if pipeline.get("id") != start and edge[near]["id"] != start:
                continue
            other = self.store.get(edge[far]["type"], edge[far]["id"])
            if other is None or other.get("deleted"):
                continue
            answered = {**self._edge_ids(edge), near: start}
            edges.append(answered)
            nodes[other["id"]] = self.ref(other, edge[far]["type"])
            ends.add(other["id"])
        for end in sorted(ends):
            edges.extend(self._walk(end, depth - 1, near, far, nodes, seen={start, *ends}))
        return edges

    def _walk(
        self,
        start: str,
        depth: int,
        near: str,
        far: str,
        nodes: dict[str, dict[str, Any]],
        seen: set[str] | None = None,
    ) -> list[dict[str, Any]]:
        edges: list[dict[str, Any]] = []
        frontier, seen = {start}, {start} if seen is None else set(seen)
        for _ in range(depth):
            following = set()
            for edge in sorted(self.store.all_of(STORE_KIND), key=lambda e: e["id"]):
                if edge[near]["id"] not in frontier:
                    continue
                other = self.store.get(edge[far]["type"], edge[far]["id"])
                if other is None or other.get("deleted"):
                    continue
                edges.append(self._edge_ids(edge))
                nodes[other["id"]] = self.ref(other, edge[far]["type"])
                if other["id"] not in seen:
                    seen.add(other["id"])
                    following.add(other["id"])
            frontier = following
        return edges

    def _edge_ids(self, edge: dict[str, Any]) -> dict[str, Any]:
        out = {"fromEntity": edge["fromEntity"]["id"], "toEntity": edge["toEntity"]["id"]}
        if edge.get("description"):
            out["description"] = edge["description"]
        out["lineageDetails"] = edge.get("lineageDetails") or {}
        return out

    def _edge_answer(self, edge: dict[str, Any]) -> Any:
        refs = {
            end: self.ref(self._entity(edge[end]["type"], edge[end]["id"]), edge[end]["type"])
            for end in ("fromEntity", "toEntity")
        }
        return {"edge": {**refs, **json.loads(json.dumps(edge.get("lineageDetails") or {}))}}

    def _edge(self, from_id: str, to_id: str) -> dict[str, Any]:
        edge = self.store.get(STORE_KIND, f"{from_id}>{to_id}")
        if edge is None:
            raise ApiError(404, f"Lineage edge not found between {from_id} and {to_id}")
        return edge

    def _entity(self, type_name: str, key: str, by_name: bool = False) -> dict[str, Any]:
        entity = (
            self.store.get_by_fqn(type_name, key) if by_name else self.store.get(type_name, key)
        )
        if entity is None or entity.get("deleted"):
            raise ApiError(404, f"{type_name} instance for {key} not found")
        return entity


CARRIERS = ("pipeline", "storedProcedure")
"""Entity types OM's lineage read answers with the edges carrying them (LineageRepository)."""

CHILDREN = {
    "table": ("columns",),
    "topic": ("messageSchema", "schemaFields"),
    "searchIndex": ("fields",),
    "container": ("dataModel", "columns"),
    "dashboardDataModel": ("columns",),
}
"""Where each kind keeps the fields column lineage may name (`getChildrenNames`)."""


def _children(entity: dict[str, Any], type_name: str) -> set[str]:
    """The entity's field names relative to it, nested ones dotted; ML features flat."""
    if type_name == "mlmodel":
        return {f["name"] for f in entity.get("mlFeatures") or []}
    node: Any = entity
    for key in CHILDREN.get(type_name, ()):
        node = node.get(key) if isinstance(node, dict) else None
    names: set[str] = set()

    def walk(fields: list[dict[str, Any]], prefix: str) -> None:
        for field in fields:
            name = f"{prefix}{field['name']}"
            names.add(name)
            walk(field.get("children") or [], f"{name}.")

    walk(node if isinstance(node, list) else [], "")
    return names


def _known_columns(
    mappings: list[dict[str, Any]],
    source: tuple[dict[str, Any], str],
    target: tuple[dict[str, Any], str],
) -> list[dict[str, Any]]:
    """The mappings whose columns both ends have; unknown ones dropped, as OM does."""
    (from_entity, from_type), (to_entity, to_type) = source, target
    from_names, to_names = _children(from_entity, from_type), _children(to_entity, to_type)
    from_prefix = f"{from_entity['fullyQualifiedName']}."
    to_prefix = f"{to_entity['fullyQualifiedName']}."
    kept = []
    for mapping in mappings:
        if str(mapping.get("toColumn", "")).replace(to_prefix, "") not in to_names:
            continue
        columns = [
            c for c in mapping.get("fromColumns") or [] if c.replace(from_prefix, "") in from_names
        ]
        if columns:
            kept.append({**mapping, "fromColumns": columns})
    return kept


def _depth(params: dict[str, str], name: str) -> int:
    try:
        depth = int(params.get(name, 1))
    except ValueError:
        raise ApiError(400, f"query param {name} must be an integer") from None
    if not 0 <= depth <= MAX_DEPTH:
        raise ApiError(400, f"query param {name} must be between 0 and {MAX_DEPTH}")
    return depth
