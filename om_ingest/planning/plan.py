"""The dependency planner: entities in, an ordered plan of levels out.

Edges come from each entity's parent (table → schema → database → service, tag →
classification, pipeline → pipeline service, …), from the entities it names (owners, a
lineage edge's ends, …) and from `depends_on:`. Kahn's algorithm orders them, breaking ties
by declaration order so a plan is the same on every run. Entities in one level never depend
on each other, so a level may run concurrently.

A node is keyed by its kind and FQN (`Key`): OpenMetadata's FQNs are unique per entity type
only, so a team and a pipeline service may share a name. A reference names the kinds it may
be (a table's parent is a schema, an owner a user or a team; `depends_on:` any kind).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

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

PARENT_KIND: dict[EntityType, EntityType] = {
    EntityType.DATABASE: EntityType.DATABASE_SERVICE,
    EntityType.DATABASE_SCHEMA: EntityType.DATABASE,
    EntityType.TABLE: EntityType.DATABASE_SCHEMA,
    EntityType.TAG: EntityType.CLASSIFICATION,
    EntityType.PIPELINE: EntityType.PIPELINE_SERVICE,
    EntityType.TOPIC: EntityType.MESSAGING_SERVICE,
    EntityType.MLMODEL: EntityType.MLMODEL_SERVICE,
    EntityType.SEARCH_INDEX: EntityType.SEARCH_SERVICE,
    EntityType.CONTAINER: EntityType.STORAGE_SERVICE,
    EntityType.GLOSSARY_TERM: EntityType.GLOSSARY,
}
"""The kind of each kind's parent, when it has one kind only (a data contract's parent is
the entity it names with its `type`; a kind absent here matches a parent of any kind; a
nested one's own-kind parent, `NESTED_PARENT`, is of its own kind)."""


class Key(NamedTuple):
    """A plan node's identity: OpenMetadata's FQN namespaces are per entity type."""

    type: str
    """The config type (`EntityType` value)."""
    fqn: str

    def __str__(self) -> str:
        return self.fqn


class Ref(NamedTuple):
    """An FQN an entity names, and the kinds it may be (empty: any kind)."""

    fqn: str
    types: frozenset[str] = frozenset()

    def matches(self, key: Key) -> bool:
        return key.fqn == self.fqn and (not self.types or key.type in self.types)


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
    depends_on: tuple[Key, ...]
    """What must be done first: the parent and the named entities (when declared), and
    `depends_on`."""
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

    @property
    def key(self) -> Key:
        return Key(self.type.value, self.fqn)


@dataclass(frozen=True)
class Plan:
    levels: list[list[PlannedEntity]]
    by_key: dict[Key, PlannedEntity] = field(repr=False)

    @property
    def order(self) -> list[PlannedEntity]:
        return [node for level in self.levels for node in level]

    def __len__(self) -> int:
        return len(self.by_key)


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


def parent_ref(entity: EntityConfig) -> Ref | None:
    """The parent an entity names, with the kind it must be."""
    parent = parent_fqn_of(entity)
    if parent is None:
        return None
    if parent_key(entity) != PARENT_FIELD.get(entity.type):  # a nested one's own-kind parent
        return Ref(parent, frozenset({entity.type.value}))
    kind = PARENT_KIND.get(entity.type)
    if kind is not None:
        return Ref(parent, frozenset({kind.value}))
    props = entity.properties
    value = getattr(props, PARENT_FIELD[entity.type], None)
    named = value.type if isinstance(value, EntityRefSpec) else None  # a contract's entity
    return Ref(parent, frozenset({named}) if named else frozenset())


def entity_fqn(entity: EntityConfig) -> str:
    """The FQN a declared entity will have in OpenMetadata (placeholder for discovery)."""
    parent = parent_fqn_of(entity)
    if entity.discovery is not None:
        return fqns.child(parent, f"<{entity.type.plural} from {entity.discovery.source}>")
    assert entity.name is not None  # guaranteed by EntityConfig validation
    if entity.type is EntityType.DATA_CONTRACT and parent:  # OM's DataContractRepository
        return f"{parent}.dataContract_{entity.name}"
    return fqns.child(parent, entity.name)


OWNER_KINDS = frozenset({EntityType.USER.value, EntityType.TEAM.value})
TAG_KINDS = frozenset({EntityType.TAG.value})


