"""A profile as OpenMetadata's CreateTableProfileRequest (TableProfile + ColumnProfiles)."""

from __future__ import annotations

from typing import Any

from metadata.generated.schema.api.data.createTableProfile import CreateTableProfileRequest

from om_ingest.profiling.data_profiler import TableProfileResult


def to_om_profile(result: TableProfileResult) -> CreateTableProfileRequest:
    """OM reads `rowCount` as the table's rows: sent only when exact (the snapshot's count),
    never a sample size or an estimate. Column figures are the sample's (`profileSample`
    rows) unless they came from exact whole-table metadata."""
    table: dict[str, Any] = {
        "timestamp": result.timestamp_ms,
        "rowCount": result.row_count if result.row_count_exact else None,
        "columnCount": result.column_count,
        "profileSample": result.sample_rows,
        "profileSampleType": "ROWS",
    }
    columns = []
    for c in result.columns:
        # Null counts from metadata cover the whole table; sampled ones cover the sample.
        rows = (
            result.row_count
            if c.computed_by.get("null_count") == "metadata"
            else result.sample_rows
        )
        body: dict[str, Any] = {
            "name": c.name,
            "timestamp": result.timestamp_ms,
            "valuesCount": rows - c.null_count if c.null_count is not None else None,
            "nullCount": c.null_count,
            "nullProportion": c.null_proportion,
            "distinctCount": c.distinct_count,
            "distinctProportion": c.distinct_proportion,
            "min": c.min,
            "max": c.max,
            "mean": c.mean,
            "median": c.median,
            "stddev": c.stddev,
            "minLength": c.min_length,
            "maxLength": c.max_length,
        }
        if c.quantiles:
            body["firstQuartile"] = c.quantiles.get("25")
            body["thirdQuartile"] = c.quantiles.get("75")
        if c.histogram:
            body["histogram"] = c.histogram
        elif c.top_values:
            body["histogram"] = {
                "boundaries": [v for v, _ in c.top_values],
                "frequencies": [n for _, n in c.top_values],
            }
        columns.append({k: v for k, v in body.items() if v is not None})
    return CreateTableProfileRequest.model_validate(
        {
            "tableProfile": {k: v for k, v in table.items() if v is not None},
            "columnProfile": columns,
        }
    )
