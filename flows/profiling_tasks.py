"""Profile ingested tables: a task per table, after the entities are in OpenMetadata.

Samples come from the entity's source (a hudi-rs snapshot read or a pyiceberg scan, capped)
and Great Expectations computes the profile, or the source computes it where the data lives
(PostgreSQL: GX over SQL); it is stored as JSON and, outside dry runs, pushed to OpenMetadata as
a table profile. Every profile ends pushed, not pushed (and why) or failed (and why); the flow
audits each and counts them in the summary, and `profiling.on_error: fail` makes a failed one
fail the run.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from prefect import get_run_logger, task

from flows.entity_tasks import client_for, retries_for
from om_ingest.config.models import EntityConfig, IngestionConfig, ProfilingConfig, TableProperties
from om_ingest.engine.results import EntityResult
from om_ingest.errors import SourceError
from om_ingest.openmetadata.retry import call_with_retries
from om_ingest.planning import EntitySpec, PackedEntity, unpacked
from om_ingest.profiling.data_profiler import TableProfileResult, collect_sample, profile_table
from om_ingest.profiling.openmetadata import to_om_profile
from om_ingest.profiling.schema_profiler import SchemaSnapshots
from om_ingest.profiling.storage import ProfileStorage
from om_ingest.sources import DataSource, get_source
from om_ingest.sources.base import TableStatistics

DEFAULT_SAMPLE_ROWS = 10_000


def profiling_for(entity: EntityConfig, config: IngestionConfig) -> ProfilingConfig:
    """entity > defaults > top-level `profiling`."""
    return entity.profiling or config.defaults.profiling or config.profiling


@task(name="profile-table", task_run_name="profile {fqn}")
def profile_table_task(
    fqn: str, entity: EntityConfig, config: IngestionConfig, client_key: str, dry_run: bool
) -> dict[str, Any]:
    settings = profiling_for(entity, config)
    props = entity.properties
    assert isinstance(props, TableProperties) and props.location_path
    location = props.location_path
    with source_for(entity, config) as source:
        # A source that computes profiles where the data lives (a database) does it all.
        computed = source.profile(fqn, source.profile_location(props) or location, props.columns,
                                  settings)  # fmt: skip
        if computed is not None:
            return _finish(fqn, computed, settings, client_key, dry_run)
        sample, statistics, row_count = read_sample(entity, config, settings, source)
    result = profile_table(
        fqn,
        sample,
        include=settings.columns.include,
        exclude=settings.columns.exclude,
        metrics=settings.metrics,
        statistics=statistics if settings.metadata_stats else None,
        row_count=row_count,
    )
    return _finish(fqn, result, settings, client_key, dry_run)


def _finish(
    fqn: str, result: TableProfileResult, settings: ProfilingConfig, client_key: str,
    dry_run: bool,
) -> dict[str, Any]:  # fmt: skip
    """Store the profile (and a suggested suite), push it, and say what happened."""
    storage = ProfileStorage(settings.storage.base_path)
    path = storage.save("data", fqn, result.model_dump(mode="json"))
    suite_path = None
    if settings.suggest_expectations:
        from om_ingest.profiling.expectations import suggest_suite

        suite_path = storage.save("expectations", fqn, suggest_suite(result))
    reason = _push(fqn, result, settings, client_key, dry_run)
    return {
        "fqn": fqn,
        "status": "not_pushed" if reason else "pushed",
        "reason": reason,
        "rows": result.sample_rows,
        "row_count_exact": result.row_count_exact,
        "columns": len(result.columns),
        "file": str(path),
        "pushed": not reason,
        "not_computed": sum(len(c.not_computed) for c in result.columns),
        **({"expectations": str(suite_path)} if suite_path else {}),
    }


def source_for(entity: EntityConfig, config: IngestionConfig) -> DataSource:
    """The source a discovered table came from (not connected yet)."""
    props = entity.properties
    assert isinstance(props, TableProperties) and props.location_path and entity.discovered_from
    source_config = config.source(entity.discovered_from)
    assert source_config is not None
    return get_source(source_config)


def read_sample(
    entity: EntityConfig, config: IngestionConfig, settings: ProfilingConfig,
    source: DataSource | None = None,
) -> tuple[Any, TableStatistics | None, int | None]:  # fmt: skip
    """A discovered table's sample (a hudi-rs snapshot read or a pyiceberg scan, capped), its
    file-metadata statistics when wanted, and its row count when known exactly; from `source`
    when it is open already."""
    props = entity.properties
    assert isinstance(props, TableProperties) and props.location_path
    # Only columns the OM table has (OM rejects profiles of unknown columns), read by projection.
    columns = [c.name for c in props.columns]
    statistics = None
    location = props.location_path
    try:
        with contextlib.nullcontext(source) if source else source_for(entity, config) as open_:
            location = open_.profile_location(props) or location
            if settings.metadata_stats or settings.sample_percentage is not None:
                statistics = _statistics(open_, location, columns)
            rows = sample_size(settings, statistics.row_count if statistics else None)
            batches = open_.fetch_sample(location, rows, columns or None)
            sample = collect_sample(batches, rows)
    except Exception as exc:
        raise SourceError(f"{location}: cannot read a sample: {exc}") from None
    if statistics is not None and statistics.exact:
        row_count: int | None = statistics.row_count
    else:  # a snapshot read that ended before the cap saw every row (log files merged)
        row_count = sample.num_rows if sample.num_rows < rows else None
    return sample, statistics, row_count


def _push(fqn: str, result: Any, settings: ProfilingConfig, client_key: str, dry_run: bool) -> str:
    """Push the profile to OM; why it was not pushed ("" when it was). OM errors raise,
    after transient ones were retried."""
    if dry_run:
        return "dry run"
    if not settings.push_to_openmetadata:
        return "push_to_openmetadata: false"
    from metadata.generated.schema.entity.data.table import Table

    client = client_for(client_key)

    def push() -> str:
        table = client.get_by_name(Table, fqn, fields=["columns"])
        if table is None:
            return "the table is not in OpenMetadata"
        client.put_table_profile(table, to_om_profile(result))
        return ""

    # Rate limits and outages are waited out like any write (`execution.retries`).
    return call_with_retries(push, retries_for(client_key), f"profile of {fqn}")


def sample_size(settings: ProfilingConfig, table_rows: int | None) -> int:
    """Rows to read: `sample_rows`, or `sample_percentage` of the table's rows (known from
    metadata; without them the default cap, with a warning)."""
    if settings.sample_percentage is None:
        return DEFAULT_SAMPLE_ROWS if settings.sample_rows is None else settings.sample_rows
    if table_rows is None:
        get_run_logger().warning(
            "sample_percentage needs the table's row count from metadata; reading %d rows",
            DEFAULT_SAMPLE_ROWS,
        )
        return DEFAULT_SAMPLE_ROWS
    return math.ceil(table_rows * settings.sample_percentage / 100)


def _statistics(source: Any, location: str, columns: list[str]) -> TableStatistics | None:
    """File-metadata statistics, or None (with a warning) when the table has none usable."""
    try:
        stats: TableStatistics | None = source.table_statistics(location, columns)
        return stats
    except Exception as exc:
        get_run_logger().warning("%s: no metadata statistics (%s); sample only", location, exc)
        return None


def _profiling_anywhere(config: IngestionConfig) -> bool:
    """Whether any entity may be profiled: an entity's settings come from itself (a
    discovered one: its discovery entity's), the defaults or the top level."""
    settings = [
        config.profiling,
        config.defaults.profiling,
        *(e.profiling for e in config.entities),
    ]
    return any(s is not None and s.enabled for s in settings)


