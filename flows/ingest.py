"""The `ingest` flow: YAML in, entities in OpenMetadata, every change previewed and recorded.

Deployments, `prefect deployment run`, the UI and the `om-ingest ingest` CLI all run this
same flow. It loads the config, discovers source entities, plans them in dependency order and
runs each plan level (see `flows.entity_tasks` for the granularity), then publishes the
dry-run diff, the audit table and the summary as artifacts. The final state is Failed when any
entity failed or was blocked; the return value is the run summary.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from flows.connections import load_result_storage, open_client
from flows.contract_tasks import validate_contracts
from flows.entity_tasks import (
    Bulk,
    configured_batch_task,
    configured_write_task,
    dispatch_level,
    dispatch_stream,
    register_client,
    release_client,
    stale_tables,
)
from flows.profiling_tasks import profile_tables, record_schemas, schema_snapshots
from om_ingest.audit import AuditLog, RunSummary
from om_ingest.config import LoadedConfig, load_config
from om_ingest.config.models import IdempotencyMode, MetadataConfig
from om_ingest.engine.discovery import expand_entities
from om_ingest.engine.results import EntityResult
from om_ingest.engine.run import RunContext, RunOptions, execute_run
from om_ingest.engine.shards import ShardUnit
from om_ingest.errors import ConfigError, OmIngestError
from om_ingest.logs import install_redaction, register_secrets_in
from om_ingest.notifications import Event, RunFacts, events, send
from om_ingest.rendering.profiles import profiles_markdown
from om_ingest.rendering.results import render_markdown
from om_ingest.sources.reads import SourceReads, measuring
from om_ingest.sources.registry import reads_measured

T = TypeVar("T")

progress_listeners: list[Callable[[str, Any], None]] = []
"""In-process observers (the CLI's progress bar): called with ("planned", n), ("discovered", 1)
for each streamed table and ("result", r)."""


class IngestionFailed(OmIngestError):
    """Raised at the end of a run in which entities failed; carries the summary."""

    def __init__(self, summary: RunSummary, results: list[EntityResult]) -> None:
        self.summary = summary
        self.results = results
        failed = sum(
            n for o, n in summary.outcomes.items() if o in {"failed", "validation_error", "blocked"}
        )
        profiles = sum(p["fails_run"] for p in summary.failed_profiles)
        what = [f"{failed} of {summary.total} entities failed or were blocked"] if failed else []
        if profiles:
            what.append(f"{profiles} profile(s) failed (profiling.on_error: fail)")
        super().__init__(f"{'; '.join(what)} (audit: {summary.audit_file})")


def notify_stopped_run(flow: Any, flow_run: Any, state: Any) -> None:
    """A run that stopped before its summary (OpenMetadata unreachable, a bug): one
    `run_failed` message when its config names a notification block. A run that ended with
    failed entities (IngestionFailed) has sent its messages already."""
    error = state.result(raise_on_failure=False)
    if isinstance(error, IngestionFailed) or flow_run.parameters.get("dry_run"):
        return
    try:
        loaded = load_config(flow_run.parameters["config_path"])
    except Exception:  # a broken config: nothing says where to send
        return
    metadata = loaded.config.metadata
    stopped = Event("run_failed", "(run)", f"the run stopped: {error}")
    run = RunFacts(metadata.name, None, str(flow_run.id), bool(flow_run.parameters.get("dry_run")))
    send(loaded.config.notifications, [stopped], run)


@flow(name="om-ingest", persist_result=True, log_prints=False, on_failure=[notify_stopped_run])
def ingest(
    config_path: str,
    dry_run: bool = False,
    idempotency: str | None = None,
    only: list[str] | None = None,
    refresh_cache: bool = False,
    audit_dir: str | None = None,
) -> dict[str, Any]:
    """Ingest the entities of CONFIG_PATH into OpenMetadata (dry_run: preview only)."""
    done = run_ingestion(config_path, dry_run, idempotency, only, refresh_cache, audit_dir)
    publish_artifacts(done)
    return conclude(done)


@dataclass
class Ingestion:
    """What one run of the engine did, before it is published and announced."""

    loaded: LoadedConfig
    summary: RunSummary
    results: list[EntityResult]
    profiles: list[dict[str, Any]]
    validations: list[dict[str, Any]]
    flow_run_id: str | None
    dry_run: bool
    units: list[ShardUnit] = field(default_factory=list)
    """A sharded run's parent: the units its shards list."""
    started: tuple[float, float] = (0.0, 0.0)
    """`time.process_time()` and `time.perf_counter()` when the run began."""

    def finish(self) -> None:
        """The run's CPU and wall seconds, and its `RUN` audit event: the file's last line
        (a sharded parent's comes after its shards' merged results)."""
        self.summary.cpu_time_sec = round(time.process_time() - self.started[0], 3)
        self.summary.wall_time_sec = round(time.perf_counter() - self.started[1], 3)
        AuditLog.record_run(self.summary, flow_run_id=self.flow_run_id, dry_run=self.dry_run)

    def summary_data(self) -> dict[str, Any]:
        data = self.summary.model_dump(mode="json")
        data["profiles"] = self.profiles
        data["validations"] = self.validations
        return data


_frozen = False


def freeze_imports() -> None:
    """Leave the objects alive before the first run (the SDK's, Prefect's and pydantic's
    import-time graph, ~1M objects, never garbage) out of the collector's full passes, which
    otherwise walk them every few thousand tables (~1.5 s of a 1,000-table run). Once per
    process: later runs' objects are collected as usual."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


def run_ingestion(
    config_path: str,
    dry_run: bool = False,
    idempotency: str | None = None,
    only: list[str] | None = None,
    refresh_cache: bool = False,
    audit_dir: str | None = None,
    split: bool = False,
    shard: Sequence[ShardUnit] | None = None,
) -> Ingestion:
    """Load, discover, write, profile, validate and audit (see `expand_entities` for what a
    sharded run's parent, `split`, and a shard, `shard`, each take on). A sharded parent
    calls `finish` itself, once its shards' results are merged."""
    install_redaction()  # here, not only in the CLI: a worker runs this function directly
    freeze_imports()
    started = (time.process_time(), time.perf_counter())  # CPU and wall of the whole run
    with measuring() as reads:  # the bytes each source reads in this run
        done = _ingest(
            config_path, dry_run, idempotency, only, refresh_cache, audit_dir, split, shard, reads
        )
    done.started = started
    if not split:
        done.finish()
    return done


def _ingest(
    config_path: str,
    dry_run: bool,
    idempotency: str | None,
    only: list[str] | None,
    refresh_cache: bool,
    audit_dir: str | None,
    split: bool,
    shard: Sequence[ShardUnit] | None,
    reads: SourceReads,
) -> Ingestion:
    logger = get_run_logger()
    loaded = load_config(config_path)
    register_secrets_in(loaded.config)
    try:
        mode = IdempotencyMode(idempotency) if idempotency else None
    except ValueError:
        raise ConfigError(
            f"idempotency must be one of skip, update, fail (got {idempotency!r})"
        ) from None
    options = RunOptions(dry_run=dry_run, idempotency=mode, only=only, audit_dir=audit_dir)
    execution = loaded.config.execution
    result_storage = load_result_storage(execution.result_storage)
    client = open_client(loaded.config.openmetadata, loaded.config.execution.retries)
    audit_root = audit_dir or loaded.config.audit.output_dir
    expansion = expand_entities(
        loaded,
        audit_root,
        dry_run=dry_run,
        client=client.scoped(),
        idempotency=mode,
        split=split,
        shard=shard,
    )
    flow_ctx = FlowRunContext.get()
    ctx = RunContext(
        loaded=loaded,
        options=options,
        entities=expansion.entities,
        pre_results=expansion.pre_results,
        discover=lambda node: _counted(expansion.discover(node.index)),
        flow_run_id=str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else None,
    )
    writer = configured_write_task(refresh_cache, result_storage)
    bulk = (
        Bulk(execution.bulk_size, configured_batch_task(result_storage), refresh_cache)
        if execution.bulk_size > 1
        else None
    )
    snapshots = None if dry_run else schema_snapshots(loaded.config)
    key = register_client(client, execution.retries, snapshots)
    declared = len(expansion.entities) - len(expansion.streams)
    _notify("planned", declared + len(expansion.pre_results))
    logger.info(
        "%s (%s): %d entities, %d discovery entities streaming tables (dry_run=%s)",
        config_path,
        describe_config(loaded.config.metadata),
        declared,
        len(expansion.streams),
        dry_run,
    )
    try:
        # Subflow heartbeats cost ~1 s per subflow; the parent run keeps its own.
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            summary, results = execute_run(
                ctx,
                dispatch=lambda jobs, record: dispatch_level(
                    jobs, record, key, writer, expansion.implied
                ),
                dispatch_stream=lambda node, items, record: dispatch_stream(
                    node, items, record, key, writer, execution.max_concurrency, bulk
                ),
                on_result=lambda r: _notify("result", r),
                finish=lambda record: stale_tables(loaded.config, expansion, key, dry_run, record),
            )
        profiles = profile_tables(loaded.config, expansion.entities, results, key, dry_run)
        validations = validate_contracts(loaded.config, expansion.entities, results, key, dry_run)
        if snapshots is not None:
            record_schemas(expansion.entities, results, snapshots)
    finally:
        release_client(key)
    expansion.save_state(results)
    AuditLog.record_profiles(summary, profiles, flow_run_id=ctx.flow_run_id, dry_run=dry_run)
    summary.api_calls_by_verb = client.requests_by_verb()
    summary.bytes_read = reads.report(
        {s.name: reads_measured(s.type) for s in loaded.config.sources}
    )
    summary.tags = loaded.config.run.tags.model_dump()
    logger.info("done: %s (audit: %s)", summary.outcomes, summary.audit_file)
    return Ingestion(
        loaded, summary, results, profiles, validations, ctx.flow_run_id, dry_run, expansion.units
    )


def publish_artifacts(done: Ingestion, keyed: bool = True) -> None:
    """The run's summary (or dry-run diff), audit table, profiles and contract validations as
    Prefect artifacts; `keyed=False`: attached to the run only (a shard's, merged by its
    parent under the keys)."""
    metadata = done.loaded.config.metadata
    _publish_artifacts(metadata, done.summary, done.results, keyed)
    if done.profiles:
        create_markdown_artifact(
            profiles_markdown(done.profiles),
            key=artifact_key("profiles", metadata.name) if keyed else None,
            description=f"Data profiles of this run of {describe_config(metadata)}",
        )
    if done.validations:
        create_table_artifact(
            [{k: str(v) for k, v in row.items()} for row in done.validations],
            key=artifact_key("contract-validations", metadata.name) if keyed else None,
            description=f"Data contract validations of {describe_config(metadata)}",
        )


def conclude(done: Ingestion) -> dict[str, Any]:
    """Send the run's notifications (none for a dry run) and return its summary, or raise
    IngestionFailed when entities failed."""
    summary_data = done.summary_data()
    failure = IngestionFailed(done.summary, done.results) if not done.summary.ok else None
    metadata = done.loaded.config.metadata
    run = RunFacts(metadata.name, done.summary.run_id, done.flow_run_id, done.dry_run)
    found = events(done.results, done.validations, str(failure) if failure else None)
    # A dry run changes nothing: it is previewed, not announced.
    summary_data["notifications"] = (
        0 if done.dry_run else send(done.loaded.config.notifications, found, run)
    )
    if failure is not None:
        raise failure
    return summary_data


def _counted(items: Iterator[T]) -> Iterator[T]:
    """Tell progress listeners of each discovered item (the total grows as tables stream)."""
    for item in items:
        _notify("discovered", 1)
        yield item


def _notify(kind: str, payload: Any) -> None:
    for listener in progress_listeners:
        listener(kind, payload)


def artifact_key(prefix: str, name: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "config"
    return f"{prefix}-{slug}"


def describe_config(metadata: MetadataConfig) -> str:
    """The config's own `metadata` in one phrase: name, version, owner, tags, description."""
    parts = [metadata.name + (f" {metadata.version}" if metadata.version else "")]
    if metadata.owner:
        parts.append(f"owner {metadata.owner}")
    if metadata.tags:
        parts.append("tags " + ", ".join(metadata.tags))
    text = "; ".join(parts)
    return f"{text}: {metadata.description}" if metadata.description else text


def _publish_artifacts(
    metadata: MetadataConfig, summary: RunSummary, results: list[EntityResult], keyed: bool
) -> None:
    config_name, about = metadata.name, describe_config(metadata)
    markdown = render_markdown(results, summary)
    if summary.dry_run:
        create_markdown_artifact(
            markdown,
            key=artifact_key("dry-run", config_name) if keyed else None,
            description=f"Dry-run plan and diffs of {about}",
        )
    else:
        create_markdown_artifact(
            markdown,
            key=artifact_key("ingest-summary", config_name) if keyed else None,
            description=f"Run summary of {about}",
        )
    rows = [
        {
            "operation": r.operation.value,
            "entity_type": r.entity_type,
            "fqn": r.fqn,
            "outcome": r.outcome.value,
            "detail": r.error or r.reason,
            "schema_changes": len(r.schema_changes),
            "version_before": r.version_before,
            "version_after": r.version_after,
            "api_calls": r.api_calls,
            "attempts": r.attempts,
        }
        for r in results
    ]
    create_table_artifact(
        rows,
        key=artifact_key("audit", config_name) if keyed else None,
        description=f"Audit events of this run of {about}",
    )
