"""Bytes a librdkafka client received from the brokers, from its own statistics.

librdkafka counts what each client reads off its broker sockets (`rx_bytes` in the statistics
JSON it emits every `statistics.interval.ms` to `stats_cb`, served by `poll()`); no emission
can be forced, so `settle` polls until two emissions made after the client's last request
have arrived and takes the latest cumulative figure. The statistics list the brokers a client
knows: the bootstrap connection (its first ApiVersions and metadata answers) is dropped from
them once the brokers are known, so its bytes are not in `rx_bytes` (a few hundred bytes per
client); answers still in flight when a client closes are not either.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

INTERVAL_MS = 50


class BrokerBytes:
    """The `rx_bytes` statistic of one client (its config: `settings()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received = 0
        self._emissions = 0

    def settings(self) -> dict[str, Any]:
        return {"statistics.interval.ms": INTERVAL_MS, "stats_cb": self._statistics}

    def _statistics(self, text: str) -> None:
        received = int(json.loads(text).get("rx_bytes") or 0)
        with self._lock:
            self._received = max(self._received, received)
            self._emissions += 1

    def settle(self, client: Any, timeout: float = 5.0) -> int:
        """Everything `client` received so far: polls until two emissions after this call
        (the first may have been queued before its last answer arrived)."""
        with self._lock:
            wanted = self._emissions + 2
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._emissions >= wanted:
                    break
            client.poll(INTERVAL_MS / 1000)
        with self._lock:
            return self._received
