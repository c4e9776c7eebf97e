"""Decide and apply one entity: look it up in OM, compare, create/update/skip/fail.

Pure engine code: no Prefect. The flow wraps `apply_entity` in a task (retries, caching,
one visible run per entity); tests can call it directly against the sandbox.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from om_ingest.config.models import IdempotencyMode
from om_ingest.contracts.mapping import ContractGate
from om_ingest.engine.compare import Comparison, as_json, compare, patched, put_request
from om_ingest.engine.curation import TEXT_KEYS, Authors
from om_ingest.engine.results import SIDE_FIELDS, EntityResult, FieldChange, Operation, Outcome
from om_ingest.engine.runs import add_runs, run_changes, runs_to_add
from om_ingest.engine.samples import sample_to_write, write_sample
from om_ingest.entities import handler_for
from om_ingest.entities.base import SelfManagedHandler
from om_ingest.entities.lookups import Resolver
from om_ingest.errors import OmIngestError
from om_ingest.openmetadata import OMClient
from om_ingest.planning import PackedEntity, PlannedEntity

log = logging.getLogger("om_ingest.executor")


@dataclass(frozen=True)
class EntityTask:
    """Everything needed to process one planned entity (picklable, hashable inputs)."""

    node: PlannedEntity
    mode: IdempotencyMode
    override: bool
    dry_run: bool
    contract: ContractGate | None = None
    """The table's data contract, when one governs it: its schema is enforced before writing."""


def desired_request(task: EntityTask, built: BaseModel | None = None) -> dict[str, Any]:
    """The canonical JSON of what the config asks for (the idempotency key's core); owners
    by name, since their OM ids are only looked up when the entity is processed. `built`:
    the entity's `build_request` answer, when the caller has it (see `built_request`)."""
    return handler_for(task.node.type).spec(task.node.entity, task.node.parent_fqn, built)


def with_entity(task: EntityTask) -> EntityTask:
    """`task` with its entity unpacked once, for work that reads it several times (a batch:
    its request, its cache key, its decision, its schema snapshot)."""
    if not isinstance(task.node.spec, PackedEntity):
        return task
    return replace(task, node=replace(task.node, spec=task.node.spec.unpack()))


def built_request(task: EntityTask) -> BaseModel | None:
    """The entity's create request before any lookup, built once where a batch needs it
    twice (its cache key and its decision: ~1 ms a table); None when it does not validate
    (its decision reports why)."""
    try:
        return handler_for(task.node.type).build_request(task.node.entity, task.node.parent_fqn)
    except (ValidationError, ValueError):
        return None


def probe_parent(client: OMClient, placeholder: PlannedEntity) -> None:
    """Before a discovery placeholder's tables stream in: when OM holds no table of their
    schema yet, their lookups are skipped (`OMClient.note_if_empty`). A failed probe only
    costs the saving."""
    handler = handler_for(placeholder.type)
    if handler.list_filter is None or placeholder.parent_fqn is None:
        return
    try:
        client.note_if_empty(handler.entity_class, handler.list_filter, placeholder.parent_fqn)
    except OmIngestError as exc:
        log.warning("probing %s failed (%s); looking each table up", placeholder.parent_fqn, exc)


def apply_entity(client: OMClient, task: EntityTask) -> EntityResult:
    """Process one entity; OM failures propagate (the caller retries transient ones)."""
    started = time.perf_counter()
    decided = decide(client, task)
    result = decided if isinstance(decided, EntityResult) else write_pending(client, decided)
    return finished(client, task, result, started)


Lookup = Callable[[Any, PlannedEntity], Any]
"""What OM holds for an entity (None: absent): a GET each by default, or a batch's listing."""


@dataclass
class Pending:
    """An entity decided to be written: created (`current` None) or updated; what its
    result will say besides the write's own facts is in `facts`."""

    task: EntityTask
    handler: Any
    request: Any
    desired: dict[str, Any]
    current: Any
    comparison: Comparison | None
    facts: dict[str, Any]
    runs: list[Any] = field(default_factory=list)
    """Pipeline runs to add after the write."""
    sample: list[str] | None = None
    """A topic's sample messages to write after the write."""

    @property
    def put_body(self) -> Any:
        """The create request a PUT sends (None: an update that needs only a PATCH)."""
        if self.comparison is None:
            return self.request
        if not self.comparison.needs_put:
            return None
        body = put_request(self.handler, self.desired, as_json(self.current))
        return type(self.request).model_validate(body)