def profile_tables(
    config: IngestionConfig,
    entities: list[EntitySpec],
    results: list[EntityResult],
    client_key: str,
    dry_run: bool,
) -> list[dict[str, Any]]:
    from om_ingest.planning import entity_fqn

    if not _profiling_anywhere(config):
        return []
    ok = {r.fqn for r in results if r.in_openmetadata}
    summaries = []
    # each storage's retention runs once, after the run's profiles (it reads every file)
    retention: set[tuple[str, int | None, int | None]] = set()
    for spec in entities:
        key = spec.key if isinstance(spec, PackedEntity) else None
        if key is not None and (key[0] != "table" or key[1] not in ok):
            continue  # skipped without unpacking
        entity = unpacked(spec)
        fqn = entity_fqn(entity)
        settings = profiling_for(entity, config)
        # only tables have rows to profile (a discovered pipeline or ML model has none)
        if (
            entity.type.value == "table"
            and entity.discovered_from
            and fqn in ok
            and settings.enabled
        ):
            state = profile_table_task(fqn, entity, config, client_key, dry_run, return_state=True)
            value = state.result(raise_on_failure=False)
            if not isinstance(value, dict):
                value = {
                    "fqn": fqn,
                    "status": "failed",
                    "error": str(value) or type(value).__name__,
                    "pushed": False,
                    "on_error": settings.on_error,
                }
                log = (
                    get_run_logger().error
                    if settings.on_error == "fail"
                    else get_run_logger().warning
                )
                log("profile of %s failed: %s", fqn, value["error"])
            summaries.append(value)
            storage = settings.storage
            retention.add((storage.base_path, storage.keep_last, storage.max_age_days))
    for base_path, keep_last, max_age_days in sorted(retention, key=str):
        ProfileStorage(base_path).apply_retention(keep_last, max_age_days)
    return summaries


def schema_snapshots(config: IngestionConfig) -> SchemaSnapshots:
    """The run's schema snapshots, each entity's under its profiling storage."""
    return SchemaSnapshots(lambda entity: str(profiling_for(entity, config).storage.base_path))


def record_schemas(
    entities: list[EntitySpec], results: list[EntityResult], snapshots: SchemaSnapshots
) -> int:
    """A schema snapshot for every entity with a structural schema (a table's columns, a
    topic's fields, a pipeline's tasks, …: its handler's `schema_shape`) now in step with OM,
    stored when it changed; entities their batch recorded already are skipped (most without
    unpacking them). Returns how many snapshots the run stored."""
    from om_ingest.entities import handler_for
    from om_ingest.planning import entity_fqn, parent_fqn_of

    ok = {(r.entity_type, r.fqn) for r in results if r.in_step}
    for spec in entities:
        key = spec.key if isinstance(spec, PackedEntity) else None
        if key is not None and (key not in ok or key in snapshots.recorded):
            continue
        entity = unpacked(spec)
        handler = handler_for(entity.type)
        fqn = entity_fqn(entity)
        key = (entity.type.value, fqn)
        if handler.schema_shape is None or key not in ok or key in snapshots.recorded:
            continue
        spec_json = handler.spec(entity, parent_fqn_of(entity))
        base = snapshots.base_for(entity)
        snapshots.record(entity.type.value, base, fqn, spec_json, handler.schema_shape)
    return snapshots.stored
