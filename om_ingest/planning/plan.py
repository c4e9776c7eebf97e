"""The dependency planner: entities in, an ordered plan of levels out.

Edges come from each entity's parent (table → schema → database → service, tag →
classification, pipeline → pipeline service, …) and from `depends_on:`. Kahn's algorithm
orders them, breaking ties by declaration order so a plan is the same on every run. Entities
in one level never depend on each other, so a level may run concurrently.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from om_ingest import fqns
from om_ingest.config.derived import LOOKUP, EntityRefSpec, marked, request_body
from om_ingest.config.models import (
    NESTED_PARENT,
    EntityConfig,
    EntityProperties,
    EntityType,
    IdempotencyMode,
    PropertiesBase,
)
from om_ingest.errors import ConfigError, PlanError
from om_ingest.planning.packed import EntitySpec, unpacked

PARENT_FIELD: dict[EntityType, str] = {
    EntityType.DATABASE: "service",
    EntityType.DATABASE_SCHEMA: "database",
    EntityType.TABLE: "database_schema",
    EntityType.TAG: "classification",
    EntityType.PIPELINE: "service",
    EntityType.TOPIC: "service",
    EntityType.MLMODEL: "service",
    EntityType.SEARCH_INDEX: "service",
    EntityType.DATA_CONTRACT: "entity",
    # storage and governance (a nested one's own-kind parent: `NESTED_PARENT`)
    EntityType.CONTAINER: "service",
    EntityType.GLOSSARY_TERM: "glossary",
}
"""The property naming each kind's parent by FQN; kinds absent here have no parent."""

NAMED_REFERENCES = ("experts", "relatedTerms")
"""Request fields naming other entities by name or FQN as plain strings (a domain's expert
users, a glossary term's related terms): references like the lookup markers."""

Locator = Callable[[tuple[str | int, ...], str], ConfigError]


@dataclass(frozen=True)
class PlannedEntity:
    """One node of the plan: a declared entity, a discovery placeholder or a discovered
    entity (kept packed; the facts scheduling needs are plain fields)."""

    index: int
    """Position in the config's `entities` list (the tie-break)."""
    spec: EntitySpec
    fqn: str
    parent_fqn: str | None
    depends_on: tuple[str, ...]
    """FQNs that must be done first: the parent (when declared) and `depends_on`."""
    type: EntityType
    external: bool = False
    discovered_from: str | None = None
    """The source a discovered entity came from (a placeholder: the one it lists)."""
    is_discovery: bool = False
    """A `discovery:` placeholder: its tables are streamed when the run reaches it."""
    idempotency: IdempotencyMode | None = None
    override: bool = False

    @property
    def entity(self) -> EntityConfig:
        """The entity's config (unpacked on each access: bind it once per use)."""
        return unpacked(self.spec)


@dataclass(frozen=True)
class Plan:
    levels: list[list[PlannedEntity]]
    by_fqn: dict[str, PlannedEntity] = field(repr=False)

    @property
    def order(self) -> list[PlannedEntity]:
        return [node for level in self.levels for node in level]

    def __len__(self) -> int:
        return len(self.by_fqn)


def parent_key(entity: EntityConfig) -> str | None:
    """The property naming the entity's parent: its own-kind parent when it names one (a
    nested container's `parent`), else the kind's `PARENT_FIELD`."""
    nested = NESTED_PARENT.get(entity.type)
    if nested is not None and _property(entity, nested):
        return nested
    return PARENT_FIELD.get(entity.type)


def _property(entity: EntityConfig, key: str) -> object:
    props = entity.properties
    return getattr(props, key, None) if isinstance(props, PropertiesBase) else props.get(key)


def parent_fqn_of(entity: EntityConfig) -> str | None:
    """The parent FQN an entity names in its properties, normalised; None for roots."""
    key = parent_key(entity)
    if key is None:
        return None
    value = _property(entity, key)
    if isinstance(value, EntityRefSpec | dict):  # a data contract's entity: {type, fqn}
        value = value.fqn if isinstance(value, EntityRefSpec) else value.get("fqn")
    return fqns.normalize(value) if isinstance(value, str) and value else None