def decide(
    client: OMClient,
    task: EntityTask,
    lookup: Lookup | None = None,
    built: BaseModel | None = None,
) -> EntityResult | Pending:
    """The per-entity decision, shared by the one-by-one and the bulk path: a final result
    (skip, fail, dry-run diff, a contract block) or what to write. `lookup` says what OM
    holds (default: a GET, skipped for a child of a schema probed empty); `built`: the
    entity's `built_request`, when the caller has it."""
    violations = _contract_violations(task, built)
    if violations and task.contract is not None and task.contract.enforcement == "block":
        from om_ingest.contracts.enforcement import blocked_message

        return EntityResult(
            fqn=task.node.fqn,
            entity_type=task.node.type.value,
            operation=Operation.FAIL,
            outcome=Outcome.FAILED,
            error=blocked_message(task.contract, violations),
            contract_violations=violations,
        )
    decided = _process(client, task, lookup or _looked_up(client), built)
    if isinstance(decided, EntityResult):
        decided.contract_violations = violations
    else:
        decided.facts["contract_violations"] = violations
    return decided


def finished(
    client: OMClient, task: EntityTask, result: EntityResult, started: float
) -> EntityResult:
    """Stamp what the entity cost (time since `started`, the client's calls)."""
    result.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    result.api_calls = client.api_calls
    if task.node.external and result.outcome is Outcome.SKIPPED:
        result.reason = result.reason or "external entity exists"
    return result


def _looked_up(client: OMClient) -> Lookup:
    def current(handler: Any, node: PlannedEntity) -> Any:
        if client.surely_absent(handler.entity_class, node.fqn, node.parent_fqn):
            return None
        return client.get_by_name(handler.entity_class, node.fqn, fields=list(handler.read_fields))

    return current


def _contract_violations(task: EntityTask, built: BaseModel | None = None) -> list[str]:
    """The contract fields the table's desired columns violate (none without a contract)."""
    if task.contract is None or task.node.external:
        return []
    from om_ingest.contracts.enforcement import violations

    columns = desired_request(task, built).get("columns") or []
    return violations(task.contract, columns)


def _process(
    client: OMClient, task: EntityTask, lookup: Lookup, built: BaseModel | None = None
) -> EntityResult | Pending:
    node = task.node
    handler = handler_for(node.type)
    base: dict[str, Any] = {"fqn": node.fqn, "entity_type": node.type.value}

    if node.external:
        current = client.get_by_name(handler.entity_class, node.fqn)
        if current is None:
            return EntityResult(
                **base,
                operation=Operation.FAIL,
                outcome=Outcome.FAILED,
                error=f"external entity {node.fqn} was not found in OpenMetadata",
            )
        return EntityResult(
            **base,
            operation=Operation.SKIP,
            outcome=Outcome.SKIPPED,
            reason="external entity exists",
            version_before=_version(current),
            entity_id=_id(current),
        )

    entity = node.entity
    try:
        pending = frozenset(node.depends_on) if task.dry_run else frozenset()
        request = handler.request(Resolver(client, pending), entity, node.parent_fqn, built)
    except (ValidationError, ValueError) as exc:
        return EntityResult(
            **base,
            operation=Operation.FAIL,
            outcome=Outcome.VALIDATION_ERROR,
            error=_validation_message(exc),
        )
    if isinstance(handler, SelfManagedHandler):
        return _process_self_managed(client, task, handler, request, base)
    desired = as_json(request)
    current = lookup(handler, node)

    declared_runs = handler.runs(entity)
    if current is None:
        sample, sample_change = sample_to_write(client, None, handler.sample(entity))
        new_runs = run_changes(declared_runs, {}) + sample_change
        if task.dry_run:
            return EntityResult(
                **base,
                operation=Operation.CREATE,
                outcome=Outcome.DRY_RUN,
                request=desired,
                field_changes=new_runs,
            )
        return Pending(
            task,
            handler,
            request,
            desired,
            None,
            None,
            {**base, "field_changes": new_runs},
            declared_runs,
            sample,
        )

    have = as_json(current)
    comparison = compare(
        handler,
        desired,
        have,
        task.override,
        authors=lambda: client.authors(handler.entity_class, have["id"], handler.schema_key),
    )
    missing_runs, held_runs = runs_to_add(client, node.fqn, declared_runs)
    sample, sample_change = (
        sample_to_write(client, current, handler.sample(entity))
        if task.mode is not IdempotencyMode.FAIL
        else (None, [])
    )
    new_runs = run_changes(missing_runs, held_runs) + sample_change
    comparison.field_changes += new_runs
    facts: dict[str, Any] = {
        **base,
        "schema_changes": comparison.schema_diff.to_json(),
        "field_changes": comparison.field_changes,
        "kept_curated": comparison.kept_curated,
        "version_before": _version(current),
        "entity_id": _id(current),
        "warnings": _unstorable_warning(handler, comparison.unstorable),
    }
    if task.mode is IdempotencyMode.SKIP:  # runs are facts, not config: added all the same
        if not task.dry_run:
            add_runs(client, node.fqn, missing_runs)
            facts["warnings"] += write_sample(client, current, sample)
        skipped = _settled(task, facts, _change_count(comparison) - len(new_runs))
        assert skipped is not None
        verb = "to add" if task.dry_run else "added"
        if missing_runs:
            skipped.reason += f"; {len(missing_runs)} new run(s) {verb}"
        if sample is not None:
            skipped.reason += f"; sample data ({len(sample)} messages) {verb}"
        return skipped
    settled = _settled(task, facts, _change_count(comparison))
    if settled is not None:
        return settled
    if task.dry_run:
        return EntityResult(**facts, operation=Operation.UPDATE, outcome=Outcome.DRY_RUN)
    return Pending(
        task, handler, request, desired, current, comparison, facts, missing_runs, sample
    )


