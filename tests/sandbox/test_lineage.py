"""Lineage edges as OM's LineageResource keeps and serves them, via the SDK."""

from __future__ import annotations

from typing import Any

import pytest
from metadata.generated.schema.api.lineage.addLineage import AddLineageRequest
from metadata.generated.schema.entity.data.table import Table
from metadata.generated.schema.type.entityLineage import EntitiesEdge, EntityLineage
from metadata.generated.schema.type.entityReference import EntityReference
from metadata.ingestion.ometa.client import APIError
from metadata.ingestion.ometa.utils import model_str

from tests.sandbox.om_helpers import put_table


def edge(upstream: Any, downstream: Any, **details: Any) -> AddLineageRequest:
    return AddLineageRequest(
        edge=EntitiesEdge(
            fromEntity=EntityReference(id=upstream.id, type="table"),
            toEntity=EntityReference(id=downstream.id, type="table"),
            lineageDetails=details or None,
        )
    )


def pairs(edges: Any, names: dict[str, str]) -> list[tuple[str, str]]:
    return sorted((names[str(e.fromEntity.root)], names[str(e.toEntity.root)]) for e in edges or [])


def test_lineage_edges_depths_deletes(client: Any, unique: str) -> None:
    a, b, c = (put_table(client, unique, name=n) for n in ("a", "b", "c"))
    names = {model_str(t.id): model_str(t.name).removeprefix(unique) for t in (a, b, c)}
    answer = client.add_lineage(edge(a, b))
    assert pairs(EntityLineage.model_validate(answer).downstreamEdges, names) == [("a", "b")]
    client.add_lineage(edge(b, c, source="PipelineLineage"))
    around_b = EntityLineage.model_validate(
        client.get_lineage_by_name(Table, model_str(b.fullyQualifiedName))
    )
    assert pairs(around_b.upstreamEdges, names) == [("a", "b")]
    assert pairs(around_b.downstreamEdges, names) == [("b", "c")]
    assert sorted(model_str(n.name).removeprefix(unique) for n in around_b.nodes) == ["a", "c"]
    shallow = EntityLineage.model_validate(
        client.get_lineage_by_id(Table, model_str(a.id), down_depth=1)
    )
    deep = EntityLineage.model_validate(
        client.get_lineage_by_id(Table, model_str(a.id), down_depth=2)
    )
    assert pairs(shallow.downstreamEdges, names) == [("a", "b")]
    assert pairs(deep.downstreamEdges, names) == [("a", "b"), ("b", "c")]
    client.delete(Table, model_str(c.id))  # soft: out of the graph
    assert (
        pairs(
            EntityLineage.model_validate(
                client.get_lineage_by_id(Table, model_str(b.id))
            ).downstreamEdges,
            names,
        )
        == []
    )
    client.delete_lineage_by_source("table", model_str(b.id), "PipelineLineage")
    client.delete_lineage_edge(edge(a, b).edge)
    left = EntityLineage.model_validate(client.get_lineage_by_id(Table, model_str(a.id)))
    assert left.downstreamEdges in (None, []) and left.upstreamEdges in (None, [])


def test_check_patch_merges_column_lineage_into_the_edge(client: Any, unique: str) -> None:
    a, b = (put_table(client, unique, name=n) for n in ("a", "b"))
    a_fqn, b_fqn = model_str(a.fullyQualifiedName), model_str(b.fullyQualifiedName)

    def columns(src: str, dst: str) -> list[dict[str, Any]]:
        return [{"fromColumns": [f"{a_fqn}.{src}"], "toColumn": f"{b_fqn}.{dst}"}]

    client.add_lineage(edge(a, b, columnsLineage=columns("id", "id")), check_patch=True)
    client.add_lineage(edge(a, b, columnsLineage=columns("s", "s")), check_patch=True)
    found = client.get_lineage_edge(model_str(a.id), model_str(b.id))
    merged = sorted(c["toColumn"] for c in found["edge"]["columnsLineage"])
    assert merged == [f"{b_fqn}.id", f"{b_fqn}.s"]
    client.delete(Table, model_str(b.id), hard_delete=True)
    with pytest.raises(APIError) as gone:  # the SDK caches get_lineage_edge: ask directly
        client.client.get(f"/lineage/getLineageEdge/{model_str(a.id)}/{model_str(b.id)}")
    assert gone.value.code == 404


