"""Data profiles of sampled rows, computed by Great Expectations.

One ephemeral GX context and one suite of unbounded expectations per table, validated once
(each validation hashes the whole frame). Decimals are cast to float64 on a copy first (GX
converts `Decimal`s one by one, ~60x slower). What GX cannot compute for a type — statistics
of strings, nested values, binaries, quantiles of dates — is recorded as not computed with the
reason, never a crash; string lengths and nested null counts come from pyarrow and say so.
"""

from __future__ import annotations

import contextlib
import fnmatch
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat
from pydantic import BaseModel, Field

from om_ingest.config.models import PROFILE_METRICS
from om_ingest.sources.base import ColumnStatistics, TableStatistics

log = logging.getLogger("om_ingest.profiling")

NUMERIC_METRICS = ("min", "max", "mean", "median", "stddev", "quantiles")
ALL_METRICS = PROFILE_METRICS  # one list: what the config may name is what is computed


class ColumnProfileResult(BaseModel):
    name: str
    arrow_type: str
    null_count: int | None = None
    null_proportion: float | None = None
    distinct_count: int | None = None
    distinct_proportion: float | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None
    median: float | None = None
    stddev: float | None = None
    quantiles: dict[str, float] | None = None
    min_length: int | None = None
    max_length: int | None = None
    top_values: list[tuple[str, int]] | None = None
    histogram: dict[str, list[Any]] | None = None
    computed_by: dict[str, str] = Field(default_factory=dict, description="metric → gx | pyarrow")
    not_computed: dict[str, str] = Field(default_factory=dict, description="metric → why not")


class TableProfileResult(BaseModel):
    fqn: str
    timestamp_ms: int
    row_count: int
    row_count_exact: bool
    """False: `row_count` is only the sample's size, and OM is not sent a row count."""
    column_count: int
    sample_rows: int
    sample_percentage: float | None = None
    metadata_origin: str | None = None
    """Where whole-table figures came from (e.g. Parquet footers); None: sample only."""
    columns: list[ColumnProfileResult]


def collect_sample(batches: Iterable[pa.RecordBatch], max_rows: int) -> pa.Table:
    """At most `max_rows` rows; stops pulling batches as soon as it has them."""
    taken: list[pa.RecordBatch] = []
    count = 0
    if max_rows <= 0:  # metadata-only: the columns' schema, no rows
        for batch in batches:
            return pa.Table.from_batches([batch.slice(0, 0)])
        return pa.table({})
    for batch in batches:
        batch = batch.slice(0, max_rows - count)
        taken.append(batch)
        count += batch.num_rows
        if count >= max_rows:
            break  # never pull another batch from the source
    if not taken:
        return pa.table({})
    return pa.Table.from_batches(taken)


def profile_table(
    fqn: str,
    sample: pa.Table,
    row_count: int | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    metrics: list[str] | None = None,
    statistics: TableStatistics | None = None,
) -> TableProfileResult:
    """Profile `sample`; `row_count` is the table's exact count when the source knows it.
    `statistics` (file metadata) supply whole-table rows, null counts, min and max — only
    when exact; otherwise they are not used and the figures are the sample's."""
    wanted = set(metrics or ALL_METRICS)
    names = selected_columns(sample.column_names, include, exclude)
    columns = [
        ColumnProfileResult(name=n, arrow_type=str(sample.schema.field(n).type)) for n in names
    ]
    by_name = {c.name: c for c in columns}
    metadata_only = statistics is not None and statistics.exact and not sample.num_rows
    for column in columns:
        if not metadata_only:
            _pyarrow_metrics(sample.column(column.name), column, wanted)
    gx_columns = [c for c in columns if _gx_kind(sample.schema.field(c.name).type) is not None]
    if gx_columns and sample.num_rows:
        _gx_metrics(sample.select([c.name for c in gx_columns]), by_name, wanted)
    exact = row_count is not None
    total = row_count if row_count is not None else sample.num_rows
    if statistics is not None and not statistics.exact:
        log.warning("%s: %s are not exact; profiling the sample only", fqn, statistics.origin)
        statistics = None  # never applied as whole-table figures
    if statistics is not None:
        exact, total = True, statistics.row_count
        for column in columns:
            _apply_statistics(column, statistics.columns.get(column.name), total, wanted)
            if metadata_only:
                for metric in ALL_METRICS[1:]:
                    if metric in wanted and metric not in column.computed_by:
                        column.not_computed.setdefault(metric, "metadata-only profile (no sample)")
    return TableProfileResult(
        fqn=fqn,
        timestamp_ms=int(time.time() * 1000),
        row_count=total,
        row_count_exact=exact,
        column_count=len(sample.column_names),
        sample_rows=sample.num_rows,
        sample_percentage=round(100.0 * sample.num_rows / total, 4) if total and exact else None,
        metadata_origin=statistics.origin if statistics is not None else None,
        columns=columns,
    )


