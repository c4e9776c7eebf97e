"""The config reference in Markdown (`docs/config-reference.md`), generated from the models.

Everything comes from the pydantic classes in `om_ingest.config.models`: which sections exist
(every model reachable from `IngestionConfig`, plus the typed `properties` model of each entity
type in `PROPERTY_MODELS`), their keys, types, constraints, defaults and descriptions. Nothing
here lists fields by hand, so the document cannot drift from the models; a test compares the
committed file with `config_reference_markdown()`. Regenerate with `make reference`.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import types
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema

from om_ingest.config.models import PROPERTY_MODELS, EntityType, IngestionConfig, SourceConfig

INLINE_CHOICES = 8
"""Enums with more values than this are listed below their table, not in the type cell."""

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    SecretStr: "string (secret)",
    Any: "any",
}

INTRO = """\
# Config reference

Generated from the pydantic models in `om_ingest/config/models.py` by
`om-ingest schema --reference` (`make reference`): do not edit by hand, a test fails when this
file is out of date. The same models give the JSON Schema at `configs/schema.json`.

A config is one YAML file whose top-level keys are those of [IngestionConfig](#ingestionconfig).
Unknown keys are errors everywhere except in `map[...]` values. Before validation the loader:

- substitutes `${VAR}` and `${VAR:-default}` from the environment in parsed string values only
  (so a `$` elsewhere, as in `pa$$word`, stays as written); `$${` is a literal `${`; an unset
  variable without a default is an error naming it;
- replaces a `!ref` value with a copy of its target: `!ref "#/a/b"` points into the same file,
  `!ref "other.yaml#/a/b"` (or a whole `other.yaml`) into another file, relative to the file
  that holds the `!ref`; targets may hold `!ref`s themselves (cycles are errors);
- resolves an entity's `extends: NAME`: the named entry of `templates` (or a `.yaml` template
  file) is merged beneath the entity (maps merge, lists replace; templates may `extends` other
  templates); precedence is entity > `defaults` > template, and `defaults.tags` /
  `defaults.owners` fill typed `properties` that have none of their own.

Keys marked **required** must be given; any other key may be left out and then takes its
default (`null`: not set).
"""


@dataclass(frozen=True)
class _Section:
    model: type[BaseModel]
    title: str
    kind: EntityType | None = None
    """Set for the typed `properties` model of an entity type."""


@dataclass
class _Row:
    key: str
    type: str
    default: str
    description: str
    listed: list[list[str]]
    """Enum values too many for the type cell, shown below the table."""


def config_reference_markdown() -> str:
    """The whole reference document (deterministic: same models, same text)."""
    sections = _sections()
    paths = _paths()
    parts = [INTRO, _contents(sections)]
    parts.extend(_render_section(section, paths) for section in sections)
    return "\n".join(parts).rstrip("\n") + "\n"


def write_reference(path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(config_reference_markdown())


def field_rows(model: type[BaseModel]) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) of each field of `model`, as the reference shows
    them (for `om-ingest list-sources` / `list-entities`)."""

    def plain(text: str) -> str:
        return re.sub(r"\[([^\]]+)\]\(#[^)]*\)", r"\1", text).replace("`", "").replace("**", "")

    out = []
    for key, info in _fields(model):
        row = _row(key, info)
        type_text = plain(row.type)
        if row.listed:
            type_text = "one of: " + ", ".join(v for values in row.listed for v in values)
        out.append((key, type_text, plain(row.default), plain(row.description)))
    return out


# --- walking the models ------------------------------------------------------------------


def _fields(model: type[BaseModel]) -> Iterator[tuple[str, FieldInfo]]:
    """(YAML key, field) in declaration order, without fields hidden from the JSON Schema."""
    for name, info in model.model_fields.items():
        if any(isinstance(meta, SkipJsonSchema) for meta in info.metadata):  # type: ignore[misc]
            continue
        yield info.alias or name, info


def _variants(model: type[BaseModel]) -> list[tuple[EntityType, type[BaseModel]]]:
    """The per-entity-type models that stand in for `model` (subclasses in PROPERTY_MODELS)."""
    return [
        (kind, typed)
        for kind, typed in PROPERTY_MODELS.items()
        if typed is not model and issubclass(typed, model)
    ]


