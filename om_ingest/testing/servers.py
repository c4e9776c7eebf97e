"""Real source servers for tests and demos, on 127.0.0.1 and free ports.

Each is a context manager that starts the server as a child in its own process group, waits
until it answers, and on exit stops that process group (never a process found by name), even
when the body raised. How each server runs on this kind of machine is in SERVERS.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    log: Path,
    timeout: float,
    what: str,
) -> None:
    """Poll `ready` until it is true; raise with the server's log tail if the process exits or
    `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited ({process.returncode}): {_tail(log)}")
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f} s: {_tail(log)}")


def stop_group(
    process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20.0
) -> None:
    """Signal the process group `process` leads; SIGKILL it if it outlives `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _tail(log: Path, size: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


# --- PostgreSQL ------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    database: str
    socket_dir: str

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg2)."""
        return (
            f"postgresql+psycopg2://{self.user}:{self.password}@{self.host}:{self.port}/"
            f"{self.database}"
        )


def postgres_bin_dir() -> Path | None:
    """Where `initdb`/`postgres` live: Debian keeps them out of PATH, per major version."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


@contextlib.contextmanager
def postgres_server(
    password: str = "om-ingest-test", database: str = "postgres", timeout: float = 60.0
) -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster: password (scram) auth over TCP on 127.0.0.1, trust on its
    private socket; run as the `postgres` user when we are root (it refuses root)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    root = Path(tempfile.mkdtemp(prefix="om-ingest-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    pwfile = root / "pw"
    pwfile.write_text(password)
    if as_user:
        shutil.chown(pwfile, "postgres")
    data, log = root / "data", root / "server.log"
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
             "-k", str(root), "-c", f"listen_addresses={HOST}", "-c", "fsync=off",
             "-c", "full_page_writes=off"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = PostgresServer(HOST, port, "postgres", password, database, str(root))
    try:
        wait_until(
            lambda: port_open(port) and _pg_ready(server), process, log, timeout, "PostgreSQL"
        )
        yield server
    finally:
        stop_group(process, signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown
        shutil.rmtree(root, ignore_errors=True)


def _pg_ready(server: PostgresServer) -> bool:
    import psycopg2

    try:
        psycopg2.connect(
            host=server.host, port=server.port, user=server.user, password=server.password,
            dbname=server.database, connect_timeout=2,
        ).close()  # fmt: skip
    except psycopg2.OperationalError:
        return False
    return True


# --- Iceberg REST catalog (stand-in) -------------------------------------------------------


@contextlib.contextmanager
def iceberg_rest_catalog(catalog: Any, token: str | None = None) -> Iterator[str]:
    """The REST catalog stand-in (`om_ingest.testing.iceberg_rest`: no real REST catalog
    server can be installed here) serving `catalog`, a pyiceberg catalog, in a thread on
    127.0.0.1 and a free port; yields its URL (pyiceberg's `uri`) and shuts the thread down
    on exit. `token`: the bearer token it requires."""
    from om_ingest.testing.iceberg_rest import IcebergRestStandIn

    standin = IcebergRestStandIn(catalog, free_port(), token)
    standin.start()
    try:
        yield standin.url
    finally:
        standin.stop()
