"""Expand `discovery:` entities: their parents before planning, their entities as a stream.

A source discovers one entity type (`DataSource.discovers`): tables, pipelines, ML models or
topics.
Before planning, each discovery entity's source is checked and the parents the config does not
declare (the service of the source's type and, for tables, the database and schema they live
in: `PARENT_CHAIN`) are added as implied entities; the discovery entity itself stays in the plan
as a placeholder under each parent it writes into. When the run reaches the placeholder,
`Expansion.discover` streams what the source finds, so writes start while later tables are
still being read (S3 listings and hudi-rs reads overlap OpenMetadata calls) and no more than
the source's read window is held in memory at a time. A table the source cannot read becomes a failed result naming its location; a source
that cannot be reached fails alone and the other sources go on.

Incremental runs (state under `{audit_dir}/state/`): a table is skipped without being read only
when everything that decides its desired entity is as it was when OM last matched it — its
commit timeline (the source's marker) and the *desired key*, a hash of the discovery entity's
resolved config, the schema it goes to, the source's entity-shaping settings, the idempotency
mode, `override`, the OM host and the om-ingest version — and OM still holds it (one paged
listing of the schema's table names per stream, made only when something could be skipped).
Entities ingested from a source before and no longer found there are stale — computed only when
every listing of the source completed.

A source may also stream lineage edges it derives (an Airflow DAG's tables read → written, an
ML model's feature source tables → the model), right after the entity they name: an edge is
written when OM holds both ends, else it is a warning result; edges are not tracked as
incremental state. A source owning its pipelines' lineage (Airflow, `lineage` on) derives
every edge carrying one of them: an edge OM holds with a discovered pipeline on it that the
source no longer derives is stale (`stale_edges`), handled as stale entities are. Feature
sources naming a table OM lacks are left out of a discovered ML model (OM would refuse the
model).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from om_ingest import fqns
from om_ingest.config import LoadedConfig
from om_ingest.config.models import (
    EntityConfig,
    EntityType,
    IdempotencyMode,
    LineageProperties,
    SourceConfig,
)
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.engine.shards import ShardBy, ShardUnit
from om_ingest.errors import OmIngestError, SourceError
from om_ingest.planning import PARENT_FIELD, EntitySpec, PackedEntity, entity_fqn, parent_fqn_of
from om_ingest.sources import (
    DataSource,
    DiscoveredEntity,
    DiscoveryFailure,
    DiscoveryWarning,
    get_source,
)
from om_ingest.sources.state import SourceState

if TYPE_CHECKING:
    from om_ingest.openmetadata import OMClient
    from om_ingest.openmetadata.client import PipelineEdge

log = logging.getLogger("om_ingest.discovery")

PARENT_CHAIN: dict[EntityType, tuple[EntityType, ...]] = {
    EntityType.TABLE: (
        EntityType.DATABASE_SERVICE,
        EntityType.DATABASE,
        EntityType.DATABASE_SCHEMA,
    ),
    EntityType.PIPELINE: (EntityType.PIPELINE_SERVICE,),
    EntityType.MLMODEL: (EntityType.MLMODEL_SERVICE,),
    EntityType.SEARCH_INDEX: (EntityType.SEARCH_SERVICE,),
    EntityType.TOPIC: (EntityType.MESSAGING_SERVICE,),
}
"""Each discoverable type's parents, from the service down (one per part of the parent FQN a
discovery writes into); the service gets the source's `service_type`."""


@dataclass(frozen=True)
class StaleEntity:
    """An entity ingested from `source` at `location` in an earlier run, not found any more."""

    source: str
    location: str
    fqn: str
    entity_type: EntityType = EntityType.TABLE


@dataclass(frozen=True)
class StaleEdge(StaleEntity):
    """A lineage edge OM holds with a pipeline of `source` on it, no longer derived there."""

    edge: PipelineEdge | None = None


