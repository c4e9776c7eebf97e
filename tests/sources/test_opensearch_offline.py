"""What the `opensearch` source decides without a server: mapping → fields (as OM's own
OpenSearch connector types them, plus multi-fields), which index templates match an index,
and its properties' checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.config.models import SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources import get_source
from om_ingest.sources.opensearch_indexes.mapping import matching_templates, search_index_fields

SCALARS = ["text", "keyword", "long", "integer", "short", "byte", "double", "float",
           "half_float", "scaled_float", "unsigned_long", "date", "boolean", "ip", "binary",
           "geo_point", "geo_shape", "flattened", "wildcard", "date_nanos", "knn_vector",
           "alias", "annotated_text", "murmur3"]  # fmt: skip
"""Types OM's DataType knows and some it does not (→ UNKNOWN)."""

names = st.text("abcxyz_", min_size=1, max_size=6)
leaf = st.sampled_from(SCALARS).map(lambda kind: {"type": kind})


def with_children(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    fields = st.dictionaries(names, children, min_size=1, max_size=3)
    return st.one_of(
        fields.map(lambda f: {"properties": f}),  # an object
        fields.map(lambda f: {"type": "nested", "properties": f}),
        st.tuples(st.sampled_from(["text", "keyword"]), fields).map(
            lambda t: {"type": t[0], "fields": t[1]}  # multi-fields
        ),
    )


mappings = st.dictionaries(names, st.recursive(leaf, with_children, max_leaves=8), max_size=4).map(
    lambda p: {"properties": p}
)


@pytest.fixture(scope="module")
def om_parser() -> Iterator[Any]:
    """OM's own OpenSearch mapping parser. Importing it makes the SDK's search index DataType
    accept any value for the whole process: undone afterwards for the tests that follow."""
    from metadata.generated.schema.entity.data.searchIndex import DataType

    before = DataType.__dict__.get("_missing_")
    from metadata.ingestion.source.search.opensearch.parser import parse_os_index_mapping

    yield parse_os_index_mapping
    if before is None:
        del DataType._missing_
    else:
        DataType._missing_ = before


def as_properties(mapping: dict[str, Any]) -> dict[str, Any]:
    """The mapping with each field's multi-fields moved into `properties` (what OM's parser
    reads as children)."""
    out: dict[str, Any] = {}
    for name, spec in mapping.get("properties", {}).items():
        spec = dict(spec)
        nested = spec.pop("fields", None) or spec.get("properties")
        if nested:
            spec["properties"] = as_properties({"properties": nested})["properties"]
        out[name] = spec
    return {"properties": out}


def om_shape(fields: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": f.name.root,
            "type": f.dataType.value,
            "display": f.dataTypeDisplay,
            "children": om_shape(f.children) if f.children else None,
        }
        for f in fields
    ]


def our_shape(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": f["name"],
            "type": f["data_type"],
            "display": f.get("data_type_display"),
            "children": our_shape(f["children"]) if f.get("children") else None,
        }
        for f in fields
    ]


@settings(max_examples=60, deadline=None)
@given(mapping=mappings)
def test_fields_are_typed_as_oms_connector_types_them_with_multi_fields_as_children(
    om_parser: Any, mapping: dict[str, Any]
) -> None:
    ours = search_index_fields(mapping)
    assert our_shape(ours) == om_shape(om_parser(as_properties(mapping)))


def test_multi_fields_and_nested_objects_are_children_and_bad_mappings_are_errors() -> None:
    mapping = {
        "properties": {
            "title": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "tags": {"type": "nested", "properties": {"v": {"type": "keyword"}}},
            "meta": {"properties": {"at": {"type": "date_nanos"}}},
        }
    }
    assert search_index_fields(mapping) == [
        {
            "name": "title",
            "data_type": "TEXT",
            "data_type_display": "text",
            "children": [{"name": "raw", "data_type": "KEYWORD", "data_type_display": "keyword"}],
        },
        {
            "name": "tags",
            "data_type": "NESTED",
            "data_type_display": "nested",
            "children": [{"name": "v", "data_type": "KEYWORD", "data_type_display": "keyword"}],
        },
        {
            "name": "meta",
            "data_type": "OBJECT",
            "children": [{"name": "at", "data_type": "UNKNOWN", "data_type_display": "date_nanos"}],
        },
    ]
    with pytest.raises(ValueError, match=r"mapping field meta\.at: type 3 is not a name"):
        search_index_fields({"properties": {"meta": {"properties": {"at": {"type": 3}}}}})
    with pytest.raises(ValueError, match="mapping field x: expected an object"):
        search_index_fields({"properties": {"x": "keyword"}})


def test_templates_matching_an_index_composable_by_priority_then_legacy_by_order() -> None:
    composable = [
        {"name": "low", "index_template": {"index_patterns": ["logs-*"], "priority": 1}},
        {"name": "high", "index_template": {"index_patterns": "logs-2*", "priority": 9}},
        {"name": "other", "index_template": {"index_patterns": ["metrics-*"], "priority": 50}},
        {"name": "unset", "index_template": {"index_patterns": ["*"]}},
    ]
    legacy = {
        "old_a": {"index_patterns": ["logs-*"], "order": 0},
        "old_b": {"index_patterns": ["logs-*", "x"], "order": 3},
        "ancient": {"template": "logs-*"},
        "elsewhere": {"index_patterns": ["app-*"], "order": 9},
    }
    assert matching_templates("logs-2026", composable, legacy) == [
        "high", "low", "unset", "old_b", "ancient", "old_a",
    ]  # fmt: skip
    assert matching_templates("app-1", composable, legacy) == ["unset", "elsewhere"]


def source(**properties: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"name": "os", "type": "opensearch", "properties": properties}
    )


def test_properties_take_one_host_as_a_string_and_refuse_credentials_in_a_url() -> None:
    one = get_source(source(hosts="http://search:9200/", username="u", password="p"))
    assert one.properties.hosts == ["http://search:9200"]
    secret = "pw-SECRET-in-url-4d2"
    for host in (f"https://ingest:{secret}@search:9200", f"ingest:{secret}@search:9200"):
        with pytest.raises(SourceError) as info:
            get_source(source(hosts=[host]))
        assert str(info.value) == (
            "source 'os': invalid properties: hosts: Value error, credentials go in "
            "`username`/`password`, not in a host URL"
        )
    with pytest.raises(SourceError, match="'search:9200' is not an http:// or https:// URL"):
        get_source(source(hosts=["search:9200"]))
    with pytest.raises(SourceError, match="`username` and `password` go together"):
        get_source(source(hosts=["http://search:9200"], username="u"))


def test_the_password_is_a_secret_in_the_loaded_config(tmp_path: Path) -> None:
    from om_ingest.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text(
        "sources:\n  - {name: os, type: opensearch, properties: {hosts: ['http://s:9200'],"
        " username: u, password: '${OS_PW}'}}\n"
        "entities:\n  - {type: search_index, discovery: {source: os}}\n"
    )
    config = load_config(path, env={"OS_PW": "pw-SECRET-77"}).config
    assert "SECRET" not in repr(config.sources[0].properties)