def references_of(entity: EntityConfig) -> list[Ref]:
    """What an entity names besides its parent (owners, reviewers, tags, a user's teams, a
    team's parents, children and users, referenced entities such as a lineage edge's ends):
    each must exist when it runs, so a declared one is planned first; an undeclared one is
    looked up in OpenMetadata."""
    props = entity.properties
    if isinstance(props, EntityProperties):
        found = [Ref(fqns.child(None, name), OWNER_KINDS) for name in props.owners]
        found += [Ref(fqns.normalize(tag), TAG_KINDS) for tag in props.tags]
    elif isinstance(props, PropertiesBase):
        body = request_body(props)
        found = [_marker_ref(marker) for marker in marked(body, LOOKUP)]
        found += [
            Ref(fqns.normalize(label["tagFQN"]), TAG_KINDS) for label in marked(body, "tagFQN")
        ]
        found += [
            Ref(fqns.normalize(name)) for key in NAMED_REFERENCES for name in body.get(key) or []
        ]
    else:
        return []
    parent = parent_ref(entity)
    return [ref for ref in dict.fromkeys(found) if ref != parent]


def _marker_ref(marker: dict[str, str]) -> Ref:
    """The reference a lookup marker stands for (`config.derived`): an owner is a user or a
    team, a named id (a user's team) and an `{type, fqn}` reference have their kind."""
    if "fqn" in marker:
        return Ref(fqns.normalize(marker["fqn"]), frozenset({marker["type"]}))
    name = fqns.child(None, marker["name"])
    return Ref(name, frozenset({marker["kind"]}) if "kind" in marker else OWNER_KINDS)


