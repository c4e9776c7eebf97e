"""Properties of the comparison: whatever the column trees, applying what it decides makes
the next comparison find nothing, and curated values are only touched under override."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.config.models import EntityType
from om_ingest.engine.compare import compare, patched
from om_ingest.engine.curation import Authors, metadata_values
from om_ingest.entities import handler_for

TABLE = handler_for(EntityType.TABLE)
TAGS = ["PII.Sensitive", "PII.NonSensitive", "Tier.Tier1", "PersonalData.Personal"]
names = st.sampled_from(["id", "amount", "Address", "city", "zip"])
texts = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))
tag_lists = st.lists(st.sampled_from(TAGS), unique=True, max_size=3).map(
    lambda fqns: [
        {"tagFQN": t, "source": "Classification", "labelType": "Manual", "state": "Confirmed"}
        for t in fqns
    ]
)


def _node(children: Any = None) -> Any:
    fields = {"description": texts, "tags": tag_lists}
    strategy = st.fixed_dictionaries(
        {"name": names, "dataType": st.just("STRING")}, optional=fields
    )
    if children is None:
        return strategy
    return st.builds(
        lambda n, c: {**n, "dataType": "STRUCT", "children": _unique(c)}, strategy, children
    )


def _unique(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for column in columns:
        if column["name"].lower() not in seen:
            seen.add(column["name"].lower())
            out.append({k: v for k, v in column.items() if v not in (None, [])})
    return out


columns = st.recursive(_node(), lambda inner: _node(st.lists(inner, max_size=3)), max_leaves=8)
tables = st.builds(
    lambda cols, description, tags: {
        k: v
        for k, v in {"description": description, "tags": tags, "columns": _unique(cols)}.items()
        if v not in (None, [])
    },
    st.lists(columns, max_size=4),
    texts,
    tag_lists,
)


def _ours(entity: dict[str, Any]) -> Authors:
    """Every value OM holds was written by om-ingest itself."""
    return Authors({key: "bot" for key in metadata_values(entity, "columns")}, "bot")


def _theirs(entity: dict[str, Any]) -> Authors:
    """Every value OM holds was last changed by a person."""
    return Authors({key: "alice" for key in metadata_values(entity, "columns")}, "bot")


@settings(max_examples=150, deadline=None)
@given(desired=tables, current=tables, override=st.booleans(), own=st.booleans())
def test_applying_the_decision_reaches_a_fixed_point(
    desired: dict[str, Any], current: dict[str, Any], override: bool, own: bool
) -> None:
    authors = _ours if own else _theirs
    first = compare(TABLE, desired, current, override, lambda: authors(current))
    after = patched(TABLE, current, first)
    second = compare(TABLE, desired, after, override, lambda: authors(after))
    assert not second.edits and second.owners is None
    assert [c.field for c in second.kept_curated] == [c.field for c in first.kept_curated]


@settings(max_examples=150, deadline=None)
@given(desired=tables, current=tables)
def test_curated_values_change_only_under_override(
    desired: dict[str, Any], current: dict[str, Any]
) -> None:
    kept = patched(
        TABLE, current, compare(TABLE, desired, current, False, lambda: _theirs(current))
    )
    before, after = metadata_values(current, "columns"), metadata_values(kept, "columns")
    assert all(
        after.get(key) == value for key, value in before.items()
    )  # nothing replaced or removed
    exact = patched(
        TABLE, current, compare(TABLE, desired, current, True, lambda: _theirs(current))
    )
    assert compare(TABLE, desired, exact, True).field_changes == []


@given(desired=tables, current=tables)
def test_without_a_history_nothing_held_is_replaced(
    desired: dict[str, Any], current: dict[str, Any]
) -> None:
    """When OM cannot say who wrote what, only what it lacks is added."""
    result = patched(TABLE, current, compare(TABLE, desired, current, False))
    before, after = metadata_values(current, "columns"), metadata_values(result, "columns")
    assert all(after.get(key) == value for key, value in before.items())


def test_a_value_a_person_removed_is_not_restored() -> None:
    current = {"columns": [{"name": "id", "dataType": "STRING"}]}
    desired = copy.deepcopy(current)
    desired["columns"][0]["description"] = "Id."
    history = [
        {"version": 0.1, "updatedBy": "bot", "columns": desired["columns"]},
        {"version": 0.2, "updatedBy": "alice", "columns": current["columns"]},
    ]
    result = compare(
        TABLE, desired, current, False, lambda: Authors.from_versions(history, "columns", "bot")
    )
    assert [c.field for c in result.kept_curated] == ["columns.id.description"]
    assert not result.edits
