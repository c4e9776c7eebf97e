"""A stand-in for a Confluent Schema Registry, in memory, for tests.

No schema registry server package can be installed here (see SERVERS.md), so this small HTTP
server answers the part of the registry's REST API that the real `SchemaRegistryClient` of
`confluent-kafka` calls to register and read schemas: `GET /subjects`,
`GET /subjects/{s}/versions`, `GET /subjects/{s}/versions/{v|latest}`,
`POST /subjects/{s}/versions` (register: the same text under a subject is its existing
version; the same text anywhere has one id), `GET /schemas/ids/{id}`. With `username` and
`password` every request needs them as HTTP basic auth (401 otherwise).

Limits: no compatibility checks (any new text is a new version), no deletes, no
references resolution, no contexts, modes, configs or metadata, no schema normalisation
(texts are compared as sent), no paging, nothing persisted.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from om_ingest.testing.standin import ThreadedStandIn

AVRO = "AVRO"


@dataclass
class _Registry:
    """Schemas by id (text, type) and each subject's versions (schema ids, oldest first)."""

    schemas: list[tuple[str, str]] = field(default_factory=list)
    subjects: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, subject: str, text: str, schema_type: str) -> int:
        with self.lock:
            key = (text, schema_type)
            if key not in self.schemas:
                self.schemas.append(key)
            schema_id = self.schemas.index(key) + 1
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id


class SchemaRegistryStandIn(ThreadedStandIn):
    """Serve an empty registry on 127.0.0.1:`port` in a thread until `stop`."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None):
        self.registry = _Registry()
        self.credentials = (username, password) if username is not None else None
        self.requests: list[str] = []
        super().__init__(_Handler, port, "schema-registry-stand-in")


class _Handler(BaseHTTPRequestHandler):
    standin: SchemaRegistryStandIn

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        self._reply(*self._answer(None))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._reply(422, {"error_code": 42201, "message": "Invalid request body"})
            return
        self._reply(*self._answer(body))

    def _reply(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _authorised(self) -> bool:
        expected = self.standin.credentials
        if expected is None:
            return True
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == expected

    def _answer(self, body: dict[str, Any] | None) -> tuple[int, Any]:
        url = urlsplit(self.path)
        self.standin.requests.append(f"{self.command} {url.path}")
        if not self._authorised():
            return 401, {"error_code": 401, "message": "Unauthorized"}
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        registry = self.standin.registry
        if parts == ["subjects"] and body is None:
            return 200, sorted(registry.subjects)
        if len(parts) == 3 and parts[0] == "schemas" and parts[1] == "ids" and body is None:
            return _by_id(registry, parts[2])
        if len(parts) < 3 or parts[0] != "subjects" or parts[2] != "versions":
            return 404, {"error_code": 404, "message": "HTTP 404 Not Found"}
        subject = parts[1]
        if len(parts) == 3 and body is not None:
            text, schema_type = body.get("schema"), str(body.get("schemaType") or AVRO)
            if not isinstance(text, str) or not text:
                return 422, {"error_code": 42201, "message": "Empty schema"}
            return 200, {"id": registry.register(subject, text, schema_type.upper())}
        versions = registry.subjects.get(subject)
        if versions is None:
            return 404, {"error_code": 40401, "message": f"Subject '{subject}' not found."}
        if len(parts) == 3:
            return 200, list(range(1, len(versions) + 1))
        if len(parts) == 4 and body is None:
            return _version(registry, subject, versions, parts[3])
        return 404, {"error_code": 404, "message": "HTTP 404 Not Found"}


def _schema(registry: _Registry, schema_id: int) -> dict[str, Any]:
    text, schema_type = registry.schemas[schema_id - 1]
    answer: dict[str, Any] = {"schema": text}
    if schema_type != AVRO:  # the registry leaves out the default type
        answer["schemaType"] = schema_type
    return answer


def _by_id(registry: _Registry, raw: str) -> tuple[int, Any]:
    if not raw.isdigit() or not 1 <= int(raw) <= len(registry.schemas):
        return 404, {"error_code": 40403, "message": "Schema not found"}
    return 200, _schema(registry, int(raw))


def _version(registry: _Registry, subject: str, versions: list[int], raw: str) -> tuple[int, Any]:
    number = len(versions) if raw in ("latest", "-1") else int(raw) if raw.isdigit() else 0
    if not 1 <= number <= len(versions):
        return 404, {"error_code": 40402, "message": f"Version {raw} not found."}
    schema_id = versions[number - 1]
    return 200, {
        "subject": subject,
        "version": number,
        "id": schema_id,
        **_schema(registry, schema_id),
    }
