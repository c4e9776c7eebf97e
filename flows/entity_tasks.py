"""The Prefect units one entity runs in: a cached, retried write task and its subflows.

Granularity, from measurements on Prefect 3.8.8 (2 cores): a subflow costs ~1.1 s with
the flow-run heartbeat on and ~90 ms with it off; a task ~5-10 ms. So a *declared* entity gets
its own subflow, named after its FQN (a handful per config, easy to find in the UI; the
parents only a discovery needs are tasks of the run), while *discovered* tables (hundreds or
thousands) run as a task per batch (`execution.bulk_size` > 1) or one task each inside one
subflow per discovery entity, submitted as discovery streams them, up to
`execution.max_concurrency` writing at a time. Subflow heartbeats are switched off: the parent flow run keeps its own, which is what
detects a crashed run.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.context import TaskRunContext
from prefect.futures import PrefectFuture
from prefect.results import get_result_store
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import Task

from om_ingest.config.models import IngestionConfig, RetryConfig
from om_ingest.engine.bulk import BATCHED, Known, apply_batch, known_for, rows_per_task
from om_ingest.engine.discovery import Expansion, StaleEntity
from om_ingest.engine.executor import (
    EntityTask,
    apply_entity,
    blocked_result,
    built_request,
    desired_request,
    failed_result,
    probe_parent,
    with_entity,
)
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.engine.run import StreamItem
from om_ingest.engine.stale import handle_stale, removal_failed, soft_delete
from om_ingest.entities import handler_for
from om_ingest.errors import OmIngestError
from om_ingest.openmetadata import OMClient
from om_ingest.openmetadata.retry import Tries, call_with_retries
from om_ingest.planning import Key, PlannedEntity
from om_ingest.profiling.schema_profiler import SchemaSnapshots

_clients: dict[str, OMClient] = {}
_retries: dict[str, RetryConfig] = {}
_snapshots: dict[str, SchemaSnapshots] = {}
_clients_lock = threading.Lock()


def register_client(
    client: OMClient, retries: RetryConfig | None = None, snapshots: SchemaSnapshots | None = None
) -> str:
    """Tasks receive a key, not the client: SDK clients are neither hashable nor picklable.
    `retries` is how writes through this client retry transient failures; `snapshots`, where
    batch tasks record the schemas of what they brought in step (none in a dry run)."""
    key = hashlib.sha256(f"{client.api_url}:{id(client)}".encode()).hexdigest()[:16]
    with _clients_lock:
        _clients[key] = client
        _retries[key] = retries or RetryConfig()
        if snapshots is not None:
            _snapshots[key] = snapshots
    return key


def client_for(key: str) -> OMClient:
    """A fresh call counter over the run's SDK client."""
    return _clients[key].scoped()


def retries_for(key: str) -> RetryConfig:
    """How calls through the registered client retry transient failures."""
    return _retries[key]


def release_client(key: str) -> None:
    with _clients_lock:
        _clients.pop(key, None)
        _retries.pop(key, None)
        _snapshots.pop(key, None)


class EntityFailed(OmIngestError):
    """Raised by the write task so a failed entity is never cached as done."""

    def __init__(self, result: EntityResult) -> None:
        self.result = result
        super().__init__(result.error or result.reason)


def entity_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str | None:
    """Idempotency key: OM host, kind and FQN, canonical desired spec and idempotency mode."""
    job: EntityTask = parameters["job"]
    return None if job.dry_run else _entity_key(job, parameters["client_key"], desired_request(job))


def _entity_key(job: EntityTask, client_key: str, desired: dict[str, Any]) -> str:
    """The write cache key of one entity, the same whether it is written alone or in a batch
    (`desired`: its `desired_request`)."""
    client = _clients[client_key]
    spec = json.dumps(desired, sort_keys=True, default=str)
    raw = "\n".join(
        [
            client.api_url,
            job.node.type.value,
            job.node.fqn,
            spec,
            job.mode.value,
            str(job.override),
            str(job.node.external),
            *([repr(job.contract)] if job.contract else []),
        ]
    )
    return "om-ingest-write-entity-" + hashlib.sha256(raw.encode()).hexdigest()