def _models_in(annotation: Any, suffix: str = "") -> Iterator[tuple[type[BaseModel], str]]:
    """Models inside a field type, with the path suffix leading to them (`[]` per list)."""
    origin = get_origin(annotation)
    if origin is list:
        yield from _models_in(get_args(annotation)[0], suffix + "[]")
    elif origin is dict:
        yield from _models_in(get_args(annotation)[1], suffix + ".*")
    elif origin in (Annotated, Union, types.UnionType):
        args = get_args(annotation)
        for arg in args[:1] if origin is Annotated else args:
            yield from _models_in(arg, suffix)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, suffix


def _children(model: type[BaseModel]) -> Iterator[tuple[type[BaseModel], str]]:
    """Models one level below `model` (typed `properties` variants included), with paths."""
    for key, info in _fields(model):
        for child, suffix in _models_in(info.annotation):
            yield child, key + suffix
            for _, typed in _variants(child):
                yield typed, key + suffix


def _sections() -> list[_Section]:
    """Root, then top-level sections in declaration order, nested models, typed properties.

    Nested models come depth-first below the top-level section that first holds them, so a
    model shared by several sections (profiling) is listed with its own top-level section.
    """
    root = IngestionConfig
    top: list[type[BaseModel]] = list(dict.fromkeys(child for child, _ in _children(root)))
    placed: set[type[BaseModel]] = {root, *top, *PROPERTY_MODELS.values()}
    descended: set[type[BaseModel]] = set(top)
    nested: list[type[BaseModel]] = []

    def descend(model: type[BaseModel]) -> None:
        for child, _ in _children(model):
            if child not in placed:
                placed.add(child)
                nested.append(child)
            if child not in descended:
                descended.add(child)
                descend(child)

    for model in top:
        descend(model)
    ordered: list[type[BaseModel]] = [root, *top, *nested]
    return [
        *(_Section(model, model.__name__) for model in ordered),
        *(_Section(model, _typed_title(kind), kind) for kind, model in PROPERTY_MODELS.items()),
    ]


def _paths() -> dict[type[BaseModel], list[str]]:
    """Every YAML path at which each model appears, shortest first (`profiling`, …)."""
    found: dict[type[BaseModel], list[str]] = {}
    queue: deque[tuple[type[BaseModel], str, tuple[type[BaseModel], ...]]] = deque(
        [(IngestionConfig, "", (IngestionConfig,))]
    )
    while queue:
        model, path, stack = queue.popleft()
        for child, relative in _children(model):
            child_path = f"{path}.{relative}" if path else relative
            paths = found.setdefault(child, [])
            if child_path not in paths:
                paths.append(child_path)
            if child not in stack:
                queue.append((child, child_path, (*stack, child)))
    return found


# --- rendering ---------------------------------------------------------------------------


def _anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _link(section_title: str, text: str | None = None) -> str:
    return f"[{text or section_title}](#{_anchor(section_title)})"


def _typed_title(kind: EntityType) -> str:
    return f"`{kind.value}` properties"


def _contents(sections: Sequence[_Section]) -> str:
    models = [s for s in sections if s.kind is None]
    typed = [s for s in sections if s.kind is not None]
    lines = [
        "Sections: " + " · ".join(_link(s.title) for s in models),
        "",
        "Typed entity `properties`: "
        + " · ".join(_link(s.title, s.kind.value) for s in typed if s.kind is not None),
        "",
    ]
    return "\n".join(lines)


def _render_section(section: _Section, paths: dict[type[BaseModel], list[str]]) -> str:
    model = section.model
    lines = [f"## {section.title}", ""]
    doc = _docstring(model)
    if doc:
        lines += [doc, ""]
    if section.kind is not None:
        where = ", ".join(f"`{p}`" for p in paths.get(model, []))
        lines += [
            f"`{model.__name__}`: the `properties` of an entity with `type: {section.kind.value}`"
            f" (at {where}).",
            "",
        ]
    elif model is IngestionConfig:
        lines += ["At the top level of the file.", ""]
    else:
        lines += ["At: " + ", ".join(f"`{p}`" for p in paths.get(model, [])), ""]
    rows = [_row(key, info) for key, info in _fields(model)]
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    lines += [f"| {r.key} | {r.type} | {r.default} | {r.description} |" for r in rows]
    lines.append("")
    for row in rows:
        for values in row.listed:
            lines += [f"{row.key} is one of: " + ", ".join(f"`{v}`" for v in values), ""]
    if model is SourceConfig:
        lines += _bytes_read_by_source_type()
    return "\n".join(lines)


