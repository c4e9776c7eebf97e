"""The README's PostgreSQL example (configs/examples/postgres.yaml) works as written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.ingest import ingest
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.sources.conftest import PgDatabase

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "examples" / "postgres.yaml"


def test_the_readme_shows_the_example_verbatim() -> None:
    assert f"```yaml\n{EXAMPLE.read_text()}```" in (ROOT / "README.md").read_text()


def test_the_example_ingests_and_profiles_a_real_database(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    pg_db.execute(
        "CREATE TABLE customers (id int PRIMARY KEY, name text);"
        "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 500) g;"
        "CREATE TABLE tmp_scratch (x int);"
        "CREATE VIEW named AS SELECT name FROM customers"
    )
    server = pg_db.server
    for name, value in {"PG_HOST": server.host, "PG_PORT": str(server.port),
                        "PG_DATABASE": pg_db.name, "PG_USER": server.user}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # audit_logs/ and profiles/ go to ./
    summary = ingest(str(EXAMPLE))
    assert summary["outcomes"] == {"success": 3 + 2}  # service, database, schema; no tmp_*
    assert {p["fqn"]: p["status"] for p in summary["profiles"]} == {
        f"shop_pg.{pg_db.name}.public.customers": "pushed",
        f"shop_pg.{pg_db.name}.public.named": "pushed",
    }
    sdk = make_sdk_client(om_env.url, JWT)
    profile = sdk.get_latest_table_profile(f"shop_pg.{pg_db.name}.public.customers").profile
    assert profile.rowCount == 500 and 0 < profile.profileSample < 500
    # A view has no TABLESAMPLE: its sample is the rows whose hash falls in the share.
    view = sdk.get_latest_table_profile(f"shop_pg.{pg_db.name}.public.named").profile
    ((kept,),) = pg_db.query(
        "SELECT count(*) FROM named AS v WHERE mod(hashtext(v::text) & 2147483647, 10000) < 1000"
    )
    assert view.rowCount == 500 and view.profileSample == kept and 0 < kept < 500
