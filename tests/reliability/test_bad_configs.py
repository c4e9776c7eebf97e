"""A corpus of broken configs: each exits 2 with one line `error: file:line path: message`.

Hand-written cases cover each kind of mistake; hypothesis breaks a valid config at random
places (wrong types, unknown keys, missing keys) and the CLI must never print a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from om_ingest.cli.main import cli

HEAD = "openmetadata:\n  host: http://om.example:8585\n  jwt_token: t\n"
STACK = (
    "entities:\n"
    "  - {type: database_service, name: svc, properties: {service_type: Mysql}}\n"
    "  - {type: database, name: db, properties: {service: svc}}\n"
)
ONE_LINE = re.compile(r"^error: (?P<file>\S+):(?P<line>\d+) (?P<path>\S+): (?P<message>.+)$")

# (case, config text, line, path, words the message must contain)
CORPUS: list[tuple[str, str, int, str, str]] = [
    (
        "wrong type",
        HEAD + "execution: {max_concurrency: lots}\n",
        4,
        "execution.max_concurrency",
        "integer",
    ),
    (
        "out of range",
        HEAD + "execution:\n  max_concurrency: 0\n",
        5,
        "execution.max_concurrency",
        "greater than",
    ),
    ("unknown top-level key", HEAD + "entites: []\n", 4, "entites", "did you mean 'entities'"),
    (
        "unknown nested key",
        HEAD + "entities:\n  - type: database_service\n    name: s\n    descripton: x\n",
        7,
        "entities[0].descripton",
        "allowed: type, name, discovery, properties",
    ),
    (
        "typo in a kind's properties",
        HEAD
        + "entities:\n  - type: database\n    name: d\n    properties: {service: s, descripton: x}\n",
        7,
        "entities[0].properties.descripton",
        "did you mean 'description'",
    ),
    ("missing key", HEAD + "entities:\n  - {name: x}\n", 5, "entities[0].type", "field required"),
    (
        "bad enum",
        HEAD + "entities:\n  - {type: dashboard, name: x}\n",
        5,
        "entities[0].type",
        "database_service",
    ),
    (
        "bad idempotency",
        HEAD + "defaults: {idempotency: sometimes}\n",
        4,
        "defaults.idempotency",
        "skip",
    ),
    (
        "missing env var",
        "openmetadata:\n  host: ${OM_HOST_NOT_SET_ANYWHERE}\n",
        2,
        "openmetadata.host",
        "OM_HOST_NOT_SET_ANYWHERE",
    ),
    (
        "bad ref",
        HEAD + "shared: {a: 1}\nexecution: !ref '#/shared/b'\n",
        5,
        "execution",
        "#/shared/b",
    ),
    (
        "ref to missing file",
        HEAD + "execution: !ref 'nowhere.yaml#/x'\n",
        4,
        "execution",
        "nowhere.yaml",
    ),
    (
        "unknown template",
        HEAD + "entities:\n  - type: table\n    extends: nope\n",
        6,
        "entities[0].extends",
        "unknown template",
    ),
    (
        "cycle",
        HEAD
        + "entities:\n  - {type: database_service, name: a, depends_on: [b]}\n"
        + "  - {type: database_service, name: b, depends_on: [a]}\n",
        5,
        "entities[0]",
        "dependency cycle",
    ),
    (
        "undeclared parent",
        HEAD + "entities:\n  - {type: database, name: d, properties: {service: ghost}}\n",
        5,
        "entities[0].properties.service",
        "ghost",
    ),
    (
        "dotted name referenced unquoted",
        HEAD
        + STACK.replace("name: db", "name: db.v2")
        + "  - {type: database_schema, name: s, properties: {database: svc.db.v2}}\n",
        7,
        "entities[2].properties.database",
        'did you mean svc."db.v2"',
    ),
    (
        "name with a newline",
        HEAD + 'entities:\n  - {type: database_service, name: "bad\\nname"}\n',
        5,
        "entities[0]",
        "bad\\nname",  # escaped: the error stays one line
    ),
    (
        "name too long",
        HEAD + f"entities:\n  - {{type: database_service, name: {'x' * 300}}}\n",
        5,
        "entities[0].name",
        "256",
    ),
    (
        "duplicate entity",
        HEAD + STACK + "  - {type: database, name: db, properties: {service: svc}}\n",
        7,
        "entities[2].name",
        "svc.db",
    ),
    (
        "duplicate key",
        HEAD + "metadata: {name: a}\nmetadata: {name: b}\n",
        5,
        "metadata",
        "duplicate key",
    ),
    ("not a mapping", HEAD + "entities: {type: table}\n", 4, "entities", "list"),
    (
        "unknown source type",
        HEAD + "sources:\n  - {name: l, type: s3_hudy, properties: {bucket: b}}\n",
        5,
        "sources[0].type",
        "s3_hudi",
    ),
    (
        "bad source property",
        HEAD
        + "sources:\n  - name: l\n    type: s3_hudi\n    properties: {bucket: b, max_tables: 3}\n",
        7,
        "sources[0].properties.max_tables",
        "unknown key",
    ),
    (
        "unknown discovery source",
        HEAD
        + "entities:\n  - {type: table, discovery: {source: nope}, properties: {database_schema: a.b.c}}\n",
        5,
        "entities[0].discovery.source",
        "nope",
    ),
    (
        "bad data type",
        HEAD
        + "entities:\n  - type: table\n    name: t\n    properties:\n      database_schema: a.b.c\n      columns: [{name: x, data_type: BIGNIT}]\n",
        9,
        "entities[0].properties.columns[0].data_type",
        "BIGINT",
    ),
]


def validate(path: Path) -> Any:
    return CliRunner().invoke(cli, ["validate", str(path)], env={"COLUMNS": "300"})


def assert_one_line_error(result: Any, path: Path) -> re.Match[str]:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    match = ONE_LINE.match(lines[0])
    assert match is not None, lines[0]
    assert match["file"] == str(path)
    return match


@pytest.mark.parametrize(
    ("case", "text", "line", "where", "words"), CORPUS, ids=[c[0] for c in CORPUS]
)
def test_broken_config(
    tmp_path: Path, case: str, text: str, line: int, where: str, words: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    match = assert_one_line_error(validate(path), path)
    assert (int(match["line"]), match["path"]) == (line, where), match[0]
    assert words in match["message"], match[0]


def test_unicode_and_dotted_names_are_valid_and_quoted(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(
        HEAD
        + "entities:\n  - {type: database_service, name: ventes_été}\n"
        + "  - {type: database, name: 売上.v2, properties: {service: ventes_été}}\n"
        + "  - {type: database_schema, name: core, properties: {database: 'ventes_été.\"売上.v2\"'}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["plan", str(path)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert 'ventes_été."売上.v2".core' in result.output


def test_ten_thousand_entities_error_names_the_one_broken_entity(tmp_path: Path) -> None:
    n, broken = 10_000, 9_876
    lines = [
        HEAD,
        "entities:\n",
        "  - {type: database_service, name: svc}\n",
        "  - {type: database, name: db, properties: {service: svc}}\n",
        "  - {type: database_schema, name: s, properties: {database: svc.db}}\n",
    ]
    for i in range(3, n):
        kind = "BIGNIT" if i == broken else "INT"
        lines.append(
            f"  - {{type: table, name: t{i}, properties: {{database_schema: svc.db.s, "
            f"columns: [{{name: c, data_type: {kind}}}]}}}}\n"
        )
    path = tmp_path / "big.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    match = assert_one_line_error(validate(path), path)
    assert int(match["line"]) == 5 + broken
    assert match["path"] == f"entities[{broken}].properties.columns[0].data_type"
    path.write_text("".join(lines).replace("BIGNIT", "INT"), encoding="utf-8")
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert f"{n} entities" in result.output


VALID: dict[str, Any] = yaml.safe_load(
    HEAD
    + "metadata: {name: fuzz}\n"
    + "defaults: {idempotency: update, tags: [PII.Sensitive]}\n"
    + "execution: {max_concurrency: 2, retries: {max_attempts: 3}}\n"
    + "audit: {output_dir: audit}\n"
    + STACK
    + "  - {type: database_schema, name: s, properties: {database: svc.db}}\n"
    + "  - type: table\n    name: t\n    properties:\n      database_schema: svc.db.s\n"
    + "      columns: [{name: id, data_type: BIGINT}, {name: v, data_type: DECIMAL, precision: 9, scale: 2}]\n"
)
WRONG_VALUES = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text("xyz", min_size=1, max_size=3), st.integers(), max_size=2),
    st.text(max_size=5),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def broken_configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    import copy

    config = copy.deepcopy(VALID)
    path = draw(st.sampled_from(_paths(config)))
    parent = config
    for part in path[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "unknown_key", "delete"]))
    target = parent[path[-1]]
    if action == "unknown_key" and isinstance(target, dict):
        target["zz_" + draw(st.text("abc", min_size=1, max_size=4))] = 1
    elif action == "delete":
        del parent[path[-1]]
    else:
        action = "replace"
        parent[path[-1]] = draw(WRONG_VALUES)
    return config, action


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(broken_configs())
def test_randomly_broken_configs_never_traceback(
    tmp_path: Path, case: tuple[dict[str, Any], str]
) -> None:
    config, action = case
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = validate(path)
    assert result.exit_code in (0, 2), (result.output, result.exception)
    if result.exit_code == 2:
        assert_one_line_error(result, path)
    if action == "unknown_key":
        assert result.exit_code == 2 and "unknown key" in result.stderr
