"""Helpers for tests and demos that talk to the sandbox (or a real OM) through the SDK."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from om_ingest.openmetadata import connect_openmetadata


def make_sdk_client(url: str, token: str) -> Any:
    """An SDK client that never sleeps on retries (the engine owns retries)."""
    return connect_openmetadata(url, SecretStr(token))
