"""Result bytes psycopg2 received from PostgreSQL, read from libpq's own results.

libpq keeps no count of the bytes it reads off the socket; what it does keep is each result
(`PGresult`), whose values' lengths (`PQgetlength`: the bytes the server sent for the value,
text format) add up to the result rows received. A cursor made by `counting_cursor` adds them
up after each statement and, for a server-side cursor, after each fetch (each one a new
result); the protocol's framing (message headers, column descriptions) is not counted.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def _libpq() -> Any:
    """libpq as psycopg2 links it (symbols resolve through the extension's dependencies)."""
    import psycopg2._psycopg as extension

    lib = ctypes.CDLL(extension.__file__)
    for name in ("PQntuples", "PQnfields"):
        getattr(lib, name).argtypes, getattr(lib, name).restype = [ctypes.c_void_p], ctypes.c_int
    lib.PQgetlength.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    lib.PQgetlength.restype = ctypes.c_int
    return lib


def result_bytes(cursor: Any) -> int:
    """The summed value lengths of the cursor's current libpq result (0: none)."""
    pointer = cursor.pgresult_ptr
    if not pointer:
        return 0
    lib = _libpq()
    rows, columns = lib.PQntuples(pointer), lib.PQnfields(pointer)
    length = lib.PQgetlength
    return sum(length(pointer, row, col) for row in range(rows) for col in range(columns))


def counting_cursor(count: Callable[[int], None]) -> type:
    """A psycopg2 cursor class that passes each libpq result's bytes to `count`."""
    from psycopg2.extensions import cursor as base

    class CountingCursor(base):  # type: ignore[misc]
        def execute(self, query: Any, variables: Any = None) -> Any:
            done = super().execute(query, variables)
            count(result_bytes(self))
            return done

        def _fetched(self, rows: Any) -> Any:
            if self.name is not None:  # a server-side cursor fetches into a new result
                count(result_bytes(self))
            return rows

        def fetchone(self) -> Any:
            return self._fetched(super().fetchone())

        def fetchmany(self, size: Any = None) -> Any:
            return self._fetched(
                super().fetchmany(size) if size is not None else super().fetchmany()
            )

        def fetchall(self) -> Any:
            return self._fetched(super().fetchall())

    return CountingCursor
