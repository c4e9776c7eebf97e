"""docs/config-reference.md: generated from the models, complete, and written by the CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from om_ingest.cli.main import cli
from om_ingest.config.json_schema import config_json_schema
from om_ingest.config.models import PROPERTY_MODELS
from om_ingest.config.reference import config_reference_markdown

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "config-reference.md"


def _sections(markdown: str) -> dict[str, str]:
    """Level-2 heading -> the text up to the next level-2 heading."""
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _row_keys(section: str) -> list[str]:
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def _expected_fields() -> dict[str, tuple[set[str], set[str]]]:
    """Section heading -> (keys, required keys), from the JSON Schema, not the renderer.

    Every object in the root schema's `$defs` is a model reachable from IngestionConfig;
    the typed `properties` models are not referenced by the root schema (EntityConfig holds
    their common base), so each brings its own schema and `$defs`.
    """
    expected: dict[str, tuple[set[str], set[str]]] = {}

    def add(title: str, schema: dict[str, Any]) -> None:
        expected[title] = (set(schema["properties"]), set(schema.get("required", [])))

    def add_all(title: str, schema: dict[str, Any]) -> None:
        add(title, schema)
        for name, definition in schema.get("$defs", {}).items():
            if "properties" in definition:
                add(name, definition)

    add_all("IngestionConfig", config_json_schema())
    for kind, model in PROPERTY_MODELS.items():
        add_all(f"`{kind.value}` properties", model.model_json_schema(by_alias=True))
    return expected


def test_committed_reference_is_up_to_date() -> None:
    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == config_reference_markdown(), (
        "docs/config-reference.md is out of date with om_ingest/config/models.py: "
        "run `make reference` and commit the result"
    )


def test_every_field_of_every_model_is_documented_in_its_section() -> None:
    sections = _sections(config_reference_markdown())
    expected = _expected_fields()
    assert set(sections) == set(expected)
    for title, (keys, required) in expected.items():
        rows = _row_keys(sections[title])
        assert sorted(rows) == sorted(keys), f"section {title}: {rows} != {sorted(keys)}"
        for key in required:
            row = next(line for line in sections[title].splitlines() if f"| `{key}` |" in line)
            assert "**required**" in row, f"{title}.{key} is required but not marked"
        for key in keys - required:
            row = next(line for line in sections[title].splitlines() if f"| `{key}` |" in line)
            assert "**required**" not in row, f"{title}.{key} is optional but marked required"


def test_sections_follow_the_top_level_keys_and_links_resolve() -> None:
    markdown = config_reference_markdown()
    titles = list(_sections(markdown))
    root = config_json_schema()
    top = [
        ref.rsplit("/", 1)[-1]
        for key in root["properties"]
        if (ref := _ref(root["properties"][key])) is not None
    ]
    assert titles[: 1 + len(top)] == ["IngestionConfig", *dict.fromkeys(top)]
    assert titles[-len(PROPERTY_MODELS) :] == [f"`{k.value}` properties" for k in PROPERTY_MODELS]
    anchors = {re.sub(r"[^\w\- ]", "", t.lower()).replace(" ", "-") for t in titles}
    for target in re.findall(r"\]\(#([^)]+)\)", markdown):
        assert target in anchors, f"dangling link #{target}"
    assert "om-ingest schema --reference" in markdown and "make reference" in markdown
    assert "${VAR}" in markdown and "!ref" in markdown and "extends" in markdown


def _ref(schema: dict[str, Any]) -> str | None:
    """The model a top-level property refers to (directly, in a list, or in anyOf)."""
    if "$ref" in schema:
        return str(schema["$ref"])
    if "items" in schema:
        return _ref(schema["items"])
    for option in schema.get("anyOf", []):
        if (found := _ref(option)) is not None:
            return found
    return None


def test_cli_writes_the_reference(tmp_path: Path) -> None:
    out = tmp_path / "reference.md"
    result = CliRunner().invoke(cli, ["schema", "--reference", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == config_reference_markdown()

    result = CliRunner().invoke(cli, ["schema", "--reference"])
    assert result.exit_code == 0, result.output
    assert result.output == config_reference_markdown()
