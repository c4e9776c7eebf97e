"""The ordered plan as a rich table (`om-ingest plan`)."""

from __future__ import annotations

from rich.table import Table

from om_ingest.config.models import IngestionConfig
from om_ingest.planning import Plan


def render_plan(plan: Plan, config: IngestionConfig) -> Table:
    table = Table(
        title=f"Plan for {config.metadata.name}: {len(plan)} entities, {len(plan.levels)} levels"
    )
    for column in ("#", "level", "type", "fully qualified name", "idempotency", "depends on"):
        table.add_column(column, overflow="fold")
    step = 0
    for depth, level in enumerate(plan.levels):
        for node in level:
            step += 1
            mode = (
                "external (check only)"
                if node.external
                else (node.idempotency or config.defaults.idempotency).value
            )
            if node.is_discovery:
                mode += " · discovered"
            table.add_row(
                str(step),
                str(depth),
                node.type.value,
                node.fqn,
                mode,
                ", ".join(map(str, node.depends_on)),
            )
    return table
