"""`make bench`: om-ingest's flow against raw-SDK floors on a synthetic Hudi lake.

For each N (tables, 30 columns) and lake — `fs`, a directory read through the source's `path:`,
or `moto`, an S3 lake (at most BENCH_TABLES_PER_BUCKET = 1,000 tables per bucket, one source
each) — and the OM API sandbox (a child process on 127.0.0.1); each scenario runs in its own
process so peak RSS is its own. Scenarios: dry_run, first_run and rerun (no change) of the
`ingest` flow, sequential and with `execution.max_concurrency`, each against Prefect's ephemeral
API (`ephemeral`, started by the flow's process as `om-ingest ingest` does) and against a
running `prefect server start` the bench starts (`server`, as deployments run); the floors
(benchmarks/floors.py, no Prefect, no om-ingest code): floor_a, one `create_or_update` per
table, and floor_b, `bulk_create_or_update` in batches of 100. CPU and peak RSS are measured
per scenario for the flow's process, the Prefect server, the OM sandbox and moto
(benchmarks/processes.py). Results: benchmarks/results.md (rows merged into results.json).

Usage: python -m benchmarks.run [N ...]   (default 100 1000)
Environment (each a comma-separated subset; defaults in brackets):
  BENCH_LAKES=fs,moto  BENCH_SCENARIOS=dry_run,first_run,rerun,floor_a,floor_b
  BENCH_PREFECT=ephemeral,server  BENCH_CONCURRENCY=1,8   (a PREFECT_API_URL set by the caller
                        is ignored: `server` is a `prefect server start` of the bench's own)
  BENCH_BULK_SIZE=100   the flow's execution.bulk_size (1 = one PUT per table)
  BENCH_REPEAT=1        runs per scenario, each from a fresh sandbox; the row is the median
  BENCH_PROFILE=1       flow scenarios under py-spy (PATH or PY_SPY): "where the time goes"
                        tables in benchmarks/profiles/; rows are then not recorded
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from benchmarks.processes import ServerMeter, cpu_seconds, peak_rss_mb
from benchmarks.results import FLOOR_BULK, RESULTS, median_row, write_results
from benchmarks.where_time_goes import profiled, py_spy

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "benchmarks" / "profiles"
JWT = "bench-token"
SCENARIOS = ("dry_run", "first_run", "rerun", "floor_a", "floor_b")
PREFECTS = ("ephemeral", "server")
TABLES_PER_BUCKET = int(os.environ.get("BENCH_TABLES_PER_BUCKET", "1000"))
"""moto answers each ListObjectsV2 by scanning every key of the bucket (real S3 does not), so
a lake larger than this is spread over several buckets, one source each."""


def scenario(kind: str, config: str, om_url: str, audit_dir: str) -> dict[str, Any]:
    """Runs in a child process (its result goes to a file: py-spy may share its stdout)."""
    import om_ingest  # noqa: F401  (warnings filter)

    started = time.perf_counter()
    if kind in ("floor_a", "floor_b"):
        import metadata.ingestion.ometa.ometa_api  # noqa: F401  (the fixed SDK import)

        from benchmarks.floors import floor_from_config

        body = yaml.safe_load(Path(config).read_text())
        ready, ready_cpu = time.perf_counter(), time.process_time()
        outcome: dict[str, Any] = {"tables": floor_from_config(kind, body, om_url, JWT)}
    else:
        from flows.prefect_api import start_ephemeral_api

        booting = start_ephemeral_api()  # as `om-ingest ingest` does
        from flows.ingest import ingest

        if booting is not None:
            booting.join()
        imported = time.perf_counter()
        running: list[tuple[float, float]] = []
        # Start-up ends when the flow enters Running: the first table could start then.
        flow = ingest.with_options(
            on_running=[lambda *_: running.append((time.perf_counter(), time.process_time()))]
        )
        summary = flow(config, dry_run=kind == "dry_run", audit_dir=audit_dir)
        ready, ready_cpu = running[0]
        outcome = {
            "outcomes": summary["outcomes"],
            "api_calls": summary["api_calls"],
            "import_s": imported - started,
            **ephemeral_api_usage(),
        }
    outcome["seconds"] = time.perf_counter() - started
    outcome["startup_s"] = ready - started
    outcome["after_start_s"] = outcome["seconds"] - outcome["startup_s"]
    outcome["cpu_after_start_s"] = time.process_time() - ready_cpu
    usage = resource.getrusage(resource.RUSAGE_SELF)
    outcome["peak_rss_mb"] = usage.ru_maxrss / 1024
    outcome["cpu_s"] = usage.ru_utime + usage.ru_stime
    return outcome


def ephemeral_api_usage() -> dict[str, float]:
    """CPU and peak RSS of the ephemeral Prefect API, a subprocess of this one (read before it
    is stopped at exit); nothing with a running server."""
    if "prefect.server.api.server" not in sys.modules:
        return {}
    from prefect.server.api.server import SubprocessASGIServer

    process = SubprocessASGIServer._instances.get(None)
    server = getattr(process, "server_process", None)
    if server is None or server.poll() is not None:
        return {}
    return {"prefect_cpu_s": cpu_seconds(server.pid), "prefect_rss_mb": peak_rss_mb(server.pid)}


def run_child(
    kind: str,
    config: Path,
    audit_dir: Path,
    sandbox: Any,
    meter: ServerMeter,
    env: dict[str, str],
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run scenario `kind` in its own process; with `profile`, under py-spy (and py-spy
    attached to the servers), writing "where the time goes" to that file."""
    sandbox.clear_requests()
    result_file = audit_dir.parent / f"{audit_dir.name}-{kind}.json"
    command = [sys.executable, "-m", "benchmarks.run", "--scenario", kind, str(config),
               sandbox.url, str(audit_dir), str(result_file)]  # fmt: skip
    meter.start()
    with ExitStack() as stack:
        if profile is not None:
            command = stack.enter_context(profiled(command, meter.servers, profile))
        out = subprocess.run(
            command, env=env, capture_output=True, text=True, cwd=ROOT, timeout=7200
        )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result: dict[str, Any] = {**json.loads(result_file.read_text()), **meter.read()}
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
        servers = {"s3": moto.pid} if moto else {}
        return Scenarios(n, workdir, lake, sources, servers).run()