@task(
    name="write-entity",
    task_run_name="{job.node.fqn}",
    cache_key_fn=entity_cache_key,
    persist_result=True,
)
def write_entity(job: EntityTask, client_key: str) -> EntityResult:
    """Create/update/skip one entity; raises on failure so failures are never cached.

    Transient OM failures (429, 5xx, connection errors, timeouts) are retried here, not by
    Prefect, so `Retry-After` is honoured and the audit gets the true number of tries, for
    failures too; every try re-reads the entity, so a write that landed is not repeated."""
    client = _clients[client_key].scoped()
    tries = Tries()
    try:
        result = call_with_retries(
            lambda: apply_entity(client, job), _retries[client_key], job.node.fqn, tries
        )
    except Exception as exc:
        failed = failed_result(job.node, exc, attempts=tries.count)
        failed.api_calls = client.api_calls
        raise EntityFailed(failed) from None
    result.attempts = tries.count
    if result.failed:
        raise EntityFailed(result)
    return result


def configured_write_task(
    refresh_cache: bool, result_storage: Any = None
) -> Task[..., EntityResult]:
    """The write task with, when given, the config's result storage block (the write retries
    itself: see `write_entity`)."""
    return write_entity.with_options(
        result_storage=result_storage, retries=0, refresh_cache=refresh_cache
    )


def resolve(
    job: EntityTask, state: State[Any], client_key: str, writer: Task[..., EntityResult]
) -> EntityResult:
    """Turn a task's final state into a result; re-validate cache hits against OM."""
    if state.is_failed() or state.is_crashed():
        error = state.result(raise_on_failure=False)
        if isinstance(error, EntityFailed):
            return error.result
        return failed_result(
            job.node, error if isinstance(error, BaseException) else RuntimeError(str(error))
        )
    result: EntityResult = state.result()
    if state.name != "Cached":
        return result
    if not result.in_step:  # a skip that left changes unapplied: compare (and report) again
        return _rerun(job, client_key, writer)
    return _revalidated(job, result, client_key, writer)


def _rerun(job: EntityTask, client_key: str, writer: Task[..., EntityResult]) -> EntityResult:
    """Process the entity again, bypassing (and replacing) its cache record."""
    refreshing = writer.with_options(refresh_cache=True)
    state: State[Any] = refreshing(job, client_key, return_state=True)  # type: ignore[assignment]
    return resolve(job, state, client_key, refreshing)


def _revalidated(
    job: EntityTask, cached: EntityResult, client_key: str, writer: Task[..., EntityResult]
) -> EntityResult:
    """A cache hit is trusted only if OM still holds the same entity (id) at the cached
    version: one deleted and re-created since starts again at 0.1 with another id. What has
    no version (a lineage edge) is compared again, which writes only if it differs."""
    client = _clients[client_key].scoped()
    expected = cached.version_now
    if expected is None:
        return _rerun(job, client_key, writer)
    try:
        current = call_with_retries(  # a rate-limited check must not fail the entity
            lambda: client.get_by_name(handler_for(job.node.type).entity_class, job.node.fqn),
            _retries[client_key],
            f"{job.node.fqn} (cache check)",
        )
    except OmIngestError as exc:
        return failed_result(job.node, exc)
    version = getattr(getattr(current, "version", None), "root", None)
    current_id = getattr(getattr(current, "id", None), "root", None)
    same_entity = current is not None and str(current_id) == cached.entity_id
    if same_entity and expected is not None and float(version or -1) == expected:
        return _cache_hit(job, cached, expected, client.api_calls)
    return _rerun(job, client_key, writer)


def _cache_hit(
    job: EntityTask, cached: EntityResult, version: float, api_calls: int
) -> EntityResult:
    return EntityResult(
        fqn=job.node.fqn,
        entity_type=job.node.type.value,
        operation=Operation.SKIP,
        outcome=Outcome.SKIPPED,
        reason=f"unchanged since a previous run (cache hit, OM version {version})",
        version_before=version,
        entity_id=cached.entity_id,
        api_calls=api_calls,
        # the contract (in the cache key) and the schema are unchanged, so are the
        # violations a `warn` let through: reported again, not lost with the skip
        contract_violations=cached.contract_violations,
        warnings=cached.warnings,
    )


_knowns: dict[str, Known] = {}
"""Stream key → what OM holds under the stream's parent (listed once, shared by its batches)."""
_writing: dict[str, threading.Semaphore] = {}
"""Stream key → the batches that may write to OM at once (`max_concurrency`); one more batch
task runs, deciding its rows while the others write."""