def selected_columns(
    names: Iterable[str], include: list[str] | None, exclude: list[str] | None
) -> list[str]:
    """The profiling config's column globs applied to `names` (in their order)."""
    return [
        n
        for n in names
        if any(fnmatch.fnmatchcase(n, p) for p in include or ["*"])
        and not any(fnmatch.fnmatchcase(n, p) for p in exclude or [])
    ]


def _apply_statistics(
    column: ColumnProfileResult, stats: ColumnStatistics | None, rows: int, wanted: set[str]
) -> None:
    """Whole-table figures from metadata replace the sample's (they see every row)."""
    if stats is None:
        return
    if stats.null_count is not None and "null_count" in wanted:
        column.null_count = stats.null_count
        column.null_proportion = stats.null_count / rows if rows else None
        column.computed_by["null_count"] = "metadata"
    for metric in ("min", "max"):
        value = getattr(stats, metric)
        if value is not None and metric in wanted:
            setattr(column, metric, value)
            column.computed_by[metric] = "metadata"
            column.not_computed.pop(metric, None)


def _gx_kind(arrow: pa.DataType) -> str | None:
    if pat.is_integer(arrow) or pat.is_floating(arrow) or pat.is_decimal(arrow):
        return "numeric"
    if pat.is_string(arrow) or pat.is_large_string(arrow):
        return "string"
    if pat.is_boolean(arrow):
        return "boolean"
    if pat.is_date(arrow) or pat.is_timestamp(arrow):
        return "temporal"
    return None


def _pyarrow_metrics(array: pa.ChunkedArray, column: ColumnProfileResult, wanted: set[str]) -> None:
    """What pyarrow gives cheaply for every type: nulls, string lengths, nested/binary notes."""
    arrow = array.type
    kind = _gx_kind(arrow)
    # Nulls for every type (Great Expectations replaces these where it runs).
    column.null_count = array.null_count
    column.null_proportion = array.null_count / len(array) if len(array) else None
    column.computed_by["null_count"] = "pyarrow"
    if kind is None:
        reason = f"Great Expectations has no statistics for {arrow} values"
        for metric in ("distinct_count", *NUMERIC_METRICS):
            column.not_computed[metric] = reason
        if pat.is_list(arrow) or pat.is_large_list(arrow):
            lengths = pc.list_value_length(array)
            column.min_length, column.max_length = _min_max_int(lengths)
            column.computed_by["value_lengths"] = "pyarrow (list lengths)"
        return
    if kind == "string" and "value_lengths" in wanted:
        lengths = pc.utf8_length(array)
        column.min_length, column.max_length = _min_max_int(lengths)
        column.computed_by["value_lengths"] = "pyarrow"
    if kind in {"string", "boolean"}:
        for metric in ("mean", "median", "stddev", "quantiles"):
            column.not_computed[metric] = f"not defined for {arrow} values"
    if kind == "temporal":
        for metric in ("mean", "median", "stddev", "quantiles"):
            column.not_computed[metric] = (
                "Great Expectations cannot compute it for dates and timestamps"
            )
    if kind == "numeric" and "histogram" in wanted:
        values = pc.drop_null(array.cast(pa.float64())).to_numpy()
        if len(values):
            import numpy as np

            counts, edges = np.histogram(values, bins=min(10, max(1, len(set(values.tolist())))))
            column.histogram = {
                "boundaries": [f"{a:g} to {b:g}" for a, b in itertools.pairwise(edges)],
                "frequencies": [int(c) for c in counts],
            }
            column.computed_by["histogram"] = "numpy"


def _min_max_int(values: pa.ChunkedArray) -> tuple[int | None, int | None]:
    result = pc.min_max(values)
    low, high = result["min"].as_py(), result["max"].as_py()
    return (int(low) if low is not None else None, int(high) if high is not None else None)


def _gx_metrics(
    sample: pa.Table, columns: dict[str, ColumnProfileResult], wanted: set[str]
) -> None:
    frame = _frame(sample)
    kinds = {name: _gx_kind(sample.schema.field(name).type) for name in sample.column_names}
    with gx_context() as context:
        batch = (
            context.data_sources.add_pandas("om_ingest")
            .add_dataframe_asset("sample")
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )

        def top_values(name: str) -> list[tuple[str, int]]:
            counts = frame[name].value_counts().head(10)
            return [(str(k), int(v)) for k, v in counts.items()]

        run_suite(batch, kinds, columns, wanted, top_values)


@contextlib.contextmanager
def gx_context() -> Iterator[Any]:
    """An ephemeral Great Expectations context, quiet (no progress bars, no temp-dir notes)."""
    import importlib

    gx: Any = importlib.import_module("great_expectations")
    # GX forces this logger to INFO at import, announcing a temp dir per ephemeral context.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    with _quiet_progress(context):
        yield context


