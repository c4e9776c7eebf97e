"""The loader: positions in every error, `${VAR}` substitution on parsed values, templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from om_ingest.config import load_config
from om_ingest.config.json_schema import config_json_schema
from om_ingest.config.loader import _deep_merge
from om_ingest.errors import ConfigError

SECRET = "sEcReT-jwt-123-do-not-print"
ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def error_of(path: Path, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return info.value


HEAD = "openmetadata:\n  host: http://h\n  jwt_token: '" + SECRET + "'\n"


def test_env_substitution_keeps_literal_dollars(tmp_path: Path) -> None:
    path = write(tmp_path, "openmetadata:\n  host: ${HOST:-http://d}\n  jwt_token: pa$$word$${X}\n")
    loaded = load_config(path, env={})
    assert loaded.config.openmetadata.host == "http://d"
    assert loaded.config.openmetadata.jwt_token is not None
    assert loaded.config.openmetadata.jwt_token.get_secret_value() == "pa$$word${X}"
    loaded = load_config(path, env={"HOST": "http://e"})
    assert loaded.config.openmetadata.api_url == "http://e/api"


def test_missing_variable_names_it_and_the_line(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, "openmetadata:\n  host: http://h\n  jwt_token: ${OM_JWT}\n"))
    assert (
        str(err)
        == f"{tmp_path / 'c.yaml'}:3 openmetadata.jwt_token: environment variable ${{OM_JWT}} is not set (and has no :-default)"
    )


def test_missing_field_points_at_the_entity(tmp_path: Path) -> None:
    text = (
        HEAD
        + "entities:\n  - type: database_service\n    name: s\n  - type: database\n    name: d\n    properties: {}\n"
    )
    err = error_of(write(tmp_path, text))
    assert (
        err.line == 9
        and err.path == "entities[1].properties.service"
        and err.message == "field required"
    )


def test_unknown_key_has_a_did_you_mean(tmp_path: Path) -> None:
    text = HEAD + "entities:\n  - type: database_service\n    name: s\n    idempotncy: skip\n"
    err = error_of(write(tmp_path, text))
    assert (err.line, err.path) == (7, "entities[0].idempotncy")
    assert "did you mean 'idempotency'" in err.message


def test_bad_data_type_hints_the_closest(tmp_path: Path) -> None:
    text = HEAD + (
        "entities:\n  - type: table\n    name: t\n    properties:\n      database_schema: a.b.c\n"
        "      columns:\n        - name: x\n          data_type: BIGNIT\n"
    )
    err = error_of(write(tmp_path, text))
    assert (err.line, err.path) == (11, "entities[0].properties.columns[0].data_type")
    assert "did you mean 'BIGINT'" in err.message


def test_yaml_syntax_and_duplicate_keys_are_located(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, "openmetadata:\n  host: [\n")).line == 3
    err = error_of(write(tmp_path, HEAD + "metadata: {name: a}\nmetadata: {name: b}\n"))
    assert (err.line, err.message) == (5, "duplicate key 'metadata'")


def test_templates_merge_with_entity_precedence(tmp_path: Path) -> None:
    text = HEAD + (
        "templates:\n  base_table:\n    idempotency: update\n    properties:\n"
        "      database_schema: s.d.c\n      tags: [A.b]\n      columns: [{name: a, data_type: INT}]\n"
        "  strict_table:\n    extends: base_table\n    idempotency: fail\n"
        "entities:\n  - type: table\n    name: t\n    extends: strict_table\n"
        "    properties: {columns: [{name: z, data_type: STRING}], description: mine}\n"
    )
    entity = load_config(write(tmp_path, text), env={}).config.entities[0]
    assert entity.idempotency is not None and entity.idempotency.value == "fail"
    props = entity.properties
    assert props.database_schema == "s.d.c" and props.tags == ["A.b"]
    assert [c.name for c in props.columns] == ["z"]  # lists replace
    assert props.description == "mine"
    err = error_of(write(tmp_path, HEAD + "entities:\n  - type: table\n    extends: base_tabel\n"))
    assert (err.line, err.path) == (6, "entities[0].extends") and "unknown template" in err.message


def test_secrets_never_in_errors_or_repr(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, HEAD), env={})
    assert SECRET not in repr(loaded.config) and SECRET not in loaded.config.model_dump_json()
    err = error_of(
        write(tmp_path, "openmetadata:\n  host: http://h\n  jwt_token: {a: '" + SECRET + "'}\n")
    )
    assert SECRET not in str(err) and err.path == "openmetadata.jwt_token"


def test_example_configs_validate() -> None:
    for path in sorted((ROOT / "configs" / "examples").glob("*.yaml")):
        assert load_config(path, env={"OM_JWT": "x"}).config.entities


def test_committed_json_schema_is_in_sync() -> None:
    committed = json.loads((ROOT / "configs" / "schema.json").read_text())
    assert committed == json.loads(json.dumps(config_json_schema(), sort_keys=True)), (
        "run `make schema`"
    )


json_values = st.recursive(
    st.one_of(st.integers(), st.text(max_size=3), st.booleans()),
    lambda inner: (
        st.dictionaries(st.sampled_from("abcd"), inner, max_size=3) | st.lists(inner, max_size=2)
    ),
    max_leaves=10,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from("abcd"), json_values, max_size=4),
    st.dictionaries(st.sampled_from("abcd"), json_values, max_size=4),
)
def test_deep_merge_keeps_every_key_and_the_right_side_wins(
    base: dict[str, object], over: dict[str, object]
) -> None:
    merged = _deep_merge(base, over)
    assert set(merged) == set(base) | set(over)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            assert merged[key] == _deep_merge(base[key], value)
        else:
            assert merged[key] == value  # scalars and lists: replaced
    for key in set(base) - set(over):
        assert merged[key] == base[key]


def test_ref_to_the_same_document_and_to_files(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "om.yaml").write_text(
        "prod:\n  host: http://om.prod\n  jwt_token: ${OM_JWT}\n"
    )
    text = (
        "connections:\n  om: !ref shared/om.yaml#/prod\n"
        "openmetadata: !ref '#/connections/om'\n"
        "entities:\n  - type: database_service\n    name: s\n    properties: !ref '#/templates/svc'\n"
        "templates:\n  svc: {service_type: Datalake}\n"
    )
    path = tmp_path / "c.yaml"
    path.write_text(
        text.replace("connections:", "metadata: {name: refs}\ntemplates_unused: 1\nconnections:", 0)
    )
    with pytest.raises(ConfigError) as info:  # `connections` is not a config key: strictness kept
        load_config(path, env={"OM_JWT": "t"})
    assert info.value.path == "connections" and info.value.line == 1
    path.write_text(
        text.replace("connections:\n  om: !ref shared/om.yaml#/prod\n", "").replace(
            "!ref '#/connections/om'", "!ref shared/om.yaml#/prod"
        )
    )
    loaded = load_config(path, env={"OM_JWT": "t"})
    assert loaded.config.openmetadata.host == "http://om.prod"
    assert loaded.config.entities[0].properties.service_type == "Datalake"


def test_ref_errors_point_at_the_ref(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "metadata: !ref '#/nowhere'\n")
    err = error_of(path)
    assert (err.line, err.path) == (4, "metadata") and "'#/nowhere' not found" in err.message
    path = write(
        tmp_path, HEAD + "templates:\n  a: !ref '#/templates/b'\n  b: !ref '#/templates/a'\n"
    )
    assert "!ref cycle" in error_of(path).message
    (tmp_path / "wrong.yaml").write_text("host: [\n")
    err = error_of(write(tmp_path, "openmetadata: !ref wrong.yaml\n"))
    assert (
        err.file == str((tmp_path / "wrong.yaml").resolve()) and "YAML syntax error" in err.message
    )


def test_errors_inside_a_referenced_file_point_into_that_file(tmp_path: Path) -> None:
    (tmp_path / "om.yaml").write_text("host: http://h\njwt_tokn: x\n")
    err = error_of(write(tmp_path, "openmetadata: !ref om.yaml\n"))
    assert (err.file, err.line, err.path) == (
        str((tmp_path / "om.yaml").resolve()),
        2,
        "openmetadata.jwt_tokn",
    )


def test_template_files_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "lake_table.yaml").write_text(
        "idempotency: update\nproperties:\n  database_schema: l.w.h\n  table_type: External\n"
    )
    (tmp_path / "templates" / "pii_table.yaml").write_text(
        "extends: lake_table.yaml\nproperties:\n  tags: [PII.Sensitive]\n"
    )
    text = HEAD + (
        "defaults:\n  idempotency: skip\n  tags: [Tier.Tier2]\n"
        "entities:\n"
        "  - {type: table, name: a, extends: templates/pii_table.yaml}\n"
        "  - {type: table, name: b, extends: templates/lake_table.yaml}\n"
        "  - {type: table, name: c, extends: templates/lake_table.yaml, properties: {tags: [Own.Tag]}}\n"
    )
    entities = load_config(write(tmp_path, text), env={}).config.entities
    assert [e.properties.tags for e in entities] == [["PII.Sensitive"], ["Tier.Tier2"], ["Own.Tag"]]
    assert all(e.properties.table_type == "External" for e in entities)
    assert all(e.idempotency is not None and e.idempotency.value == "update" for e in entities)
    err = error_of(
        write(
            tmp_path, HEAD + "entities:\n  - {type: table, name: x, extends: templates/none.yaml}\n"
        )
    )
    assert "cannot read" in err.message


def test_a_config_loads_only_the_plugins_it_names(tmp_path: Path) -> None:
    """Loading a config of one source type imports that plugin, not the others' libraries
    (pyiceberg, psycopg2, confluent-kafka…: ~0.5 s of every run and CLI command); every
    built-in type is still known by name, secrets hidden, unknown types still refused."""
    import subprocess
    import sys

    config = tmp_path / "c.yaml"
    config.write_text(
        "metadata: {name: x}\nopenmetadata: {host: 'http://h', jwt_token: t}\n"
        "sources:\n  - {name: lake, type: s3_hudi, properties: {bucket: b,"
        " aws_secret_access_key: s3cr3t-planted}}\n"
        "entities:\n  - {type: table, discovery: {source: lake},"
        " properties: {database_schema: a.b.c}}\n"
    )
    script = (
        "import sys; from om_ingest.config import load_config; "
        f"c = load_config({str(config)!r}).config; "
        "print(sorted(m for m in ('pyiceberg', 'psycopg2', 'confluent_kafka', 'mlflow') "
        "if m in sys.modules)); print(repr(c.sources[0].properties))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "[]"
    assert "s3cr3t-planted" not in out[1] and "SecretStr" in out[1]

    from om_ingest.sources.registry import _BUILTIN, is_source_type, source_types

    assert source_types() == sorted(_BUILTIN)  # each module registers the type it is listed by
    assert all(is_source_type(name) for name in _BUILTIN) and not is_source_type("s3-hudi")
