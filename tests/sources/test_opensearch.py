"""`type: opensearch` against the osmem stand-in (no real OpenSearch can run here: SERVERS.md):
indexes with objects, `nested` fields, multi-fields and scalar types become search indexes in
the sandbox with their settings, aliases and matching templates as custom properties; a
system index, a hidden one and filtered ones stay out; a changed mapping is a detected and applied
change, a deleted index a stale one; a server that is down, refuses the credentials or is
not OpenSearch fails that source alone. One stand-in and one sandbox serve the module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from om_ingest.sandbox.testing import make_sdk_client
from om_ingest.testing.servers import OpenSearchServer, free_port, opensearch_server
from tests.conftest import JWT, USER_JWT
from tests.flows.test_ingest_flow import audit_events, run, run_failing
from tests.sources.discovery_config import discovery_config

pytestmark = pytest.mark.e2e

PRODUCTS: dict[str, Any] = {
    "settings": {
        "number_of_shards": 2,
        "number_of_replicas": 0,
        "analysis": {
            "analyzer": {
                "folded": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase"]}
            }
        },
    },
    "aliases": {"catalog": {}, "shop": {}},
    "mappings": {
        "_meta": {"description": "Products on sale."},
        "properties": {
            "name": {"type": "text", "analyzer": "folded", "fields": {"raw": {"type": "keyword"}}},
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "qty": {"type": "integer"},
            "created": {"type": "date"},
            "active": {"type": "boolean"},
            "origin": {"type": "geo_point"},
            "maker": {
                "properties": {
                    "name": {"type": "keyword"},
                    "address": {
                        "properties": {"city": {"type": "keyword"}, "zip": {"type": "long"}}
                    },
                }
            },
            "variants": {
                "type": "nested",
                "properties": {"sku": {"type": "keyword"}, "size": {"type": "short"}},
            },
        },
    },
}

PRODUCTS_FIELDS = {
    "active": ("BOOLEAN", "boolean"),
    "created": ("DATE", "date"),
    "maker": ("OBJECT", None),
    "maker.address": ("OBJECT", None),
    "maker.address.city": ("KEYWORD", "keyword"),
    "maker.address.zip": ("LONG", "long"),
    "maker.name": ("KEYWORD", "keyword"),
    "name": ("TEXT", "text"),
    "name.raw": ("KEYWORD", "keyword"),
    "origin": ("GEO_POINT", "geo_point"),
    "price": ("SCALED_FLOAT", "scaled_float"),
    "qty": ("INTEGER", "integer"),
    "variants": ("NESTED", "nested"),
    "variants.size": ("SHORT", "short"),
    "variants.sku": ("KEYWORD", "keyword"),
}

SHARDS = {"opensearch_number_of_shards": 1, "opensearch_number_of_replicas": 1}
"""What an index created without settings has (osmem's defaults, as OpenSearch's)."""


@pytest.fixture(scope="module")
def opensearch() -> Iterator[OpenSearchServer]:
    with opensearch_server() as server:
        yield server


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from om_ingest.sandbox import ThreadedSandbox

    with (
        ThreadedSandbox(JWT, user_tokens=[USER_JWT]) as server,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setenv("OM_HOST", server.host_port)
        patch.setenv("OM_JWT", JWT)
        yield server


def client(server: OpenSearchServer) -> Any:
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=[server.url])


def source(name: str, hosts: str, **properties: Any) -> dict[str, Any]:
    return {"name": name, "type": "opensearch", "properties": {"hosts": [hosts], **properties}}


def fields(index: Any) -> dict[str, tuple[str, str | None]]:
    """Every field of an OM search index at every depth: dotted path → (type, display)."""

    def walk(nodes: Any, prefix: str) -> Iterator[tuple[str, tuple[str, str | None]]]:
        for node in nodes or []:
            path = f"{prefix}{node.name.root}"
            yield path, (node.dataType.value, node.dataTypeDisplay)
            yield from walk(node.children, f"{path}.")

    return dict(walk(index.fields, ""))


def test_indexes_become_search_indexes_and_a_changed_mapping_is_an_applied_change(
    opensearch: OpenSearchServer, sandbox: Any, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.searchIndex import SearchIndex
    from metadata.generated.schema.entity.services.searchService import SearchService

    os = client(opensearch)
    os.indices.create(index="products", body=PRODUCTS)
    os.indices.put_index_template(
        name="logs_current", body={"index_patterns": ["logs-*"], "priority": 10}
    )
    os.indices.put_index_template(name="catch_all", body={"index_patterns": ["l*"], "priority": 1})
    os.indices.put_template(name="logs_legacy", body={"index_patterns": ["logs-*"], "order": 1})
    os.indices.put_index_template(name="other", body={"index_patterns": ["metrics-*"]})
    logs_mapping = {
        "message": {"type": "text"},
        "host": {"properties": {"name": {"type": "keyword"}}},
    }
    os.indices.create(index="logs-2026", body={"mappings": {"properties": logs_mapping}})
    os.indices.create(
        index="scratch_tmp", body={"mappings": {"properties": {"x": {"type": "long"}}}}
    )
    os.indices.create(index=".internal", body={"mappings": {"properties": {"y": {"type": "long"}}}})
    os.indices.create(index="hidden_idx", body={"settings": {"index.hidden": True}})

    # the system and hidden index stay out even when the filter names them
    only = {"include": ["products", "logs-*", "scratch_*", "hidden_idx", ".internal"],
            "exclude": ["scratch_*"]}  # fmt: skip
    path = discovery_config(tmp_path, "search_index", [source("os", opensearch.url)], "os",
                            only)  # fmt: skip
    events = {e["fqn"]: e for e in audit_events(run(path))}
    assert {fqn: e["operation"] for fqn, e in events.items()} == {
        "os": "CREATE",
        "os.logs-2026": "CREATE",
        "os.products": "CREATE",
    }  # .internal is a system index, hidden_idx hidden, scratch_tmp filtered out

    om = make_sdk_client(sandbox.url, JWT)
    assert om.get_by_name(SearchService, "os").serviceType.value == "OpenSearch"
    products = om.get_by_name(SearchIndex, "os.products", fields=["fields", "extension"])
    assert fields(products) == PRODUCTS_FIELDS
    assert products.description.root == "Products on sale."
    assert products.indexType.value == "Index"
    settings = products.searchIndexSettings.model_dump(mode="json")
    assert settings["index"]["number_of_shards"] == "2"
    analysis = (
        '{"analyzer": {"folded": {"filter": ["lowercase"], "tokenizer": "standard", '
        '"type": "custom"}}}'
    )
    assert products.extension.root == {
        "opensearch_number_of_shards": 2,
        "opensearch_number_of_replicas": 0,
        "opensearch_aliases": "catalog,shop",
        "opensearch_analysis": analysis,
    }
    logs = om.get_by_name(SearchIndex, "os.logs-2026", fields=["fields", "extension"])
    assert fields(logs) == {
        "message": ("TEXT", "text"),
        "host": ("OBJECT", None),
        "host.name": ("KEYWORD", "keyword"),
    }
    assert logs.extension.root["opensearch_index_templates"] == "logs_current,catch_all,logs_legacy"

    # the mapping changes: products recreated (qty removed, rating added, price retyped),
    # logs-2026 given a new field in its object, in place
    changed = {**PRODUCTS, "mappings": {**PRODUCTS["mappings"]}}
    properties = dict(PRODUCTS["mappings"]["properties"])
    del properties["qty"]
    properties.update(rating={"type": "float"}, price={"type": "double"})
    changed["mappings"]["properties"] = properties
    os.indices.delete(index="products")
    os.indices.create(index="products", body=changed)
    os.indices.put_mapping(
        index="logs-2026", body={"properties": {"host": {"properties": {"ip": {"type": "ip"}}}}}
    )
    preview = {e["fqn"]: e for e in audit_events(run(path, dry_run=True))}
    assert {
        (c["change"], c["path"], c["before"], c["after"])
        for c in preview["os.products"]["schema_changes"]
    } == {
        ("removed", "qty", "INTEGER", None),
        ("added", "rating", None, "FLOAT"),
        ("type_changed", "price", "SCALED_FLOAT", "DOUBLE"),
    }
    assert {
        (c["change"], c["path"], c["after"]) for c in preview["os.logs-2026"]["schema_changes"]
    } == {("added", "host.ip", "IP")}

    applied = {e["fqn"]: e["operation"] for e in audit_events(run(path))}
    assert applied["os.products"] == "UPDATE" and applied["os.logs-2026"] == "UPDATE"
    products = om.get_by_name(SearchIndex, "os.products", fields=["fields"])
    expected = {k: v for k, v in PRODUCTS_FIELDS.items() if k != "qty"}
    assert fields(products) == {
        **expected, "rating": ("FLOAT", "float"), "price": ("DOUBLE", "double")
    }  # fmt: skip
    logs = om.get_by_name(SearchIndex, "os.logs-2026", fields=["fields"])
    assert fields(logs) == {
        "message": ("TEXT", "text"),
        "host": ("OBJECT", None),
        "host.ip": ("IP", "ip"),
        "host.name": ("KEYWORD", "keyword"),
    }
    # nothing changed: nothing written; an index deleted is a stale search index
    os.indices.delete(index="logs-2026")
    again = {e["fqn"]: e for e in audit_events(run(path))}
    assert {fqn: e["operation"] for fqn, e in again.items()} == {
        "os": "SKIP",
        "os.logs-2026": "SKIP",
        "os.products": "SKIP",
    }
    assert again["os.logs-2026"]["reason"] == (
        f"stale: {opensearch.url}/logs-2026 is gone from source 'os' since the last run; "
        "kept in OpenMetadata (remove_stale: false)"
    )


def test_a_server_down_refusing_or_not_opensearch_fails_that_source_only(
    opensearch: OpenSearchServer, sandbox: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """osmem has no security plugin (it takes any credentials), so a real HTTP server that
    refuses them stands for a cluster that does: the sandbox's API answers 401 to basic auth,
    and its root, which is not OpenSearch, 404."""
    client(opensearch).indices.create(index="orders")
    password = "opensearch-pw-SECRET-8e1f"
    down = f"http://127.0.0.1:{free_port()}"
    refusing = f"{sandbox.host_port}/api/v1"
    sources = [
        source("down", down),
        source("refused", refusing, username="ingest", password=password),
        source("not_os", sandbox.host_port),
        source("fine", opensearch.url, username="ingest", password=password),
    ]
    failure = run_failing(discovery_config(tmp_path, "search_index", sources, "osf"))
    errors = {r.fqn: r.error or "" for r in failure.results if r.outcome.value == "failed"}
    assert errors == {
        "down": f"source 'down': cannot reach OpenSearch at {down}: connection refused",
        "refused": f"source 'refused': OpenSearch at {refusing} refused the username/password "
        "(401 Unauthorized)",
        "not_os": f"source 'not_os': OpenSearch at {sandbox.host_port} answered 404 Not Found "
        "to GET /",
    }
    outcomes = {r.fqn: r.outcome.value for r in failure.results}
    assert outcomes["fine.orders"] == "success"  # the other source went on
    assert password not in Path(str(failure.summary.audit_file)).read_text()
    assert password not in str(failure)
    assert password not in caplog.text


def test_templates_are_left_unread_when_switched_off_and_max_tables_caps_the_listing(
    opensearch: OpenSearchServer,
) -> None:
    from om_ingest.config.models import EntityConfig, SourceConfig
    from om_ingest.sources import get_source
    from om_ingest.sources.reads import measuring

    os = client(opensearch)
    os.indices.put_index_template(name="web_tpl", body={"index_patterns": ["web-*"]})
    for name in ("web-a", "web-b", "web-c"):
        os.indices.create(index=name)
    template = EntityConfig.model_validate(
        {
            "type": "search_index",
            "discovery": {"source": "s", "filter": {"include": ["web-*"], "max_tables": 2}},
            "properties": {"service": "s"},
        }
    )

    def discover(**properties: Any) -> dict[str, dict[str, Any]]:
        """What the source discovers; its bytes read are what the server declared it sent
        (each answer's Content-Length, recorded by a test-side wrapper on the same pool)."""
        config = SourceConfig.model_validate(source("s", opensearch.url, **properties))
        declared: list[int] = []
        with measuring() as reads, get_source(config) as connector:
            (connection,) = connector._client.transport.connection_pool.connections  # type: ignore[attr-defined]
            urlopen = connection.pool.urlopen

            def recorded(*call: Any, **options: Any) -> Any:
                response = urlopen(*call, **options)
                declared.append(int(response.headers["Content-Length"]))
                return response

            connection.pool.urlopen = recorded
            found = {
                found.entity.name or "": found.entity.properties.extension or {}  # type: ignore[union-attr]
                for found in connector.discover_entities(template)
            }
        assert reads.of("s") == sum(declared) > 0 and len(declared) >= 3
        return found

    assert discover() == {
        "web-a": {**SHARDS, "opensearch_index_templates": "web_tpl"},
        "web-b": {**SHARDS, "opensearch_index_templates": "web_tpl"},
    }
    assert discover(include_templates=False) == {"web-a": SHARDS, "web-b": SHARDS}
