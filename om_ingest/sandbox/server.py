"""Run the sandbox: in this process (`serve`) or as a child process (`SandboxServer`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from om_ingest.sandbox.faults import FaultConfig
from om_ingest.sandbox.request_log import WRITE_METHODS

READY_PREFIX = "OM sandbox listening on "


def serve(
    host: str,
    port: int,
    jwt_token: str,
    data_dir: str | None,
    faults: FaultConfig,
    user_tokens: Sequence[str] = (),
) -> None:
    """Serve until SIGTERM/SIGINT; print the URL once the socket is bound."""
    import socket

    import uvicorn

    from om_ingest.sandbox.app import create_app
    from om_ingest.sandbox.store import EntityStore

    app = create_app(EntityStore(data_dir), jwt_token, faults, user_tokens)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # accept connections from the moment the URL is printed
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    print(f"{READY_PREFIX}http://{host}:{bound}/api", flush=True)
    server.run(sockets=[sock])


class SandboxServer:
    """The sandbox as a child process, stopped by PID (SIGTERM, then SIGKILL)."""

    def __init__(
        self,
        jwt_token: str,
        data_dir: str | os.PathLike[str] | None = None,
        fail_rate: float = 0.0,
        latency_ms: int = 0,
        fail_status: int = 503,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        user_tokens: Sequence[str] = (),
    ) -> None:
        self.jwt_token = jwt_token
        self.user_tokens = list(user_tokens)
        self.args = ["--host", host, "--port", str(port)]
        if data_dir is not None:
            self.args += ["--data-dir", str(data_dir)]
        if fail_rate:
            self.args += ["--fail-rate", str(fail_rate), "--fail-status", str(fail_status)]
        if latency_ms:
            self.args += ["--latency-ms", str(latency_ms)]
        if seed is not None:
            self.args += ["--seed", str(seed)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def host_port(self) -> str:
        return self.url.removesuffix("/api")

    def start(self, timeout: float = 180.0) -> SandboxServer:
        env = {**os.environ, "OM_SANDBOX_JWT": self.jwt_token}
        # stderr goes to a file: an unread pipe fills up and blocks a long-running server.
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in stop)
        users = [arg for token in self.user_tokens for arg in ("--user-token", token)]
        process = self.process = subprocess.Popen(
            [sys.executable, "-m", "om_ingest.sandbox", *self.args, *users],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        line: list[str] = []
        stdout = process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(READY_PREFIX):
            self._stderr.seek(0)
            stderr = self._stderr.read()
            self.stop()
            raise RuntimeError(f"OM sandbox did not start: {stderr[-2000:]}")
        self.url = line[0][len(READY_PREFIX) :].strip()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        self._stderr.close()

    def requests(self) -> list[dict[str, Any]]:
        response = requests.get(f"{self.host_port}/sandbox/requests", timeout=10)
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries

    def clear_requests(self) -> None:
        requests.delete(f"{self.host_port}/sandbox/requests", timeout=10).raise_for_status()

    def write_calls(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.requests()
            if e["method"] in WRITE_METHODS and e["path"].startswith("/api/v1/")
        ]

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def data_dir_path(value: str | None) -> Path | None:
    return Path(value) if value else None


class ThreadedSandbox:
    """The sandbox on a thread of this process: no second SDK import (~15 s), for tests."""

    def __init__(
        self,
        jwt_token: str,
        data_dir: str | os.PathLike[str] | None = None,
        faults: FaultConfig | None = None,
        host: str = "127.0.0.1",
        user_tokens: Sequence[str] = (),
    ) -> None:
        import uvicorn

        from om_ingest.sandbox.app import create_app
        from om_ingest.sandbox.store import EntityStore

        self.jwt_token = jwt_token
        self.user_tokens = list(user_tokens)
        store = EntityStore(Path(data_dir) if data_dir else None)
        self.app = create_app(store, jwt_token, faults, user_tokens)
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app, host=host, port=0, log_level="warning", access_log=False, lifespan="off"
            )
        )
        self._thread = threading.Thread(target=self._server.run, name="om-sandbox", daemon=True)
        self.host = host
        self.url = ""

    @property
    def host_port(self) -> str:
        return self.url.removesuffix("/api")

    def start(self, timeout: float = 30.0) -> ThreadedSandbox:
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("OM sandbox thread did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}/api"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.app.state.request_log.entries()
        return entries

    def clear_requests(self) -> None:
        self.app.state.request_log.clear()

    def write_calls(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.requests()
            if e["method"] in WRITE_METHODS and e["path"].startswith("/api/v1/")
        ]

    def __enter__(self) -> ThreadedSandbox:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
