"""A test-side record of the HTTP answers a server sent to this process's `requests`
sessions: an independent measure to check a source's bytes read against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests.adapters


@contextmanager
def declared_bodies(monkeypatch: pytest.MonkeyPatch, base_url: str) -> Iterator[list[int]]:
    """The body size of every answer from `base_url` to any `requests` session in this
    process, recorded on `HTTPAdapter.send` (under which every session's hooks run): its
    Content-Length (what the server declared it sent), or for a chunked answer, which has
    none, its body as the test reads it."""
    declared: list[int] = []
    send = requests.adapters.HTTPAdapter.send

    def recorded(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(adapter, request, *args, **kwargs)
        if request.url.startswith(base_url.rstrip("/")):
            length = response.headers.get("Content-Length")
            declared.append(int(length) if length is not None else len(response.content))
        return response

    with monkeypatch.context() as patch:
        patch.setattr(requests.adapters.HTTPAdapter, "send", recorded)
        yield declared
