"""Stale entities (tables, pipelines, ML models): ingested from a source earlier, no longer
found there; and stale lineage edges: OM holds them with a pipeline on them whose source (one
owning its pipelines' lineage: Airflow) no longer derives them.

By default they are only reported. With the source's `remove_stale: true` they are
soft-deleted in OpenMetadata (an edge: deleted), unless more than `stale_max_percent` of the
source's known tables (edges: of the edges its pipelines carry) would go: a mass disappearance
is far more often a wrong prefix, a permissions change or a half-done listing than real
deletions, so then nothing is removed and each is reported failed (OM's own
`markDeletedTables` has no such guard, their issue #10389). Each removal is a write
like any other: the caller's `remove` retries transient failures and turns a final one into
that table's failed result, so one failed delete never ends the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from om_ingest.config.models import SourceConfig
from om_ingest.engine.discovery import StaleEdge, StaleEntity
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.errors import OpenMetadataError
from om_ingest.openmetadata import OMClient

Remove = Callable[[StaleEntity, str], EntityResult]
"""Soft-deletes one stale entity (given why it is stale) and says how that went."""


def handle_stale(
    stale: list[StaleEntity],
    sources: dict[str, SourceConfig],
    known: dict[str, int],
    dry_run: bool,
    remove: Remove,
) -> list[EntityResult]:
    """One result per stale entity (`known`: how many entities each source had ingested)."""
    by_source: dict[str, list[StaleEntity]] = defaultdict(list)
    for table in stale:
        by_source[table.source].append(table)
    results = []
    for name, tables in by_source.items():
        source, total = sources[name], known[name]
        share = 100.0 * len(tables) / total
        for table in tables:
            gone = f"{table.location} is gone from source {name!r} since the last run"
            if not source.remove_stale:
                reason = f"stale: {gone}; kept in OpenMetadata (remove_stale: false)"
                results.append(_result(table, Operation.SKIP, Outcome.SKIPPED, reason=reason))
            elif share > source.stale_max_percent:
                kind = "lineage edge" if isinstance(table, StaleEdge) else table.entity_type.value
                error = (
                    f"stale, not removed: {len(tables)} of {total} "
                    f"{kind}s of source {name!r} "
                    f"({share:.1f}%) are gone, more than stale_max_percent "
                    f"({source.stale_max_percent:g}); check the source, nothing was removed"
                )
                results.append(_result(table, Operation.DELETE, Outcome.FAILED, error=error))
            elif dry_run:
                results.append(_result(table, Operation.DELETE, Outcome.DRY_RUN, reason=gone))
            else:
                results.append(remove(table, gone))
    return results


def soft_delete(client: OMClient, table: StaleEntity, gone: str) -> EntityResult:
    """Soft-delete `table` in OM (a stale edge: delete it; a no-op when it is gone already);
    OM errors propagate for the caller to retry."""
    from om_ingest.entities import handler_for

    if isinstance(table, StaleEdge) and table.edge is not None:
        try:
            client.delete_lineage(table.edge)
        except OpenMetadataError as exc:
            if exc.status != 404:
                raise
            reason = f"stale: {gone}; already gone from OpenMetadata"
            return _result(
                table, Operation.SKIP, Outcome.SKIPPED, reason=reason, api_calls=client.api_calls
            )
        return _result(
            table, Operation.DELETE, Outcome.SUCCESS, reason=f"removed: {gone}",
            api_calls=client.api_calls,
        )  # fmt: skip

    entity_class = handler_for(table.entity_type).entity_class
    current = client.get_by_name(entity_class, table.fqn)
    if current is None:
        reason = f"stale: {gone}; already gone from OpenMetadata"
        return _result(
            table, Operation.SKIP, Outcome.SKIPPED, reason=reason, api_calls=client.api_calls
        )
    entity_id = str(current.id.root)  # type: ignore[attr-defined]  # every OM entity has one
    client.soft_delete(entity_class, entity_id)
    return _result(
        table,
        Operation.DELETE,
        Outcome.SUCCESS,
        reason=f"soft-deleted: {gone}",
        entity_id=entity_id,
        api_calls=client.api_calls,
    )


def removal_failed(table: StaleEntity, gone: str, error: str, attempts: int) -> EntityResult:
    return _result(
        table,
        Operation.DELETE,
        Outcome.FAILED,
        error=f"stale, not removed: {gone}: {error}",
        attempts=attempts,
    )


def _result(
    table: StaleEntity, operation: Operation, outcome: Outcome, **fields: Any
) -> EntityResult:
    return EntityResult(
        fqn=table.fqn,
        entity_type=table.entity_type.value,
        operation=operation,
        outcome=outcome,
        **fields,
    )