@dataclass(frozen=True)
class FoundEntity:
    """What the incremental state needs of a discovered entity (not its columns)."""

    location: str
    latest_commit: str | None
    marker: str | None
    desired_key: str


@dataclass
class _Stream:
    """One discovery entity, ready to list: its source, the parent (a schema, a service) its
    entities go to and the key of everything besides the source that decides them."""

    template: EntityConfig
    source_config: SourceConfig
    source: DataSource
    schema_fqn: str
    desired_key: str


@dataclass
class Expansion:
    entities: list[EntitySpec]
    """Declared and implied entities and discovery placeholders; then, as they are streamed,
    the discovered entities (packed: thousands of them)."""
    pre_results: list[EntityResult] = field(default_factory=list)
    states: dict[str, SourceState] = field(default_factory=dict)
    tables: dict[str, FoundEntity] = field(default_factory=dict)
    """fqn → where its source found it, its latest commit and marker; none in dry runs."""
    sources: dict[str, str] = field(default_factory=dict)
    """fqn → the source it was discovered from."""
    dry_run: bool = False
    streams: dict[int, _Stream] = field(default_factory=dict)
    """Position of a discovery placeholder in `entities` → what it lists."""
    known: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=dict)
    """Source → the locations its listings found this run."""
    incomplete: set[str] = field(default_factory=set)
    """Sources whose listing failed, was capped or did not run: no stale entities for them."""
    kinds: dict[str, EntityType] = field(default_factory=dict)
    """Source → the entity type it discovers (what its stale entities are)."""
    listing: set[int] = field(default_factory=set)
    """Streams started and not finished."""
    client: OMClient | None = None
    """Where the schema listings go; without one nothing is skipped (OM is not checked)."""
    units: list[ShardUnit] = field(default_factory=list)
    """In a sharded run's parent: the units its shards will list (nothing is discovered)."""
    implied: set[tuple[str, str]] = field(default_factory=set)
    """(kind, FQN) of the parents added because a discovery needs them (not declared)."""
    in_om: dict[tuple[str, str], bool] = field(default_factory=dict)
    """(config type, FQN) → whether OM holds it: the ends of discovered lineage edges."""
    derived: dict[str, dict[str, set[tuple[str, str]]]] = field(default_factory=dict)
    """Source owning its pipelines' lineage → each pipeline it found → the (upstream FQN,
    downstream FQN) edges it derived for that pipeline this run."""

    def discover(self, index: int) -> Iterator[EntitySpec | EntityResult]:
        """Stream the tables of the placeholder at `index`: each a packed entity to write, or
        a result decided here (unreadable, name clash, unchanged timeline)."""
        stream = self.streams.pop(index)
        name = stream.source_config.name
        state = self.states[name]
        found_here = self.seen.setdefault(name, set())
        found = 0
        skippable = self._skippable(stream, state)
        derived = (
            self.derived.setdefault(name, {}) if stream.source.owns_pipeline_lineage() else None
        )
        self.listing.add(index)  # until the listing ends: an abandoned one proves nothing
        try:
            with stream.source:
                for item in stream.source.discover_entities(
                    stream.template,
                    known_commits={k: v for k, v in state.commits.items() if k in skippable},
                    known_markers={k: v for k, v in state.markers.items() if k in skippable},
                ):
                    found += 1
                    found_here.add(item.location)
                    if derived is not None:
                        _note_derived(derived, item, stream.schema_fqn)
                    yield self._add(item, stream, name)
        except SourceError as exc:  # e.g. a listing failing half-way: what was found goes on
            self.incomplete.add(name)
            yield _failed(name, "source", str(exc))
        self.listing.discard(index)
        if not found:
            log.warning("source %s: no %ss found", name, stream.template.type.value)

    def stale(self) -> list[StaleEntity]:
        """Entities a source's earlier runs ingested that its completed listings no longer
        found (none for a source whose listing failed, was capped or did not run)."""
        if self.listing:
            return []
        pending = {s.source_config.name for s in self.streams.values()}
        return [
            StaleEntity(name, location, fqn, self.kinds.get(name, EntityType.TABLE))
            for name, state in self.states.items()
            if name not in self.incomplete and name not in pending
            for location, fqn in sorted(state.tables.items())
            if location not in self.seen.get(name, set())
        ]

    def stale_edges(self, client: OMClient) -> tuple[list[StaleEdge], dict[str, int]]:
        """Lineage edges OM holds with a pipeline on them that its source (owning its
        pipelines' lineage, its listing complete) found this run but no longer derives; and
        how many edges those sources' pipelines carry in OM (what `stale_max_percent` is a
        share of). A pipeline whose edges OM cannot list is left alone (a warning)."""
        if self.listing:
            return [], {}
        pending = {s.source_config.name for s in self.streams.values()}
        stale: list[StaleEdge] = []
        held: dict[str, int] = {}
        for name, pipelines in self.derived.items():
            if name in self.incomplete or name in pending:
                continue
            for pipeline, derived in sorted(pipelines.items()):
                try:
                    edges = client.pipeline_edges(pipeline)
                except OmIngestError as exc:
                    log.warning("lineage of pipeline %s not checked for stale edges: %s",
                                pipeline, exc)  # fmt: skip
                    continue
                held[name] = held.get(name, 0) + len(edges)
                for edge in edges:
                    ends = (fqns.normalize(edge.upstream[2]), fqns.normalize(edge.downstream[2]))
                    if ends not in derived:
                        label = f"{ends[0]} → {ends[1]} via {pipeline}".replace('"', "'")
                        stale.append(StaleEdge(
                            name, label, fqns.child(None, label), EntityType.LINEAGE, edge
                        ))  # fmt: skip
        return stale, held

    def _skippable(self, stream: _Stream, state: SourceState) -> set[str]:
        """Locations whose last in-step run had this stream's desired key and whose table OM
        still holds (one paged listing of the schema's names, only when there are any)."""
        candidates = {
            location
            for location, key in state.desired_keys.items()
            if key == stream.desired_key and location in state.tables
        }
        if not candidates or self.client is None:
            return set()
        from om_ingest.entities import handler_for

        handler = handler_for(stream.template.type)
        if handler.list_filter is None:
            return set()
        try:
            in_om = self.client.names_under(
                handler.entity_class, handler.list_filter, stream.schema_fqn
            )
        except OmIngestError as exc:
            log.warning(
                "listing %s in OpenMetadata failed (%s); reading every table",
                stream.schema_fqn,
                exc,
            )
            return set()
        return {location for location in candidates if state.tables[location] in in_om}

    def save_state(self, results: list[EntityResult]) -> None:
        """Remember every table now in step with OpenMetadata (see `EntityResult.in_step`):
        its FQN, latest commit, marker and desired key. Others keep the last in-step values,
        so the next run reads them again."""
        done = {r.fqn for r in results if r.in_step}
        for fqn, found in self.tables.items():
            if fqn in done:
                state = self.states[self.sources[fqn]]
                state.tables[found.location] = fqn
                state.desired_keys[found.location] = found.desired_key
                if found.latest_commit:
                    state.commits[found.location] = found.latest_commit
                if found.marker and found.latest_commit:
                    state.markers[found.location] = found.marker
        for state in self.states.values():
            state.save()

    def _add(
        self,
        item: DiscoveredEntity | DiscoveryFailure | DiscoveryWarning,
        stream: _Stream,
        source: str,
    ) -> EntitySpec | EntityResult:
        """One discovered item: a failure, a warning, a name clash, an unchanged entity, a
        lineage edge or one to write."""
        kind = stream.template.type.value
        if isinstance(item, DiscoveryWarning):
            return _warned(item.name, item.message)
        fqn = fqns.child(
            stream.schema_fqn,
            item.name if isinstance(item, DiscoveryFailure) else item.entity.name or "",
        )
        if isinstance(item, DiscoveryFailure):
            return _failed(fqn, kind, item.error)
        if item.entity.type is not stream.template.type:
            return self._edge(item.entity)
        if fqn in self.known:
            return _failed(fqn, kind, f"{item.location}: another {kind} is already named {fqn}")
        self.known.add(fqn)
        if not self.dry_run:
            self.tables[fqn] = FoundEntity(
                item.location, item.latest_commit, item.marker, stream.desired_key
            )
            self.sources[fqn] = source
        if item.unchanged:
            return EntityResult(
                fqn=fqn,
                entity_type=kind,
                operation=Operation.SKIP,
                outcome=Outcome.SKIPPED,
                reason=f"{item.unchanged_reason or 'unchanged at the source since the last run'}"
                "; same config and target, and OpenMetadata still holds the table",
            )
        packed = PackedEntity.pack(self._held_sources(item.entity), (kind, fqn))
        self.entities.append(packed)
        return packed

    def _held_sources(self, entity: EntityConfig) -> EntityConfig:
        """A discovered ML model without the feature sources naming a table OM does not hold
        (OM would refuse the whole model; the source's lineage edge to it says so)."""
        for feature in getattr(entity.properties, "ml_features", None) or []:
            sources = getattr(feature, "feature_sources", None) or []
            kept = [
                source
                for source in sources
                if source.data_source is None
                or self._held(source.data_source.type, source.data_source.fqn)
            ]
            if len(kept) != len(sources):
                feature.feature_sources = kept or None
        return entity

    def _edge(self, edge: EntityConfig) -> EntitySpec | EntityResult:
        """A lineage edge a source derived (an Airflow DAG's tables read → written): written
        when OM holds both ends (in a dry run: or this run declares them), else a warning.
        Not tracked for incremental runs or staleness: it is rewritten only when it differs."""
        fqn = entity_fqn(edge)
        if fqn in self.known:
            return _failed(fqn, edge.type.value, f"another lineage edge is already named {fqn}")
        self.known.add(fqn)
        props = edge.properties
        ends = [props.from_, props.to] if isinstance(props, LineageProperties) else []
        missing = [f"{end.type} {end.fqn}" for end in ends if not self._held(end.type, end.fqn)]
        if missing:
            return _warned(fqn, f"{' and '.join(missing)} not in OpenMetadata (yet)")
        packed = PackedEntity.pack(edge, (edge.type.value, fqn))
        self.entities.append(packed)
        return packed

    def _held(self, kind: str, fqn: str) -> bool:
        """Whether OM holds the entity (a dry run: or this run declares or discovers it);
        without an OM client, or when OM cannot say, the edge is left to decide."""
        fqn = fqns.normalize(fqn)
        if self.client is None or (self.dry_run and fqn in self.known):
            return True
        if (kind, fqn) not in self.in_om:
            from om_ingest.entities import handler_for

            entity_class = handler_for(EntityType(kind)).entity_class
            try:
                self.in_om[(kind, fqn)] = self.client.get_by_name(entity_class, fqn) is not None
            except OmIngestError:
                return True
        return self.in_om[(kind, fqn)]


