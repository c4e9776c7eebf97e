"""Profiles computed by a database: Great Expectations over SQL (its SQLAlchemy datasource).

Every statistic is an aggregate the database runs (GX compiles its metrics to SQL); no row is
pulled into pandas. The table's row count is an exact `count(*)`; the other figures are over
the profiled rows: the whole table, its first `sample_rows` rows, or a
`TABLESAMPLE BERNOULLI (sample_percentage)` sample (seeded, so re-runs profile the same rows
of an unchanged table). `sample_rows: 0` profiles from the planner's statistics only, which
are estimates and are said to be (never sent as an exact row count).
"""

from __future__ import annotations

import time
from typing import Any

from om_ingest.config.models import PROFILE_METRICS, ColumnSpec, ProfilingConfig
from om_ingest.profiling.data_profiler import (
    ColumnProfileResult,
    TableProfileResult,
    gx_context,
    run_suite,
    selected_columns,
)
from om_ingest.sources.base import TableStatistics

DEFAULT_SAMPLE_ROWS = 10_000
SAMPLE_SEED = 42
NUMERIC = {"SMALLINT", "INT", "BIGINT", "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "NUMBER"}
TEMPORAL = {"DATE", "TIMESTAMP", "TIMESTAMPZ"}
TEXT = {"VARCHAR", "CHAR", "TEXT", "STRING", "ENUM", "UUID"}


def gx_kind(data_type: str) -> str | None:
    """What GX computes for an OM column type over SQL (None: null counts only)."""
    if data_type in NUMERIC:
        return "numeric"
    if data_type in TEMPORAL:
        return "temporal"
    if data_type in TEXT:
        return "string"
    return "boolean" if data_type == "BOOLEAN" else None


def sample_query(
    qualified: str, names: list[str], quote: Any, settings: ProfilingConfig, stored: bool
) -> str:
    """The SELECT the profile runs over. `sample_percentage` on a relation that stores rows
    (`stored`: a table or materialized view) is `TABLESAMPLE BERNOULLI`, seeded; a view has no
    TABLESAMPLE, so its rows are kept by a hash of the whole row (the same rows for every
    metric's query, and on every run)."""
    columns = ", ".join(quote(n) for n in names) or "*"
    percent = settings.sample_percentage
    if percent is not None and stored:
        return (
            f"SELECT {columns} FROM {qualified} TABLESAMPLE BERNOULLI "
            f"({percent}) REPEATABLE ({SAMPLE_SEED})"
        )
    if percent is not None:
        kept = round(percent * 100)
        return (
            f"SELECT {columns} FROM {qualified} AS sampled "
            f"WHERE mod(hashtext(sampled::text) & 2147483647, 10000) < {kept}"
        )
    rows = DEFAULT_SAMPLE_ROWS if settings.sample_rows is None else settings.sample_rows
    return f"SELECT {columns} FROM {qualified} LIMIT {rows}"


def profile_sql_table(
    fqn: str,
    engine: Any,
    schema: str,
    table: str,
    columns: list[ColumnSpec],
    settings: ProfilingConfig,
    estimates: TableStatistics | None,
    stored: bool = True,
) -> TableProfileResult:
    """The profile of `schema.table`; `stored`: it holds rows (not a view), so TABLESAMPLE
    applies."""
    wanted = set(settings.metrics or PROFILE_METRICS)
    names = selected_columns([c.name for c in columns], settings.columns.include,
                             settings.columns.exclude)  # fmt: skip
    results = {n: ColumnProfileResult(name=n, arrow_type="") for n in names}
    types = {c.name: c for c in columns}
    for name, column in results.items():
        column.arrow_type = types[name].data_type_display or types[name].data_type
    if settings.sample_rows == 0:
        return _estimated(fqn, len(columns), results, estimates, wanted)
    prep = engine.dialect.identifier_preparer
    qualified = f"{prep.quote(schema)}.{prep.quote(table)}"
    kinds = {n: gx_kind(types[n].data_type) for n in names}
    for name, kind in kinds.items():
        if kind is None:
            reason = f"Great Expectations over SQL computes only null counts of {types[name].data_type} values"
            for metric in ("distinct_count", "min", "max", "mean", "median", "stddev", "quantiles"):
                if metric in wanted:
                    results[name].not_computed[metric] = reason
        elif kind in {"string", "boolean", "temporal"}:
            for metric in ("mean", "median", "stddev", "quantiles"):
                if metric in wanted:
                    results[name].not_computed[metric] = (
                        f"not defined for {types[name].data_type} values"
                    )
        for metric, why in (
            ("top_values", "Great Expectations over SQL reports only the most common value"),
            ("value_lengths", "Great Expectations over SQL has no observed value lengths"),
            ("histogram", "Great Expectations over SQL has no histogram"),
        ):
            if metric in wanted:
                results[name].not_computed[metric] = why
    with gx_context() as context:
        source = context.data_sources.add_sql(
            "om_ingest", connection_string=engine.url.render_as_string(hide_password=False)
        )
        whole = source.add_table_asset("table", table_name=table, schema_name=schema)
        row_count = _row_count(whole.add_batch_definition_whole_table("all").get_batch())
        query = sample_query(qualified, names, prep.quote, settings, stored)
        asset = source.add_query_asset("sample", query=query)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        sampled = _row_count(batch)
        if names:
            run_suite(batch, kinds, results, wanted)
    return TableProfileResult(
        fqn=fqn,
        timestamp_ms=int(time.time() * 1000),
        row_count=row_count,
        row_count_exact=True,
        column_count=len(columns),
        sample_rows=sampled,
        sample_percentage=round(100.0 * sampled / row_count, 4) if row_count else None,
        columns=list(results.values()),
    )


def _row_count(batch: Any) -> int:
    """`count(*)` of a GX batch, run by the database."""
    import importlib

    gxe: Any = importlib.import_module("great_expectations.expectations")
    result: Any = batch.validate(gxe.ExpectTableRowCountToBeBetween(), result_format="SUMMARY")
    if "observed_value" not in result.result:  # GX caught the database's error
        info = result.exception_info or {}
        messages = [
            str(v.get("exception_message"))
            for v in (info.values() if "raised_exception" not in info else [info])
            if isinstance(v, dict) and v.get("exception_message")
        ]
        raise RuntimeError("; ".join(messages) or "no row count")
    return int(result.result["observed_value"])


def _estimated(
    fqn: str,
    column_count: int,
    results: dict[str, ColumnProfileResult],
    estimates: TableStatistics | None,
    wanted: set[str],
) -> TableProfileResult:
    """A metadata-only profile: the planner's estimates, labelled so (row count not exact)."""
    if estimates is None:
        raise RuntimeError(
            "sample_rows: 0 profiles from the planner's statistics, and the table has none "
            "(never analyzed: run ANALYZE)"
        )
    for name, column in results.items():
        stats = estimates.columns.get(name)
        if stats is not None and stats.null_fraction is not None and "null_count" in wanted:
            column.null_proportion = stats.null_fraction
            column.computed_by["null_count"] = "estimate (pg_stats.null_frac)"
        if stats is not None and stats.distinct_count is not None and "distinct_count" in wanted:
            rows = estimates.row_count
            column.distinct_proportion = min(1.0, stats.distinct_count / rows) if rows else None
            column.computed_by["distinct_count"] = "estimate (pg_stats.n_distinct)"
        for metric in PROFILE_METRICS[1:]:
            if metric in wanted and metric not in column.computed_by:
                column.not_computed.setdefault(metric, "metadata-only profile (no sample)")
    return TableProfileResult(
        fqn=fqn,
        timestamp_ms=int(time.time() * 1000),
        row_count=estimates.row_count,
        row_count_exact=False,
        column_count=column_count,
        sample_rows=0,
        metadata_origin=estimates.origin,
        columns=list(results.values()),
    )