def write_pending(client: OMClient, pending: Pending) -> EntityResult:
    """Write one decided entity by itself: a PUT to create; an update's PUT and PATCH."""
    if pending.comparison is None:
        prepare_write(client, pending)
        return written(client, pending, client.create_or_update(pending.request))
    updated = _update(client, pending)
    if pending.comparison.needs_put:
        pending.facts["warnings"] += _not_applied(
            client, pending.handler, pending.desired, pending.task.node.fqn
        )
    return written(client, pending, updated)


def prepare_write(client: OMClient, pending: Pending) -> None:
    """What a PUT of a create needs first: its custom properties defined (OM rejects unknown
    extension keys)."""
    if pending.desired.get("extension"):
        client.ensure_custom_properties(pending.handler.entity_class, pending.desired["extension"])


def written(client: OMClient, pending: Pending, entity: Any) -> EntityResult:
    """The result of a write that landed (`entity`: what OM holds now); runs and sample
    added."""
    add_runs(client, pending.task.node.fqn, pending.runs)
    pending.facts.setdefault("warnings", [])
    pending.facts["warnings"] += write_sample(client, entity, pending.sample)
    if pending.comparison is None:
        return EntityResult(
            **pending.facts,
            operation=Operation.CREATE,
            outcome=Outcome.SUCCESS,
            version_after=_version(entity),
            entity_id=_id(entity),
        )
    return EntityResult(
        **pending.facts,
        operation=Operation.UPDATE,
        outcome=Outcome.SUCCESS,
        version_after=_version(entity),
    )


def _unstorable_warning(handler: Any, unstorable: list[FieldChange]) -> list[str]:
    """The differences OM stores by neither PUT nor PATCH, as one warning (not written)."""
    if not unstorable:
        return []
    fields = ", ".join(change.field for change in unstorable)
    return [
        f"OM cannot apply {fields} by PUT or PATCH: it stores {handler.schema_key} only when "
        "one is added or removed by name (left as OM holds it)"
    ]


def _not_applied(client: OMClient, handler: Any, desired: dict[str, Any], fqn: str) -> list[str]:
    """After a PUT, what OM still holds otherwise than the config asks in structure and owned
    facts (what its updater does not store): a warning, so a change that can never take is
    said once instead of being silently PUT again."""
    stored = client.get_by_name(handler.entity_class, fqn, fields=list(handler.read_fields))
    if stored is None:
        return []
    again = compare(handler, desired, as_json(stored), override=False, authors=Authors.unknown)
    fields = [f"{handler.schema_key}.{c.path}" for c in again.schema_diff.changes]
    fields += [c.field for c in again.field_changes if _is_fact(c.field)]
    if not fields:
        return []
    return [f"OM cannot apply {', '.join(fields)} by PUT (the PUT was accepted; OM kept its value)"]


def _is_fact(field: str) -> bool:
    """A field change of structure or an owned fact, not curated metadata or a run."""
    last = field.rsplit(".", 1)[-1]
    curated = last in (*TEXT_KEYS, "tags", "owners") or field.startswith("extension.")
    return not curated and not field.startswith(SIDE_FIELDS)


