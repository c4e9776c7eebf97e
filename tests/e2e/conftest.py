"""A real Prefect server for the e2e module(s) (one per session: it starts in 10-60 s), the
deployments of prefect.yaml on its process pool, and helpers to start workers and read its
API. Every process started here is stopped by PID (its whole process group), even on failure."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "om-ingest-process"


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


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("prefect")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PYTHONWARNINGS": "ignore",
    }
    log = (home / "server.log").open("wb")
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
                home / "server.log"
            ).read_text()[-3000:]
            time.sleep(0.5)
        yield env
    finally:
        stop_group(server)


@pytest.fixture(scope="session")
def deployed(prefect_server: dict[str, str]) -> str:
    """The process pool and every deployment of prefect.yaml; the `deploy` output."""
    prefect(prefect_server, "work-pool", "create", POOL, "--type", "process")
    return prefect(prefect_server, "--no-prompt", "deploy", "--all")


def prefect(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [PREFECT, *args], env=env, cwd=ROOT, capture_output=True, timeout=timeout
    )
    output = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, output[-3000:]
    return output


@contextlib.contextmanager
def workers(
    env: dict[str, str], logs: Path, *names: str, limit: int | None = None
) -> Iterator[None]:
    """Process workers of the pool, named, each logging to `logs/<name>.log`; stopped on exit."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            extra = ["--limit", str(limit)] if limit else []
            started.append(
                subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", POOL, "--name", name, *extra],
                    env=env,
                    cwd=ROOT,
                    stdout=(logs / f"{name}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield
    finally:
        for process in started:
            stop_group(process)


def read_api(env: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = requests.post(f"{env['PREFECT_API_URL']}/{path}", json=body, timeout=30)
    response.raise_for_status()
    return response.json()