def _note_derived(
    derived: dict[str, set[tuple[str, str]]],
    item: DiscoveredEntity | DiscoveryFailure | DiscoveryWarning,
    parent: str,
) -> None:
    """Record a discovered pipeline (even one deriving no edge) or an edge it carries."""
    if not isinstance(item, DiscoveredEntity):
        return
    entity = item.entity
    props = entity.properties
    if entity.type is EntityType.PIPELINE:
        derived.setdefault(fqns.child(parent, entity.name or ""), set())
    elif isinstance(props, LineageProperties) and props.pipeline is not None:
        ends = (fqns.normalize(props.from_.fqn), fqns.normalize(props.to.fqn))
        derived.setdefault(fqns.normalize(props.pipeline.fqn), set()).add(ends)


def expand_entities(
    loaded: LoadedConfig,
    audit_dir: str,
    dry_run: bool = False,
    client: OMClient | None = None,
    idempotency: IdempotencyMode | None = None,
    split: bool = False,
    shard: Sequence[ShardUnit] | None = None,
) -> Expansion:
    """Declared entities as they are; for each discovery entity, its source checked, its
    implied parents added and the entity kept as the placeholder its tables stream from.
    `client`: the OM the run writes to (its host is part of the desired key, its listings
    confirm skipped tables still exist); `idempotency`: the run's override of every mode.

    A sharded run's parent (`split`) gets the declared and implied parents and, instead of
    placeholders, the units (`Expansion.units`, split as `execution.shards.by` says) its
    shards list. A shard (`shard`: its units)
    gets only placeholders, its sources narrowed to its units; the parent wrote their parents.
    A shard keeps its own incremental state and reports no stale tables (it lists part of a
    source)."""
    config = loaded.config
    declared = [e for e in config.entities if e.discovery is None]
    expansion = Expansion(
        entities=list(declared) if shard is None else [], dry_run=dry_run, client=client
    )
    host = client.api_url if client is not None else config.openmetadata.api_url
    expansion.known = {entity_fqn(e) for e in declared}
    in_shard = _by_entity(shard) if shard is not None else None
    for index, template in enumerate(config.entities):
        if template.discovery is None or (in_shard is not None and index not in in_shard):
            continue
        source_config = config.source(template.discovery.source)
        if source_config is None:
            raise loaded.error(
                ("entities", index, "discovery", "source"),
                f"no source named {template.discovery.source!r} in `sources`",
            )
        if not split:
            expansion.states.setdefault(
                source_config.name,
                SourceState.load(
                    Path(audit_dir) / "state" / _state_file(source_config.name, shard)
                ),
            )
        if in_shard is not None:
            expansion.incomplete.add(source_config.name)
        expansion.kinds[source_config.name] = template.type
        # A capped listing (max_tables) cannot tell a deleted table from one left unlisted.
        if template.discovery.filter is not None and template.discovery.filter.max_tables:
            expansion.incomplete.add(source_config.name)
        try:
            source = get_source(source_config, template.discovery.filter.schema_)
            source.validate_connection()
            targets = source.targets(parent_fqn_of(template))
        except SourceError as exc:
            expansion.pre_results.append(_failed(source_config.name, "source", str(exc)))
            expansion.incomplete.add(source_config.name)
            continue
        if not targets and source.spans_schemas:
            log.warning("source %s: no tables found", source_config.name)
            continue
        if not targets:
            raise loaded.error(
                ("entities", index, "properties"),
                f"discovered {template.type.value}s need `{PARENT_FIELD[template.type]}`",
            )
        for schema_fqn, narrowed in targets:
            if in_shard is not None:
                scopes = in_shard[index].get(schema_fqn)
                if scopes is None:
                    continue
                if scopes:
                    narrowed = narrowed.within(scopes)
            else:
                for implied in _implied_parents(
                    template.type, schema_fqn, expansion.known, source.service_type
                ):
                    expansion.entities.append(implied)
                    expansion.known.add(entity_fqn(implied))
                    expansion.implied.add((implied.type.value, entity_fqn(implied)))
            if split:
                by = config.execution.shards.by
                expansion.units.extend(_units(index, source_config.name, schema_fqn, narrowed, by))
                continue
            placeholder = _with_parent(template, schema_fqn)
            key = desired_key(
                placeholder,
                source_config,
                narrowed,
                mode=idempotency or template.idempotency or config.defaults.idempotency,
                override=template.override or config.defaults.override,
                host=host or "",
            )
            # the source completes the placeholder: its entities name their parent
            expansion.streams[len(expansion.entities)] = _Stream(
                placeholder, source_config, narrowed, schema_fqn, key
            )
            expansion.entities.append(placeholder)
    return expansion


