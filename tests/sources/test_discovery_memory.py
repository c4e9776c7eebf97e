"""Discovery streams: 500 synthetic Hudi tables on S3 never pile up in memory.

The measurement runs in a child process, so no other test's threads (the Prefect API, the
sandbox) allocate inside the traced window.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tracemalloc
import weakref
from pathlib import Path

from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
from om_ingest.testing.moto_s3 import MotoS3Server

TABLES = 500
CONCURRENCY = 8
ROOT = Path(__file__).resolve().parents[2]


def measure(endpoint_url: str) -> None:
    """Stream every table, keeping only its name; print what stayed alive and the peaks."""
    from om_ingest.config.models import EntityConfig, SourceConfig
    from om_ingest.sources import get_source

    config = SourceConfig.model_validate(
        {
            "name": "big",
            "type": "s3_hudi",
            "properties": {
                "bucket": "big",
                "prefix": "warehouse/",
                "endpoint_url": endpoint_url,
                "aws_access_key_id": "testing",
                "aws_secret_access_key": "testing",
                "read_concurrency": CONCURRENCY,
            },
        }
    )
    template = EntityConfig.model_validate(
        {
            "type": "table",
            "discovery": {"source": "big"},
            "properties": {"database_schema": "s.d.b"},
        }
    )
    alive = [0]
    most_alive = 0
    names: list[str] = []
    peaks: list[int] = []

    def released() -> None:
        alive[0] -= 1

    tracemalloc.start()
    with get_source(config) as source:
        for count, item in enumerate(source.discover_entities(template), start=1):
            alive[0] += 1
            weakref.finalize(item, released)
            names.append(item.entity.name or "")  # type: ignore[union-attr]
            del item  # the consumer keeps only what it needs, like the planner
            gc.collect(0)
            most_alive = max(most_alive, alive[0])
            if count in (50, 250):  # after warm-up, then over the rest
                tracemalloc.reset_peak()
            if count in (250, TABLES):
                peaks.append(tracemalloc.get_traced_memory()[1])
    print(json.dumps({"names": sorted(names), "most_alive": most_alive, "peaks": peaks}))


def test_500_tables_are_discovered_with_flat_memory() -> None:
    with MotoS3Server() as moto:
        s3 = moto.s3_client()
        s3.create_bucket(Bucket="big")
        write_synthetic_lake(LakeTarget.s3(s3, "big"), "warehouse", TABLES, 4, rows_per_table=1)
        code = f"from tests.sources.test_discovery_memory import measure; measure({moto.endpoint_url!r})"
        child = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["names"] == [f"table_{i:05d}" for i in range(TABLES)]
    # Read-ahead is bounded (2 x concurrency in flight), whatever the number of tables...
    assert report["most_alive"] <= 2 * CONCURRENCY + 1, report["most_alive"]
    # ...so the peak of Python memory over tables 250-500 is no higher than over 50-250
    # (a stream holding every table would double it).
    first, second = report["peaks"]
    assert second < first * 1.3 + 256 * 1024, (first, second)
