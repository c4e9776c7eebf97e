"""Retries of transient OpenMetadata failures on a time budget, honouring `Retry-After`.

A rate limit (429) or an outage (5xx, connection errors, timeouts) is waited out: each retry
waits a jittered exponential backoff, and never less than the server's `Retry-After`, until
the budget (`execution.retries.budget_seconds`) would be exceeded. Anything else fails at
once. The loop runs inside the caller (the write task, the first connection), so the number
of tries is known exactly and reaches the audit, failures included.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from om_ingest.config.models import RetryConfig
from om_ingest.errors import TransientOpenMetadataError

T = TypeVar("T")
log = logging.getLogger("om_ingest.retry")


def backoff_seconds(config: RetryConfig, attempt: int, error: BaseException | None) -> float:
    """How long to wait after failed try number `attempt` (1-based): the exponential backoff
    capped at `max_backoff_seconds`, jittered down by up to `jitter` of itself, but at least
    the `Retry-After` the server sent with `error`."""
    backoff = min(config.max_backoff_seconds, config.backoff_seconds * 2.0 ** (attempt - 1))
    jittered = backoff * (1 - config.jitter * random.random())
    retry_after: float = getattr(error, "retry_after", None) or 0.0
    return max(jittered, retry_after)


@dataclass
class Tries:
    """How many times the retried function ran (set as it runs, so failures know it too)."""

    count: int = 0


def call_with_retries(
    fn: Callable[[], T], config: RetryConfig, what: str, tries: Tries | None = None
) -> T:
    """Run `fn`, retrying `TransientOpenMetadataError` within the budget; the last error is
    raised as it is. `tries` counts the runs."""
    tries = tries if tries is not None else Tries()
    stops: list[tenacity.stop.stop_base] = [tenacity.stop_before_delay(config.budget_seconds)]
    if config.max_attempts is not None:
        stops.append(tenacity.stop_after_attempt(config.max_attempts))

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return backoff_seconds(config, state.attempt_number, error)

    def counted() -> T:
        tries.count += 1
        return fn()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        of = f"/{config.max_attempts}" if config.max_attempts else ""
        log.warning(
            "%s (attempt %d%s), retrying in %.1f s: %s",
            what,
            state.attempt_number,
            of,
            state.upcoming_sleep,
            error,
        )

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientOpenMetadataError),
        stop=tenacity.stop_any(*stops),
        wait=wait,
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(counted)
