"""The comparison on each kind's schema shape (topic fields, search index fields, ML
features, pipeline tasks, container data model columns), on generated field trees: identical trees differ in nothing, one
edit at any depth is exactly one schema change at its path, and an update's PUT body keeps
the config's structure with the descriptions OM holds."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.config.models import EntityType
from om_ingest.engine.compare import compare, put_request
from om_ingest.entities import handler_for

TYPES = {
    EntityType.TOPIC: ["INT", "LONG", "STRING", "RECORD", "ARRAY"],
    EntityType.SEARCH_INDEX: ["TEXT", "KEYWORD", "FLOAT", "OBJECT"],
    EntityType.MLMODEL: ["numerical", "categorical"],
    EntityType.PIPELINE: ["PythonOperator", "BashOperator", "SQLOperator"],
    EntityType.CONTAINER: ["INT", "STRING", "STRUCT", "ARRAY"],
}
NAMES = st.text("abcdef", min_size=1, max_size=3)


def trees(kind: EntityType) -> st.SearchStrategy[list[dict[str, Any]]]:
    shape = handler_for(kind).schema_shape
    assert shape is not None

    def level(children: st.SearchStrategy[Any] | None) -> st.SearchStrategy[list[dict[str, Any]]]:
        item = st.fixed_dictionaries(
            {"name": NAMES, shape.type_key: st.sampled_from(TYPES[kind])},
            optional={shape.children: children} if children is not None and shape.children else {},
        )
        return st.lists(item, min_size=1, max_size=4, unique_by=lambda f: f["name"])

    if shape.children is None:
        return level(None)
    return st.recursive(level(None), lambda inner: level(inner), max_leaves=12)


def entity(kind: EntityType, fields: list[dict[str, Any]]) -> dict[str, Any]:
    shape = handler_for(kind).schema_shape
    assert shape is not None
    body: dict[str, Any] = {"name": "e"}
    node = body
    *outer, last = shape.keys
    for key in outer:
        node = node.setdefault(key, {})
    node[last] = fields
    return body


def paths(
    fields: list[dict[str, Any]], children: str | None, prefix: str = ""
) -> list[tuple[str, list[int]]]:
    out: list[tuple[str, list[int]]] = []
    for i, f in enumerate(fields):
        here = f"{prefix}{f['name']}"
        out.append((here, [i]))
        if children:
            out += [(p, [i, *idx]) for p, idx in paths(f.get(children) or [], children, here + ".")]
    return out


def at(fields: list[dict[str, Any]], index: list[int], children: str | None) -> dict[str, Any]:
    node = fields[index[0]]
    for i in index[1:]:
        assert children
        node = node[children][i]
    return node


@settings(max_examples=60, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(TYPES)))
def test_one_edit_is_one_schema_change_at_its_path(data: st.DataObject, kind: EntityType) -> None:
    handler = handler_for(kind)
    shape = handler.schema_shape
    assert shape is not None
    before = data.draw(trees(kind))
    current = entity(kind, before)
    assert not compare(handler, copy.deepcopy(current), current, override=False)

    after = copy.deepcopy(before)
    path, index = data.draw(st.sampled_from(paths(after, shape.children)))
    node = at(after, index, shape.children)
    old_type = node[shape.type_key]
    edit = data.draw(st.sampled_from(["retype", "remove", "add"]))
    if edit == "retype":
        new_type = data.draw(st.sampled_from([t for t in TYPES[kind] if t != old_type]))
        node[shape.type_key] = new_type
        expected = [("type_changed", path, old_type, new_type)]
    elif edit == "remove":
        parent = (
            after
            if len(index) == 1
            else at(after, index[:-1], shape.children)[shape.children or ""]
        )
        parent.pop(index[-1])
        expected = [("removed", path, old_type, None)]
    else:
        siblings = (
            after
            if len(index) == 1
            else at(after, index[:-1], shape.children)[shape.children or ""]
        )
        siblings.append({"name": "zzzz", shape.type_key: old_type})
        prefix = path.rsplit(".", 1)[0] + "." if "." in path else ""
        expected = [("added", f"{prefix}zzzz", None, old_type)]
    comparison = compare(handler, entity(kind, after), current, override=False)
    if edit == "retype" and handler.schema_stored_on_add_or_remove:
        # OM stores a pipeline's tasks only when one is added or removed: a retype alone is
        # not a change to PUT but one OM cannot apply, said as such
        assert not comparison.schema_diff.changes and not comparison.needs_put
        assert [(c.field, c.before, c.after) for c in comparison.unstorable] == [
            (f"{shape.path}.{path}.{shape.type_key}", old_type, new_type)
        ]
        return
    diff = comparison.schema_diff
    assert [(c.kind.value, c.path, c.before, c.after) for c in diff.changes] == expected


@settings(max_examples=40, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(TYPES)))
def test_an_update_keeps_the_config_s_structure_and_om_s_descriptions(
    data: st.DataObject, kind: EntityType
) -> None:
    handler = handler_for(kind)
    shape = handler.schema_shape
    assert shape is not None
    fields = data.draw(trees(kind))
    current = entity(kind, copy.deepcopy(fields))
    for path, index in paths(shape.fields_of(current), shape.children):
        at(shape.fields_of(current), index, shape.children)["description"] = f"about {path}"
    desired = entity(kind, data.draw(trees(kind)))
    body = put_request(handler, desired, current)
    assert shape.flatten(body) == shape.flatten(desired)
    held = dict(paths(shape.fields_of(current), shape.children))
    for path, index in paths(shape.fields_of(body), shape.children):
        described = at(shape.fields_of(body), index, shape.children).get("description")
        assert described == (f"about {path}" if path in held else None)
