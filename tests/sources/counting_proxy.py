"""A test-side TCP forwarder on 127.0.0.1 that counts the bytes a server sent back through it:
an independent measure of what a client received (for servers that keep no traffic counters
of their own, like the Tansu broker)."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from om_ingest.testing.servers import HOST


class CountingProxy:
    """Accepts on `port` and forwards each connection to `target_port`; `connections` holds,
    per connection, the bytes the target sent back."""

    def __init__(self) -> None:
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self.target_port = 0
        self.connections: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = [self._listener]
        self._threads: list[threading.Thread] = []

    def start(self, target_port: int) -> CountingProxy:
        self.target_port = target_port
        self._spawn(self._accept)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection((HOST, self.target_port))
            connection = {"served": 0}
            with self._lock:
                self._sockets += [client, server]
                self.connections.append(connection)
            self._spawn(self._pipe, client, server, None)
            self._spawn(self._pipe, server, client, connection)

    def _pipe(
        self, source: socket.socket, sink: socket.socket, counted: dict[str, Any] | None
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if counted is not None:
                    with self._lock:
                        counted["served"] += len(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def served(self) -> int:
        """The bytes the target sent through the proxy since `connections` was last cleared."""
        with self._lock:
            return sum(c["served"] for c in self.connections)

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(5)
