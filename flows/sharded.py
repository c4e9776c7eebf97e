"""The `ingest-sharded` flow: one config, its discovery split across the workers of a pool.

Run from a deployment, the flow (the *parent*) loads the config, writes the declared and
implied parents once (services, databases, schemas: everything not discovered), splits the
discoveries into shards (`execution.shards`: by source, or by each source's top-level
prefix / schema / namespace) and starts each shard as a child run of the same deployment
(`run_deployment`), so any worker of the pool takes it. It waits for all of them and merges
their results into its own audit file, summary and artifacts: every entity once. A shard that
failed, crashed or never ran is one failed result naming its units and why; the others' results
still merge. A child run (`shard` given) discovers and writes only its units, with the same
per-entity write cache as `ingest` (shared through `execution.result_storage`, so a re-run
skips what any worker finished) and its own incremental state. Stale tables are not reported
by sharded runs (no shard sees a whole source): run `ingest` for that.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from deployments.sharding import (
    RESULTS_PREFIX,
    Shard,
    ShardOutcome,
    collect,
    current_deployment,
    launch,
    results_rows,
    shard_failed,
    shard_parameters,
    wait_for,
)
from flows.ingest import (
    Ingestion,
    IngestionFailed,
    artifact_key,
    conclude,
    notify_stopped_run,
    publish_artifacts,
    run_ingestion,
)
from om_ingest.audit import AuditLog
from om_ingest.engine.shards import ShardUnit, plan_shards


def _notify_parent_stopped(flow: Any, flow_run: Any, state: Any) -> None:
    """A stopped parent announces itself; a stopped shard is reported by its parent."""
    if flow_run.parameters.get("shard") is None:
        notify_stopped_run(flow, flow_run, state)


@flow(
    name="ingest-sharded",
    persist_result=True,
    log_prints=False,
    on_failure=[_notify_parent_stopped],
)
def ingest_sharded(
    config_path: str,
    dry_run: bool = False,
    idempotency: str | None = None,
    only: list[str] | None = None,
    refresh_cache: bool = False,
    audit_dir: str | None = None,
    shard: list[dict[str, Any]] | None = None,
    shard_label: str | None = None,
    shard_timeout_seconds: float = 3 * 3600,
) -> dict[str, Any]:
    """Ingest CONFIG_PATH with its discovery split into shards run by the pool's workers
    (`shard`, set by the parent: run only these units)."""
    common: dict[str, Any] = {
        "config_path": config_path,
        "dry_run": dry_run,
        "idempotency": idempotency,
        "only": only,
        "refresh_cache": refresh_cache,
        "audit_dir": audit_dir,
    }
    if shard is not None:
        return _run_shard(common, [ShardUnit.from_param(u) for u in shard], shard_label)
    logger = get_run_logger()
    first = run_ingestion(**common, split=True)
    sharding = first.loaded.config.execution.shards
    blocked, units = _blocked_units(first)
    shards = [
        Shard(number, group)
        for number, group in enumerate(plan_shards(units, sharding.max_shards, sharding.by), 1)
    ]
    logger.info("%d units in %d shards", len(units), len(shards))
    outcomes = _run_shards(first, common, shards, shard_timeout_seconds) if shards else []
    _merge(first, [*blocked, *outcomes])
    first.finish()
    publish_artifacts(first)
    _publish_shards(first, outcomes)
    summary = conclude(first)
    summary["shards"] = [_shard_row(o) for o in outcomes]
    return summary


def _run_shard(common: dict[str, Any], units: list[ShardUnit], label: str | None) -> dict[str, Any]:
    """A child run: its units only; results published for the parent, nothing announced."""
    done = run_ingestion(**common, shard=units)
    publish_artifacts(done, keyed=False)
    name = done.loaded.config.metadata.name
    create_table_artifact(
        results_rows(done.results, done.profiles, done.validations),
        key=artifact_key(RESULTS_PREFIX, name),
        description=f"Results of {label or 'a shard'} of {name}, merged by its parent run",
    )
    if not done.summary.ok:
        raise IngestionFailed(done.summary, done.results)
    return done.summary_data()


def _blocked_units(first: Ingestion) -> tuple[list[ShardOutcome], list[ShardUnit]]:
    """Units whose parent (a schema) failed or was blocked are not started: one blocked
    result each; the rest go to shards."""
    failed = {r.fqn for r in first.results if r.failed}
    blocked = [u for u in first.units if u.target in failed]
    outcomes = [
        ShardOutcome(
            Shard(0, [u]),
            None,
            "NotStarted",
            [shard_failed(Shard(0, [u]), f"not started: its parent {u.target} failed")],
        )
        for u in blocked
    ]
    return outcomes, [u for u in first.units if u.target not in failed]


def _run_shards(
    first: Ingestion, common: dict[str, Any], shards: list[Shard], timeout: float
) -> list[ShardOutcome]:
    name = current_deployment()
    run_ids = launch(name, [(s, shard_parameters(common, s)) for s in shards])
    runs = wait_for(run_ids, timeout)
    key = artifact_key(RESULTS_PREFIX, first.loaded.config.metadata.name)
    return [
        collect(s, run_id, runs.get(run_id), key) for s, run_id in zip(shards, run_ids, strict=True)
    ]


def _merge(first: Ingestion, outcomes: list[ShardOutcome]) -> None:
    """Each shard's results, profiles and validations into the parent's audit and summary."""
    for outcome in outcomes:
        context = {"flow_run_id": outcome.flow_run_id, "shard": outcome.shard.label}
        AuditLog.record_merged(first.summary, outcome.results, dry_run=first.dry_run, **context)
        AuditLog.record_profiles(first.summary, outcome.profiles, **context)
        first.results.extend(outcome.results)
        first.profiles.extend(outcome.profiles)
        first.validations.extend(outcome.validations)


def _shard_row(outcome: ShardOutcome) -> dict[str, Any]:
    return {
        "shard": outcome.shard.label,
        "flow_run_id": outcome.flow_run_id,
        "state": outcome.state,
        "worker": outcome.worker,
        "entities": len(outcome.results),
        "failed": sum(r.failed for r in outcome.results),
    }


def _publish_shards(first: Ingestion, outcomes: list[ShardOutcome]) -> None:
    if outcomes:
        create_table_artifact(
            [{k: str(v) for k, v in _shard_row(o).items()} for o in outcomes],
            key=artifact_key("shards", first.loaded.config.metadata.name),
            description="The shards of this run: which worker ran each, its state and results",
        )
