"""`make bench`: om-ingest's flow against the raw-SDK floor on a synthetic Hudi lake.

For each N (tables, 30 columns): a moto S3 lake (at most BENCH_TABLES_PER_BUCKET = 1,000 tables
per bucket, one source each) and the OM API sandbox (both child processes on 127.0.0.1); each
scenario runs in its own process so peak RSS is its own. Scenarios:
(c) dry run and (a) first run and (b) no-change re-run of the `ingest` flow, sequential and with
`execution.max_concurrency`; (d) the floor: discovery with boto3 + hudi-rs and
`create_or_update` with the SDK in a plain loop, no Prefect. Results: benchmarks/results.md.
Usage: python -m benchmarks.run [N ...]   (default 100 1000)
Subsets (e.g. for a long N): BENCH_SCENARIOS=first_run,rerun,floor BENCH_CONCURRENCY=1.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
JWT = "bench-token"
TABLES_PER_BUCKET = int(os.environ.get("BENCH_TABLES_PER_BUCKET", "1000"))
"""moto answers each ListObjectsV2 by scanning every key of the bucket (real S3 does not), so
a lake larger than this is spread over several buckets, one source each."""


def scenario(kind: str, config: str, om_url: str) -> dict[str, Any]:
    """Runs in a child process; prints one JSON line."""
    import om_ingest  # noqa: F401  (warnings filter)

    started = time.perf_counter()
    if kind == "floor":
        from om_ingest.config import load_config
        from om_ingest.engine.compare import as_json
        from om_ingest.entities import handler_for
        from om_ingest.openmetadata import OMClient
        from om_ingest.planning import parent_fqn_of
        from om_ingest.sandbox.testing import make_sdk_client
        from om_ingest.sources import DiscoveredEntity, get_source

        loaded = load_config(config)
        sdk = make_sdk_client(om_url, JWT)
        from metadata.generated.schema.api.data.createDatabase import CreateDatabaseRequest
        from metadata.generated.schema.api.data.createDatabaseSchema import (
            CreateDatabaseSchemaRequest,
        )
        from metadata.generated.schema.api.services.createDatabaseService import (
            CreateDatabaseServiceRequest,
        )

        for model, body in (
            (CreateDatabaseServiceRequest, {"name": "bench", "serviceType": "Datalake"}),
            (CreateDatabaseRequest, {"name": "lake", "service": "bench"}),
            (CreateDatabaseSchemaRequest, {"name": "tables", "database": "bench.lake"}),
        ):
            sdk.create_or_update(model.model_validate(body))
        count = 0
        # OM rejects extension keys it has no custom property for: define them once, as
        # anyone writing Hudi facts to a real OM must (here with om-ingest's helper).
        properties = OMClient(sdk, om_url)
        for template, source_config in zip(
            loaded.config.entities, loaded.config.sources, strict=True
        ):
            source = get_source(source_config)
            handler = handler_for(template.type)
            for item in source.discover_entities(template):
                if isinstance(item, DiscoveredEntity):
                    request = handler.build_request(item.entity, parent_fqn_of(item.entity))
                    extension = as_json(request).get("extension")
                    if extension:
                        properties.ensure_custom_properties(handler.entity_class, extension)
                    sdk.create_or_update(request)
                    count += 1
        outcome: dict[str, Any] = {"tables": count}
    else:
        from flows.prefect_api import start_ephemeral_api

        booting = start_ephemeral_api()  # as `om-ingest ingest` does
        from flows.ingest import ingest

        if booting is not None:
            booting.join()

        summary = ingest(config, dry_run=kind == "dry_run")
        outcome = {"outcomes": summary["outcomes"], "api_calls": summary["api_calls"]}
    outcome["seconds"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome["peak_rss_mb"] = usage.ru_maxrss / 1024
    outcome["cpu_s"] = usage.ru_utime + usage.ru_stime
    return outcome


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(
    kind: str, config: Path, sandbox: Any, moto_pid: int, env: dict[str, str]
) -> dict[str, Any]:
    sandbox.clear_requests()
    before = cpu_seconds(sandbox.pid), cpu_seconds(moto_pid)
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--scenario", kind, str(config), sandbox.url],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=7200,
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["om_cpu_s"] = cpu_seconds(sandbox.pid) - before[0]
    result["s3_cpu_s"] = cpu_seconds(moto_pid) - before[1]
    requests = sandbox.requests()
    result["om_calls"] = len(requests)
    result["om_writes"] = len(
        [r for r in requests if r["method"] in {"PUT", "POST", "PATCH", "DELETE"}]
    )
    return result


def bench(n: int, workdir: Path) -> list[dict[str, Any]]:
    from om_ingest.sandbox import SandboxServer
    from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
    from om_ingest.testing.moto_s3 import MotoS3Server

    rows = []
    with MotoS3Server() as moto:
        client = moto.s3_client()
        started = time.perf_counter()
        buckets = []
        for first in range(0, n, TABLES_PER_BUCKET):
            bucket = f"bench-{first // TABLES_PER_BUCKET}"
            client.create_bucket(Bucket=bucket)
            count = min(TABLES_PER_BUCKET, n - first)
            write_synthetic_lake(
                LakeTarget.s3(client, bucket), "tables", count, 30, rows_per_table=5, first=first
            )
            buckets.append(bucket)
        print(f"N={n}: lake written in {time.perf_counter() - started:.0f}s", flush=True)
        env = {
            **os.environ,
            "PREFECT_HOME": str(workdir / f"prefect-{n}"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore",
        }
        wanted = set(os.environ.get("BENCH_SCENARIOS", "dry_run,first_run,rerun,floor").split(","))
        levels = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8").split(",")]
        for concurrency in levels:
            config = workdir / f"bench-{n}-{concurrency}.yaml"
            with SandboxServer(JWT) as sandbox:
                config.write_text(
                    yaml.safe_dump(
                        {
                            "metadata": {"name": f"bench-{n}"},
                            "openmetadata": {"host": sandbox.host_port, "jwt_token": JWT},
                            "audit": {"output_dir": str(workdir / f"audit-{n}-{concurrency}")},
                            "execution": {"max_concurrency": concurrency},
                            "sources": [
                                {
                                    "name": bucket,
                                    "type": "s3_hudi",
                                    "properties": {
                                        "bucket": bucket,
                                        "prefix": "tables/",
                                        "endpoint_url": moto.endpoint_url,
                                        "aws_access_key_id": "testing",
                                        "aws_secret_access_key": "testing",
                                    },
                                }
                                for bucket in buckets
                            ],
                            "entities": [
                                {
                                    "type": "table",
                                    "discovery": {"source": bucket},
                                    "properties": {"database_schema": "bench.lake.tables"},
                                }
                                for bucket in buckets
                            ],
                        }
                    )
                )
                kinds = [
                    kind
                    for kind in ("dry_run", "first_run", "rerun")
                    if kind in wanted and (concurrency == 1 or kind != "dry_run")
                ]
                for kind in kinds:
                    result = run_child(
                        "flow" if kind != "dry_run" else "dry_run", config, sandbox, moto.pid, env
                    )
                    rows.append({"n": n, "scenario": kind, "concurrency": concurrency, **result})
                    print(rows[-1], flush=True)
            if concurrency == 1 and "floor" in wanted:
                with SandboxServer(JWT) as sandbox:
                    result = run_child("floor", config, sandbox, moto.pid, env)
                    rows.append({"n": n, "scenario": "floor", "concurrency": 1, **result})
                    print(rows[-1], flush=True)
    return rows


RESULTS = ROOT / "benchmarks" / "results.md"
ROWS = ROOT / "benchmarks" / "results.json"
START, END = "<!-- measured: start (written by make bench) -->", "<!-- measured: end -->"


def write_results(rows: list[dict[str, Any]]) -> None:
    """Merge `rows` into results.json (a new measurement replaces the same N/scenario/
    concurrency) and rewrite the table between the markers of results.md, keeping the text
    around it."""
    key = ("n", "scenario", "concurrency")
    merged = {tuple(r[k] for k in key): r for r in _load_rows()}
    for row in rows:
        merged[tuple(row[k] for k in key)] = {**row, "measured": time.strftime("%Y-%m-%d")}
    ordered = sorted(merged.values(), key=lambda r: (r["n"], r["concurrency"], r["scenario"]))
    ROWS.write_text(json.dumps(ordered, indent=1) + "\n")
    floors = {r["n"]: r["seconds"] for r in ordered if r["scenario"] == "floor"}
    lines = [
        START,
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"om-ingest {version('om-ingest')}, Prefect {version('prefect')}, openmetadata-ingestion "
        f"{version('openmetadata-ingestion')}, hudi {version('hudi')}, moto {version('moto')}. "
        "OM = the om-ingest API sandbox; S3 = moto, both on loopback. Each scenario is its own "
        "process (peak RSS is per scenario; it includes importing the OM SDK, ~8-15 s).",
        "",
        "CPU s: the scenario process / the OM sandbox / moto (the ephemeral Prefect server's "
        "own CPU is not counted).",
        "",
        "| N | scenario | concurrency | wall s | tables/s | peak RSS MB | CPU s | OM calls/table | OM writes | vs floor | measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ordered:
        ratio = f"{r['seconds'] / floors[r['n']]:.2f}x" if r["n"] in floors else ""
        lines.append(
            f"| {r['n']} | {r['scenario']} | {r['concurrency']} | {r['seconds']:.1f} | "
            f"{r['n'] / r['seconds']:.1f} | {r['peak_rss_mb']:.0f} | {_cpu(r)} | "
            f"{r['om_calls'] / r['n']:.2f} | "
            f"{r['om_writes']} | {ratio} | {r.get('measured', '')} |"
        )
    lines.append(END)
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(head + "\n".join(lines) + tail)


def _cpu(row: dict[str, Any]) -> str:
    if "cpu_s" not in row:
        return ""
    return f"{row['cpu_s']:.0f} / {row['om_cpu_s']:.0f} / {row['s3_cpu_s']:.0f}"


def _load_rows() -> list[dict[str, Any]]:
    try:
        rows: list[dict[str, Any]] = json.loads(ROWS.read_text())
    except FileNotFoundError:
        return []
    return rows


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--scenario":
        print(json.dumps(scenario(argv[1], argv[2], argv[3])))
        return
    sizes = [int(a) for a in argv] or [100, 1000]
    workdir = Path(tempfile.mkdtemp(prefix="om-ingest-bench-"))
    rows: list[dict[str, Any]] = []
    for n in sizes:
        rows += bench(n, workdir)
        write_results(rows)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