def entity_fqn(entity: EntityConfig) -> str:
    """The FQN a declared entity will have in OpenMetadata (placeholder for discovery)."""
    parent = parent_fqn_of(entity)
    if entity.discovery is not None:
        return fqns.child(parent, f"<{entity.type.value}s from {entity.discovery.source}>")
    assert entity.name is not None  # guaranteed by EntityConfig validation
    if entity.type is EntityType.DATA_CONTRACT and parent:  # OM's DataContractRepository
        return f"{parent}.dataContract_{entity.name}"
    return fqns.child(parent, entity.name)


def references_of(entity: EntityConfig) -> list[str]:
    """FQNs an entity names besides its parent (owners, reviewers, tags, a user's teams, a
    team's parents, children and users, referenced entities): each must exist when it runs, so a
    declared one is planned first; an undeclared one is looked up in OpenMetadata."""
    props = entity.properties
    if isinstance(props, EntityProperties):
        found = [fqns.child(None, name) for name in props.owners]
        found += [fqns.normalize(tag) for tag in props.tags]
    elif isinstance(props, PropertiesBase):
        body = request_body(props)
        found = [
            fqns.normalize(marker["fqn"]) if "fqn" in marker else fqns.child(None, marker["name"])
            for marker in marked(body, LOOKUP)
        ]
        found += [fqns.normalize(label["tagFQN"]) for label in marked(body, "tagFQN")]
        found += [fqns.normalize(name) for key in NAMED_REFERENCES for name in body.get(key) or []]
    else:
        return []
    parent = parent_fqn_of(entity)
    return [fqn for fqn in dict.fromkeys(found) if fqn != parent]


def planned(spec: EntitySpec, index: int, entity: EntityConfig | None = None) -> PlannedEntity:
    """The plan node of one entity (a streamed table gets its own when it is discovered);
    `entity` is `spec` unpacked, when the caller has it already."""
    entity = entity or unpacked(spec)
    parent = parent_fqn_of(entity)
    extra = tuple(fqns.normalize(dep) for dep in entity.depends_on)
    return PlannedEntity(
        index,
        spec,
        entity_fqn(entity),
        parent,
        (*((parent,) if parent else ()), *extra),
        type=entity.type,
        external=entity.external,
        discovered_from=entity.discovery.source if entity.discovery else entity.discovered_from,
        is_discovery=entity.discovery is not None,
        idempotency=entity.idempotency,
        override=entity.override,
    )


def build_plan(entities: Sequence[EntitySpec], locate: Locator | None = None) -> Plan:
    """Order `entities` parents-first; raise PlanError for duplicates, unknown refs, cycles.

    `locate(path, message)` turns a YAML path into a positioned error (LoadedConfig.error);
    without it errors name the path only.
    """
    fail = locate or _unlocated
    nodes: list[PlannedEntity] = []
    deps: list[list[str]] = []
    by_fqn: dict[str, PlannedEntity] = {}
    for index, spec in enumerate(entities):
        entity = unpacked(spec)
        try:
            node = planned(spec, index, entity)
        except ValueError as exc:
            raise fail(("entities", index), str(exc)) from None
        if node.fqn in by_fqn and node.is_discovery:  # two of one source and schema
            node = replace(node, fqn=f"{node.fqn} #{index}")
        if node.fqn in by_fqn:
            first = by_fqn[node.fqn].index
            raise fail(
                ("entities", index, "name"),
                f"{node.fqn} is declared twice (first at entities[{first}])",
            )
        nodes.append(node)
        deps.append(entity.depends_on)
        by_fqn[node.fqn] = node

    for position, (node, spec) in enumerate(zip(nodes, entities, strict=True)):
        named = [r for r in references_of(unpacked(spec)) if r in by_fqn and r != node.fqn]
        if named:  # declared owners, teams, users, referenced entities: planned first
            nodes[position] = replace(node, depends_on=(*node.depends_on, *named))
            by_fqn[node.fqn] = nodes[position]

    streamed: dict[str, list[str]] = {}
    for node in nodes:
        if node.is_discovery and node.parent_fqn:
            streamed.setdefault(node.parent_fqn, []).append(node.fqn)
    for node, entity_deps in zip(nodes, deps, strict=True):
        _check_references(node, entity_deps, by_fqn, streamed, fail)
    return Plan(levels=_levels(nodes, by_fqn, streamed, fail), by_fqn=by_fqn)


