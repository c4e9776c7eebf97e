"""Row-count rules judged on the whole table, never on the sample.

A contract's `rowCount` bound is about the table: the sample's row count says nothing of it.
When the source can tell the exact count cheaply (Hudi: Parquet footers, or a merged read of
slices with log files; Iceberg: manifests without deletes; PostgreSQL: `count(*)`) the bound
is checked against it; otherwise the rule is listed as not run, with the reason.
"""

from __future__ import annotations

from typing import Any

from om_ingest.quality.rules import PlannedExpectation
from om_ingest.quality.validate import Outcome

ROW_COUNT = "expect_table_row_count_to_be_between"


def split_row_counts(
    expectations: list[PlannedExpectation],
) -> tuple[list[PlannedExpectation], list[PlannedExpectation]]:
    """(row-count expectations, the others: run on the sample)."""
    counts = [e for e in expectations if e.type == ROW_COUNT]
    return counts, [e for e in expectations if e.type != ROW_COUNT]


def whole_table_rows(
    source: Any, entity: Any, statistics: Any = None, sampled_rows: int | None = None
) -> tuple[int, str] | None:
    """The exact row count of a discovered table and its origin, when its source can tell:
    what reading the sample learnt (`read_sample`'s exact count: its metadata statistics, or a
    read that ended before the cap), else the source's `exact_row_count`."""
    if sampled_rows is not None:
        exact = statistics is not None and statistics.exact
        return sampled_rows, statistics.origin if exact else "a read of every row"
    props = entity.properties
    location = source.profile_location(props) or props.location_path
    counted: tuple[int, str] | None = source.exact_row_count(location)
    return counted


def row_count_outcomes(
    counts: list[PlannedExpectation], counted: tuple[int, str] | None
) -> tuple[list[Outcome], list[str]]:
    """Outcomes of the row-count rules on the whole table, or why each was not run."""
    if counted is None:
        reason = "needs every row: the source cannot count them exactly and cheaply"
        return [], [f"{e.name}: {reason}" for e in counts]
    rows, origin = counted
    outcomes = []
    for expectation in counts:
        low, high = expectation.kwargs.get("min_value"), expectation.kwargs.get("max_value")
        ok = (low is None or rows >= low) and (high is None or rows <= high)
        outcomes.append(
            Outcome(
                expectation,
                "Success" if ok else "Failed",
                {"observed_value": float(rows)},
                f"the whole table has {rows} rows ({origin})",
            )
        )
    return outcomes, []
