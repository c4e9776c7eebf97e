"""Airflow assets → OM table FQNs (`asset_tables`): rules in order, the FQN-itself rule after
them, and broken rules as one-line config errors (exit 2, file:line)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from om_ingest.sources.airflow_dags.assets import Asset, AssetTable, table_for
from tests.reliability.test_bad_configs import assert_one_line_error, validate

PG = AssetTable(
    pattern=r"postgres://warehouse/(?P<db>\w+)/(?P<schema>\w+)/(?P<table>\w+)",
    table="wh.{db}.{schema}.{table}",
)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)


@given(NAME, NAME, NAME)
def test_a_rule_fills_its_template_with_the_uri_s_named_groups(
    db: str, schema: str, table: str
) -> None:
    uri = f"postgres://warehouse/{db}/{schema}/{table}"
    assert table_for([PG], Asset(uri, uri)) == f"wh.{db}.{schema}.{table}"


def test_rules_are_tried_in_order_then_an_asset_named_by_its_fqn_maps_to_it() -> None:
    first = AssetTable(pattern=r"postgres://warehouse/sales/.*", table="wh.sales.all.everything")
    uri = "postgres://warehouse/sales/core/orders"
    assert table_for([first, PG], Asset(uri, uri)) == "wh.sales.all.everything"
    assert table_for([PG, first], Asset(uri, uri)) == "wh.sales.core.orders"
    # no rule needed: the URI, or else the name, is the FQN (bare or om://)
    assert table_for([], Asset("om://lake.db.s.events", "x")) == "lake.db.s.events"
    assert table_for([], Asset("s3://bucket/events", 'lake.db."s.x".events')) == (
        'lake.db."s.x".events'
    )
    # a rule matching the name when the URI does not
    by_name = AssetTable(pattern=r"orders_(?P<t>\w+)", table="wh.sales.core.{t}")
    assert table_for([by_name], Asset("s3://b/k", "orders_daily")) == "wh.sales.core.daily"


@pytest.mark.parametrize(
    "asset",
    [
        Asset("s3://lake/branch_report", "s3://lake/branch_report"),  # no rule matches
        Asset("orders", "orders"),  # a name, not a table FQN (four parts)
        Asset("postgres://warehouse/sales/orders", "postgres://warehouse/sales/orders"),
    ],
)
def test_an_asset_no_rule_maps_names_no_table(asset: Asset) -> None:
    assert table_for([PG], asset) is None


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"pattern": "postgres://(?P<db", "table": "wh.{db}.s.t"}, "not a regular expression"),
        (
            {"pattern": r"pg://(?P<db>\w+)", "table": "wh.{database}.s.t"},
            "`table` names database, which is no named group of `pattern`",
        ),
    ],
)
def test_a_broken_rule_is_a_one_line_config_error(
    tmp_path: Path, rule: dict[str, str], message: str
) -> None:
    config = {
        "sources": [
            {
                "name": "af",
                "type": "airflow",
                "properties": {"host": "http://airflow:8080", "asset_tables": [rule]},
            }
        ],
        "entities": [{"type": "pipeline", "discovery": {"source": "af"}}],
    }
    path = tmp_path / "af.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    match = assert_one_line_error(validate(path), path)
    assert match["path"].startswith("sources[0].properties.asset_tables[0]")
    assert message in match["message"]
