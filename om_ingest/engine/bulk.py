"""Write a batch of entities under one parent with one `PUT /{collection}/bulk`.

Only the transport is shared: each entity is decided by `executor.decide` (skip, update,
fail, dry-run diff, curated fields) against one paged listing of what OM holds under the
parent (`Known`, read once per stream, only when the parent was not probed empty), and gets
its own result. Rows that need a PUT (creates, structural updates) go in one bulk call; an
update that only needs a JSON Patch is patched by itself. After the call:
- a row OM rejected fails alone with OM's message; a row OM failed transiently (429, 5xx) is
  retried alone; a call that fails as a whole is split in halves, each sent again (a single
  row retries on the retry budget), so no row OM answered is sent twice;
- one listing of the rows written (ids, versions, custom properties; from the first of their
  names in OM's name order, see `OMClient.stored_under`) gives each written entity its
  version after; a create whose custom properties OM dropped (OM #29492) is PATCHed; an
  update whose version did not move was skipped by OM's `sourceHash` fast path (#32246) and
  is PUT again by itself, which has no fast path — its result says so;
- an update's JSON Patch (what a bot's PUT keeps: curated text, tags, owners, custom
  properties) follows per entity, as on the one-by-one path.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from om_ingest.config.models import EntityType, RetryConfig
from om_ingest.engine.compare import as_json
from om_ingest.engine.executor import (
    EntityTask,
    Pending,
    decide,
    failed_result,
    finished,
    patch_after_put,
    prepare_write,
    write_pending,
    written,
)
from om_ingest.engine.results import EntityResult
from om_ingest.entities import handler_for
from om_ingest.errors import OpenMetadataError
from om_ingest.openmetadata import OMClient
from om_ingest.openmetadata.client import Stored
from om_ingest.openmetadata.retry import Tries, call_with_retries

SOURCE_HASH_SKIPPED = (
    "OpenMetadata's bulk sourceHash fast path skipped the row; written by a single PUT"
)


@dataclass
class Known:
    """What OM holds under one parent (e.g. a schema's tables), listed once on first need
    with the fields the comparator reads; nothing when the run's probe found it empty."""

    client: OMClient
    entity_class: Any
    parent_param: str
    parent_fqn: str
    read_fields: tuple[str, ...]
    _listed: dict[str, str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def lookup(self, handler: Any, node: Any) -> Any:
        if self.client.surely_absent(self.entity_class, node.fqn, node.parent_fqn):
            return None
        raw = self._entities().get(node.fqn)
        return self.entity_class.model_validate_json(raw) if raw is not None else None

    def identity(self, fqn: str) -> tuple[str, float] | None:
        """(id, version) of what OM held when listed: a cached result is trusted only if it
        still matches (see `flows.entity_tasks`)."""
        if self.client.surely_absent(self.entity_class, fqn, self.parent_fqn):
            return None
        raw = self._entities().get(fqn)
        if raw is None:
            return None
        entity = json.loads(raw)
        return str(entity["id"]), float(entity["version"])

    def holds(self, task: EntityTask) -> bool:
        """Whether `task`'s entity is of the listed kind, under the listed parent."""
        return (
            handler_for(task.node.type).entity_class is self.entity_class
            and task.node.parent_fqn == self.parent_fqn
        )

    def _entities(self) -> dict[str, str]:
        with self._lock:  # batches of one stream may run at once (max_concurrency)
            if self._listed is None:
                self._listed = self.client.entities_under(
                    self.entity_class, self.parent_param, self.parent_fqn, list(self.read_fields)
                )
            return self._listed


CALLS_PER_TASK = 2
"""How many bulk calls one batch task makes: a task holds its rows in memory while it writes
(~100 KB a row: its config, request and decision; with `max_concurrency: 1`, two tasks at
once, one writing, one deciding), and its results wait for its last call to be recorded."""


def rows_per_task(bulk_size: int) -> int:
    """How many entities one batch task writes, in bulk calls of `bulk_size`."""
    return bulk_size * CALLS_PER_TASK


BATCHED = frozenset({EntityType.TABLE})
"""The kinds written in bulk (see `known_for`)."""


def known_for(client: OMClient, task: EntityTask) -> Known | None:
    """The listing a batch of tables under `task`'s schema decides against; None for other
    kinds (written one by one: pipelines and ML models add runs and versions per entity, and
    OM's bulk quirks are known for tables)."""
    handler = handler_for(task.node.type)
    if task.node.type not in BATCHED or task.node.parent_fqn is None:
        return None
    if handler.list_filter is None:
        return None
    return Known(
        client,
        handler.entity_class,
        handler.list_filter,
        task.node.parent_fqn,
        tuple(handler.read_fields),
    )


def apply_batch(
    client: OMClient,
    tasks: Sequence[EntityTask],
    known: Known,
    retries: RetryConfig,
    bulk_size: int = 100,
    built: Sequence[Any] | None = None,
    writing: AbstractContextManager[Any] | None = None,
    packed: Sequence[EntityTask] | None = None,
) -> list[EntityResult]:
    """Decide each entity, write those to PUT in bulk calls of `bulk_size` rows, check what
    landed with one listing, finish each alone; results in `tasks` order. The batch's shared
    calls (the bulk PUTs, the listing) are counted on its first result, so the run's total
    stays exact. `built`: each entity's `built_request`, when the caller has them. `writing`
    is held from the first write to the last (e.g. a semaphore bounding the batches writing
    to OM at once, while others decide). `packed`: the same tasks with their configs still
    packed, held instead while the batch writes (a config is read only by its decision)."""
    started = time.perf_counter()
    shared = client.scoped()
    scoped = [client.scoped() for _ in tasks]
    results: dict[int, EntityResult] = {}
    pending: dict[int, Pending] = {}
    for i, task in enumerate(tasks):
        tries = Tries()
        try:
            decided = call_with_retries(
                partial(decide, scoped[i], task, known.lookup, built[i] if built else None),
                retries,
                task.node.fqn,
                tries,
            )
        except Exception as exc:
            results[i] = failed_result(task.node, exc, tries.count)
            continue
        if isinstance(decided, EntityResult):
            results[i] = decided
        else:
            pending[i] = decided
    if packed is not None:  # ~50 KB a table less held while the batch writes
        tasks = packed
        for i, item in pending.items():
            item.task = packed[i]
    with writing or nullcontext():
        _write(shared, scoped, known, retries, bulk_size, pending, results)
    ordered = []
    for i, task in enumerate(tasks):
        result = finished(scoped[i], task, results[i], started)
        result.duration_ms = round(result.duration_ms / len(tasks), 2)
        ordered.append(result)
    if ordered:
        ordered[0].api_calls += shared.api_calls
    return ordered


def _write(
    shared: OMClient,
    scoped: list[OMClient],
    known: Known,
    retries: RetryConfig,
    bulk_size: int,
    pending: dict[int, Pending],
    results: dict[int, EntityResult],
) -> None:
    """Write the decided entities (`pending`): PATCH-only updates alone, the rest in bulk
    calls, then the listing that checks what landed and each entity's finish."""
    rows: dict[int, Any] = {}
    for i, item in pending.items():
        body = item.put_body
        if body is None:  # only a JSON Patch: nothing for the bulk call
            results[i] = _alone(scoped[i], item, retries, lambda c, p: write_pending(c, p))
        else:
            tries = Tries()
            try:
                call_with_retries(
                    partial(prepare_write, scoped[i], item), retries, item.task.node.fqn, tries
                )
            except Exception as exc:
                results[i] = failed_result(item.task.node, exc, tries.count)
                continue
            rows[i] = body
    failures: dict[int, tuple[BaseException, int]] = {}
    landed: list[int] = []
    sends: dict[int, int] = dict.fromkeys(rows, 0)
    order = list(rows)
    for start in range(0, len(order), bulk_size):
        chunk = {i: rows[i] for i in order[start : start + bulk_size]}
        _send(shared, chunk, retries, landed, failures, sends)
    for i, (error, attempts) in failures.items():
        results[i] = failed_result(pending[i].task.node, error, attempts)
    if landed:
        after = known.client.scoped()
        try:
            listed = call_with_retries(
                partial(
                    after.stored_under,
                    known.entity_class,
                    known.parent_param,
                    known.parent_fqn,
                    [str(rows[i].name.root) for i in landed],
                ),
                retries,
                f"{known.parent_fqn} (after a bulk write)",
            )
        except OpenMetadataError:  # each written entity is then read by itself
            listed = {}
        shared.api_calls += after.api_calls
        for i in landed:
            item = pending[i]
            now = listed.get(item.task.node.fqn)
            results[i] = _alone(
                scoped[i],
                item,
                retries,
                lambda c, p, now=now, body=rows[i]: _finish(c, p, now, body),
            )
            results[i].attempts = max(results[i].attempts, sends[i])


def _alone(client: OMClient, item: Pending, retries: RetryConfig, step: Any) -> EntityResult:
    """One entity's own step, retried on the budget; a final failure is its result alone."""
    tries = Tries()
    try:
        result: EntityResult = call_with_retries(
            lambda: step(client, item), retries, item.task.node.fqn, tries
        )
    except Exception as exc:
        return failed_result(item.task.node, exc, tries.count)
    result.attempts = tries.count
    return result


def _finish(client: OMClient, item: Pending, now: Any, body: Any) -> EntityResult:
    """After the bulk PUT landed: re-check what OM dropped or skipped, PATCH what a PUT
    cannot do, and say what the entity is now."""
    handler = item.handler
    if now is None:  # not in the listing (a concurrent delete?): ask for it
        found = client.get_by_name(handler.entity_class, item.task.node.fqn, fields=["extension"])
        if found is None:
            raise OpenMetadataError(
                f"{item.task.node.fqn}: OpenMetadata accepted the bulk row but does not hold it"
            )
        now = stored(found)
    note = ""
    if item.comparison is None:
        return written(client, item, _restore_custom_properties(client, item, now))
    entity: Any = now
    if now.version == float(item.current.version.root):
        entity = client.create_or_update(body)
        note = SOURCE_HASH_SKIPPED
    now = patch_after_put(client, item, entity, put=True)
    result = written(client, item, now)
    result.reason = "; ".join(r for r in (result.reason, note) if r)
    return result


def stored(entity: Any) -> Stored:
    """What a write's result reports of an SDK entity."""
    return Stored(
        str(entity.id.root), float(entity.version.root), as_json(entity).get("extension") or {}
    )


def _restore_custom_properties(client: OMClient, item: Pending, now: Stored) -> Any:
    """A created entity's custom properties, PATCHed in when OM's bulk create dropped any."""
    wanted: dict[str, Any] = item.desired.get("extension") or {}
    if not wanted or all(now.extension.get(k) == v for k, v in wanted.items()):
        return now
    handler = item.handler
    full = client.get_by_name(
        handler.entity_class, item.task.node.fqn, fields=list(handler.read_fields)
    )
    if full is None:
        return now
    before = as_json(full)
    destination = {**before, "extension": {**(before.get("extension") or {}), **wanted}}
    return (
        client.patch(handler.entity_class, full, handler.entity_class.model_validate(destination))
        or full
    )


def _send(
    client: OMClient,
    rows: dict[int, Any],
    retries: RetryConfig,
    landed: list[int],
    failures: dict[int, tuple[BaseException, int]],
    sends: dict[int, int],
) -> None:
    """One bulk call for `rows`; what it answers per row decides each row alone. A call that
    fails as a whole is split in halves (one row: retried on the budget). `sends` counts the
    times each row was sent (its result's attempts)."""
    indices = list(rows)
    if len(indices) == 1:
        _put_alone(client, indices[0], rows[indices[0]], retries, landed, failures, sends)
        return
    for i in indices:
        sends[i] += 1
    try:
        answer = client.bulk_create_or_update([rows[i] for i in indices])
    except OpenMetadataError:
        middle = len(indices) // 2
        for half in (indices[:middle], indices[middle:]):
            _send(client, {i: rows[i] for i in half}, retries, landed, failures, sends)
        return
    by_name = {str(rows[i].name.root): i for i in indices}
    rejected: dict[int, Any] = {}
    for row in answer.failedRequest or []:
        index = by_name.get(_row_name(row.request))
        if index is not None:
            rejected[index] = row
    for i in indices:
        row = rejected.get(i)
        if row is None:
            landed.append(i)
        elif row.status is not None and (row.status == 429 or row.status >= 500):
            _put_alone(client, i, rows[i], retries, landed, failures, sends)
        else:
            message = (
                f"PUT {type(rows[i]).__name__}: OpenMetadata answered {row.status}: {row.message}"
            )
            failures[i] = (OpenMetadataError(message, status=row.status), 1)


def _put_alone(
    client: OMClient,
    index: int,
    body: Any,
    retries: RetryConfig,
    landed: list[int],
    failures: dict[int, tuple[BaseException, int]],
    sends: dict[int, int],
) -> None:
    tries = Tries()
    try:
        call_with_retries(
            lambda: client.create_or_update(body), retries, str(body.name.root), tries
        )
    except Exception as exc:
        failures[index] = (exc, sends[index] + tries.count)
        return
    sends[index] += tries.count
    landed.append(index)


def _row_name(request: Any) -> str:
    """The name of a failed row: OM answers the create request (or its FQN)."""
    if isinstance(request, dict):
        return str(request.get("name"))
    name = getattr(request, "name", None)
    if name is not None:
        return str(getattr(name, "root", name))
    return str(request).rsplit(".", 1)[-1]