def _bytes_read_by_source_type() -> list[str]:
    """What each registered source type counts into a run's `bytes_read` (its plugin's
    `reads_measured`)."""
    from om_ingest.sources.registry import reads_measured, source_types

    lines = [
        "What each source type counts into a run's `bytes_read` (summary, artifact, audit):",
        "",
        "| type | bytes read |",
        "|---|---|",
    ]
    for name in source_types():
        lines.append(f"| {name} | {_cell(reads_measured(name) or 'not measured')} |")
    return [*lines, ""]


def _row(key: str, info: FieldInfo) -> _Row:
    listed: list[list[str]] = []
    enum = _schema_enum(info.json_schema_extra)
    text = _choices(enum, listed) if enum else _type(info.annotation, listed)
    text = _constrained(text, info.metadata)
    return _Row(
        key=f"`{key}`",
        type=_cell(text),
        default="**required**" if info.is_required() else _default(info),
        description=_cell(_description(info)),
        listed=listed,
    )


def _type(annotation: Any, listed: list[list[str]]) -> str:
    """A human-readable type; raises on a type this renderer does not know yet."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        enum = next((e for meta in args[1:] if (e := _meta_enum(meta))), None)
        text = _choices(enum, listed) if enum else _type(args[0], listed)
        return _constrained(text, args[1:])
    if origin in (Union, types.UnionType):
        return " or ".join(_type(arg, listed) for arg in args if arg is not type(None))
    if origin is Literal:
        return _choices([str(arg) for arg in args], listed)
    if origin is list:
        return f"list[{_type(args[0], listed)}]"
    if origin is dict:
        return f"map[{_type(args[0], listed)}, {_type(args[1], listed)}]"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choices([str(member.value) for member in annotation], listed)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _link(annotation.__name__)
    raise TypeError(f"config reference: no rendering for type {annotation!r}")


def _choices(values: list[str], listed: list[list[str]]) -> str:
    if len(values) <= INLINE_CHOICES:
        return "one of: " + ", ".join(f"`{v}`" for v in values)
    listed.append(values)
    return f"one of {len(values)} values (listed below the table)"


def _schema_enum(extra: Any) -> list[str] | None:
    values = extra.get("enum") if isinstance(extra, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else None


def _meta_enum(meta: Any) -> list[str] | None:
    return _schema_enum(meta.json_schema_extra) if isinstance(meta, FieldInfo) else None


def _constrained(text: str, metadata: Sequence[Any]) -> str:
    limits: list[str] = []
    for meta in metadata:
        if isinstance(meta, FieldInfo):
            limits += _limits(meta.metadata)
    limits += _limits(metadata)
    return f"{text} ({', '.join(limits)})" if limits else text


def _limits(metadata: Sequence[Any]) -> list[str]:
    out: list[str] = []
    for meta in metadata:
        if isinstance(meta, Gt):
            out.append(f"> {meta.gt}")
        elif isinstance(meta, Ge):
            out.append(f"≥ {meta.ge}")
        elif isinstance(meta, Lt):
            out.append(f"< {meta.lt}")
        elif isinstance(meta, Le):
            out.append(f"≤ {meta.le}")
        elif isinstance(meta, MinLen):
            out.append("non-empty" if meta.min_length == 1 else f"length ≥ {meta.min_length}")
        elif isinstance(meta, MaxLen):
            out.append(f"length ≤ {meta.max_length}")
    return out


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return _cell(f"`{json.dumps(value)}`")


def _description(info: FieldInfo) -> str:
    """The field's description, else the docstring of the one enum/model it holds."""
    text = info.description or ""
    core = _core(info.annotation)
    if not text and isinstance(core, type) and issubclass(core, Enum | BaseModel):
        text = _docstring(core, first_paragraph=True)
    typed = [pair for model, _ in _models_in(info.annotation) for pair in _variants(model)]
    if typed:
        links = ", ".join(_link(_typed_title(kind), kind.value) for kind, _ in typed)
        text = (text + " " if text else "") + (
            f"Checked against the model of the entity's `type`: {links}."
        )
    return text


def _core(annotation: Any) -> Any:
    """`X` from `X | None`, `list[X]` and `Annotated[X, ...]`; else the annotation itself."""
    origin = get_origin(annotation)
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if origin in (Union, types.UnionType) and len(args) == 1:
        return _core(args[0])
    if origin in (list, Annotated):
        return _core(args[0])
    return annotation


def _docstring(item: type, first_paragraph: bool = False) -> str:
    """A class's own docstring (not inherited), paragraphs joined into single lines."""
    doc = item.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return ""
    paragraphs = [" ".join(p.split()) for p in inspect.cleandoc(doc).split("\n\n")]
    return paragraphs[0] if first_paragraph else "\n\n".join(paragraphs)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "
