"""The planner orders parents first, deterministically, and explains what it cannot order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.config.models import EntityConfig
from om_ingest.errors import PlanError
from om_ingest.planning import Key, PackedEntity, build_plan


def entity(type_: str, name: str, **props: Any) -> EntityConfig:
    extra = {k: props.pop(k) for k in ("depends_on", "external", "discovery") if k in props}
    return EntityConfig.model_validate({"type": type_, "name": name, "properties": props, **extra})


def stack(schema_parent: str = "svc.db") -> list[EntityConfig]:
    return [
        entity("table", "orders", database_schema=f"{schema_parent}.core"),
        entity("database_schema", "core", database=schema_parent),
        entity("database", "db", service="svc"),
        entity("database_service", "svc"),
    ]


def test_parents_come_first_even_when_declared_last() -> None:
    plan = build_plan(stack())
    assert [[n.fqn for n in level] for level in plan.levels] == [
        ["svc"],
        ["svc.db"],
        ["svc.db.core"],
        ["svc.db.core.orders"],
    ]


def test_siblings_share_a_level_in_declaration_order() -> None:
    entities = [
        entity("database_service", "svc"),
        entity("database", "zeta", service="svc"),
        entity("database", "alpha", service="svc"),
        entity("database_service", "other"),
    ]
    plan = build_plan(entities)
    assert [[n.fqn for n in level] for level in plan.levels] == [
        ["svc", "other"],
        ["svc.zeta", "svc.alpha"],
    ]


def test_names_with_dots_are_quoted_like_openmetadata() -> None:
    entities = [
        entity("database_service", "my.svc"),
        entity("database", "sales db", service='"my.svc"'),
        entity("database_schema", "v1.2", database='"my.svc".sales db'),
    ]
    plan = build_plan(entities)
    assert [n.fqn for n in plan.order] == [
        '"my.svc"',
        '"my.svc".sales db',
        '"my.svc".sales db."v1.2"',
    ]


def test_depends_on_orders_unrelated_entities() -> None:
    entities = [
        entity("database_service", "b", depends_on=["a"]),
        entity("database_service", "a"),
    ]
    assert [n.fqn for n in build_plan(entities).order] == ["a", "b"]


def test_cycle_lists_the_path() -> None:
    entities = [
        entity("database_service", "a", depends_on=["b"]),
        entity("database_service", "b", depends_on=["c"]),
        entity("database_service", "c", depends_on=["a"]),
        entity("database_service", "free"),
    ]
    with pytest.raises(PlanError) as info:
        build_plan(entities)
    assert "dependency cycle: a -> b -> c -> a" in str(info.value)
    assert info.value.path == "entities[0]"


def test_undeclared_parent_is_an_error_naming_the_property() -> None:
    with pytest.raises(PlanError) as info:
        build_plan([entity("database", "db", service="ghost")])
    assert info.value.path == "entities[0].properties.service"
    assert "parent ghost is not declared" in info.value.message
    assert "external: true" in info.value.message


def test_external_parent_satisfies_the_reference() -> None:
    entities = [
        entity("database", "db", service="prod", external=True),
        entity("database_schema", "s", database="prod.db"),
    ]
    plan = build_plan(entities)
    assert [n.fqn for n in plan.order] == ["prod.db", "prod.db.s"]
    assert plan.by_key[Key("database", "prod.db")].entity.external


def test_unknown_depends_on_is_an_error() -> None:
    with pytest.raises(PlanError) as info:
        build_plan([entity("database_service", "a", depends_on=["nope"])])
    assert info.value.path == "entities[0].depends_on[0]"


def test_duplicate_fqn_is_an_error() -> None:
    with pytest.raises(PlanError) as info:
        build_plan([entity("database_service", "a"), entity("database_service", "a")])
    assert "declared twice" in info.value.message and info.value.path == "entities[1].name"


def test_discovery_entity_may_name_an_undeclared_parent() -> None:
    discovered = EntityConfig.model_validate(
        {
            "type": "table",
            "discovery": {"source": "lake"},
            "properties": {"database_schema": "l.w.h"},
        }
    )
    plan = build_plan([discovered])
    assert plan.order[0].is_discovery and plan.order[0].parent_fqn == "l.w.h"


@st.composite
def dags(draw: st.DrawFn) -> list[EntityConfig]:
    """Random DAGs of services: each may depend on any earlier-generated one, shuffled."""
    n = draw(st.integers(min_value=1, max_value=25))
    names = [f"s{i}" for i in range(n)]
    deps = [
        draw(st.lists(st.sampled_from(names[:i]), unique=True, max_size=4)) if i else []
        for i in range(n)
    ]
    order = draw(st.permutations(range(n)))
    return [entity("database_service", names[i], depends_on=deps[i]) for i in order]


@settings(max_examples=150, deadline=None)
@given(dags())
def test_any_dag_orders_every_dependency_first(entities: list[EntityConfig]) -> None:
    plan = build_plan(entities)
    level_of = {node.fqn: depth for depth, level in enumerate(plan.levels) for node in level}
    assert set(level_of) == {e.name for e in entities}
    for node in plan.order:
        for dep in node.depends_on:
            assert level_of[dep.fqn] < level_of[node.fqn]
    # minimal levels: each node sits right after its deepest dependency
    for node in plan.order:
        expected = max((level_of[d.fqn] + 1 for d in node.depends_on), default=0)
        assert level_of[node.fqn] == expected
    # deterministic: the same input gives the same plan
    assert [n.fqn for n in build_plan(entities).order] == [n.fqn for n in plan.order]
    # within a level, declaration order
    for level in plan.levels:
        assert [n.index for n in level] == sorted(n.index for n in level)
    # packed entities (as discovery hands them over) plan exactly like live ones
    packed = build_plan([PackedEntity.pack(e) for e in entities])
    assert [[(n.fqn, n.depends_on) for n in lvl] for lvl in packed.levels] == [
        [(n.fqn, n.depends_on) for n in lvl] for lvl in plan.levels
    ]


def test_a_packed_entity_unpacks_to_the_config_it_was_built_from() -> None:
    table = EntityConfig.model_validate(
        {
            "type": "table",
            "name": "orders",
            "idempotency": "update",
            "discovered_from": "lake",
            "properties": {
                "database_schema": "svc.db.core",
                "columns": [{"name": f"c{i}", "data_type": "STRING"} for i in range(30)],
            },
        }
    )
    packed = PackedEntity.pack(table)
    node = build_plan([packed, *stack()[1:]]).order[-1]
    assert node.entity == table and node.entity is not table
    assert (node.type.value, node.discovered_from, node.idempotency, node.external) == (
        "table",
        "lake",
        "update",
        False,
    )
    # the point of packing: ~1 KB of bytes instead of ~200 live pydantic objects
    assert isinstance(packed.blob, bytes) and len(packed.blob) < 2048


def test_a_dependency_on_a_discovered_table_waits_for_its_discovery() -> None:
    discovery = EntityConfig.model_validate(
        {
            "type": "table",
            "discovery": {"source": "lake"},
            "properties": {"database_schema": "svc.db.core"},
        }
    )
    report = entity("database_service", "reporting", depends_on=["svc.db.core.orders"])
    plan = build_plan([report, *stack()[1:], discovery])
    order = [n.fqn for n in plan.order]
    assert order.index("reporting") > order.index("svc.db.core.<tables from lake>")
    assert plan.by_key[Key("table", "svc.db.core.<tables from lake>")].discovered_from == "lake"
    # the real table FQN stays the dependency (a failed table blocks `reporting`)
    assert plan.by_key[Key("database_service", "reporting")].depends_on == (
        Key("table", "svc.db.core.orders"),
    )
    with pytest.raises(PlanError, match=r"svc\.db\.other\.orders is not declared"):
        build_plan(
            [
                entity("database_service", "r", depends_on=["svc.db.other.orders"]),
                *stack()[1:],
                discovery,
            ]
        )


def test_one_name_in_several_kinds_plans_each_with_typed_references() -> None:
    """OM's FQN namespaces are per entity type: a team, a pipeline service and a messaging
    service may all be called `ops`; each reference means the kind it names."""
    entities = [
        EntityConfig.model_validate(
            {"type": "pipeline", "name": "etl", "properties": {"service": "ops", "owners": ["ops"]}}
        ),
        EntityConfig.model_validate(
            {"type": "user", "name": "ann", "properties": {"email": "a@x.io", "teams": ["ops"]}}
        ),
        entity("team", "ops", team_type="Group"),
        entity("pipeline_service", "ops", service_type="Airflow"),
        entity("messaging_service", "ops", service_type="Kafka"),
    ]
    plan = build_plan(entities)
    assert sorted(plan.by_key) == sorted(
        [
            Key("pipeline", "ops.etl"),
            Key("user", "ann"),
            Key("team", "ops"),
            Key("pipeline_service", "ops"),
            Key("messaging_service", "ops"),
        ]
    )
    depends = {node.key: set(node.depends_on) for node in plan.order}
    assert depends[Key("pipeline", "ops.etl")] == {
        Key("pipeline_service", "ops"),  # its parent
        Key("team", "ops"),  # its owner: a user or a team of that name
    }
    assert depends[Key("user", "ann")] == {Key("team", "ops")}
    assert plan.levels[0] == [
        plan.by_key[Key("team", "ops")],
        plan.by_key[Key("pipeline_service", "ops")],
        plan.by_key[Key("messaging_service", "ops")],
    ]
    with pytest.raises(PlanError, match="team ops is declared twice"):
        build_plan([*entities, entity("team", "ops", team_type="Group")])


@pytest.mark.parametrize(
    ("kind", "placeholder"),
    [
        ("table", "<tables from src>"),
        ("search_index", "<search_indexes from src>"),
        ("glossary", "<glossaries from src>"),
        ("mlmodel", "<mlmodels from src>"),
    ],
)
def test_discovery_placeholders_are_named_in_plain_english_plurals(
    kind: str, placeholder: str
) -> None:
    from om_ingest.planning.plan import entity_fqn

    entity = EntityConfig.model_validate({"type": kind, "discovery": {"source": "src"}})
    assert entity_fqn(entity).endswith(placeholder)
