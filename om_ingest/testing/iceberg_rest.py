"""A stand-in for an Iceberg REST catalog server, over a pyiceberg `SqlCatalog`, for tests.

No REST catalog server package can be installed here (see SERVERS.md), so this small HTTP
server answers the read side of the REST catalog protocol — `GET /v1/config`,
`GET /v1/namespaces[?parent=]`, `GET|HEAD /v1/namespaces/{ns}`,
`GET /v1/namespaces/{ns}/tables`, `GET|HEAD /v1/namespaces/{ns}/tables/{t}` — enough for
pyiceberg's real `RestCatalog` to list, load and scan. Limits: no writes, no views, no
paging, no OAuth token exchange (a fixed bearer token, when given, is checked), no vended
credentials; tables are written through the `SqlCatalog` directly.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from om_ingest.testing.standin import ThreadedStandIn

SEPARATOR = "\x1f"
"""How the REST protocol joins a nested namespace's levels in a path."""


class IcebergRestStandIn(ThreadedStandIn):
    """Serve `catalog` (a pyiceberg catalog) on 127.0.0.1:`port` in a thread until `stop`."""

    def __init__(self, catalog: Any, port: int, token: str | None = None) -> None:
        self.catalog = catalog
        self.token = token
        self.requests: list[str] = []
        super().__init__(_Handler, port, "iceberg-rest-stand-in")


class _Handler(BaseHTTPRequestHandler):
    standin: IcebergRestStandIn

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_HEAD(self) -> None:
        status, _ = self._answer()
        self.send_response(204 if status == 200 else status)
        self.end_headers()

    def do_GET(self) -> None:
        status, body = self._answer()
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _answer(self) -> tuple[int, Any]:
        from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError

        url = urlsplit(self.path)
        self.standin.requests.append(f"{self.command} {url.path}")
        token = self.standin.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            return _error(
                401, "NotAuthorizedException", "not authorized: the token is missing or wrong"
            )
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        catalog = self.standin.catalog
        try:
            if parts == ["v1", "config"]:
                return 200, {"defaults": {}, "overrides": {}}
            if parts == ["v1", "namespaces"]:
                parent = parse_qs(url.query).get("parent", [""])[0]
                found = catalog.list_namespaces(tuple(parent.split(SEPARATOR)) if parent else ())
                return 200, {"namespaces": [list(n) for n in found]}
            if len(parts) >= 3 and parts[:2] == ["v1", "namespaces"]:
                namespace = tuple(parts[2].split(SEPARATOR))
                if len(parts) == 3:
                    props = catalog.load_namespace_properties(namespace)
                    return 200, {"namespace": list(namespace), "properties": props}
                if len(parts) == 4 and parts[3] == "tables":
                    tables = catalog.list_tables(namespace)
                    identifiers = [{"namespace": list(t[:-1]), "name": t[-1]} for t in tables]
                    return 200, {"identifiers": identifiers}
                if len(parts) == 5 and parts[3] == "tables":
                    table = catalog.load_table((*namespace, parts[4]))
                    metadata = json.loads(table.metadata.model_dump_json())
                    return 200, {
                        "metadata-location": table.metadata_location,
                        "metadata": metadata,
                        "config": {},
                    }
        except NoSuchNamespaceError as exc:
            return _error(404, "NoSuchNamespaceException", str(exc))
        except NoSuchTableError as exc:
            return _error(404, "NoSuchTableException", str(exc))
        except Exception as exc:
            return _error(500, type(exc).__name__, str(exc))
        return _error(404, "NotFound", f"the stand-in does not serve {url.path}")


def _error(status: int, kind: str, message: str) -> tuple[int, Any]:
    return status, {"error": {"message": message, "type": kind, "code": status}}
