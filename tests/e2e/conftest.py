"""A real Prefect server for the e2e module(s) (one per session: it starts in 10-60 s), the
deployments of prefect.yaml on its process pool, and helpers to start workers and read its
API. Every process started here is stopped by PID (its whole process group), even on failure."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from om_ingest.testing import servers
from om_ingest.testing.servers import stop_group

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
POOL = "om-ingest-process"


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with servers.prefect_server(tmp_path_factory.mktemp("prefect")) as server:
        yield {**server.env, "PYTHONWARNINGS": "ignore"}


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
