"""A PostgreSQL source that cannot be read fails alone, clearly, and never shows its password."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.ingest import IngestionFailed, ingest
from om_ingest.config.models import EntityConfig, SourceConfig
from om_ingest.errors import SourceError
from om_ingest.sources import DiscoveredEntity, DiscoveryFailure, get_source
from om_ingest.testing.servers import free_port
from tests.conftest import JWT
from tests.sources.conftest import PgDatabase, pg_config

WRONG = "wrong-SECRET-pw-93d1"


def direct(pg_db: PgDatabase) -> dict[str, Any]:
    """The source's properties with the password itself (no config loader to expand it)."""
    return {**pg_db.source()["properties"], "password": pg_db.server.password}


def audit_texts(tmp_path: Path) -> list[str]:
    return [p.read_text() for p in (tmp_path / "audit").rglob("*") if p.is_file()]


def test_a_wrong_password_fails_that_source_and_the_other_goes_on(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    pg_db.execute("CREATE TABLE kept (id int)")
    bad = pg_db.source("bad", password=WRONG)
    config = pg_config(tmp_path, [pg_db.source("good"), bad])
    with pytest.raises(IngestionFailed) as info:
        ingest(config)
    by_fqn = {r.fqn: r for r in info.value.results}
    failed = by_fqn["bad"]
    assert failed.outcome.value == "failed"
    assert failed.error == (
        f"source 'bad': cannot connect to postgresql://{pg_db.server.host}:"
        f"{pg_db.server.port}/{pg_db.name}: connection to server at "
        f'"{pg_db.server.host}", port {pg_db.server.port} failed: FATAL: password '
        f'authentication failed for user "{pg_db.server.user}"'
    )
    assert by_fqn[f"good.{pg_db.name}.public.kept"].outcome.value == "success"
    assert all(WRONG not in t and JWT not in t for t in audit_texts(tmp_path))


def test_an_unreachable_server_fails_the_source_with_where_it_looked(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there
    source = pg_db.source("away", port=port, connect_timeout=2)
    with pytest.raises(IngestionFailed) as info:
        ingest(pg_config(tmp_path, [source]))
    (failed,) = info.value.results
    assert failed.fqn == "away" and failed.outcome.value == "failed"
    assert failed.error is not None
    assert failed.error.startswith(
        f"source 'away': cannot connect to postgresql://127.0.0.1:{port}/"
    )
    assert "Connection refused" in failed.error


def test_an_unknown_schema_is_named(pg_db: PgDatabase) -> None:
    props = {**direct(pg_db), "schemas": ["public", "nope"]}
    source = get_source(SourceConfig(name="pg", type="postgres", properties=props))
    with pytest.raises(SourceError, match=r"schema 'nope' not found in postgresql://.*public"):
        source.validate_connection()


def test_a_table_dropped_during_discovery_is_skipped_and_the_rest_go_on(
    pg_db: PgDatabase,
) -> None:
    pg_db.execute("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int)")
    source = get_source(SourceConfig(name="pg", type="postgres", properties=direct(pg_db)))
    template = EntityConfig.model_validate({"type": "table", "discovery": {"source": "pg"}})
    ((_, public),) = [t for t in source.targets(None) if t[0].endswith(".public")]
    with public:
        stream = public.discover_entities(template)
        first = next(stream)
        pg_db.execute("DROP TABLE b")  # listed already, not yet described
        rest = list(stream)
    names = [i.entity.name for i in [first, *rest] if isinstance(i, DiscoveredEntity)]
    assert names == ["a", "c"]
    assert not any(isinstance(i, DiscoveryFailure) for i in rest)
