"""One ingestion run: plan levels in order, block what depends on a failure, audit all.

The orchestration is pure: a `dispatch` callable runs one batch of independent entities
(a plan level) and hands each result to `record` as soon as it is known, so it is audited
before the next entity starts; `dispatch_stream` does the same for the tables a discovery
placeholder streams (written while later ones are still being read). The Prefect flow
supplies dispatchers that run subflows and tasks; tests can supply a plain loop.
"""

from __future__ import annotations

import fnmatch
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from om_ingest.audit import AuditLog, RunSummary
from om_ingest.config import LoadedConfig
from om_ingest.config.models import EntityType, IdempotencyMode
from om_ingest.contracts.mapping import ContractGate
from om_ingest.engine.executor import EntityTask, blocked_result
from om_ingest.engine.results import EntityResult
from om_ingest.planning import EntitySpec, Key, Plan, PlannedEntity, build_plan, planned, unpacked
from om_ingest.planning.plan import references_of

ResultHook = Callable[[EntityResult], None]
Dispatch = Callable[[Sequence[EntityTask], ResultHook], None]
StreamItem = EntityTask | EntityResult
StreamDispatch = Callable[[PlannedEntity, Iterator[StreamItem], ResultHook], None]
"""Runs the tasks of one discovery placeholder as they arrive, recording results (and the
results discovery decided itself) in arrival order."""


@dataclass
class RunOptions:
    dry_run: bool = False
    idempotency: IdempotencyMode | None = None
    """Overrides every entity's mode when set (the CLI's --idempotency)."""
    only: list[str] | None = None
    """FQN globs; entities not matching are left alone."""
    audit_dir: str | None = None


@dataclass
class RunContext:
    """What a run knows before it starts processing entities."""

    loaded: LoadedConfig
    options: RunOptions
    entities: list[EntitySpec]
    pre_results: list[EntityResult] = field(default_factory=list)
    """Results decided before planning (e.g. a source that cannot be reached)."""
    discover: Callable[[PlannedEntity], Iterable[EntitySpec | EntityResult]] | None = None
    """The entities a discovery placeholder streams (or results decided while discovering)."""
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    flow_run_id: str | None = None
    gates: dict[str, ContractGate] | None = None
    """Schema enforcement by table FQN (from the config's `contracts`), built on first use."""


def make_tasks(plan: Plan, ctx: RunContext) -> Iterator[list[EntityTask]]:
    """Each level's tasks; `only` filters entities (a placeholder's tables as they stream)."""
    for level in plan.levels:
        yield [
            _task(node, ctx)
            for node in level
            if node.is_discovery or _selected(node, ctx.options.only)
        ]


def _task(node: PlannedEntity, ctx: RunContext) -> EntityTask:
    defaults = ctx.loaded.config.defaults
    return EntityTask(
        node=node,
        mode=ctx.options.idempotency or node.idempotency or defaults.idempotency,
        override=node.override or defaults.override,
        dry_run=ctx.options.dry_run,
        contract=_gate(node, ctx),
    )


def _gate(node: PlannedEntity, ctx: RunContext) -> ContractGate | None:
    """The contract governing a table, if any."""
    contracts = ctx.loaded.config.contracts
    if not contracts or node.type is not EntityType.TABLE:
        return None
    if ctx.gates is None:
        from om_ingest.contracts.expand import gates_for

        ctx.gates = gates_for(contracts)
    return ctx.gates.get(node.fqn)


def _streamed(
    placeholder: PlannedEntity, ctx: RunContext, failed: set[Key]
) -> Iterator[StreamItem]:
    """The placeholder's discovered entities as tasks (with `only` applied), and the results
    discovery decided itself. An entity naming others (a lineage edge: its ends, its
    pipeline) depends on them: the dispatcher waits for those of its own stream, and one whose
    dependency failed is blocked."""
    if ctx.discover is None:
        return
    for item in ctx.discover(placeholder):
        if isinstance(item, EntityResult):
            yield item
            continue
        node = streamed_node(item, placeholder.index)
        blocker = _failed_dependency(node, failed)
        if blocker is not None:
            yield blocked_result(node, f"dependency {blocker} failed or is blocked")
        elif _selected(node, ctx.options.only):
            yield _task(node, ctx)