def planned(spec: EntitySpec, index: int, entity: EntityConfig | None = None) -> PlannedEntity:
    """The plan node of one entity (a streamed table gets its own when it is discovered);
    `entity` is `spec` unpacked, when the caller has it already. Its `depends_on` holds the
    parent when the parent's kind is known; `build_plan` resolves every reference."""
    entity = entity or unpacked(spec)
    parent = parent_ref(entity)
    typed = parent is not None and len(parent.types) == 1
    return PlannedEntity(
        index,
        spec,
        entity_fqn(entity),
        parent.fqn if parent else None,
        (Key(next(iter(parent.types)), parent.fqn),) if parent and typed else (),
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
    configs: list[EntityConfig] = []
    by_key: dict[Key, PlannedEntity] = {}
    for index, spec in enumerate(entities):
        entity = unpacked(spec)
        try:
            node = planned(spec, index, entity)
        except ValueError as exc:
            raise fail(("entities", index), str(exc)) from None
        if node.key in by_key and node.is_discovery:  # two of one source and schema
            node = replace(node, fqn=f"{node.fqn} #{index}")
        if node.key in by_key:
            first = by_key[node.key].index
            raise fail(
                ("entities", index, "name"),
                f"{node.type.value} {node.fqn} is declared twice (first at entities[{first}])",
            )
        nodes.append(node)
        configs.append(entity)
        by_key[node.key] = node

    declared = _Declared(by_key)
    for node in nodes:
        if node.is_discovery and node.parent_fqn:
            declared.streamed.setdefault(node.parent_fqn, []).append(node.key)
    for position, (node, entity) in enumerate(zip(nodes, configs, strict=True)):
        deps = _check_references(node, entity, declared, fail)
        named = [
            key
            for ref in references_of(entity)
            for key in declared.matching(ref)
            if key != node.key
        ]
        nodes[position] = replace(node, depends_on=tuple(dict.fromkeys((*deps, *named))))
        by_key[node.key] = nodes[position]
    return Plan(levels=_levels(nodes, declared, fail), by_key=by_key)


@dataclass
class _Declared:
    """The plan's nodes by key and by FQN, and the discovery placeholders streaming the tables
    of each schema."""

    by_key: dict[Key, PlannedEntity]
    streamed: dict[str, list[Key]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_fqn: dict[str, list[Key]] = {}
        for key in self.by_key:
            self.by_fqn.setdefault(key.fqn, []).append(key)

    def matching(self, ref: Ref) -> list[Key]:
        """The declared nodes `ref` may mean (by FQN, of one of its kinds)."""
        return [key for key in self.by_fqn.get(ref.fqn, []) if ref.matches(key)]

    def resolve(self, ref: Ref) -> list[Key] | None:
        """The nodes `ref` depends on: declared ones, else a table a discovery entity will
        stream (its real key: a failed table blocks its dependents); None when unknown."""
        found = self.matching(ref)
        if found:
            return found
        if fqns.parent(ref.fqn) in self.streamed and ref.matches(Key("table", ref.fqn)):
            return [Key(EntityType.TABLE.value, ref.fqn)]
        return None

    def ordering(self, node: PlannedEntity) -> set[Key]:
        """What `node` waits for in the plan: its declared dependencies, and for a dependency
        on a table a discovery entity will stream, that discovery entity."""
        deps: set[Key] = set()
        for dep in node.depends_on:
            if dep in self.by_key:
                deps.add(dep)
            else:
                deps.update(self.streamed.get(fqns.parent(dep.fqn) or "", []))
        return deps


def _quoting_hint(reference: str, declared: _Declared) -> str:
    """A name with a dot is quoted in FQNs: suggest the quoted form of a dotted reference."""
    for fqn in declared.by_fqn:
        if fqn != reference and ".".join(fqns.unquoted_parts(fqn)) == reference:
            return f" (did you mean {fqn}? names containing dots are quoted in FQNs)"
    return ""


def _check_references(
    node: PlannedEntity, entity: EntityConfig, declared: _Declared, fail: Locator
) -> list[Key]:
    """The parent and `depends_on` targets, each of which must be declared (possibly as
    `external: true`) or be a table of a discovered schema.

    Discovered entities may name an undeclared parent (discovery supplies it), and an
    external entity's parent exists in OpenMetadata with it.
    """
    deps: list[Key] = []
    parent = parent_ref(entity)
    if parent is not None:
        found = declared.resolve(parent)
        if found is None and not (node.is_discovery or node.external):
            key = parent_key(entity) or ""
            kinds = " or ".join(sorted(parent.types))
            raise fail(
                ("entities", node.index, "properties", key),
                f"parent {parent.fqn} is not declared{' as a ' + kinds if kinds else ''}"
                f"{_quoting_hint(parent.fqn, declared)}; declare it, or declare it with "
                "`external: true` if it already exists in OpenMetadata",
            )
        deps += found or node.depends_on
    for position, dep in enumerate(entity.depends_on):
        found = declared.resolve(Ref(fqns.normalize(dep)))
        if found is None:
            raise fail(
                ("entities", node.index, "depends_on", position),
                f"{dep} is not declared{_quoting_hint(dep, declared)} (declare it with "
                "`external: true` if it exists in OpenMetadata)",
            )
        deps += found
    return deps


def _levels(
    nodes: list[PlannedEntity], declared: _Declared, fail: Locator
) -> list[list[PlannedEntity]]:
    """Kahn's algorithm, one frontier at a time, each frontier in declaration order."""
    by_key = declared.by_key
    children: dict[Key, list[PlannedEntity]] = {node.key: [] for node in nodes}
    indegree: dict[Key, int] = {}
    for node in nodes:
        deps = declared.ordering(node)
        indegree[node.key] = len(deps)
        for dep in deps:
            children[dep].append(node)
    frontier = [(node.index, node.key) for node in nodes if indegree[node.key] == 0]
    levels: list[list[PlannedEntity]] = []
    while frontier:
        level = [by_key[key] for _, key in sorted(frontier)]
        levels.append(level)
        frontier = []
        for node in level:
            for child in children[node.key]:
                indegree[child.key] -= 1
                if indegree[child.key] == 0:
                    frontier.append((child.index, child.key))
    if sum(len(level) for level in levels) < len(nodes):
        cycle = _find_cycle([n for n in nodes if indegree[n.key] > 0], declared)
        first = by_key[cycle[0]]
        raise fail(("entities", first.index), "dependency cycle: " + " -> ".join(map(str, cycle)))
    return levels


def _find_cycle(stuck: list[PlannedEntity], declared: _Declared) -> list[Key]:
    """A concrete cycle among the nodes Kahn's algorithm could not order, for the message."""
    stuck_keys = {node.key for node in stuck}
    by_key = declared.by_key
    start = min(stuck, key=lambda n: n.index).key
    path: list[Key] = []
    seen: dict[Key, int] = {}
    current = start
    while current not in seen:
        seen[current] = len(path)
        path.append(current)
        # Every stuck node has at least one stuck dependency; follow the first declared one.
        current = min(
            (dep for dep in declared.ordering(by_key[current]) if dep in stuck_keys),
            key=lambda dep: by_key[dep].index,
        )
    # `current` closes the loop; report it in dependency direction (parent after child).
    return [*path[seen[current] :], current]


def _unlocated(path: tuple[str | int, ...], message: str) -> PlanError:
    from om_ingest.config import format_path

    return PlanError(message, path=format_path(path))
