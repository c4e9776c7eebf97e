"""`ordered_map`: parallel reads that keep discovery order and bound what is in flight."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from om_ingest.sources.parallel import ordered_map


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(), max_size=60), st.integers(min_value=1, max_value=8))
def test_same_results_in_input_order(items: list[int], workers: int) -> None:
    def slow_square(x: int) -> int:
        time.sleep((x % 3) / 2000)  # later items often finish first
        return x * x

    assert list(ordered_map(slow_square, items, workers)) == [x * x for x in items]


def test_input_is_pulled_lazily_and_in_flight_work_is_bounded() -> None:
    pulled = 0
    running = 0
    peak = 0
    lock = threading.Lock()

    def source() -> object:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield i

    def work(x: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.001)
        with lock:
            running -= 1
        return x

    results = ordered_map(work, source(), 4)  # type: ignore[arg-type]
    first = [next(results) for _ in range(3)]
    assert first == [0, 1, 2]
    assert pulled <= 2 * 4 + 3  # streaming: not the whole input up front
    assert list(results) == list(range(3, 1000))
    assert peak <= 4
