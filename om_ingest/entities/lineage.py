"""Lineage edges: `type: lineage` entities, written as OM's AddLineageRequest.

An edge is no OM entity (no id, no versions): the handler reads the edge OM holds between
the two ends (`GET /v1/lineage/{type}/{id}` downstream), compares its details (pipeline,
column mappings, description, source) with the config's, and PUTs the edge only when they
differ — OM's PUT adds the edge or replaces its details, so a re-run never duplicates it.
Column names are relative to their table (or full column FQNs); they are checked against the
tables' columns before writing, because OM silently drops mappings of unknown columns
(`LineageRepository.validateLineageDetails`), which would make the edge differ forever.
"""

from __future__ import annotations

from typing import Any

from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from pydantic import BaseModel

from om_ingest import fqns
from om_ingest.comparison import flatten_fields
from om_ingest.config.derived import EntityRefSpec, request_body
from om_ingest.config.models import EntityConfig, EntityType, LineageProperties
from om_ingest.engine.results import FieldChange
from om_ingest.entities.base import SelfManagedHandler, handler_for, register
from om_ingest.entities.derived import om_type
from om_ingest.entities.lookups import STAND_IN_ID, Resolver
from om_ingest.errors import OpenMetadataError
from om_ingest.openmetadata import OMClient

SOURCE = "Manual"
"""`lineageDetails.source` of a declared edge (OM's default for an edge without one)."""
COMPARED = ("pipeline", "columnsLineage", "description", "source")


@register(EntityType.LINEAGE)
class LineageHandler(SelfManagedHandler):
    def spec(
        self, entity: EntityConfig, parent_fqn: str | None, built: BaseModel | None = None
    ) -> dict[str, Any]:
        return request_body(_props(entity))

    def build_request(self, entity: EntityConfig, parent_fqn: str | None) -> BaseModel:
        raise TypeError("a lineage edge names entities to look up: use `request`")

    def request(
        self,
        lookup: Resolver,
        entity: EntityConfig,
        parent_fqn: str | None,
        built: BaseModel | None = None,
    ) -> BaseModel:
        props = _props(entity)
        mapped = bool(props.columns)
        source = _end(lookup, props.from_, "from", columns=mapped)
        target = _end(lookup, props.to, "to", columns=mapped)
        details: dict[str, Any] = {"source": SOURCE}
        if props.pipeline is not None:
            details["pipeline"] = _end(lookup, props.pipeline, "pipeline")["ref"]
        if props.columns:
            details["columnsLineage"] = [
                {
                    "fromColumns": [_column(source, name) for name in mapping.from_],
                    "toColumn": _column(target, mapping.to),
                }
                for mapping in props.columns
            ]
        if props.description:
            details["description"] = props.description
        return AddLineageRequest.model_validate(
            {
                "edge": {
                    "fromEntity": source["ref"],
                    "toEntity": target["ref"],
                    "lineageDetails": details,
                }
            }
        )

    def read(self, client: OMClient, request: BaseModel) -> dict[str, Any] | None:
        edge = _edge(request)
        ids = {edge["fromEntity"]["id"], edge["toEntity"]["id"]}
        if STAND_IN_ID in ids:  # a dry run's end that is not in OM yet: nor is the edge
            return None
        around = client.lineage(edge["fromEntity"]["type"], edge["fromEntity"]["id"], 0, 1)
        for found in around.get("downstreamEdges") or []:
            if str(found.get("toEntity")) == edge["toEntity"]["id"]:
                return _comparable(found.get("lineageDetails") or {})
        return None

    def desired(self, request: BaseModel) -> dict[str, Any]:
        return _comparable(_edge(request).get("lineageDetails") or {})

    def changes(self, desired: dict[str, Any], current: dict[str, Any]) -> list[FieldChange]:
        return [
            FieldChange(field=f"lineageDetails.{key}", before=current.get(key), after=wanted)
            for key in COMPARED
            if (wanted := desired.get(key)) != current.get(key)
        ]

    def write(self, client: OMClient, request: BaseModel) -> None:
        client.add_lineage(request)


def _props(entity: EntityConfig) -> LineageProperties:
    props = entity.properties
    return (
        props if isinstance(props, LineageProperties) else LineageProperties.model_validate(props)
    )


def _edge(request: BaseModel) -> dict[str, Any]:
    edge: dict[str, Any] = request.model_dump(mode="json", exclude_none=True, by_alias=True)["edge"]
    return edge


def _end(lookup: Resolver, ref: EntityRefSpec, which: str, columns: bool = False) -> dict[str, Any]:
    """One end (or the pipeline) as `{ref, fqn, columns}`: its EntityReference (a stand-in in
    a dry run when it is pending), and its column paths when mappings need them."""
    entity_class = handler_for(EntityType(ref.type)).entity_class
    fqn = fqns.normalize(ref.fqn)
    try:
        found = lookup.find(entity_class, fqn, ref.type, fields=["columns"] if columns else None)
    except OpenMetadataError as exc:
        raise OpenMetadataError(f"lineage `{which}`: {exc}", status=exc.status) from None
    entity_id = STAND_IN_ID if found is None else str(found.id.root)
    names = None
    if columns and found is not None:
        stored = found.model_dump(mode="json", exclude_none=True, by_alias=True)
        names = set(flatten_fields(stored.get("columns") or []))
    return {
        "ref": {"id": entity_id, "type": om_type(entity_class), "fullyQualifiedName": fqn},
        "fqn": fqn,
        "columns": names,
        "which": which,
    }


def _column(end: dict[str, Any], name: str) -> str:
    """The column's FQN; a name it does not have is an error naming the table's columns."""
    fqn: str = end["fqn"]
    path = fqns.normalize(name)
    if path.lower().startswith(f"{fqn.lower()}."):
        path = path[len(fqn) + 1 :]
    known: set[str] | None = end["columns"]
    if known is not None and path not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise OpenMetadataError(
            f"lineage `{end['which']}`: table {fqn} has no column {path} (its columns: {listed})"
        )
    return f"{fqn}.{path}"


def _comparable(details: dict[str, Any]) -> dict[str, Any]:
    """The compared details in a stable, readable form: the pipeline by FQN (id when OM gives
    none), column mappings sorted as `a, b → c`, the source defaulted as OM does."""
    out: dict[str, Any] = {"source": details.get("source") or SOURCE}
    pipeline = details.get("pipeline")
    if pipeline:
        out["pipeline"] = pipeline.get("fullyQualifiedName") or pipeline.get("id")
    mappings = details.get("columnsLineage") or []
    if mappings:
        out["columnsLineage"] = sorted(
            f"{', '.join(sorted(m.get('fromColumns') or []))} → {m.get('toColumn')}"
            for m in mappings
        )
    if details.get("description"):
        out["description"] = details["description"]
    return out
