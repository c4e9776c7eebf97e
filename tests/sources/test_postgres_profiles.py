"""PostgreSQL profiles: Great Expectations over SQL (the database computes them), pushed to OM;
TABLESAMPLE for `sample_percentage`; planner estimates for a metadata-only profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flows.ingest import ingest
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.sources.conftest import PgDatabase, pg_config

DATA = """
CREATE TABLE {t} (id int PRIMARY KEY, amount numeric(10,2), name text, flag boolean,
                  at timestamptz, doc jsonb);
INSERT INTO {t} SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE (g * 7 % 101) + 0.25 END,
    'n' || (g % 13), g % 3 = 0, timestamptz '2026-01-01' + g * interval '1 hour',
    jsonb_build_object('g', g)
  FROM generate_series(1, 3000) g;
ANALYZE {t};
"""


def discovery(table: str, profiling: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {
        "type": "table",
        "discovery": {"source": "pg", "filter": {"include": [table]}},
        "profiling": {"enabled": True, "storage": {"base_path": str(tmp_path / "p")},
                      **profiling},
    }  # fmt: skip


def test_profiles_are_computed_by_the_database_and_pushed(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    for table in ("whole", "sampled", "estimated"):
        pg_db.execute(DATA.format(t=table))
    entities = [
        discovery("whole", {"sample_rows": 5000}, tmp_path),
        discovery("sampled", {"sample_percentage": 20}, tmp_path),
        discovery("estimated", {"sample_rows": 0}, tmp_path),
    ]
    summary = ingest(pg_config(tmp_path, [pg_db.source()], entities))
    profiles = {p["fqn"].rsplit(".", 1)[-1]: p for p in summary["profiles"]}
    assert {name: p["status"] for name, p in profiles.items()} == {
        "whole": "pushed", "sampled": "pushed", "estimated": "pushed"
    }  # fmt: skip
    sdk = make_sdk_client(om_env.url, JWT)
    schema = f"pg.{pg_db.name}.public"

    # The whole table: every figure equals the database's own aggregate.
    whole = sdk.get_latest_table_profile(f"{schema}.whole")
    ((rows, nulls, low, high, mean, stddev, names),) = pg_db.query(
        "SELECT count(*), count(*) - count(amount), min(amount), max(amount), avg(amount), "
        "stddev_samp(amount), count(DISTINCT name) FROM whole"
    )
    assert (whole.profile.rowCount, whole.profile.profileSample) == (rows, rows)
    columns = {c.name.root: c.profile for c in whole.columns}
    amount = columns["amount"]
    assert amount.nullCount == nulls and amount.valuesCount == rows - nulls
    assert (amount.min, amount.max) == (float(low), float(high))
    assert amount.mean == pytest.approx(float(mean))
    assert amount.stddev == pytest.approx(float(stddev))
    assert columns["name"].distinctCount == names
    assert columns["at"].max is not None
    stored = json.loads(Path(profiles["whole"]["file"]).read_text())
    doc = next(c for c in stored["columns"] if c["name"] == "doc")
    assert doc["computed_by"] == {"null_count": "gx"} and "distinct_count" in doc["not_computed"]

    # TABLESAMPLE: the same seeded sample, read back with SQL, gives the same figures.
    sampled = sdk.get_latest_table_profile(f"{schema}.sampled")
    ((in_sample, sample_mean),) = pg_db.query(
        "SELECT count(*), avg(amount) FROM sampled TABLESAMPLE BERNOULLI (20) REPEATABLE (42)"
    )
    assert 0 < in_sample < rows
    assert (sampled.profile.rowCount, sampled.profile.profileSample) == (rows, in_sample)
    sampled_amount = next(c.profile for c in sampled.columns if c.name.root == "amount")
    assert sampled_amount.mean == pytest.approx(float(sample_mean))

    # Metadata only: the planner's estimates, never sent as the table's row count.
    estimated = sdk.get_latest_table_profile(f"{schema}.estimated")
    assert estimated.profile.rowCount is None and estimated.profile.profileSample == 0
    ((null_frac,),) = pg_db.query(
        "SELECT null_frac FROM pg_stats WHERE tablename = 'estimated' AND attname = 'amount'"
    )
    guess = next(c.profile for c in estimated.columns if c.name.root == "amount")
    assert guess.nullProportion == pytest.approx(null_frac)
    stored = json.loads(Path(profiles["estimated"]["file"]).read_text())
    assert stored["row_count_exact"] is False and "estimates" in stored["metadata_origin"]


def test_exact_row_count_is_counted_by_the_database(pg_db: PgDatabase) -> None:
    """What a contract's `rowCount` rule is judged on: `count(*)`, not the planner's estimate
    (never analyzed here: the planner knows no rows), on a name that needs quoting."""
    from om_ingest.config.models import SourceConfig
    from om_ingest.sources.registry import get_source

    pg_db.execute('CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Order Lines" (id int)')
    pg_db.execute('INSERT INTO "Sales"."Order Lines" SELECT g FROM generate_series(1, 1234) g')
    entry = pg_db.source()
    entry["properties"]["password"] = pg_db.server.password
    with get_source(SourceConfig.model_validate(entry)) as source:
        location = source.location("Sales", "Order Lines")  # type: ignore[attr-defined]
        estimate = source.table_statistics(location, [])
        assert estimate is None or not estimate.exact
        assert source.exact_row_count(location) == (1234, "count(*) in PostgreSQL")


def test_bytes_read_are_the_result_values_the_server_sent(pg_db: PgDatabase) -> None:
    """A sample (a server-side cursor, fetched in chunks): the source counts the bytes of the
    values the server sent, which the server itself sums here as the text each value is sent
    as (`octet_length(value::text)`, NULL: none), plus the pool's "SELECT 1" ping ("1")."""
    from om_ingest.config.models import SourceConfig
    from om_ingest.sources.reads import measuring
    from om_ingest.sources.registry import get_source

    pg_db.execute(DATA.format(t="sent"))
    entry = pg_db.source()
    entry["properties"]["password"] = pg_db.server.password
    columns = ["id", "amount", "name", "at", "doc"]
    sent = " + ".join(f"coalesce(octet_length({c}::text), 0)" for c in columns)
    with measuring() as reads, get_source(SourceConfig.model_validate(entry)) as source:
        location = source.location("public", "sent")  # type: ignore[attr-defined]
        assert source.exact_row_count(location) == (3000, "count(*) in PostgreSQL")
        assert reads.of("pg") > len("3000")  # and the driver's first-connection queries
        before = reads.of("pg")
        rows = sum(b.num_rows for b in source.fetch_sample(location, 2500, columns))
        sampled = reads.of("pg") - before
    assert rows == 2500
    expected = pg_db.query(f"SELECT sum({sent}) FROM (SELECT * FROM sent LIMIT 2500) s")[0][0]
    assert sampled == expected + len("1") > 2500 * len(columns)
