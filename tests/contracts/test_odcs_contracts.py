"""ODCS v3 contracts in a config: validated against the ODCS JSON Schema (errors located in
the ODCS file), written as the table's OM data contract like any entity (create, skip,
update, dry-run diff, audit), and their schema enforced on the table before it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from om_ingest.audit import RunSummary
from om_ingest.cli.main import cli
from om_ingest.contracts.enforcement import violations
from om_ingest.contracts.mapping import ContractGate, FieldRule
from om_ingest.engine.results import EntityResult
from om_ingest.sandbox.testing import make_sdk_client
from tests.conftest import JWT
from tests.contracts.helpers import COLUMNS, TABLE, contract_config, odcs
from tests.flows.test_ingest_flow import audit_events, run, run_failing

CONTRACT = f"{TABLE}.dataContract_orders_contract"


def _contract(om: Any) -> Any:
    from metadata.generated.schema.entity.data.dataContract import DataContract

    client = make_sdk_client(om.url, JWT)
    return client.get_by_name(DataContract, CONTRACT, fields=["owners"])


def _table(om: Any) -> Any:
    from metadata.generated.schema.entity.data.table import Table

    return make_sdk_client(om.url, JWT).get_by_name(Table, TABLE, fields=["columns"])


def test_a_contract_becomes_the_tables_data_contract(om_env: Any, tmp_path: Path) -> None:
    summary = run(contract_config(tmp_path, odcs()))
    assert summary["operations"] == {"CREATE": 6}
    contract = _contract(om_env)
    assert contract.entity.fullyQualifiedName == TABLE
    columns = {c.name.root: c for c in contract.schema_}
    assert list(columns) == ["id", "amount", "status"]
    assert columns["id"].dataType.value == "BIGINT"
    assert columns["id"].constraint.value == "PRIMARY_KEY"
    assert columns["amount"].constraint.value == "NOT_NULL"
    # a Classification.Tag tag is carried, a free-form one ("finance") is not an OM tag
    assert [t.tagFQN.root for t in columns["amount"].tags] == ["PII.NonSensitive"]
    assert [o.name for o in contract.owners.root] == ["ada"]  # role owner only
    assert contract.entityStatus.value == "Approved"
    assert contract.description.root == "Orders as sales publishes them."
    assert contract.sla.refreshFrequency.interval == 1
    assert contract.sla.refreshFrequency.unit.value == "day"
    assert contract.sla.retention.period == 3 and contract.sla.retention.unit.value == "year"
    rules = {(r.metric.value if r.metric else None, r.column) for r in contract.odcsQualityRules}
    assert rules == {("rowCount", None), ("nullValues", "amount")}
    event = next(e for e in audit_events(summary) if e["fqn"] == CONTRACT)
    assert event["entity_type"] == "data_contract" and event["operation"] == "CREATE"


def test_rerun_skips_and_an_edit_updates_with_its_dry_run_diff(om_env: Any, tmp_path: Path) -> None:
    config = contract_config(tmp_path, odcs(), idempotency="update")
    run(config)
    again = run(config)
    assert again["operations"] == {"SKIP": 6}
    edited = contract_config(
        tmp_path,
        odcs(description={"purpose": "Orders, corrected."}),
        idempotency="update",
    )
    preview = run(edited, dry_run=True)
    assert preview["operations"] == {"UPDATE": 1, "SKIP": 5}
    event = next(e for e in audit_events(preview) if e["fqn"] == CONTRACT)
    assert {
        "field": "description",
        "before": "Orders as sales publishes them.",
        "after": "Orders, corrected.",
    } in event["field_changes"]
    assert _contract(om_env).description.root == "Orders as sales publishes them."
    applied = run(edited)
    assert applied["operations"] == {"UPDATE": 1, "SKIP": 5}
    assert _contract(om_env).description.root == "Orders, corrected."


def test_contract_tags_are_kept_as_the_contracts_odcs_tags_property(
    om_env: Any, tmp_path: Path
) -> None:
    """OM's DataContract has no tags: the document's top-level tags become its `odcsTags`
    custom property; the table's own tags are left alone."""
    from metadata.generated.schema.entity.data.dataContract import DataContract
    from metadata.generated.schema.entity.data.table import Table

    assert "tags" not in DataContract.model_fields
    config = contract_config(
        tmp_path, odcs(tags=["finance", "PII.Sensitive"]), idempotency="update"
    )
    run(config)
    client = make_sdk_client(om_env.url, JWT)
    contract = client.get_by_name(DataContract, CONTRACT, fields=["extension"])
    assert contract.extension.root == {"odcsTags": "finance, PII.Sensitive"}
    assert client.get_by_name(Table, TABLE, fields=["tags"]).tags in (None, [])
    assert run(config)["operations"] == {"SKIP": 6}
    retagged = contract_config(tmp_path, odcs(tags=["finance"]), idempotency="update")
    assert run(retagged)["operations"] == {"UPDATE": 1, "SKIP": 5}
    contract = client.get_by_name(DataContract, CONTRACT, fields=["extension"])
    assert contract.extension.root == {"odcsTags": "finance"}


