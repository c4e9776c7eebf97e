"""Screenshot of one real `om-ingest` flow run in the Prefect UI, for the docs.

Starts `prefect server start` (throw-away home) and the OM API sandbox on 127.0.0.1, runs the
`ingest` flow on configs/examples/simple_database.yaml against them, then has headless
Chromium (Debian's `chromium`) capture the flow-run page: the parent flow, one subflow per
entity, and the artifacts tab link. Everything started is stopped by PID.

Usage: python docs/screenshot.py [OUTPUT.png]   (default docs/prefect-flow-run.png)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
JWT = "screenshot-token"
PREFECT = str(Path(sys.executable).parent / "prefect")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--hide-scrollbars",
    "--window-size=1600,1100",
    "--virtual-time-budget=20000",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("prefect server exited")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become healthy")


def main(output: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("chromium not found: apt-get install chromium")
    home = Path(tempfile.mkdtemp(prefix="om-ingest-shot-"))
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PYTHONWARNINGS": "ignore",
    }
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_healthy(f"{api}/health", server)
        os.environ.update(env)
        from om_ingest.sandbox import ThreadedSandbox

        with ThreadedSandbox(JWT) as sandbox:
            os.environ.update({"OM_HOST": sandbox.host_port, "OM_JWT": JWT})
            from flows.ingest import ingest

            state = ingest(
                str(ROOT / "configs/examples/simple_database.yaml"),
                audit_dir=str(home / "audit"),
                return_state=True,
            )
            flow_run_id = state.state_details.flow_run_id
        page = f"http://127.0.0.1:{port}/runs/flow-run/{flow_run_id}"
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--screenshot={output}", page],
            check=True,
            capture_output=True,
            timeout=180,
        )
        print(f"{page} -> {output}")
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, sig)
            try:
                server.wait(15)
                break
            except subprocess.TimeoutExpired:
                continue
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "prefect-flow-run.png").resolve()
    )