def streamed_node(item: EntitySpec, index: int) -> PlannedEntity:
    """A streamed entity's plan node: its parent and the entities it names of one kind each
    are what it depends on."""
    entity = unpacked(item)
    node = planned(item, index, entity)
    named = [
        Key(next(iter(ref.types)), ref.fqn) for ref in references_of(entity) if len(ref.types) == 1
    ]
    return replace(node, depends_on=tuple(dict.fromkeys((*node.depends_on, *named))))


def _one_by_one(dispatch: Dispatch) -> StreamDispatch:
    def run(_: PlannedEntity, items: Iterator[StreamItem], record: ResultHook) -> None:
        for item in items:
            if isinstance(item, EntityResult):
                record(item)
            else:
                dispatch([item], record)

    return run


def execute_run(
    ctx: RunContext,
    dispatch: Dispatch,
    on_result: ResultHook | None = None,
    finish: Callable[[ResultHook], None] | None = None,
    dispatch_stream: StreamDispatch | None = None,
) -> tuple[RunSummary, list[EntityResult]]:
    """Run every level; an entity whose dependency failed is recorded as blocked. A discovery
    placeholder's tables are streamed into `dispatch_stream` (default: `dispatch`, one at a
    time). `finish` records what comes after the levels (stale tables) into the same audit
    and summary."""
    stream = dispatch_stream or _one_by_one(dispatch)
    started = datetime.now(UTC)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    plan = build_plan(ctx.entities, ctx.loaded.error)
    audit_dir = ctx.options.audit_dir or ctx.loaded.config.audit.output_dir
    summary = RunSummary(
        run_id=ctx.run_id,
        flow_run_id=ctx.flow_run_id,
        config=str(ctx.loaded.path),
        dry_run=ctx.options.dry_run,
        started_at=started.isoformat(),
    )
    results: list[EntityResult] = []
    failed: set[Key] = set()
    with AuditLog(audit_dir, ctx.run_id, started) as audit:

        def record(result: EntityResult) -> None:
            audit.record(result, flow_run_id=ctx.flow_run_id, dry_run=ctx.options.dry_run)
            summary.add(result)
            results.append(result)
            if result.failed:
                failed.add(Key(result.entity_type, result.fqn))
            if on_result is not None:
                on_result(result)

        for result in ctx.pre_results:
            record(result)
        for level in make_tasks(plan, ctx):
            runnable: list[EntityTask] = []
            placeholders: list[EntityTask] = []
            for task in level:
                blocker = _failed_dependency(task.node, failed)
                if blocker is not None:
                    record(blocked_result(task.node, f"dependency {blocker} failed or is blocked"))
                else:
                    (placeholders if task.node.is_discovery else runnable).append(task)
            if runnable:
                dispatch(runnable, record)
            for task in placeholders:
                stream(task.node, _streamed(task.node, ctx, failed), record)
        if finish is not None:
            finish(record)
        summary.finished_at = datetime.now(UTC).isoformat()
        summary.wall_time_sec = round(time.perf_counter() - wall_start, 3)
        summary.cpu_time_sec = round(time.process_time() - cpu_start, 3)
        audit.write_summary(summary)
    return summary, results


def _failed_dependency(node: PlannedEntity, failed: set[Key]) -> Key | None:
    return next((dep for dep in node.depends_on if dep in failed), None)


def _selected(node: PlannedEntity, only: list[str] | None) -> bool:
    return not only or any(fnmatch.fnmatchcase(node.fqn, pattern) for pattern in only)