def test_fail_mode_fails_an_existing_contract(om_env: Any, tmp_path: Path) -> None:
    run(contract_config(tmp_path, odcs()))
    failure = run_failing(contract_config(tmp_path, odcs(), idempotency="fail"))
    failed = {r.fqn: r.error for r in failure.results if r.failed}
    assert failed == {CONTRACT: f"{CONTRACT} already exists and idempotency is 'fail'"}


def test_invalid_odcs_is_a_config_error_located_in_the_odcs_file(tmp_path: Path) -> None:
    text = (
        "apiVersion: v3.0.2\n"
        "kind: DataContract\n"
        "id: c1\n"
        "version: 1.0.0\n"
        "schema:\n"
        "  - name: orders\n"
        "    properties:\n"
        "      - name: id\n"
        "        logicalType: integr\n"
    )
    config = contract_config(tmp_path, text)
    result = CliRunner().invoke(cli, ["validate", config], env={"OM_HOST": "x", "OM_JWT": "x"})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    spec = str(tmp_path / "specs" / "orders.odcs.yaml")
    assert lines[0].startswith(
        f"error: {spec}:9 schema[0].properties[0].logicalType: not valid ODCS"
    )
    assert "'integr'" in lines[0]


def test_a_v2_contract_and_a_missing_file_are_config_errors(tmp_path: Path) -> None:
    env = {"OM_HOST": "x", "OM_JWT": "x"}
    config = contract_config(tmp_path, odcs(apiVersion="v2.2.2"))
    result = CliRunner().invoke(cli, ["validate", config], env=env)
    assert result.exit_code == 2
    assert "apiVersion: om-ingest reads ODCS v3 contracts" in result.output
    (tmp_path / "specs" / "orders.odcs.yaml").unlink()
    result = CliRunner().invoke(cli, ["validate", config], env=env)
    assert result.exit_code == 2
    assert f"{config}:" in result.output and "contracts[0].path: cannot read" in result.output


def test_a_field_the_table_lacks_warns_and_om_rejects_the_contract(
    om_env: Any, tmp_path: Path
) -> None:
    columns = [c for c in COLUMNS if c["name"] != "status"]
    failure = run_failing(contract_config(tmp_path, odcs(), columns=columns))
    by_fqn = {r.fqn: r for r in failure.results}
    table = by_fqn[TABLE]
    assert table.operation.value == "CREATE" and table.outcome.value == "success"
    assert table.contract_violations == ["status: in the contract, missing from the table"]
    assert [c.name.root for c in _table(om_env).columns] == ["id", "amount"]
    # OpenMetadata's own message for a contract naming a column its table lacks
    assert "status" in by_fqn[CONTRACT].error
    assert "Schema validation failed" in by_fqn[CONTRACT].error


