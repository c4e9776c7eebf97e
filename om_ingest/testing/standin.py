"""What the in-repo HTTP stand-ins share: a threaded server on 127.0.0.1 that starts and
stops with a `with` block."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ThreadedStandIn:
    """Serve `handler` (which sees this object as its `standin`) on 127.0.0.1:`port` in a
    daemon thread from `start` until `stop`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int, name: str) -> None:
        bound = type("Handler", (handler,), {"standin": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), bound)
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
