"""Shared fixtures: an OM API sandbox over real HTTP and Prefect's ephemeral API."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

JWT = "eyJ-test-jwt-SECRET-7f3a9c"
"""A distinctive token: tests scan every output for it. The ingestion bot's, in the sandbox."""
USER_JWT = "eyJ-user-jwt-SECRET-2b8e41"
"""A (non-bot) admin user's token: a person editing in OpenMetadata's UI."""

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

if os.environ.get("PYTEST_XDIST_WORKER"):
    # xdist starts its workers with the terminal's COLUMNS/LINES set; the CLI's console would
    # take that width once, at import, where the tests give COLUMNS per CLI call
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """One ephemeral Prefect API for the session (real API, no server process to manage)."""
    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here

    with prefect_test_harness(server_startup_timeout=120):
        yield


@contextlib.contextmanager
def running_sandbox() -> Iterator[object]:
    """A fresh, empty OM API sandbox on 127.0.0.1 (a thread of this process)."""
    from om_ingest.sandbox import ThreadedSandbox

    server = ThreadedSandbox(JWT, user_tokens=[USER_JWT])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def om_sandbox(tmp_path: Path) -> Iterator[object]:
    with running_sandbox() as server:
        yield server


@pytest.fixture()
def om_env(om_sandbox: object, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("OM_HOST", om_sandbox.host_port)  # type: ignore[attr-defined]
    monkeypatch.setenv("OM_JWT", JWT)
    return om_sandbox


SERVER_GROUPS = {
    "prefect_server": "prefect-server",
    "airflow": "airflow",
    "airflow2": "airflow2",
    "mlflow": "mlflow",
}
"""Session fixture → the xdist group of every test using it: `make test` runs the suite on
pytest-xdist workers with `--dist loadgroup`, so the tests sharing a server (and the state
they build on it, in file order) run on one worker, which starts that server once."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, group in SERVER_GROUPS.items():
            if fixture in fixtures:
                item.add_marker(pytest.mark.xdist_group(group))
                break