def _ordering_deps(
    node: PlannedEntity, by_fqn: dict[str, PlannedEntity], streamed: dict[str, list[str]]
) -> set[str]:
    """What `node` waits for in the plan: its declared dependencies, and for a dependency on
    a table a discovery entity will stream, that discovery entity."""
    deps: set[str] = set()
    for dep in node.depends_on:
        if dep in by_fqn:
            deps.add(dep)
        else:
            deps.update(streamed.get(fqns.parent(dep) or "", []))
    return deps


def _quoting_hint(reference: str, by_fqn: dict[str, PlannedEntity]) -> str:
    """A name with a dot is quoted in FQNs: suggest the quoted form of a dotted reference."""
    for fqn in by_fqn:
        if fqn != reference and ".".join(fqns.unquoted_parts(fqn)) == reference:
            return f" (did you mean {fqn}? names containing dots are quoted in FQNs)"
    return ""


def _check_references(
    node: PlannedEntity,
    declared_deps: list[str],
    by_fqn: dict[str, PlannedEntity],
    streamed: dict[str, list[str]],
    fail: Locator,
) -> None:
    """Every parent and `depends_on` target must be declared (possibly as `external: true`)
    or be a table of a discovered schema.

    Discovered entities may name an undeclared parent (discovery supplies it), and an
    external entity's parent exists in OpenMetadata with it.
    """

    def known(fqn: str) -> bool:
        return fqn in by_fqn or fqns.parent(fqn) in streamed

    exempt = node.is_discovery or node.external
    if node.parent_fqn is not None and not known(node.parent_fqn) and not exempt:
        key = parent_key(node.entity) or ""
        raise fail(
            ("entities", node.index, "properties", key),
            f"parent {node.parent_fqn} is not declared{_quoting_hint(node.parent_fqn, by_fqn)}; "
            "declare it, or declare it with `external: true` if it already exists in OpenMetadata",
        )
    for position, dep in enumerate(declared_deps):
        if not known(fqns.normalize(dep)):
            raise fail(
                ("entities", node.index, "depends_on", position),
                f"{dep} is not declared{_quoting_hint(dep, by_fqn)} (declare it with "
                "`external: true` if it exists in OpenMetadata)",
            )


def _levels(
    nodes: list[PlannedEntity],
    by_fqn: dict[str, PlannedEntity],
    streamed: dict[str, list[str]],
    fail: Locator,
) -> list[list[PlannedEntity]]:
    """Kahn's algorithm, one frontier at a time, each frontier in declaration order."""
    children: dict[str, list[PlannedEntity]] = {node.fqn: [] for node in nodes}
    indegree: dict[str, int] = {}
    for node in nodes:
        deps = _ordering_deps(node, by_fqn, streamed)
        indegree[node.fqn] = len(deps)
        for dep in deps:
            children[dep].append(node)
    frontier = [(node.index, node.fqn) for node in nodes if indegree[node.fqn] == 0]
    heapq.heapify(frontier)
    levels: list[list[PlannedEntity]] = []
    while frontier:
        level = [by_fqn[fqn] for _, fqn in sorted(frontier)]
        levels.append(level)
        frontier = []
        for node in level:
            for child in children[node.fqn]:
                indegree[child.fqn] -= 1
                if indegree[child.fqn] == 0:
                    frontier.append((child.index, child.fqn))
    if sum(len(level) for level in levels) < len(nodes):
        cycle = _find_cycle([n for n in nodes if indegree[n.fqn] > 0], by_fqn, streamed)
        first = by_fqn[cycle[0]]
        raise fail(("entities", first.index), "dependency cycle: " + " -> ".join(cycle))
    return levels


def _find_cycle(
    stuck: list[PlannedEntity], by_fqn: dict[str, PlannedEntity], streamed: dict[str, list[str]]
) -> list[str]:
    """A concrete cycle among the nodes Kahn's algorithm could not order, for the message."""
    stuck_fqns = {node.fqn for node in stuck}
    start = min(stuck, key=lambda n: n.index).fqn
    path: list[str] = []
    seen: dict[str, int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        # Every stuck node has at least one stuck dependency; follow the first declared one.
        current = min(
            (dep for dep in _ordering_deps(by_fqn[current], by_fqn, streamed) if dep in stuck_fqns),
            key=lambda dep: by_fqn[dep].index,
        )
    # `current` closes the loop; report it in dependency direction (parent after child).
    return [*path[seen[current] :], current]


def _unlocated(path: tuple[str | int, ...], message: str) -> PlanError:
    from om_ingest.config import format_path

    return PlanError(message, path=format_path(path))
