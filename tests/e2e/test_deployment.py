"""`prefect deployment run` end to end: a real Prefect server, a process worker, the
deployments of prefect.yaml, the OM API sandbox and a moto S3 lake. Every process started
here is stopped by PID (its whole process group) in teardown, even on failure."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests

from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.lake_writer import LakeTarget, write_table
from om_ingest.testing.moto_s3 import MotoS3Server
from tests.conftest import JWT

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL (a Prefect worker needs the second signal)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(15)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture()
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PYTHONWARNINGS": "ignore",
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).ok:
                    break
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text()[-3000:]
            time.sleep(0.5)
        yield env
    finally:
        stop_group(server)


def prefect(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [PREFECT, *args], env=env, cwd=ROOT, capture_output=True, timeout=timeout
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-3000:]
    return output


def test_deployment_runs_dry_then_real(
    prefect_server: dict[str, str], om_sandbox: Any, tmp_path: Path
) -> None:
    with MotoS3Server() as moto:
        client = moto.s3_client()
        client.create_bucket(Bucket="e2e-lake")
        table = pa.table({"id": pa.array([1, 2], pa.int64()), "name": pa.array(["a", "b"])})
        for name in ("orders", "customers"):
            write_table(
                LakeTarget.s3(client, "e2e-lake"), f"warehouse/{name}", table, record_key="id"
            )
        env = {
            **prefect_server,
            "OM_HOST": om_sandbox.host_port,
            "OM_JWT": JWT,
            "LAKE_BUCKET": "e2e-lake",
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        prefect(env, "work-pool", "create", "om-ingest-process", "--type", "process")
        deployed = prefect(env, "--no-prompt", "deploy", "--all")
        assert "om-ingest/s3-hudi" in deployed and "om-ingest/database-yaml" in deployed
        worker_log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "om-ingest-process"],
            env=env,
            cwd=ROOT,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            audit = str(tmp_path / "audit")
            for dry_run in ("true", "false"):
                out = prefect(
                    env,
                    "deployment",
                    "run",
                    "om-ingest/s3-hudi",
                    "-p",
                    f"dry_run={dry_run}",
                    "-p",
                    f"audit_dir={audit}",
                    "--watch",
                    "--watch-timeout",
                    "400",
                    timeout=460,
                )
                assert "Completed" in out, (
                    out[-2000:] + (tmp_path / "worker.log").read_text()[-3000:]
                )
        finally:
            stop_group(worker)

    runs = read_api(
        env,
        "flow_runs/filter",
        {"sort": "START_TIME_ASC", "flow_runs": {"parent_task_run_id": {"is_null_": True}}},
    )
    parents = [r for r in runs if r["deployment_id"]]
    assert [r["state"]["type"] for r in parents] == ["COMPLETED", "COMPLETED"]
    assert [r["parameters"]["dry_run"] for r in parents] == [True, False]
    assert all(
        r["parameters"]["config_path"] == "configs/examples/s3_hudi_simple.yaml" for r in parents
    )
    artifacts = {a["key"]: a for a in read_api(env, "artifacts/filter", {})}
    assert "dry-run-s3-hudi-simple" in artifacts and "audit-s3-hudi-simple" in artifacts
    assert (
        "| CREATE | table | `lake_svc.warehouse.hudi.orders`"
        in artifacts["dry-run-s3-hudi-simple"]["data"]
    )
    audit_rows = json.loads(artifacts["audit-s3-hudi-simple"]["data"])
    assert {r["fqn"] for r in audit_rows} >= {
        "lake_svc.warehouse.hudi.orders",
        "lake_svc.warehouse.hudi.customers",
    }
    assert JWT not in json.dumps(list(artifacts.values()))

    from metadata.generated.schema.entity.data.table import Table

    sdk = make_sdk_client(om_sandbox.url, JWT)
    assert sdk.get_by_name(Table, "lake_svc.warehouse.hudi.orders") is not None
    assert sdk.get_by_name(Table, "lake_svc.warehouse.hudi.customers") is not None


def read_api(env: dict[str, str], path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = requests.post(f"{env['PREFECT_API_URL']}/{path}", json=body, timeout=30)
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()
    return data