def run_suite(
    batch: Any,
    kinds: dict[str, str | None],
    columns: dict[str, ColumnProfileResult],
    wanted: set[str],
    top_values: Callable[[str], list[tuple[str, int]]] | None = None,
) -> None:
    """One suite of unbounded expectations for `kinds` (column → numeric / string / boolean /
    temporal / None: null counts only), validated once on `batch` (any GX batch: a pandas
    frame or a SQL table or query, whose metrics the database computes); observed values go
    into `columns`. `top_values` counts a string column's most common values."""
    import importlib

    import pandas as pd

    # GX is only partly typed; keep it behind Any here, its one point of use.
    gx: Any = importlib.import_module("great_expectations")
    gxe: Any = importlib.import_module("great_expectations.expectations")
    suite = gx.ExpectationSuite(name="om-ingest-profile")
    plan: list[tuple[str, str]] = []

    def expect(metric: str, column: str, expectation: Any) -> None:
        suite.add_expectation(expectation)
        plan.append((metric, column))

    for name, kind in kinds.items():
        expect("null_count", name, gxe.ExpectColumnValuesToNotBeNull(column=name, mostly=0.0))
        if kind is None:
            continue
        if "distinct_count" in wanted:
            expect("distinct_count", name, gxe.ExpectColumnUniqueValueCountToBeBetween(column=name))
            expect(
                "distinct_proportion",
                name,
                gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(column=name),
            )
        if kind in {"numeric", "temporal"}:
            for metric, cls in (
                ("min", gxe.ExpectColumnMinToBeBetween),
                ("max", gxe.ExpectColumnMaxToBeBetween),
            ):
                if metric in wanted:
                    expect(metric, name, cls(column=name))
        if kind == "numeric":
            for metric, cls in (
                ("mean", gxe.ExpectColumnMeanToBeBetween),
                ("median", gxe.ExpectColumnMedianToBeBetween),
                ("stddev", gxe.ExpectColumnStdevToBeBetween),
            ):
                if metric in wanted:
                    expect(metric, name, cls(column=name))
            if "quantiles" in wanted:
                expect(
                    "quantiles",
                    name,
                    gxe.ExpectColumnQuantileValuesToBeBetween(
                        column=name,
                        quantile_ranges={
                            "quantiles": [0.25, 0.5, 0.75],
                            "value_ranges": [[None, None]] * 3,
                        },
                    ),
                )
        if kind == "string" and "top_values" in wanted and top_values is not None:
            expect(
                "top_values",
                name,
                gxe.ExpectColumnMostCommonValueToBeInSet(column=name, value_set=[]),
            )
    results = batch.validate(suite, result_format="SUMMARY")
    outcome: Any
    for (metric, name), outcome in zip(plan, results.results, strict=True):
        result: Any = outcome
        column = columns[name]
        if result.exception_info and result.exception_info.get("raised_exception"):
            column.not_computed[metric] = str(result.exception_info.get("exception_message"))[:200]
            continue
        observed = result.result.get("observed_value")
        if metric == "null_count":
            column.null_count = int(result.result["unexpected_count"])
            total = int(result.result["element_count"])
            column.null_proportion = column.null_count / total if total else None
        elif metric == "quantiles":
            column.quantiles = {
                f"{int(q * 100)}": float(v)
                for q, v in zip(observed["quantiles"], observed["values"], strict=True)
            }
        elif metric == "top_values" and top_values is not None:
            column.top_values = top_values(name)
            column.computed_by[metric] = "pandas (after GX's most-common value)"
            continue
        else:
            setattr(column, metric, _plain(observed, pd))
        column.computed_by[metric] = "gx"


def _frame(sample: pa.Table) -> Any:
    """pandas for GX: decimals as float64 (see module doc), nullable ints kept as floats."""
    fields = []
    arrays = []
    for field, array in zip(sample.schema, sample.columns, strict=True):
        if pat.is_decimal(field.type) or pat.is_integer(field.type):
            array = array.cast(pa.float64())
        fields.append(field.name)
        arrays.append(array)
    return pa.table(arrays, names=fields).to_pandas(date_as_object=False)


def _plain(value: Any, pd: Any) -> Any:
    """numpy/pandas scalars → JSON-friendly Python values."""
    from decimal import Decimal

    if isinstance(value, Decimal):  # SQL aggregates of numeric columns
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


class _quiet_progress:
    """GX prints progress bars to stderr for every validation; not in our output."""

    def __init__(self, context: Any) -> None:
        self.context = context

    def __enter__(self) -> None:
        try:
            from great_expectations.data_context.types.base import ProgressBarsConfig

            self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        except Exception:  # older/newer GX: bars are cosmetic
            log.debug("could not disable GX progress bars", exc_info=True)

    def __exit__(self, *_: object) -> None:
        return None