@task(name="write-batch", task_run_name="{label}", cache_policy=NO_CACHE, persist_result=False)
def write_batch(
    jobs: list[EntityTask],
    client_key: str,
    known_key: str,
    label: str,
    refresh_cache: bool,
    bulk_size: int = 100,
) -> list[EntityResult]:
    """Write a batch of discovered entities in bulk PUTs of `bulk_size` (`engine.bulk`), each
    keeping its own write cache record: an entity cached as in step, whose id and version OM
    still holds (from the stream's listing, no call of its own), is skipped without a write."""
    known = _knowns[known_key]
    store = get_result_store()
    snapshots = _snapshots.get(client_key)
    packed, jobs = jobs, [with_entity(job) for job in jobs]
    built = [built_request(job) for job in jobs]
    desired = [
        None if request is None else desired_request(job, request)
        for job, request in zip(jobs, built, strict=True)
    ]
    keys = [
        None if spec is None or job.dry_run else _entity_key(job, client_key, spec)
        for job, spec in zip(jobs, desired, strict=True)
    ]
    snapshot_bases = [
        snapshots.base_for(job.node.entity) if snapshots is not None else "" for job in jobs
    ]
    results: dict[int, EntityResult] = {}
    todo: list[int] = []
    for i, (job, key) in enumerate(zip(jobs, keys, strict=True)):
        if not refresh_cache and key is not None:
            try:  # what OM holds first: a record of an entity OM lacks is not even read
                identity = call_with_retries(
                    partial(known.identity, job.node.fqn),
                    _retries[client_key],
                    f"{job.node.fqn} (cache check)",
                )
            except OmIngestError as exc:
                results[i] = failed_result(job.node, exc)
                continue
            cached = None if identity is None else _cached(store, key)
            if cached is not None and cached.in_step:
                expected = cached.version_now
                if expected is not None and identity == (cached.entity_id, expected):
                    results[i] = _cache_hit(job, cached, expected, 0)
                    continue
        todo.append(i)
    # the unpacked configs are read by the decisions only: apply_batch drops them once it has
    # decided (this frame keeps no reference), holding the packed ones while it writes
    deciding = [[jobs[i] for i in todo]]
    jobs = packed
    written = apply_batch(
        _clients[client_key],
        deciding.pop(),
        known,
        _retries[client_key],
        bulk_size,
        [built[i] for i in todo],
        _writing.get(known_key),
        [packed[i] for i in todo],
    )
    for i, result in zip(todo, written, strict=True):
        results[i] = result
        key = keys[i]
        if key is not None and not result.failed:
            store.write(obj=result, key=key)
    if snapshots is not None:
        for i, job in enumerate(jobs):
            shape = handler_for(job.node.type).schema_shape
            spec = desired[i]
            if shape is not None and spec is not None and results[i].in_step:
                kind = job.node.type.value
                snapshots.record(kind, snapshot_bases[i], job.node.fqn, spec, shape)
    return [results[i] for i in range(len(jobs))]


def _cached(store: Any, key: str) -> EntityResult | None:
    """The entity's cached result, if its record exists and reads back as one."""
    try:
        if not store.exists(key):
            return None
        found = store.read(key).result
    except Exception:  # an unreadable record is a miss: the entity is processed again
        return None
    return found if isinstance(found, EntityResult) else None


def configured_batch_task(
    result_storage: Any = None,
) -> Task[..., list[EntityResult]]:
    """The batch write task, keeping its entities' cache records in the run's storage."""
    return write_batch.with_options(result_storage=result_storage, retries=0)


@flow(
    name="entity", flow_run_name="{job.node.fqn}", persist_result=False, validate_parameters=False
)
def entity_flow(job: EntityTask, client_key: str, writer: Any) -> EntityResult:
    """One declared entity: its own run in the UI, named by FQN."""
    state: State[Any] = writer(job, client_key, return_state=True)
    return resolve(job, state, client_key, writer)


_streams: dict[str, Iterator[StreamItem]] = {}
"""Stream key → the items of one discovery placeholder. A subflow receives the key: Prefect
serialises subflow parameters, and would drain an iterator doing so."""


