"""The sandbox's request log: method, path, query, status, milliseconds; never bodies or headers."""

from __future__ import annotations

import threading
from typing import Any

WRITE_METHODS = frozenset({"PUT", "POST", "PATCH", "DELETE"})


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def add(
        self, method: str, path: str, status: int, ms: float, injected: bool, query: str = ""
    ) -> None:
        entry = {
            "method": method,
            "path": path,
            "query": query,
            "status": status,
            "ms": round(ms, 2),
            "injected": injected,
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count
