"""Expand `discovery:` entities into concrete ones before planning.

For each discovery entity the named source streams what it finds. Parents the config does not
declare (the Datalake service, database and schema a lake's tables live in) are added as
implied entities. A table the source cannot read becomes a failed result naming its location;
a source that cannot be reached fails alone and the other sources go on. Tables whose commit
timeline has not moved since the last successful run are skipped before any OM call
(incremental state under `{audit_dir}/state/`). Tables ingested from a source before and no
longer found there are stale — computed only when the source's listing completed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from om_ingest import fqns
from om_ingest.config import LoadedConfig
from om_ingest.config.models import EntityConfig, EntityType
from om_ingest.engine.results import EntityResult, Operation, Outcome
from om_ingest.errors import SourceError
from om_ingest.planning import EntitySpec, PackedEntity, entity_fqn, parent_fqn_of
from om_ingest.sources import DiscoveredTable, DiscoveryFailure, get_source
from om_ingest.sources.state import SourceState

log = logging.getLogger("om_ingest.discovery")


@dataclass(frozen=True)
class StaleTable:
    """A table ingested from `source` at `location` in an earlier run, not found any more."""

    source: str
    location: str
    fqn: str


@dataclass(frozen=True)
class FoundTable:
    """What the incremental state needs of a discovered table (not its columns)."""

    location: str
    latest_commit: str | None
    marker: str | None


@dataclass
class Expansion:
    entities: list[EntitySpec]
    """Declared and implied entities as configs; discovered ones packed (thousands of them)."""
    pre_results: list[EntityResult] = field(default_factory=list)
    states: dict[str, SourceState] = field(default_factory=dict)
    tables: dict[str, FoundTable] = field(default_factory=dict)
    """fqn → where its source found it, its latest commit and marker; none in dry runs."""
    sources: dict[str, str] = field(default_factory=dict)
    """fqn → the source it was discovered from."""
    stale: list[StaleTable] = field(default_factory=list)

    def save_state(self, results: list[EntityResult]) -> None:
        """Remember every table now in step with OpenMetadata: its FQN and latest commit."""
        done = {r.fqn for r in results if r.outcome in (Outcome.SUCCESS, Outcome.SKIPPED)}
        for fqn, found in self.tables.items():
            if fqn in done:
                state = self.states[self.sources[fqn]]
                state.tables[found.location] = fqn
                if found.latest_commit:
                    state.commits[found.location] = found.latest_commit
                if found.marker and found.latest_commit:
                    state.markers[found.location] = found.marker
        for state in self.states.values():
            state.save()


def expand_entities(loaded: LoadedConfig, audit_dir: str, dry_run: bool = False) -> Expansion:
    """Declared entities as they are; discovery entities replaced by what their source finds."""
    config = loaded.config
    declared = [e for e in config.entities if e.discovery is None]
    expansion = Expansion(entities=list(declared))
    known = {entity_fqn(e) for e in declared}
    seen: dict[str, set[str]] = {}
    complete: dict[str, bool] = {}
    for index, template in enumerate(config.entities):
        if template.discovery is None:
            continue
        source_config = config.source(template.discovery.source)
        if source_config is None:
            raise loaded.error(
                ("entities", index, "discovery", "source"),
                f"no source named {template.discovery.source!r} in `sources`",
            )
        state = expansion.states.setdefault(
            source_config.name,
            SourceState.load(Path(audit_dir) / "state" / f"{source_config.name}.json"),
        )
        found_here = seen.setdefault(source_config.name, set())
        # A capped listing (max_tables) cannot tell a deleted table from one left unlisted.
        capped = template.discovery.filter is not None and template.discovery.filter.max_tables
        complete[source_config.name] = complete.get(source_config.name, True) and not capped
        try:
            source = get_source(source_config)
            source.validate_connection()
        except SourceError as exc:
            expansion.pre_results.append(_failed(source_config.name, "source", str(exc)))
            complete[source_config.name] = False
            continue
        schema_fqn = (
            parent_fqn_of(template) or getattr(source, "default_schema_fqn", lambda: None)()
        )
        if schema_fqn is None:
            raise loaded.error(
                ("entities", index, "properties"), "discovered tables need `database_schema`"
            )
        template = _with_schema(template, schema_fqn)
        for implied in _implied_parents(schema_fqn, known):
            expansion.entities.append(implied)
            known.add(entity_fqn(implied))
        found = 0
        try:
            with source:
                for item in source.discover_entities(
                    template, known_commits=state.commits, known_markers=state.markers
                ):
                    found += 1
                    found_here.add(item.location)
                    _add(expansion, item, schema_fqn, known, source_config.name, dry_run)
        except SourceError as exc:  # e.g. a listing failing half-way: what was found goes on
            expansion.pre_results.append(_failed(source_config.name, "source", str(exc)))
            complete[source_config.name] = False
        if not found:
            log.warning("source %s: no tables found", source_config.name)
    for name, state in expansion.states.items():
        if complete.get(name):
            expansion.stale.extend(
                StaleTable(name, location, fqn)
                for location, fqn in sorted(state.tables.items())
                if location not in seen[name]
            )
    return expansion


def _add(
    expansion: Expansion,
    item: DiscoveredTable | DiscoveryFailure,
    schema_fqn: str,
    known: set[str],
    source: str,
    dry_run: bool,
) -> None:
    """One discovered item: a failure, a name clash, an unchanged table or one to process."""
    fqn = fqns.child(
        schema_fqn, item.name if isinstance(item, DiscoveryFailure) else item.entity.name or ""
    )
    if isinstance(item, DiscoveryFailure):
        expansion.pre_results.append(_failed(fqn, "table", item.error))
        return
    if fqn in known:
        expansion.pre_results.append(
            _failed(fqn, "table", f"{item.location}: another table is already named {fqn}")
        )
        return
    if not dry_run:
        expansion.tables[fqn] = FoundTable(item.location, item.latest_commit, item.marker)
        expansion.sources[fqn] = source
    if item.unchanged:
        expansion.pre_results.append(
            EntityResult(
                fqn=fqn,
                entity_type="table",
                operation=Operation.SKIP,
                outcome=Outcome.SKIPPED,
                reason=f"Hudi timeline unchanged since the last run (commit {item.latest_commit})",
            )
        )
        return
    known.add(fqn)
    expansion.entities.append(PackedEntity.pack(item.entity))


def _with_schema(template: EntityConfig, schema_fqn: str) -> EntityConfig:
    props = template.properties
    data = props.model_dump() if not isinstance(props, dict) else dict(props)
    data["database_schema"] = schema_fqn
    return template.model_copy(update={"properties": data})


def _implied_parents(schema_fqn: str, known: set[str]) -> list[EntityConfig]:
    """The Datalake service, database and schema a discovered table needs, if undeclared."""
    service, database, schema = fqns.unquoted_parts(schema_fqn)
    chain = [
        (EntityType.DATABASE_SERVICE, service, {"service_type": "Datalake"}),
        (EntityType.DATABASE, database, {"service": fqns.child(None, service)}),
        (
            EntityType.DATABASE_SCHEMA,
            schema,
            {"database": fqns.child(fqns.child(None, service), database)},
        ),
    ]
    implied = []
    for entity_type, name, props in chain:
        entity = EntityConfig.model_validate(
            {"type": entity_type, "name": name, "properties": props}
        )
        if entity_fqn(entity) not in known:
            implied.append(entity)
    return implied


def _failed(fqn: str, entity_type: str, error: str) -> EntityResult:
    return EntityResult(
        fqn=fqn,
        entity_type=entity_type,
        operation=Operation.FAIL,
        outcome=Outcome.FAILED,
        error=error,
    )