@flow(name="entity-group", flow_run_name="{group}", persist_result=False, validate_parameters=False)
def entity_group_flow(
    group: str,
    stream_key: str,
    client_key: str,
    writer: Any,
    max_concurrency: int,
    record: Callable[[EntityResult], None],
    bulk: Bulk | None = None,
) -> int:
    """The tables one discovery entity streams: a task each (with `bulk`, a task per batch of
    `engine.bulk.rows_per_task` rows), submitted
    as they are found and recorded in discovery order (with the
    results discovery decided itself), at most `max_concurrency` running and twice that in
    flight (batches: `max_concurrency` writing to OM and one more deciding its rows; a table
    that cannot join a batch is written alone, between them). Returns how many were written."""
    items = _streams.pop(stream_key)
    # each entry: the keys of the entities it writes, and how to wait for their results
    pending: deque[tuple[set[Key], Callable[[], list[EntityResult]]]] = deque()
    batch: list[EntityTask] = []
    failed: set[Key] = set()
    written = 0

    def settle() -> None:
        for result in pending.popleft()[1]():
            if result.failed:
                failed.add(Key(result.entity_type, result.fqn))
            record(result)

    with ExitStack() as stack:
        # Batches run on a runner with a worker more than may write (`_writing`): a batch
        # builds and decides its rows while the ones before it wait for OM.
        workers = max_concurrency + 1 if bulk is not None else max_concurrency
        runner: ThreadPoolTaskRunner[Any] | None = (
            stack.enter_context(ThreadPoolTaskRunner(max_workers=workers)) if workers > 1 else None
        )
        if bulk is not None:
            _writing[stream_key] = threading.Semaphore(max_concurrency)
        in_flight = 2 * workers if runner else 0

        def flush() -> None:
            if batch and bulk is not None:
                keys = {job.node.key for job in batch}
                pending.append((keys, _batched(list(batch), client_key, stream_key, runner, bulk)))
                batch.clear()

        for item in items:
            if isinstance(item, EntityTask):
                # an entity naming one of this stream (a lineage edge, its pipeline) waits for it
                needs = set(item.node.depends_on)
                if any(job.node.key in needs for job in batch):
                    flush()
                while any(keys & needs for keys, _ in pending):
                    settle()
                blocker = next((key for key in item.node.depends_on if key in failed), None)
                if blocker is not None:
                    item = blocked_result(item.node, f"dependency {blocker} failed or is blocked")
            if isinstance(item, EntityResult):
                flush()  # what discovery decided keeps its place in the order
                pending.append((set(), partial(_given, item)))
            elif bulk is not None and _batchable(item, client_key, stream_key):
                batch.append(item)
                if len(batch) >= rows_per_task(bulk.size):
                    flush()
            elif runner is None or bulk is not None:
                flush()
                pending.append(({item.node.key}, partial(_ran, item, client_key, writer)))
                while bulk is not None and pending:  # alone: no batch writes meanwhile
                    settle()
            else:
                flush()
                future = runner.submit(writer, parameters={"job": item, "client_key": client_key})
                pending.append(
                    ({item.node.key}, partial(_awaited, item, future, client_key, writer))
                )
            written += not isinstance(item, EntityResult)
            while len(pending) > in_flight:
                settle()
        flush()
        while pending:
            settle()
    _knowns.pop(stream_key, None)
    _writing.pop(stream_key, None)
    return written


@dataclass(frozen=True)
class Bulk:
    """How a stream's entities are written in batches: `size` per bulk PUT, by `task`."""

    size: int
    task: Any
    refresh_cache: bool = False


def _batchable(job: EntityTask, client_key: str, stream_key: str) -> bool:
    """A discovered entity of a kind with a parent listing (a table) goes in a batch when it
    is under the stream's parent; the stream's listing is set up with its first one."""
    if job.node.external:
        return False
    known = _knowns.get(stream_key)
    if known is None:
        known = known_for(_clients[client_key], job)
        if known is None:
            return False
        _knowns[stream_key] = known
    return known.holds(job)


def _batched(
    jobs: list[EntityTask],
    client_key: str,
    stream_key: str,
    runner: ThreadPoolTaskRunner[Any] | None,
    bulk: Bulk,
) -> Callable[[], list[EntityResult]]:
    label = f"{len(jobs)} from {jobs[0].node.fqn}"
    parameters = {
        "jobs": jobs,
        "client_key": client_key,
        "known_key": stream_key,
        "label": label,
        "refresh_cache": bulk.refresh_cache,
        "bulk_size": bulk.size,
    }
    if runner is None:
        state: State[Any] = bulk.task(**parameters, return_state=True)
        return partial(_batch_results, jobs, state)
    future = runner.submit(bulk.task, parameters=parameters)
    return partial(_batch_awaited, jobs, future)


def _batch_awaited(jobs: list[EntityTask], future: PrefectFuture[Any]) -> list[EntityResult]:
    future.wait()
    return _batch_results(jobs, future.state)


def _batch_results(jobs: list[EntityTask], state: State[Any]) -> list[EntityResult]:
    """A batch task's results; a batch that crashed fails each of its entities alone."""
    if state.is_failed() or state.is_crashed():
        error = state.result(raise_on_failure=False)
        reason = error if isinstance(error, BaseException) else RuntimeError(str(error))
        return [failed_result(job.node, reason) for job in jobs]
    results: list[EntityResult] = state.result()
    return results


def _given(result: EntityResult) -> list[EntityResult]:
    return [result]


