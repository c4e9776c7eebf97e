"""An entity's lineage as OM answers it (`EntityLineage`), as a rich table: one row per edge
up- and downstream, with the pipeline and the column mappings it carries."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def lineage_table(lineage: dict[str, Any]) -> Table:
    """`lineage` is the JSON of `GET /v1/lineage/{type}/name/{fqn}` (the SDK's
    `get_lineage_by_name`)."""
    entity = lineage["entity"]
    nodes = {n["id"]: n for n in lineage.get("nodes") or []}
    nodes[entity["id"]] = entity
    table = Table(title=f"Lineage of {entity['type']} {entity['fullyQualifiedName']}")
    for column in ("direction", "from", "to", "pipeline", "columns", "description"):
        table.add_column(column, overflow="fold")
    for direction in ("upstream", "downstream"):
        for edge in lineage.get(f"{direction}Edges") or []:
            source, target = nodes.get(edge["fromEntity"]), nodes.get(edge["toEntity"])
            details = edge.get("lineageDetails") or {}
            pipeline = details.get("pipeline") or {}
            table.add_row(
                direction,
                _name(source, edge["fromEntity"]),
                _name(target, edge["toEntity"]),
                pipeline.get("fullyQualifiedName") or "",
                "\n".join(_mapping(m, source, target) for m in details.get("columnsLineage") or []),
                details.get("description") or "",
            )
    return table


def _name(node: dict[str, Any] | None, fallback: str) -> str:
    return f"{node['type']} {node['fullyQualifiedName']}" if node else fallback


def _mapping(mapping: dict[str, Any], source: Any, target: Any) -> str:
    """`a, b → c` with column names relative to their tables."""

    def short(column: str, node: Any) -> str:
        return column.removeprefix(f"{node['fullyQualifiedName']}.") if node else column

    sources = ", ".join(short(c, source) for c in mapping.get("fromColumns") or [])
    return f"{sources} → {short(str(mapping.get('toColumn')), target)}"