def test_put_replaces_details_checks_the_pipeline_and_drops_unknown_columns(
    client: Any, unique: str
) -> None:
    """LineageRepository.addLineage: one edge per pair (a PUT replaces its details); the
    pipeline must exist and comes back as its reference; validateLineageDetails drops
    mappings whose columns an end lacks, without an error."""
    from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
    from metadata.generated.schema.api.services.createPipelineService import (
        CreatePipelineServiceRequest,
    )

    a, b = (put_table(client, unique, name=n) for n in ("a", "b"))
    a_fqn, b_fqn = model_str(a.fullyQualifiedName), model_str(b.fullyQualifiedName)
    client.create_or_update(
        CreatePipelineServiceRequest.model_validate(
            {"name": f"{unique}af", "serviceType": "Airflow"}
        )
    )
    pipeline = client.create_or_update(
        CreatePipelineRequest.model_validate({"name": "p", "service": f"{unique}af"})
    )
    mapped = [
        {"fromColumns": [f"{a_fqn}.id"], "toColumn": f"{b_fqn}.id"},
        {"fromColumns": [f"{a_fqn}.id", f"{a_fqn}.nope"], "toColumn": f"{b_fqn}.s"},
        {"fromColumns": [f"{a_fqn}.id"], "toColumn": f"{b_fqn}.nope"},
    ]
    pipeline_ref = {"id": model_str(pipeline.id), "type": "pipeline"}
    client.add_lineage(edge(a, b, columnsLineage=mapped, pipeline=pipeline_ref))
    client.add_lineage(edge(a, b, columnsLineage=mapped, pipeline=pipeline_ref))
    around = EntityLineage.model_validate(client.get_lineage_by_id(Table, model_str(a.id)))
    (stored,) = around.downstreamEdges
    details = stored.lineageDetails
    assert [([f.root for f in c.fromColumns], c.toColumn.root) for c in details.columnsLineage] == [
        ([f"{a_fqn}.id"], f"{b_fqn}.id"),
        ([f"{a_fqn}.id"], f"{b_fqn}.s"),
    ]
    assert details.pipeline.fullyQualifiedName == f"{unique}af.p"
    client.add_lineage(edge(a, b, description="replaced"))
    (replaced,) = EntityLineage.model_validate(
        client.get_lineage_by_id(Table, model_str(a.id))
    ).downstreamEdges
    assert replaced.lineageDetails.columnsLineage in (None, [])
    assert replaced.lineageDetails.pipeline is None
    assert replaced.lineageDetails.description == "replaced"
    gone = {"id": "00000000-0000-0000-0000-000000000001", "type": "pipeline"}
    answer = client.add_lineage(edge(a, b, pipeline=gone))
    assert "Error 404" in answer["error"] and "pipeline instance" in answer["error"]


def test_a_pipeline_s_lineage_is_the_ends_of_the_edges_carrying_it(
    client: Any, unique: str
) -> None:
    """LineageRepository.getUpstream/DownstreamLineage for a pipeline (findFromPipeline,
    findToPipeline): the upstream ends of the edges with it in `lineageDetails.pipeline`, as
    edges end → pipeline, and their downstream ends, as pipeline → end; edges without it are
    not there. (The ends are not paired: `getLineageEdge` tells which edge exists.)"""
    from metadata.generated.schema.api.data.createPipeline import CreatePipelineRequest
    from metadata.generated.schema.api.services.createPipelineService import (
        CreatePipelineServiceRequest,
    )
    from metadata.generated.schema.entity.data.pipeline import Pipeline

    a, b, c, d = (put_table(client, unique, name=n) for n in ("a", "b", "c", "d"))
    client.create_or_update(
        CreatePipelineServiceRequest.model_validate(
            {"name": f"{unique}af", "serviceType": "Airflow"}
        )
    )
    pipeline = client.create_or_update(
        CreatePipelineRequest.model_validate({"name": "p", "service": f"{unique}af"})
    )
    carried = {"id": model_str(pipeline.id), "type": "pipeline"}
    client.add_lineage(edge(a, b, pipeline=carried))
    client.add_lineage(edge(a, c, pipeline=carried))
    client.add_lineage(edge(c, d))  # not carrying it
    names = {model_str(t.id): model_str(t.name).removeprefix(unique) for t in (a, b, c, d)}
    names[model_str(pipeline.id)] = "p"
    around = EntityLineage.model_validate(
        client.get_lineage_by_name(Pipeline, f"{unique}af.p", up_depth=1, down_depth=1)
    )
    assert pairs(around.upstreamEdges, names) == [("a", "p"), ("a", "p")]
    assert pairs(around.downstreamEdges, names) == [("p", "b"), ("p", "c")]
    assert {e.lineageDetails.pipeline.fullyQualifiedName for e in around.downstreamEdges} == {
        f"{unique}af.p"
    }
    assert sorted(model_str(n.name).removeprefix(unique) for n in around.nodes) == ["a", "b", "c"]