def _ran(job: EntityTask, client_key: str, writer: Task[..., EntityResult]) -> list[EntityResult]:
    state: State[Any] = writer(job, client_key, return_state=True)  # type: ignore[assignment]
    return [resolve(job, state, client_key, writer)]


def _awaited(
    job: EntityTask,
    future: PrefectFuture[EntityResult],
    client_key: str,
    writer: Task[..., EntityResult],
) -> list[EntityResult]:
    future.wait()
    return [resolve(job, future.state, client_key, writer)]


def dispatch_level(
    jobs: Sequence[EntityTask],
    record: Callable[[EntityResult], None],
    client_key: str,
    writer: Task[..., EntityResult],
    implied: Collection[tuple[str, str]] = (),
) -> None:
    """Run one plan level's declared entities, a subflow each in declaration order, each
    result recorded (and so audited) before the next starts. A parent only a discovery needs
    (`implied`: the service, database and schema a config does not declare) is a write task
    of the run itself: a subflow costs ~0.2-0.4 s, as much as writing 30 tables."""
    for job in jobs:
        if (job.node.type.value, job.node.fqn) in implied:
            record(_ran(job, client_key, writer)[0])
        else:
            record(entity_flow(job, client_key, writer))


def _probed_first(
    items: Iterator[StreamItem], placeholder: PlannedEntity, client: OMClient
) -> Iterator[StreamItem]:
    probed = False
    for item in items:
        if not probed and isinstance(item, EntityTask):
            probe_parent(client, placeholder)
            probed = True
        yield item


def dispatch_stream(
    placeholder: PlannedEntity,
    items: Iterator[StreamItem],
    record: Callable[[EntityResult], None],
    client_key: str,
    writer: Task[..., EntityResult],
    max_concurrency: int,
    bulk: Bulk | None = None,
) -> None:
    """Run the tables a discovery entity streams in one subflow named after it (in batches
    with `bulk`). Before the first table to write, one probe tells whether their schema is
    new to OM (then their lookups, or its listing, are skipped); a stream of unchanged tables
    costs no OM call at all."""
    key = uuid.uuid4().hex
    _streams[key] = _probed_first(items, placeholder, _clients[client_key])
    try:
        entity_group_flow(
            f"{placeholder.type.plural} from {placeholder.discovered_from} into "
            f"{placeholder.parent_fqn}",
            key,
            client_key,
            writer,
            max_concurrency,
            record,
            bulk if placeholder.type in BATCHED else None,
        )
    finally:
        _streams.pop(key, None)
        _knowns.pop(key, None)


@task(name="remove-stale-entity", task_run_name="remove {table.fqn}", cache_policy=NO_CACHE)
def remove_stale_table(table: StaleEntity, gone: str, client_key: str) -> EntityResult:
    """Soft-delete one stale entity (a table, a pipeline, an ML model), transient failures retried like a write (`write_entity`);
    a final failure is that table's failed result, with its tries, never the run's."""
    client = client_for(client_key)
    tries = Tries()
    try:
        result = call_with_retries(
            lambda: soft_delete(client, table, gone),
            _retries[client_key],
            f"remove {table.fqn}",
            tries,
        )
    except Exception as exc:
        message = str(exc) if isinstance(exc, OmIngestError) else repr(exc)
        return removal_failed(table, gone, message, tries.count)
    result.attempts = tries.count
    return result


def stale_tables(
    config: IngestionConfig,
    expansion: Expansion,
    client_key: str,
    dry_run: bool,
    record: Callable[[EntityResult], None],
) -> None:
    """Report (or, with `remove_stale`, soft-delete) tables gone from their source, and
    delete lineage edges their pipelines' source no longer derives; a task per removal only,
    so an ordinary run shows no extra task. Removed tables are forgotten by their source's
    state; one whose removal failed stays known, to be removed next run."""
    stale = expansion.stale()
    edges, held = expansion.stale_edges(client_for(client_key)) if expansion.derived else ([], {})
    if not stale and not edges:
        return
    sources = {source.name: source for source in config.sources}
    known = {name: len(state.tables) for name, state in expansion.states.items()}
    remove = partial(remove_stale_table, client_key=client_key)
    results = handle_stale(stale, sources, known, dry_run, remove)
    results += handle_stale(list(edges), sources, held, dry_run, remove)
    removed = {r.fqn for r in results if r.operation is Operation.DELETE and not r.failed}
    for table in stale:
        if table.fqn in removed and not dry_run:
            expansion.states[table.source].forget(table.location)
    for result in results:
        record(result)
