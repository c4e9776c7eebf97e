"""Fault injection for reliability tests: failures decided before any state changes."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class FaultConfig:
    fail_rate: float = 0.0
    latency_ms: int = 0
    fail_status: int = 503
    seed: int | None = None
    fail_path_suffix: str | None = None
    """With `fail_times`: the first calls whose path ends so fail (e.g. `/tables/bulk`)."""
    fail_times: int = 0
    reject_names: frozenset[str] = field(default_factory=frozenset)
    """Writes (single PUTs and bulk rows alike) of an entity of one of these names are
    answered 400, as OM rejects a request it cannot store: a row that fails alone."""

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def should_fail_path(self, path: str) -> bool:
        """True for the first `fail_times` calls to a path ending in `fail_path_suffix`."""
        if not self.fail_path_suffix or not path.endswith(self.fail_path_suffix):
            return False
        with self._lock:
            if self.fail_times <= 0:
                return False
            self.fail_times -= 1
            return True

    def should_fail(self) -> bool:
        if self.fail_rate <= 0:
            return False
        with self._lock:
            return self._random.random() < self.fail_rate
