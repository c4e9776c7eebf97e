"""A Great Expectations suite suggested from a profile: the first draft of a data contract.

Conservative rules, only from what the profile saw: not-null where a column had no nulls
(over the whole table when the figure came from metadata, else over the sample); a range for
numeric columns (their min and max); a value set for string columns whose few distinct values
(at most `MAX_SET`) are all among the top values. The suite is GX's own JSON
(`ExpectationSuite.to_json_dict`), so it loads back into GX unchanged.
"""

from __future__ import annotations

import importlib
from typing import Any

from om_ingest.profiling.data_profiler import ColumnProfileResult, TableProfileResult

MAX_SET = 10
NUMERIC_PREFIXES = ("int", "uint", "float", "double", "halffloat", "decimal")


def suggest_suite(profile: TableProfileResult) -> dict[str, Any]:
    gx: Any = importlib.import_module("great_expectations")
    gxe: Any = importlib.import_module("great_expectations.expectations")
    gx.get_context(mode="ephemeral")  # a suite needs an active context, even unsaved
    suite = gx.ExpectationSuite(name=f"{profile.fqn} (suggested by om-ingest)")
    for column in profile.columns:
        for expectation in _expectations(gxe, column, profile):
            suite.add_expectation(expectation)
    suggested: dict[str, Any] = suite.to_json_dict()
    suggested["meta"]["om_ingest"] = {
        "profile_timestamp_ms": profile.timestamp_ms,
        "sample_rows": profile.sample_rows,
        "row_count": profile.row_count,
    }
    return suggested


def _expectations(gxe: Any, column: ColumnProfileResult, profile: TableProfileResult) -> list[Any]:
    name, arrow = column.name, column.arrow_type
    nested = arrow.startswith(("struct", "list", "large_list", "map"))
    seen_rows = (
        profile.row_count
        if column.computed_by.get("null_count") == "metadata"
        else profile.sample_rows
    )
    found = []
    if not nested and column.null_count == 0 and seen_rows:
        found.append(gxe.ExpectColumnValuesToNotBeNull(column=name))
    if arrow.startswith(NUMERIC_PREFIXES) and _number(column.min) and _number(column.max):
        found.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=name, min_value=float(column.min), max_value=float(column.max)
            )
        )
    values = [value for value, _ in column.top_values or []]
    if (
        arrow in ("string", "large_string")
        and column.distinct_count is not None
        and 0 < column.distinct_count <= MAX_SET
        and len(values) == column.distinct_count
    ):
        found.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=sorted(values)))
    return found


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
