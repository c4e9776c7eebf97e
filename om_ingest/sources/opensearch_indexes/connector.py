"""OpenSearch indexes → OpenMetadata search indexes, with `opensearch-py` (OM's client).

Like OM's own OpenSearch connector, the open indexes are listed with `GET /_alias` and each
one is read with `GET /<index>` (mappings, settings, aliases); system and hidden indexes (a
leading `.`) are left out, and the discovery filter is applied before an index is read. Each
index becomes a `search_index` (fields from its mapping at every depth: `mapping.py`; its
settings as `searchIndexSettings`); shards, replicas, analysis, aliases and the index
templates matching its name are custom properties. A changed mapping is a structural change
of `fields`, reported and applied like a table's columns.

Tested against the osmem stand-in (`om_ingest.testing.servers.opensearch_server`), not a
real cluster: README "OpenSearch source" says what that leaves untested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from om_ingest.config.models import EntityConfig, EntityType, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources.base import DiscoveredEntity, DiscoveryFailure, ServiceLevelSource
from om_ingest.sources.helpers import (
    discovered,
    discovery_filter,
    passes_filter,
    reached_cap,
    reason,
    unreachable,
)
from om_ingest.sources.opensearch_indexes.mapping import matching_templates, search_index_fields
from om_ingest.sources.opensearch_indexes.properties import OpenSearchProperties
from om_ingest.sources.registry import register_source_class


@register_source_class("opensearch", OpenSearchProperties)
class OpenSearchSource(ServiceLevelSource):
    discovers = EntityType.SEARCH_INDEX
    service_type = "OpenSearch"
    properties: OpenSearchProperties
    reads_measured = (
        "OpenSearch REST API: HTTP response bodies as received (compressed size when the "
        "server compresses)"
    )

    def __init__(self, config: SourceConfig, properties: OpenSearchProperties) -> None:
        super().__init__(config, properties)
        self._client: Any = None

    @property
    def _hosts(self) -> str:
        return ", ".join(self.properties.hosts)

    # --- connection ----------------------------------------------------------------------

    def connect(self) -> None:
        if self._client is not None:
            return
        from opensearchpy import OpenSearch

        p = self.properties
        auth = (p.username, p.password.get_secret_value()) if p.password is not None else None
        self._client = OpenSearch(
            hosts=p.hosts, http_auth=auth, verify_certs=p.verify_certs, ca_certs=p.ca_certs,
            ssl_show_warn=p.verify_certs, timeout=p.timeout_seconds, max_retries=1,
            retry_on_timeout=False, connection_class=_counting_connection(),
            count_read=self.count_read,
        )  # fmt: skip

    def disconnect(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def validate_connection(self) -> None:
        self.connect()
        self._call("GET /", lambda: self._client.info())

    def _call(
        self, what: str, request: Any, missing_ok: bool = False, forbidden_hint: str = ""
    ) -> Any:
        """`request()` with the client's errors as one line naming the source and hosts:
        unreachable, refused credentials, a forbidden request (`forbidden_hint` appended), or
        another HTTP error (`missing_ok`: None for a 404)."""
        from opensearchpy.exceptions import (
            AuthenticationException,
            AuthorizationException,
            ConnectionError,
            NotFoundError,
            TransportError,
        )

        try:
            return request()
        except NotFoundError:
            if missing_ok:
                return None
            raise SourceError(
                f"source {self.config.name!r}: OpenSearch at {self._hosts} answered "
                f"404 Not Found to {what}"
            ) from None
        except AuthenticationException as exc:
            how = "username/password" if self.properties.username else "request without credentials"
            raise SourceError(
                f"source {self.config.name!r}: OpenSearch at {self._hosts} refused the {how} "
                f"({_status(exc)})"
            ) from None
        except AuthorizationException as exc:
            user = self.properties.username
            who = f"user {user!r}" if user else "a request without credentials"
            raise SourceError(
                f"source {self.config.name!r}: OpenSearch at {self._hosts} does not allow "
                f"{what} to {who} ({_status(exc)}){forbidden_hint}"
            ) from None
        except ConnectionError as exc:  # also SSLError and ConnectionTimeout
            raise SourceError(
                f"source {self.config.name!r}: cannot reach OpenSearch at {self._hosts}: "
                f"{unreachable(exc)}"
            ) from None
        except TransportError as exc:
            raise SourceError(
                f"source {self.config.name!r}: OpenSearch at {self._hosts} answered "
                f"{_status(exc)} to {what}"
            ) from None

    # --- discovery -----------------------------------------------------------------------

    def discover_entities(
        self,
        template: EntityConfig,
        known_commits: dict[str, str] | None = None,
        known_markers: dict[str, str] | None = None,
    ) -> Iterator[DiscoveredEntity | DiscoveryFailure]:
        self.connect()
        flt = discovery_filter(template)
        listed = self._call(
            "GET /_alias", lambda: self._client.indices.get_alias(expand_wildcards="open")
        )
        templates = self._templates()
        found = 0
        for name in sorted(listed or {}):
            if name.startswith(".") or not passes_filter(flt, name):
                continue
            if reached_cap(flt, found):
                return
            location = f"{self.properties.hosts[0]}/{quote(name, safe='')}"
            answer = self._call(
                f"GET /{name}", lambda n=name: self._client.indices.get(index=n), missing_ok=True
            )
            if answer is None:
                continue  # deleted since it was listed
            found += 1
            try:
                facts = self._describe(name, answer[name], templates)
                entity = discovered(template, name, facts, self.config.name)
            except Exception as exc:
                yield DiscoveryFailure(name, location, f"{location}: {reason(exc)}")
                continue
            yield DiscoveredEntity(entity, location)

    def _templates(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Composable and legacy index templates (none when `include_templates` is off; a
        cluster without any may answer 404)."""
        if not self.properties.include_templates:
            return [], {}
        hint = "; set `include_templates: false` to read no templates"
        composable = self._call(
            "GET /_index_template", lambda: self._client.indices.get_index_template(),
            missing_ok=True, forbidden_hint=hint,
        )  # fmt: skip
        legacy = self._call(
            "GET /_template", lambda: self._client.indices.get_template(),
            missing_ok=True, forbidden_hint=hint,
        )  # fmt: skip
        return list((composable or {}).get("index_templates") or []), dict(legacy or {})

    def _describe(
        self, name: str, index: dict[str, Any], templates: tuple[list[dict[str, Any]], Any]
    ) -> dict[str, Any]:
        mappings = index.get("mappings") or {}
        settings = index.get("settings") or {}
        own = settings.get("index") or {}
        analysis = own.get("analysis")
        extension = {
            "opensearch_number_of_shards": _int(own.get("number_of_shards")),
            "opensearch_number_of_replicas": _int(own.get("number_of_replicas")),
            "opensearch_aliases": ",".join(sorted(index.get("aliases") or {})),
            "opensearch_analysis": json.dumps(analysis, sort_keys=True) if analysis else None,
            "opensearch_index_templates": ",".join(matching_templates(name, *templates)),
        }
        meta = mappings.get("_meta") or {}
        return {
            "description": meta.get("description") or None,
            "fields": search_index_fields(mappings),
            "search_index_settings": settings or None,
            "index_type": "Index",
            "extension": {k: v for k, v in extension.items() if v not in (None, "")},
        }


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _status(exc: Any) -> str:
    from http import HTTPStatus

    code = exc.status_code
    try:
        return f"{code} {HTTPStatus(int(code)).phrase}"
    except ValueError:
        return str(code)


def _counting_connection() -> type:
    """opensearch-py's default urllib3 connection, counting each answer's body bytes as
    pulled off the wire (urllib3's `tell()`; the body is preloaded before `urlopen` returns)
    into `count_read`, which the transport hands every connection it makes."""
    from opensearchpy import Urllib3HttpConnection

    class CountingConnection(Urllib3HttpConnection):
        def __init__(self, *args: Any, count_read: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            urlopen = self.pool.urlopen

            def counted(*call: Any, **options: Any) -> Any:
                response = urlopen(*call, **options)
                count_read(response.tell())
                return response

            self.pool.urlopen = counted

    return CountingConnection