def test_a_type_mismatch_under_block_leaves_the_table_unchanged(
    om_env: Any, tmp_path: Path
) -> None:
    run(contract_config(tmp_path, odcs(), enforcement="block"))
    before = _table(om_env)
    retyped = [{**c, "data_type": "STRING"} if c["name"] == "amount" else c for c in COLUMNS]
    retyped = [{k: v for k, v in c.items() if k not in ("precision", "scale")} for c in retyped]
    failure = run_failing(contract_config(tmp_path, odcs(), columns=retyped, enforcement="block"))
    by_fqn = {r.fqn: r for r in failure.results}
    assert by_fqn[TABLE].operation.value == "FAIL"
    assert by_fqn[TABLE].contract_violations == [
        "amount: the contract types it number, the table STRING"
    ]
    assert "enforcement: block" in by_fqn[TABLE].error and "amount" in by_fqn[TABLE].error
    assert by_fqn[CONTRACT].outcome.value == "blocked"
    after = _table(om_env)
    assert after.version == before.version
    assert [c.dataType.value for c in after.columns] == ["BIGINT", "DECIMAL", "STRING"]


def test_a_type_mismatch_under_warn_writes_and_reports(om_env: Any, tmp_path: Path) -> None:
    retyped = [
        {"name": c["name"], "data_type": "STRING" if c["name"] == "amount" else c["data_type"]}
        for c in COLUMNS
    ]
    summary = run(contract_config(tmp_path, odcs(), columns=retyped, enforcement="warn"))
    event = next(e for e in audit_events(summary) if e["fqn"] == TABLE)
    assert event["operation"] == "CREATE"
    assert event["contract_violations"] == [
        "amount: the contract types it number, the table STRING"
    ]
    assert [c.dataType.value for c in _table(om_env).columns] == ["BIGINT", "STRING", "STRING"]
    from om_ingest.rendering.results import render_markdown

    preview = run(
        contract_config(tmp_path, odcs(), columns=retyped, enforcement="warn"), dry_run=True
    )
    event = next(e for e in audit_events(preview) if e["fqn"] == TABLE)
    assert event["contract_violations"] == [
        "amount: the contract types it number, the table STRING"
    ]
    assert "contract violated (enforcement: warn): amount" in render_markdown(
        [EntityResult.model_validate(event)], RunSummary.model_validate(preview)
    )


NAMES = st.sampled_from(["id", "amount", "status", "city", "Email"])
TYPES = st.sampled_from(["BIGINT", "INT", "STRING", "DOUBLE", "DATE", "BOOLEAN"])


@given(
    rules=st.lists(st.tuples(NAMES, st.booleans(), st.sets(TYPES)), unique_by=lambda r: r[0]),
    columns=st.lists(st.tuples(NAMES, TYPES), unique_by=lambda c: c[0].lower()),
)
def test_violations_are_exactly_the_missing_and_mistyped_fields(
    rules: list[tuple[str, bool, set[str]]], columns: list[tuple[str, str]]
) -> None:
    gate = ContractGate(
        "c",
        "warn",
        tuple(FieldRule(n, req, tuple(sorted(t)), "/".join(sorted(t))) for n, req, t in rules),
    )
    table = {name.lower(): data_type for name, data_type in columns}
    found = violations(gate, [{"name": n, "dataType": t} for n, t in columns])
    expected_names = [
        name
        for name, _, types in rules
        if name.lower() not in table or (types and table[name.lower()] not in types)
    ]
    assert [line.split(":")[0] for line in found] == expected_names


def test_two_contracts_for_one_table_are_a_config_error(tmp_path: Path) -> None:
    import yaml

    config = Path(contract_config(tmp_path, odcs()))
    data = yaml.safe_load(config.read_text())
    data["contracts"].append({"path": "specs/orders.odcs.yaml", "table": TABLE, "name": "other"})
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(cli, ["validate", str(config)], env={"OM_HOST": "x", "OM_JWT": "x"})
    assert result.exit_code == 2
    assert "contracts[1].table: " in result.output
    assert f"{TABLE} has a contract already (OM keeps one per entity)" in result.output


def test_an_adopted_suite_that_is_not_a_gx_suite_is_a_config_error(tmp_path: Path) -> None:
    import yaml

    config = Path(contract_config(tmp_path, odcs()))
    data = yaml.safe_load(config.read_text())
    data["contracts"][0]["expectations"] = "suite.json"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "suite.json").write_text('{"expectations": [{"kwargs": {}}]}')
    result = CliRunner().invoke(cli, ["validate", str(config)], env={"OM_HOST": "x", "OM_JWT": "x"})
    assert result.exit_code == 2
    assert "contracts[0].expectations: " in result.output
    assert "is not a Great Expectations suite" in result.output
