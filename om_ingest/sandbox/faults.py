"""Fault injection for reliability tests: failures decided before any state changes."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class FaultConfig:
    fail_rate: float = 0.0
    latency_ms: int = 0
    fail_status: int = 503
    seed: int | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def should_fail(self) -> bool:
        if self.fail_rate <= 0:
            return False
        with self._lock:
            return self._random.random() < self.fail_rate