def _units(
    index: int, source: str, target: str, narrowed: DataSource, split: ShardBy
) -> list[ShardUnit]:
    """The units of one stream: a unit per scope of a source split by prefix, else one."""
    try:
        scopes = narrowed.shard_scopes() if split == "prefix" else None
    except SourceError as exc:  # the shard listing it whole reports the failure
        log.warning("source %s: %s; listed as one shard unit", source, exc)
        scopes = None
    if not scopes:
        return [ShardUnit(index, source, target)]
    return [ShardUnit(index, source, target, scope) for scope in scopes]


def _by_entity(shard: Sequence[ShardUnit]) -> dict[int, dict[str, list[str]]]:
    """Entity position → target → the scopes to list (empty: the whole target)."""
    found: dict[int, dict[str, list[str]]] = {}
    for unit in shard:
        scopes = found.setdefault(unit.entity, {}).setdefault(unit.target, [])
        if unit.scope is not None:
            scopes.append(unit.scope)
    return found


def _state_file(source: str, shard: Sequence[ShardUnit] | None) -> str:
    """A source's incremental state; a shard's own (shards of a source run side by side)."""
    if shard is None:
        return f"{source}.json"
    units = sorted(f"{u.entity}|{u.target}|{u.scope or ''}" for u in shard if u.source == source)
    digest = hashlib.sha256("\n".join(units).encode()).hexdigest()[:12]
    return f"{source}.shard-{digest}.json"


