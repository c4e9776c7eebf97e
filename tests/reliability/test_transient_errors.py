"""What counts as transient: only connection errors, timeouts, 429 and 5xx are retried.

A scripted HTTP server plays an OpenMetadata that misbehaves in one specific way per path
(the SDK talks to it over real HTTP); each answer is classified through `OMClient` and run
through the retry loop, which must retry the transient ones and fail the rest at once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from flows.connections import open_client
from om_ingest.config.models import OpenMetadataConfig, RetryConfig
from om_ingest.errors import OpenMetadataError, TransientOpenMetadataError
from om_ingest.openmetadata import OMClient, connect_openmetadata
from om_ingest.openmetadata.retry import Tries, backoff_seconds, call_with_retries
from om_ingest.sandbox.app import sdk_version

Answer = tuple[int, dict[str, str], bytes, float]  # status, headers, body, delay (s)

ANSWERS: dict[str, Answer] = {
    "garbage": (200, {"Content-Type": "application/json"}, b'{"id": 5, "name": []}', 0),
    "html": (200, {"Content-Type": "text/html"}, b"<html><body>login</body></html>", 0),
    "limited": (429, {"Retry-After": "2"}, b'{"code": 429, "message": "slow down"}', 0),
    "limited_until": (503, {}, b'{"code": 503, "message": "back soon"}', 0),
    "unavailable": (503, {}, b'{"code": 503, "message": "maintenance"}', 0),
    "proxy": (502, {"Content-Type": "text/plain"}, b"bad gateway", 0),
    "conflict": (409, {}, b'{"code": 409, "message": "entity conflict"}', 0),
    "slow": (200, {"Content-Type": "application/json"}, b"{}", 2.5),
}


class _Handler(BaseHTTPRequestHandler):
    calls: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/system/version"):
            self._answer(200, {}, json.dumps({"version": sdk_version()}).encode())
            return
        name = self.path.split("/name/", 1)[-1].split("?", 1)[0].split("&", 1)[0]
        _Handler.calls[name] = _Handler.calls.get(name, 0) + 1
        status, headers, body, delay = ANSWERS[name]
        if name == "limited_until":  # Retry-After as an HTTP date, 30 s from now
            headers = {"Retry-After": formatdate(time.time() + 30, usegmt=True)}
        time.sleep(delay)
        self._answer(status, headers, body)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):  # the client timed out, left
            self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture(scope="module")
def scripted() -> Iterator[OMClient]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    # The config's read timeout reaches the SDK: a 2.5 s answer times out after 1 s.
    yield open_client(OpenMetadataConfig(host=host, jwt_token="t", read_timeout_seconds=1))
    server.shutdown()


def _lookup(client: OMClient, name: str) -> Any:
    from metadata.generated.schema.entity.data.table import Table

    return client.get_by_name(Table, name)


QUICK = RetryConfig(max_attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.01)


@pytest.mark.parametrize("name", ["garbage", "html", "conflict"])
def test_non_transient_failures_fail_at_once_with_their_message(
    scripted: OMClient, name: str
) -> None:
    before = _Handler.calls.get(name, 0)
    tries = Tries()
    with pytest.raises(OpenMetadataError) as info:
        call_with_retries(lambda: _lookup(scripted, name), QUICK, name, tries)
    assert not isinstance(info.value, TransientOpenMetadataError), info.value
    assert tries.count == 1 and _Handler.calls[name] - before == 1
    message = str(info.value)
    expected = {"garbage": "validation error", "html": "JSON", "conflict": "entity conflict"}
    assert expected[name] in message, message


@pytest.mark.parametrize("name", ["limited", "unavailable", "proxy", "slow"])
def test_rate_limits_outages_and_timeouts_are_retried(scripted: OMClient, name: str) -> None:
    config = RetryConfig(max_attempts=2, backoff_seconds=0.01, max_backoff_seconds=0.01)
    before = _Handler.calls.get(name, 0)
    tries = Tries()
    if name == "limited":  # Retry-After: 2 s is honoured, so give the budget room for it
        config = config.model_copy(update={"budget_seconds": 30})
    with pytest.raises(TransientOpenMetadataError) as info:
        call_with_retries(lambda: _lookup(scripted, name), config, name, tries)
    sdk_tries = 2 if name == "slow" else 1  # the SDK's transport retries a timed-out read once
    assert tries.count == 2 and _Handler.calls[name] - before == 2 * sdk_tries
    if name == "limited":
        assert info.value.status == 429 and info.value.retry_after == 2.0
        assert "slow down" in str(info.value)
    if name == "slow":  # read_timeout_seconds=1 reached the SDK: a 2.5 s answer times out
        assert info.value.status is None and "timed out" in str(info.value).lower()


def test_the_blocks_timeouts_reach_the_sdk_too(scripted: OMClient) -> None:
    from blocks.openmetadata import OpenMetadataConnection

    OpenMetadataConnection(
        host_port=scripted.api_url, jwt_token=SecretStr("t"), read_timeout_seconds=1
    ).save("scripted-om", overwrite=True)
    client = open_client(OpenMetadataConfig(block="scripted-om"))
    tries = Tries()
    with pytest.raises(TransientOpenMetadataError, match="timed out"):
        call_with_retries(
            lambda: _lookup(client, "slow"),
            QUICK.model_copy(update={"max_attempts": 1}),
            "slow",
            tries,
        )


def test_retry_after_as_an_http_date(scripted: OMClient) -> None:
    tries = Tries()
    with pytest.raises(TransientOpenMetadataError) as info:
        call_with_retries(
            lambda: _lookup(scripted, "limited_until"), RetryConfig(budget_seconds=5), "x", tries
        )
    assert info.value.status == 503 and info.value.retry_after is not None
    assert 20 < info.value.retry_after <= 30
    assert tries.count == 1  # waiting would overrun the 5 s budget: it stopped instead


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/api"
    tries = Tries()
    with pytest.raises(TransientOpenMetadataError, match=f"cannot reach OpenMetadata at {url}"):
        call_with_retries(
            lambda: connect_openmetadata(url, SecretStr("t")), QUICK, "connect", tries
        )
    assert tries.count == 3


def test_a_budget_too_short_for_retry_after_stops_instead_of_waiting(scripted: OMClient) -> None:
    """Retry-After (2 s) longer than what is left of the budget: no pointless wait."""
    tries = Tries()
    started = time.monotonic()
    with pytest.raises(TransientOpenMetadataError):
        call_with_retries(
            lambda: _lookup(scripted, "limited"), RetryConfig(budget_seconds=1), "x", tries
        )
    assert tries.count == 1 and time.monotonic() - started < 2


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(min_value=1, max_value=30),
    backoff=st.floats(min_value=0, max_value=5),
    cap=st.floats(min_value=0, max_value=60),
    jitter=st.floats(min_value=0, max_value=1),
    retry_after=st.one_of(st.none(), st.floats(min_value=0, max_value=120)),
)
def test_backoff_is_capped_jittered_and_never_shorter_than_retry_after(
    attempt: int, backoff: float, cap: float, jitter: float, retry_after: float | None
) -> None:
    config = RetryConfig(backoff_seconds=backoff, max_backoff_seconds=cap, jitter=jitter)
    error = TransientOpenMetadataError("x", status=429, retry_after=retry_after)
    wait = backoff_seconds(config, attempt, error)
    ceiling = min(cap, backoff * 2 ** (attempt - 1))
    assert wait >= (retry_after or 0)
    assert wait <= max(ceiling, retry_after or 0) + 1e-9
    assert wait >= min(ceiling * (1 - jitter), ceiling) - 1e-9 or wait >= (retry_after or 0)
