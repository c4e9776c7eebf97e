"""Bytes a run read from its sources, counted where om-ingest's own clients can see them.

A run opens a `SourceReads` (`measuring()`); each source created during it keeps that meter
and adds the bytes its clients received. Only what is truly counted is reported: a source
type declares what it measures (`DataSource.reads_measured`); one that measures nothing is
reported as "not measured", never as 0 or an estimate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

NOT_MEASURED = "not measured"


class SourceReads:
    """Thread-safe byte counts by source name for one run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes: dict[str, int] = {}

    def add(self, source: str, count: int) -> None:
        with self._lock:
            self._bytes[source] = self._bytes.get(source, 0) + count

    def of(self, source: str) -> int:
        with self._lock:
            return self._bytes.get(source, 0)

    def report(self, sources: dict[str, str | None]) -> dict[str, dict[str, Any]]:
        """{source: {bytes, measured}} for `sources` (name → what its type measures, None
        when nothing): bytes is None for a source that measures nothing."""
        return {
            name: (
                {"bytes": self.of(name), "measured": measured}
                if measured
                else {"bytes": None, "measured": NOT_MEASURED}
            )
            for name, measured in sources.items()
        }


_current: ContextVar[SourceReads | None] = ContextVar("om_ingest_source_reads", default=None)


@contextmanager
def measuring() -> Iterator[SourceReads]:
    """Sources created inside count their reads into the yielded meter."""
    reads = SourceReads()
    token = _current.set(reads)
    try:
        yield reads
    finally:
        _current.reset(token)


def current_reads() -> SourceReads | None:
    return _current.get()


class CountingFile:
    """A readable, seekable file that counts the bytes read through it (pyarrow reads a
    Python file object through `read`, `seek` and `tell`)."""

    def __init__(self, inner: Any, count: Any) -> None:
        self._inner = inner
        self._count = count
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data: bytes = (
            self._inner.read(size) if size is not None and size >= 0 else self._inner.read()
        )
        self._count(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        position: int = self._inner.seek(offset, whence)
        return position

    def tell(self) -> int:
        position: int = self._inner.tell()
        return position

    def size(self) -> int:
        size: int = self._inner.size()
        return size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self._inner.close()


HTTP_BODIES = (
    "HTTP response bodies as received (compressed size when the server compresses; a chunked "
    "response's decoded body)"
)
"""What an HTTP-measured source counts (`count_requests_session`, `count_httpx_client`)."""


def requests_hook(count: Any) -> Any:
    """A `requests` response hook passing each answer's body bytes to `count`: urllib3's
    `tell()` (bytes pulled off the wire, before decompression) once the body is read, or the
    decoded body of a chunked answer, whose reads urllib3 does not tally."""

    def received(response: Any, *_: Any, **__: Any) -> None:
        body = response.content  # read now, as a non-streamed request does right after hooks
        raw = getattr(response.raw, "tell", None)
        wire = raw() if raw is not None else 0
        count(wire or len(body or b""))

    return received


def count_requests_session(session: Any, count: Any) -> None:
    """Count the body bytes of every answer `session` (a `requests.Session`) receives."""
    session.hooks["response"].append(requests_hook(count))


def count_httpx_client(client: Any, count: Any) -> None:
    """Count the bytes every answer `client` (an httpx `Client`) receives: httpx's own
    `num_bytes_downloaded` (raw, before decompression) once the body is read."""

    def received(response: Any) -> None:
        response.read()
        count(response.num_bytes_downloaded)

    client.event_hooks["response"].append(received)