def desired_key(
    placeholder: EntityConfig,
    source_config: SourceConfig,
    source: DataSource,
    mode: IdempotencyMode,
    override: bool,
    host: str,
) -> str:
    """A hash of everything besides the source's data that decides what a discovered table
    should look like in OM, and which OM: the resolved discovery entity (description, tags,
    owners, custom properties, schema; not its profiling, which is no part of the entity), the
    source's entity-shaping settings, the idempotency mode, `override`, the OM host and the
    om-ingest version (a new version may map sources differently)."""
    payload = {
        "om_ingest": importlib.metadata.version("om-ingest"),
        "entity": placeholder.model_dump(mode="json", exclude={"profiling"}),
        "source": {"type": source_config.type, **source.entity_settings()},
        "idempotency": mode.value,
        "override": override,
        "host": host,
    }
    canonical = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _with_parent(template: EntityConfig, parent_fqn: str) -> EntityConfig:
    props = template.properties
    data = props.model_dump() if not isinstance(props, dict) else dict(props)
    data[PARENT_FIELD[template.type]] = parent_fqn
    return template.model_copy(update={"properties": data})


def _implied_parents(
    kind: EntityType, parent_fqn: str, known: set[str], service_type: str
) -> list[EntityConfig]:
    """The parents (`PARENT_CHAIN`) a discovered entity of `kind` under `parent_fqn` needs,
    if undeclared: the service of the source's type first, each next one under the last."""
    chain = PARENT_CHAIN[kind]
    names = fqns.unquoted_parts(parent_fqn)
    if len(names) != len(chain):
        raise SourceError(
            f"{parent_fqn!r} is not a {chain[-1].value} FQN ({len(chain)} part(s) expected)"
        )
    implied, above = [], None
    for entity_type, name in zip(chain, names, strict=True):
        props = (
            {"service_type": service_type} if above is None else {PARENT_FIELD[entity_type]: above}
        )
        entity = EntityConfig.model_validate(
            {"type": entity_type, "name": name, "properties": props}
        )
        above = entity_fqn(entity)
        if above not in known:
            implied.append(entity)
    return implied


def _warned(name: str, warning: str) -> EntityResult:
    """A lineage edge a source could not derive: reported, not failed."""
    return EntityResult(
        fqn=name,
        entity_type=EntityType.LINEAGE.value,
        operation=Operation.SKIP,
        outcome=Outcome.SKIPPED,
        reason="no lineage edge",
        warnings=[warning],
    )


def _failed(fqn: str, entity_type: str, error: str) -> EntityResult:
    return EntityResult(
        fqn=fqn,
        entity_type=entity_type,
        operation=Operation.FAIL,
        outcome=Outcome.FAILED,
        error=error,
    )
