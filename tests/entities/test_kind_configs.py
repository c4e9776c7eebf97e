"""Config validation and planning of the derived kinds, without a server: every unknown key
is a located error at any depth, camelCase keys are the same config, references order the
plan, and a membership cycle is a located error."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from om_ingest.config import load_config
from om_ingest.config.derived import request_body
from om_ingest.config.models import DERIVED_KINDS, PROPERTY_MODELS, EntityType
from om_ingest.errors import ConfigError
from om_ingest.planning import build_plan
from tests.entities.test_derived_kinds import kinds_stack

KNOWN = {
    name
    for model in PROPERTY_MODELS.values()
    for field_name, info in model.model_fields.items()
    for name in (field_name, info.alias or field_name)
}


def _write(tmp_path: Path, entities: list[dict[str, Any]], name: str = "c") -> Path:
    path = tmp_path / f"{name}.yaml"
    config = {"openmetadata": {"host": "http://h", "jwt_token": "x"}, "entities": entities}
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _line_of(path: Path, key: str) -> int:
    """The line holding `key` as a key (not inside a longer key such as `database:`)."""
    pattern = re.compile(rf"(^|[\s{{,-]){re.escape(key)}:")
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if pattern.search(line))


NESTED = {
    "pipeline": ("tasks", 0),
    "topic": ("message_schema", "schema_fields", 0, "children", 1),
    "mlmodel": ("ml_features", 0),
    "search_index": ("fields", 1, "children", 0),
    "container": ("data_model", "columns", 0, "children", 1),
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    index=st.integers(0, len(kinds_stack()) - 1),
    key=st.from_regex(r"[a-z][a-z_]{2,12}", fullmatch=True).filter(lambda k: k not in KNOWN),
    nested=st.booleans(),
)
def test_an_unknown_key_anywhere_is_located(
    tmp_path: Path, index: int, key: str, nested: bool
) -> None:
    entities = copy.deepcopy(kinds_stack())
    entity = entities[index]
    where: tuple[Any, ...] = ("properties",)
    if nested and NESTED.get(entity["type"], ("-",))[0] in entity["properties"]:
        where += NESTED[entity["type"]]
    node = entity
    for part in where:
        node = node[part]
    node[key] = 1
    path = _write(tmp_path, entities, name=f"k{index}")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where)
    assert error.path == f"entities[{index}]{dotted}.{key}"
    assert error.line == _line_of(path, key)
    assert "unknown key" in str(error)


def _camel(value: Any) -> Any:
    from pydantic.alias_generators import to_camel

    if isinstance(value, dict):
        return {to_camel(k): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def test_camel_case_keys_are_the_same_config(tmp_path: Path) -> None:
    derived = {kind.value for kind in DERIVED_KINDS}
    snake = [e for e in kinds_stack() if e["type"] in derived]
    camel = [{**e, "properties": _camel(e["properties"])} for e in snake]
    assert camel != snake
    a = load_config(_write(tmp_path, snake, "snake")).config.entities
    b = load_config(_write(tmp_path, camel, "camel")).config.entities
    for left, right in zip(a, b, strict=True):
        assert isinstance(left.properties, BaseModel) and isinstance(right.properties, BaseModel)
        assert request_body(left.properties) == request_body(right.properties)


def test_references_order_the_plan_and_a_membership_cycle_is_located(tmp_path: Path) -> None:
    entities: list[dict[str, Any]] = [
        {"type": "user", "name": "bob", "properties": {"email": "b@x.io", "teams": ["eng"]}},
        {"type": "team", "name": "eng", "properties": {"team_type": "Group"}},
        {"type": "team", "name": "org", "properties": {"team_type": "Division"}},
        {
            "type": "team",
            "name": "platform",
            "properties": {"team_type": "Department", "parents": ["org"], "owners": ["bob"]},
        },
    ]
    loaded = load_config(_write(tmp_path, entities))
    plan = build_plan(list(loaded.config.entities), loaded.error)
    order = [node.fqn for node in plan.order]
    assert order.index("eng") < order.index("bob") < order.index("platform")
    assert order.index("org") < order.index("platform")

    entities[1]["properties"]["users"] = ["bob"]  # bob lists eng, eng lists bob
    path = _write(tmp_path, entities, "cycle")
    error = _plan_error(path)
    assert "dependency cycle: bob -> eng -> bob" in str(error)
    assert error.line == _line_of(path, "- type") and str(path) in str(error)


def _plan_error(path: Path) -> ConfigError:
    """The located error planning the config at `path` raises."""
    loaded = load_config(path)
    with pytest.raises(ConfigError) as info:
        build_plan(list(loaded.config.entities), loaded.error)
    return info.value


def test_teams_whose_parents_form_a_cycle_are_a_located_config_error(tmp_path: Path) -> None:
    entities: list[dict[str, Any]] = [
        {"type": "team", "name": "a", "properties": {"team_type": "Group", "parents": ["b"]}},
        {"type": "team", "name": "b", "properties": {"team_type": "Group", "parents": ["a"]}},
    ]
    path = _write(tmp_path, entities)
    error = _plan_error(path)
    assert "dependency cycle: a -> b -> a" in str(error)
    assert error.line == _line_of(path, "- type") and str(path) in str(error)


def test_nested_kinds_are_planned_under_their_own_kind(tmp_path: Path) -> None:
    """A term under its parent term, a container under its parent container, a subdomain
    under its domain, experts and related terms before what names them; an undeclared
    parent (the glossary of a term) is a located error."""
    entities: list[dict[str, Any]] = [
        {
            "type": "glossary_term",
            "name": "Net",
            "properties": {
                "glossary": "Biz",
                "parent": "Biz.Revenue",
                "description": "d",
                "related_terms": ["Biz.Gross"],
            },
        },
        {
            "type": "glossary_term",
            "name": "Gross",
            "properties": {"glossary": "Biz", "description": "d"},
        },
        {
            "type": "glossary_term",
            "name": "Revenue",
            "properties": {"glossary": "Biz", "description": "d"},
        },
        {"type": "glossary", "name": "Biz", "properties": {"description": "d"}},
        {
            "type": "container",
            "name": "day",
            "properties": {"service": "s3", "parent": {"type": "container", "fqn": "s3.bucket"}},
        },
        {"type": "container", "name": "bucket", "properties": {"service": "s3"}},
        {"type": "storage_service", "name": "s3", "properties": {"service_type": "S3"}},
        {
            "type": "domain",
            "name": "Pay",
            "properties": {"domain_type": "Aggregate", "description": "d", "parent": "Fin"},
        },
        {
            "type": "domain",
            "name": "Fin",
            "properties": {"domain_type": "Aggregate", "description": "d", "experts": ["ann"]},
        },
        {"type": "user", "name": "ann", "properties": {"email": "ann@x.io"}},
    ]
    loaded = load_config(_write(tmp_path, entities))
    plan = build_plan(list(loaded.config.entities), loaded.error)
    order = [node.fqn for node in plan.order]
    assert set(order) >= {"Biz.Revenue.Net", "s3.bucket.day", "Fin.Pay"}
    assert order.index("Biz") < order.index("Biz.Revenue") < order.index("Biz.Revenue.Net")
    assert order.index("Biz.Gross") < order.index("Biz.Revenue.Net")
    assert order.index("s3") < order.index("s3.bucket") < order.index("s3.bucket.day")
    assert order.index("ann") < order.index("Fin") < order.index("Fin.Pay")

    orphan = [e for e in entities if e["type"] != "glossary"]
    error = _plan_error(_write(tmp_path, orphan, "orphan"))
    assert "parent Biz is not declared" in str(error)
    assert error.path == "entities[1].properties.glossary"


def test_every_kind_has_a_handler() -> None:
    from om_ingest.entities import handler_for

    for kind in EntityType:
        assert handler_for(kind).entity_type is kind


def test_the_json_schema_checks_each_kind_s_properties() -> None:
    """configs/schema.json (for editors) accepts every kind as declared and flags an unknown
    key of one kind that another kind has (so it is not checking the common base only)."""
    from jsonschema import Draft202012Validator

    from om_ingest.config.json_schema import config_json_schema

    validator = Draft202012Validator(config_json_schema())
    entities = kinds_stack()
    pipeline = next(e for e in entities if e["type"] == "pipeline")
    for task in pipeline["properties"]["tasks"]:  # the schema knows the snake_case spelling
        task["task_type"] = task.pop("taskType", task.get("task_type"))
    config: dict[str, Any] = {
        "openmetadata": {"host": "http://h", "jwt_token": "x"},
        "entities": entities,
    }
    assert list(validator.iter_errors(config)) == []
    topic = next(e for e in config["entities"] if e["type"] == "topic")
    topic["properties"]["algorithm"] = "xgboost"  # an ML model's key
    topic["properties"]["message_schema"]["schema_fields"][0]["children"][0]["tags"] = 3
    paths = {tuple(error.absolute_path) for error in validator.iter_errors(config)}
    index = config["entities"].index(topic)
    assert ("entities", index, "properties") in paths  # additionalProperties: algorithm
    assert any(p[:4] == ("entities", index, "properties", "message_schema") for p in paths)