def _settled(task: EntityTask, facts: dict[str, Any], changes: int) -> EntityResult | None:
    """The result when the idempotency mode, or finding nothing to change, decides for an
    entity that exists; None when it is to be updated."""
    if task.mode is IdempotencyMode.FAIL:
        return EntityResult(
            **facts,
            operation=Operation.FAIL,
            outcome=Outcome.FAILED,
            error=f"{task.node.fqn} already exists and idempotency is 'fail'",
        )
    if task.mode is IdempotencyMode.SKIP or not changes:
        reason = "exists (idempotency: skip)" if task.mode is IdempotencyMode.SKIP else "up to date"
        if changes and task.mode is IdempotencyMode.SKIP:
            reason += f"; {changes} change(s) detected, not applied"
        return EntityResult(
            **facts, operation=Operation.SKIP, outcome=Outcome.SKIPPED, reason=reason
        )
    return None


def _process_self_managed(
    client: OMClient,
    task: EntityTask,
    handler: SelfManagedHandler,
    request: Any,
    base: dict[str, Any],
) -> EntityResult:
    """A kind that reads, compares and writes itself (a lineage edge), under the same
    modes, dry run and results as any entity."""
    current = handler.read(client, request)
    if current is None:
        if task.dry_run:
            return EntityResult(
                **base,
                operation=Operation.CREATE,
                outcome=Outcome.DRY_RUN,
                request=as_json(request),
            )
        handler.write(client, request)
        return EntityResult(**base, operation=Operation.CREATE, outcome=Outcome.SUCCESS)
    changes = handler.changes(handler.desired(request), current)
    facts: dict[str, Any] = {**base, "field_changes": changes}
    settled = _settled(task, facts, len(changes))
    if settled is not None:
        return settled
    if task.dry_run:
        return EntityResult(**facts, operation=Operation.UPDATE, outcome=Outcome.DRY_RUN)
    handler.write(client, request)
    return EntityResult(**facts, operation=Operation.UPDATE, outcome=Outcome.SUCCESS)


def _update(client: OMClient, pending: Pending) -> Any:
    """PUT what a PUT applies (structure, owned facts), then PATCH the metadata edits and
    custom properties (what a bot's PUT keeps): each only when needed."""
    entity = pending.current
    body = pending.put_body
    if body is not None:
        entity = client.create_or_update(body)
    return patch_after_put(client, pending, entity, put=body is not None)


def patch_after_put(client: OMClient, pending: Pending, entity: Any, put: bool) -> Any:
    """The JSON Patch of an update (metadata edits, custom properties), from what OM holds
    after its PUT (`put`: re-read first); `entity` when there is nothing to patch."""
    comparison, handler = pending.comparison, pending.handler
    if comparison is None or not comparison.needs_patch:
        return entity
    if put:  # the PATCH starts from what OM holds after the PUT
        entity = client.get_by_name(
            handler.entity_class, _fqn(pending.current), fields=list(handler.read_fields)
        )
    if entity is None:
        return entity
    if comparison.extension:
        client.ensure_custom_properties(handler.entity_class, pending.desired["extension"])
    before = as_json(entity)
    destination = patched(handler, before, comparison)
    if destination != before:
        entity = (
            client.patch(
                handler.entity_class, entity, handler.entity_class.model_validate(destination)
            )
            or entity
        )
    return entity


def blocked_result(node: PlannedEntity, because: str) -> EntityResult:
    return EntityResult(
        fqn=node.fqn,
        entity_type=node.type.value,
        operation=Operation.BLOCKED,
        outcome=Outcome.BLOCKED,
        reason=because,
    )


def failed_result(node: PlannedEntity, error: BaseException, attempts: int = 1) -> EntityResult:
    message = str(error) if isinstance(error, OmIngestError) else f"{type(error).__name__}: {error}"
    return EntityResult(
        fqn=node.fqn,
        entity_type=node.type.value,
        operation=Operation.FAIL,
        outcome=Outcome.FAILED,
        error=message,
        attempts=attempts,
    )


def _change_count(comparison: Any) -> int:
    return len(comparison.schema_diff.changes) + len(comparison.field_changes)


def _validation_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"invalid for OpenMetadata: {where}: {first['msg']} ({exc.error_count()} error(s))"
    return f"invalid for OpenMetadata: {exc}"


def _version(entity: Any) -> float | None:
    version = getattr(entity, "version", None)
    root = getattr(version, "root", version)
    return float(root) if root is not None else None


def _fqn(entity: Any) -> str:
    fqn = entity.fullyQualifiedName
    return str(getattr(fqn, "root", fqn))


def _id(entity: Any) -> str | None:
    entity_id = getattr(entity, "id", None)
    return str(getattr(entity_id, "root", entity_id)) if entity_id is not None else None
