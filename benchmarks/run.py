"""`make bench`: om-ingest's flow against raw-SDK floors on a synthetic Hudi lake.

For each N (tables, 30 columns) and lake — `fs`, a directory read through the source's `path:`,
or `moto`, an S3 lake (at most BENCH_TABLES_PER_BUCKET = 1,000 tables per bucket, one source
each) — and the OM API sandbox (a child process on 127.0.0.1); each scenario runs in its own
process so peak RSS is its own. Scenarios: dry_run, first_run and rerun (no change) of the
`ingest` flow, sequential and with `execution.max_concurrency`; the floors (benchmarks/floors.py,
no Prefect, no om-ingest code): floor_a, one `create_or_update` per table, and floor_b,
`bulk_create_or_update` in batches of 100. With PREFECT_API_URL set, the flow scenarios run
against that Prefect server (as deployments do) instead of the ephemeral API.
Results: benchmarks/results.md.
Usage: python -m benchmarks.run [N ...]   (default 100 1000)
Subsets: BENCH_LAKES=fs,moto BENCH_SCENARIOS=first_run,rerun,floor_a,floor_b BENCH_CONCURRENCY=1
BENCH_BULK_SIZE=100 (the flow's execution.bulk_size).
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
from contextlib import ExitStack
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
    if kind in ("floor_a", "floor_b"):
        import metadata.ingestion.ometa.ometa_api  # noqa: F401  (the fixed SDK import)

        from benchmarks.floors import floor_from_config

        body = yaml.safe_load(Path(config).read_text())
        ready = time.perf_counter()
        outcome: dict[str, Any] = {"tables": floor_from_config(kind, body, om_url, JWT)}
    else:
        from flows.prefect_api import start_ephemeral_api

        booting = start_ephemeral_api()  # as `om-ingest ingest` does
        from flows.ingest import ingest

        if booting is not None:
            booting.join()
        ready = time.perf_counter()
        summary = ingest(config, dry_run=kind == "dry_run")
        outcome = {"outcomes": summary["outcomes"], "api_calls": summary["api_calls"]}
    outcome["seconds"] = time.perf_counter() - started
    outcome["startup_s"] = ready - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome["peak_rss_mb"] = usage.ru_maxrss / 1024
    outcome["cpu_s"] = usage.ru_utime + usage.ru_stime
    return outcome


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(
    kind: str, config: Path, sandbox: Any, moto_pid: int | None, env: dict[str, str]
) -> dict[str, Any]:
    sandbox.clear_requests()
    before = cpu_seconds(sandbox.pid), cpu_seconds(moto_pid) if moto_pid else 0.0
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
    result["s3_cpu_s"] = cpu_seconds(moto_pid) - before[1] if moto_pid else 0.0
    result["om_rss_mb"] = peak_rss_mb(sandbox.pid)
    result["s3_rss_mb"] = peak_rss_mb(moto_pid) if moto_pid else 0.0
    requests = sandbox.requests()
    result["om_calls"] = len(requests)
    result["om_writes"] = len(
        [r for r in requests if r["method"] in {"PUT", "POST", "PATCH", "DELETE"}]
    )
    return result


def bench(n: int, workdir: Path, lake: str) -> list[dict[str, Any]]:
    from om_ingest.testing.lake_writer import LakeTarget, write_synthetic_lake
    from om_ingest.testing.moto_s3 import MotoS3Server

    with ExitStack() as stack:
        started = time.perf_counter()
        moto: Any = None
        sources: list[dict[str, Any]] = []
        if lake == "fs":
            root = workdir / f"lake-{n}"
            write_synthetic_lake(LakeTarget.local(root), "tables", n, 30, rows_per_table=5)
            sources.append({"name": "lake", "type": "s3_hudi",
                            "properties": {"path": str(root), "prefix": "tables/"}})  # fmt: skip
        else:
            moto = stack.enter_context(MotoS3Server())
            client = moto.s3_client()
            for first in range(0, n, TABLES_PER_BUCKET):
                bucket = f"bench-{first // TABLES_PER_BUCKET}"
                client.create_bucket(Bucket=bucket)
                count = min(TABLES_PER_BUCKET, n - first)
                write_synthetic_lake(
                    LakeTarget.s3(client, bucket), "tables", count, 30, rows_per_table=5,
                    first=first,
                )  # fmt: skip
                sources.append(
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
                )
        print(f"N={n} {lake}: lake written in {time.perf_counter() - started:.0f}s", flush=True)
        return _scenarios(n, workdir, lake, sources, moto.pid if moto else None)


def _scenarios(
    n: int, workdir: Path, lake: str, sources: list[dict[str, Any]], moto_pid: int | None
) -> list[dict[str, Any]]:
    from om_ingest.sandbox import SandboxServer

    rows = []
    env = {
        **os.environ,
        "PREFECT_HOME": str(workdir / f"prefect-{n}-{lake}"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",
    }
    wanted = set(
        os.environ.get("BENCH_SCENARIOS", "dry_run,first_run,rerun,floor_a,floor_b").split(",")
    )
    levels = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8").split(",")]
    bulk_size = int(os.environ.get("BENCH_BULK_SIZE", "100"))
    base = {"n": n, "lake": lake, "bulk_size": bulk_size}
    for concurrency in levels:
        config = workdir / f"bench-{n}-{lake}-{concurrency}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "metadata": {"name": f"bench-{n}"},
                    "openmetadata": {"host": "${OM_HOST}", "jwt_token": JWT},
                    "audit": {"output_dir": str(workdir / f"audit-{n}-{lake}-{concurrency}")},
                    "execution": {"max_concurrency": concurrency, "bulk_size": bulk_size},
                    "sources": sources,
                    "entities": [
                        {
                            "type": "table",
                            "discovery": {"source": source["name"]},
                            "properties": {"database_schema": "bench.lake.tables"},
                        }
                        for source in sources
                    ],
                }
            )
        )
        kinds = [
            kind
            for kind in ("dry_run", "first_run", "rerun")
            if kind in wanted and (concurrency == 1 or kind != "dry_run")
        ]
        if kinds:
            with SandboxServer(JWT) as sandbox:
                child_env = {**env, "OM_HOST": sandbox.host_port}
                for kind in kinds:
                    result = run_child(
                        "flow" if kind != "dry_run" else "dry_run",
                        config,
                        sandbox,
                        moto_pid,
                        child_env,
                    )
                    rows.append({**base, "scenario": kind, "concurrency": concurrency, **result})
                    print(rows[-1], flush=True)
        if concurrency != 1:
            continue
        for floor in ("floor_a", "floor_b"):
            if floor not in wanted:
                continue
            with SandboxServer(JWT) as sandbox:
                result = run_child(floor, config, sandbox, moto_pid, env)
                rows.append({**base, "scenario": floor, "concurrency": 1, **result})
                print(rows[-1], flush=True)
    return rows


RESULTS = ROOT / "benchmarks" / "results.md"
ROWS = ROOT / "benchmarks" / "results.json"
START, END = "<!-- measured: start (written by make bench) -->", "<!-- measured: end -->"


def write_results(rows: list[dict[str, Any]]) -> None:
    """Merge `rows` into results.json (a new measurement replaces the same N / lake / scenario /
    concurrency; rows from before lakes were named are moto's) and rewrite the table between
    the markers of results.md, keeping the text around it."""
    key = ("n", "lake", "scenario", "concurrency")
    merged = {_key(r, key): r for r in _load_rows()}
    for row in rows:
        merged[_key(row, key)] = {**row, "measured": time.strftime("%Y-%m-%d")}
    ordered = sorted(
        merged.values(),
        key=lambda r: (r["n"], r.get("lake", "moto"), r["concurrency"], r["scenario"]),
    )
    ROWS.write_text(json.dumps(ordered, indent=1) + "\n")
    floors = {
        (r["n"], r.get("lake", "moto")): r["seconds"] for r in ordered if r["scenario"] == "floor_b"
    }
    lines = [
        START,
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"om-ingest {version('om-ingest')}, Prefect {version('prefect')}, openmetadata-ingestion "
        f"{version('openmetadata-ingestion')}, hudi {version('hudi')}, moto {version('moto')}. "
        "OM = the om-ingest API sandbox; S3 = moto (lake `moto`) or a directory read through "
        "`path:` (lake `fs`). Each scenario is its own process.",
        "",
        "tables/s after start-up excludes the scenario's fixed start (SDK import, Prefect's "
        "ephemeral API). CPU s and peak RSS MB: the scenario process (with the ephemeral "
        "Prefect API in it) / the OM sandbox / moto. `floor` (before floors were split) is "
        "floor (a) with om-ingest's discovery; vs floor (b) = wall time / floor_b's.",
        "",
        "| N | lake | scenario | conc. | bulk | wall s | start s | tables/s after start | "
        "peak RSS MB | CPU s | OM calls/table | OM writes | vs floor (b) | measured |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ordered:
        lake = r.get("lake", "moto")
        floor = floors.get((r["n"], lake))
        ratio = f"{r['seconds'] / floor:.2f}x" if floor else ""
        startup = r.get("startup_s")
        rate = r["n"] / (r["seconds"] - startup) if startup is not None else r["n"] / r["seconds"]
        lines.append(
            f"| {r['n']} | {lake} | {r['scenario']} | {r['concurrency']} | "
            f"{r.get('bulk_size', 1)} | {r['seconds']:.1f} | "
            f"{'' if startup is None else f'{startup:.1f}'} | {rate:.1f} | {_rss(r)} | "
            f"{_cpu(r)} | {r['om_calls'] / r['n']:.2f} | {r['om_writes']} | {ratio} | "
            f"{r.get('measured', '')} |"
        )
    lines.append(END)
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{START}\n{END}\n"
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    RESULTS.write_text(head + "\n".join(lines) + tail)


def _key(row: dict[str, Any], key: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row.get(k, "moto") if k == "lake" else row[k] for k in key)


def _rss(row: dict[str, Any]) -> str:
    if "om_rss_mb" not in row:
        return f"{row['peak_rss_mb']:.0f}"
    return f"{row['peak_rss_mb']:.0f} / {row['om_rss_mb']:.0f} / {row['s3_rss_mb']:.0f}"


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
    lakes = os.environ.get("BENCH_LAKES", "fs,moto").split(",")
    workdir = Path(tempfile.mkdtemp(prefix="om-ingest-bench-"))
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for lake in lakes:
            rows += bench(n, workdir, lake)
            write_results(rows)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
