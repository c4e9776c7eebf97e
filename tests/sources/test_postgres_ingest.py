"""`type: postgres` through the ingest flow: a real PostgreSQL server + the sandbox OM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flows.ingest import ingest
from om_ingest.audit import read_events
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.sources.conftest import PgDatabase, pg_config

SHOP = (Path(__file__).parent / "postgres_shop.sql").read_text()
FIELDS = ["columns", "tableConstraints", "tablePartition", "extension", "schemaDefinition"]


def table_events(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events, torn = read_events(summary["audit_file"])
    assert torn == 0
    return {e["fqn"]: e for e in events if e["entity_type"] == "table"}


def test_every_type_constraint_view_and_partition_reaches_om_exactly(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table
    from metadata.generated.schema.entity.services.databaseService import DatabaseService

    pg_db.execute(SHOP)
    config = pg_config(tmp_path, [pg_db.source(schemas=["shop"])])
    summary = ingest(config)
    schema = f"pg.{pg_db.name}.shop"
    tables = ["big_orders", "customers", "events", "lines", "order_totals", "orders"]
    assert sorted(table_events(summary)) == [f"{schema}.{t}" for t in tables]  # no partitions
    sdk = make_sdk_client(om_env.url, JWT)
    assert sdk.get_by_name(DatabaseService, "pg").serviceType.value == "Postgres"

    customers = sdk.get_by_name(Table, f"{schema}.customers", fields=FIELDS)
    assert customers.description.root == "People who buy"
    columns = {c.name.root: c for c in customers.columns}
    # Postgres's own type text for every column (OM lower-cases it), next to the exact type.
    displays = dict(pg_db.query(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'shop.customers'::regclass AND attnum > 0"
    ))  # fmt: skip
    assert {n: c.dataTypeDisplay for n, c in columns.items()} == {
        n: d.lower() for n, d in displays.items()
    }
    kinds = {n: c.dataType.value for n, c in columns.items()}
    assert kinds == {
        "id": "BIGINT", "email": "VARCHAR", "code": "CHAR", "balance": "DECIMAL",
        "ratio": "DOUBLE", "score": "FLOAT", "small": "SMALLINT", "plain_numeric": "NUMERIC",
        "created_at": "TIMESTAMPZ", "updated_at": "TIMESTAMP", "born": "DATE", "alarm": "TIME",
        "wait": "INTERVAL", "doc": "JSON", "docb": "JSON", "uid": "UUID", "blob": "BYTEA",
        "ip": "INET", "net": "CIDR", "tags": "ARRAY", "labels": "ARRAY", "feeling": "ENUM",
        "qty": "INT", "short": "VARCHAR", "home": "STRUCT", "contacts": "ARRAY",
        "active": "BOOLEAN", "note": "TEXT",
    }  # fmt: skip
    assert (columns["balance"].precision, columns["balance"].scale) == (12, 2)
    assert (columns["email"].dataLength, columns["code"].dataLength) == (120, 3)
    assert columns["short"].dataLength == 8  # a domain: its base type's length
    assert columns["tags"].arrayDataType.value == "INT"
    assert columns["tags"].dataTypeDisplay == "integer[]"
    assert columns["labels"].arrayDataType.value == "TEXT"
    assert columns["email"].description.root == "Where receipts go"
    assert columns["id"].constraint.value == "PRIMARY_KEY"
    assert columns["email"].constraint.value == "UNIQUE"
    assert columns["created_at"].constraint.value == "NOT_NULL"
    assert columns["note"].constraint is None
    home = {c.name.root: c for c in columns["home"].children}
    assert {n: c.dataType.value for n, c in home.items()} == {
        "street": "TEXT", "zip": "CHAR", "geo": "ARRAY"
    }  # fmt: skip
    assert home["geo"].arrayDataType.value == "DECIMAL" and home["zip"].dataLength == 5
    contact = {c.name.root: c for c in columns["contacts"].children}  # an array of composites
    assert columns["contacts"].arrayDataType.value == "STRUCT"
    assert [c.name.root for c in contact["home"].children] == ["street", "zip", "geo"]
    # OM's Column has no place for enum labels: a table custom property keeps them.
    assert json.loads(customers.extension.root["postgres_enum_values"]) == {
        "feeling": ["sad", "ok", "happy"]
    }

    orders = sdk.get_by_name(Table, f"{schema}.orders", fields=FIELDS)
    constraints = {c.constraintType.value: c for c in orders.tableConstraints}
    assert constraints["PRIMARY_KEY"].columns == ["customer_id", "order_no"]
    assert constraints["FOREIGN_KEY"].columns == ["customer_id"]
    assert [r.root for r in constraints["FOREIGN_KEY"].referredColumns] == [
        f"{schema}.customers.id"
    ]
    lines = sdk.get_by_name(Table, f"{schema}.lines", fields=FIELDS)
    by_type = {c.constraintType.value: c for c in lines.tableConstraints}
    assert by_type["UNIQUE"].columns == ["customer_id", "order_no", "line"]
    assert [r.root for r in by_type["FOREIGN_KEY"].referredColumns] == [
        f"{schema}.orders.customer_id",
        f"{schema}.orders.order_no",
    ]

    events = sdk.get_by_name(Table, f"{schema}.events", fields=FIELDS)
    assert events.tableType.value == "Partitioned"
    partition = events.tablePartition.columns[0]
    assert (partition.columnName, partition.intervalType.value) == ("at", "TIME-UNIT")
    assert events.extension.root["postgres_partitions"] == 2
    for name, kind, keyword in (
        ("big_orders", "View", "CREATE VIEW"),
        ("order_totals", "MaterializedView", "CREATE MATERIALIZED VIEW"),
    ):
        view = sdk.get_by_name(Table, f"{schema}.{name}", fields=FIELDS)
        definition = pg_db.query(f"SELECT pg_get_viewdef('shop.{name}'::regclass, true)")[0][0]
        assert view.tableType.value == kind
        assert view.schemaDefinition.root == f"{keyword} shop.{name} AS\n{definition}"

    # Unchanged catalog: nothing written again, each table skipped on its marker.
    om_env.clear_requests()
    again = ingest(config)
    assert om_env.write_calls() == []
    reasons = [e["reason"] for e in table_events(again).values()]
    assert all("PostgreSQL catalog definition unchanged" in r for r in reasons), reasons


def test_schema_evolution_is_detected_on_the_next_run(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    pg_db.execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(6,2));"
        "CREATE TABLE owners (id int PRIMARY KEY);"
        "CREATE TABLE untouched (id int);"
    )
    config = pg_config(tmp_path, [pg_db.source()])
    ingest(config)
    pg_db.execute(
        "ALTER TABLE items ADD COLUMN owner_id int, DROP COLUMN name, "
        "ALTER COLUMN price TYPE numeric(12,4), ADD FOREIGN KEY (owner_id) REFERENCES owners(id)"
    )
    second = table_events(ingest(config))
    schema = f"pg.{pg_db.name}.public"
    items = second[f"{schema}.items"]
    assert items["operation"] == "UPDATE"
    assert {(c["change"], c["path"]) for c in items["schema_changes"]} == {
        ("added", "owner_id"),
        ("removed", "name"),
        ("type_changed", "price"),  # numeric(6,2) → numeric(12,4)
    }
    assert any(c["field"] == "tableConstraints" for c in items["field_changes"]), items
    assert second[f"{schema}.untouched"]["operation"] == "SKIP"
    sdk = make_sdk_client(om_env.url, JWT)
    table = sdk.get_by_name(Table, f"{schema}.items", fields=FIELDS)
    price = next(c for c in table.columns if c.name.root == "price")
    assert (price.precision, price.scale) == (12, 4)
    fk = next(c for c in table.tableConstraints if c.constraintType.value == "FOREIGN_KEY")
    assert [r.root for r in fk.referredColumns] == [f"{schema}.owners.id"]

    pg_db.execute("DROP TABLE untouched")
    third = table_events(ingest(config))
    assert "stale" in third[f"{schema}.untouched"]["reason"]


def test_filter_and_schema_selection(om_env: Any, pg_db: PgDatabase, tmp_path: Path) -> None:
    pg_db.execute(
        "CREATE SCHEMA sales; CREATE SCHEMA hr;"
        "CREATE TABLE sales.orders (id int); CREATE TABLE sales.orders_tmp (id int);"
        "CREATE TABLE sales.refunds (id int); CREATE TABLE hr.people (id int);"
        "CREATE TABLE public.misc (id int);"
    )
    everything = table_events(ingest(pg_config(tmp_path, [pg_db.source()])))
    db = f"pg.{pg_db.name}"
    assert sorted(everything) == [
        f"{db}.hr.people", f"{db}.public.misc", f"{db}.sales.orders",
        f"{db}.sales.orders_tmp", f"{db}.sales.refunds",
    ]  # fmt: skip
    discovery = {"source": "pg", "filter": {"schema": "sales", "include": ["orders*"],
                                            "exclude": ["*_tmp"]}}  # fmt: skip
    entities = [{"type": "table", "discovery": discovery}]
    narrowed = ingest(pg_config(tmp_path / "b", [pg_db.source()], entities))
    assert sorted(table_events(narrowed)) == [f"{db}.sales.orders"]
    regex = {"source": "pg", "filter": {"include": ["^(people|refunds)$"], "regex": True}}
    only = ingest(pg_config(tmp_path / "c", [pg_db.source()], [{"type": "table",
                                                               "discovery": regex}]))  # fmt: skip
    assert sorted(table_events(only)) == [f"{db}.hr.people", f"{db}.sales.refunds"]


def test_comments_are_descriptions_and_curated_ones_win_unless_override(
    om_env: Any, pg_db: PgDatabase, tmp_path: Path
) -> None:
    from metadata.generated.schema.entity.data.table import Table

    from tests.conftest import USER_JWT

    pg_db.execute(
        "CREATE TABLE notes (id int, body text); COMMENT ON TABLE notes IS 'From PG';"
        "COMMENT ON COLUMN notes.body IS 'Body from PG'"
    )
    config = pg_config(tmp_path, [pg_db.source()])
    ingest(config)
    fqn = f"pg.{pg_db.name}.public.notes"
    user = make_sdk_client(om_env.url, USER_JWT)
    table = user.get_by_name(Table, fqn, fields=["columns"])
    curated = table.model_copy(deep=True)
    curated.description = type(table.description)("Curated in OM")
    assert user.patch(Table, table, curated, skip_on_failure=False) is not None

    pg_db.execute(
        "COMMENT ON TABLE notes IS 'Edited in PG'; COMMENT ON COLUMN notes.body IS 'Body v2'"
    )
    event = table_events(ingest(config))[fqn]
    assert [c["field"] for c in event["kept_curated"]] == ["description"]
    bot = make_sdk_client(om_env.url, JWT)
    after = bot.get_by_name(Table, fqn, fields=["columns"])
    assert after.description.root == "Curated in OM"  # curated: kept
    body = next(c for c in after.columns if c.name.root == "body")
    assert body.description.root == "Body v2"  # ours: replaced

    override = pg_config(
        tmp_path,
        [pg_db.source()],
        [{"type": "table", "discovery": {"source": "pg"}, "override": True}],
    )
    ingest(override)
    assert bot.get_by_name(Table, fqn).description.root == "Edited in PG"