class Scenarios:
    """The selected scenarios of one N and lake: each flow scenario once per Prefect kind,
    each repeated BENCH_REPEAT times from a fresh OM sandbox, audit/state folder and
    PREFECT_HOME (so every first run is a first run), then folded into one row (the median)."""

    def __init__(
        self, n: int, workdir: Path, lake: str, sources: list[dict[str, Any]],
        servers: dict[str, int],
    ) -> None:  # fmt: skip
        self.n, self.workdir, self.lake, self.sources, self.servers = (
            n, workdir, lake, sources, servers,
        )  # fmt: skip
        self.env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "PYTHONWARNINGS": "ignore",
        }
        self.env.pop("PREFECT_API_URL", None)  # the Prefect kind is BENCH_PREFECT's to choose
        self.wanted = set(os.environ.get("BENCH_SCENARIOS", ",".join(SCENARIOS)).split(","))
        self.prefects = os.environ.get("BENCH_PREFECT", ",".join(PREFECTS)).split(",")
        self.levels = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1,8").split(",")]
        self.bulk_size = int(os.environ.get("BENCH_BULK_SIZE", "100"))
        self.profile = os.environ.get("BENCH_PROFILE") == "1"
        self.repeat = 1 if self.profile else int(os.environ.get("BENCH_REPEAT", "1"))
        self.label = f"{n}-{lake}-bulk{self.bulk_size}"

    def run(self) -> list[dict[str, Any]]:
        rows = []
        for concurrency in self.levels:
            config = self.config(concurrency)
            kinds = [
                kind
                for kind in ("dry_run", "first_run", "rerun")
                if kind in self.wanted and (concurrency == 1 or kind != "dry_run")
            ]
            for prefect in self.prefects if kinds else ():
                rows += self.flows(kinds, config, concurrency, prefect)
            floors = [f for f in ("floor_a", "floor_b") if f in self.wanted]
            if concurrency == 1 and floors and not self.profile:
                rows += self.floors(floors, config)
        return rows

    def config(self, concurrency: int) -> Path:
        config = self.workdir / f"bench-{self.label}-{concurrency}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "metadata": {"name": f"bench-{self.n}"},
                    "openmetadata": {"host": "${OM_HOST}", "jwt_token": JWT},
                    "audit": {"output_dir": str(self.workdir / "audit")},
                    "execution": {"max_concurrency": concurrency, "bulk_size": self.bulk_size},
                    "sources": self.sources,
                    "entities": [
                        {
                            "type": "table",
                            "discovery": {"source": source["name"]},
                            "properties": {"database_schema": "bench.lake.tables"},
                        }
                        for source in self.sources
                    ],
                }
            )
        )
        return config

    def flows(
        self, kinds: list[str], config: Path, concurrency: int, prefect: str
    ) -> list[dict[str, Any]]:
        from om_ingest.sandbox import SandboxServer
        from om_ingest.testing.servers import prefect_server

        base = {"n": self.n, "lake": self.lake, "bulk_size": self.bulk_size,
                "concurrency": concurrency, "prefect": prefect}  # fmt: skip
        runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
        with ExitStack() as stack:
            servers, env = dict(self.servers), dict(self.env)
            if prefect == "server":
                home = self.workdir / f"prefect-server-{self.label}-{concurrency}"
                server = stack.enter_context(prefect_server(home))
                servers["prefect"], env["PREFECT_API_URL"] = server.pid, server.api_url
            for rep in range(self.repeat):
                run = f"{self.label}-{concurrency}-{prefect}-{rep}"
                with SandboxServer(JWT) as sandbox:
                    meter = ServerMeter({**servers, "om": sandbox.pid})
                    child_env = {**env, "OM_HOST": sandbox.host_port,
                                 "PREFECT_HOME": str(self.workdir / f"prefect-{run}")}  # fmt: skip
                    for kind in kinds:
                        profile = (
                            PROFILES / f"{self.label}-{concurrency}-{prefect}-{kind}.md"
                            if self.profile
                            else None
                        )
                        result = run_child(
                            kind if kind == "dry_run" else "flow", config,
                            self.workdir / f"audit-{run}", sandbox, meter, child_env, profile,
                        )  # fmt: skip
                        runs[kind].append(result)
                        print({**base, "scenario": kind, "rep": rep, **result}, flush=True)
        return [{**base, "scenario": kind, **median_row(runs[kind])} for kind in kinds]

    def floors(self, floors: list[str], config: Path) -> list[dict[str, Any]]:
        from om_ingest.sandbox import SandboxServer

        rows = []
        for floor in floors:
            runs = []
            for rep in range(self.repeat):
                with SandboxServer(JWT) as sandbox:
                    meter = ServerMeter({**self.servers, "om": sandbox.pid})
                    audit = self.workdir / f"audit-{self.label}-{floor}-{rep}"
                    runs.append(run_child(floor, config, audit, sandbox, meter, self.env))
                print({"n": self.n, "lake": self.lake, "scenario": floor, **runs[-1]}, flush=True)
            rows.append(
                {"n": self.n, "lake": self.lake, "scenario": floor, "concurrency": 1,
                 "bulk_size": FLOOR_BULK[floor], **median_row(runs)}
            )  # fmt: skip
        return rows


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--scenario":
        kind, config, om_url, audit_dir, result_file = argv[1:6]
        Path(result_file).write_text(json.dumps(scenario(kind, config, om_url, audit_dir)))
        return
    sizes = [int(a) for a in argv] or [100, 1000]
    lakes = os.environ.get("BENCH_LAKES", "fs,moto").split(",")
    if os.environ.get("BENCH_PROFILE") == "1":
        py_spy()  # say it is missing before the lake is written
    unknown = set(os.environ.get("BENCH_PREFECT", "ephemeral").split(",")) - set(PREFECTS)
    if unknown:
        sys.exit(f"BENCH_PREFECT: {', '.join(sorted(unknown))} is not one of {', '.join(PREFECTS)}")
    workdir = Path(tempfile.mkdtemp(prefix="om-ingest-bench-"))
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for lake in lakes:
            rows += bench(n, workdir, lake)
            if os.environ.get("BENCH_PROFILE") == "1":
                print(f"profiles (rows not recorded: py-spy shares the cores): {PROFILES}")
                continue
            write_results(rows)
    print(RESULTS.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])
