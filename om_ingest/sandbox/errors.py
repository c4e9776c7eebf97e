"""The sandbox's one error: an HTTP status with OM's `{code, message}` body."""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code, self.message = code, message
