"""Every HTTP request the SDK sends, counted by verb at its `requests` session.

Counting there (a response hook on the SDK client's session) sees every call of every SDK
method — the version check at connect, lookups, writes, profiles, test results — not only
the calls our code names; it is what OpenMetadata's own request log shows for the run. A
request that got no answer (connection refused, timeout) has no response and is not counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

VERBS = ("GET", "PUT", "PATCH", "POST", "DELETE")


class RequestCounter:
    """Thread-safe counts of answered requests by HTTP verb."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __call__(self, response: Any, *_: Any, **__: Any) -> Any:
        method = str(getattr(response.request, "method", "") or "").upper()
        with self._lock:
            self._counts[method] += 1
        return response

    def by_verb(self) -> dict[str, int]:
        """Counts of GET/PUT/PATCH/POST/DELETE (zeros included) and any other verb seen."""
        with self._lock:
            counts = dict(self._counts)
        return {**dict.fromkeys(VERBS, 0), **counts}


def request_counter(sdk: Any) -> RequestCounter:
    """The counter on `sdk`'s session, installed on first use (one per SDK client)."""
    session = sdk.client._session
    counter: RequestCounter | None = getattr(session, "om_ingest_requests", None)
    if counter is None:
        counter = RequestCounter()
        session.om_ingest_requests = counter
        session.hooks.setdefault("response", []).append(counter)
    return counter
