"""Load an ingestion YAML: positions, `${VAR}` substitution, templates, validation.

Every error names `file:line path`. Substitution happens on parsed string values, so a `$`
in a password (`pa$$word`) is kept as written; `$${` is a literal `${`.
Templates: an entity's `extends: NAME` merges the named entry of the top-level `templates:`
map beneath it (maps merge, lists replace); precedence is entity > defaults > template.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from om_ingest.config.models import PROPERTY_MODELS, EntityType, IngestionConfig
from om_ingest.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
YamlPath = tuple[str | int, ...]
Position = tuple[str, int]
"""(file, 1-based line): values pulled in by `!ref` point into the file they came from."""

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TYPED_KINDS = {kind.value for kind in PROPERTY_MODELS}
_SCALARS = yaml.SafeLoader("")
"""Builds scalar values (ints, bools, dates, …) from nodes whose tags compose resolved."""
_SECRET_KEY = re.compile(r"(?i)(token|secret|password|passwd|key)")


def format_path(path: YamlPath) -> str:
    """("entities", 2, "properties", "service") -> "entities[2].properties.service"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass(frozen=True)
class LoadedConfig:
    config: IngestionConfig
    path: Path
    lines: Mapping[YamlPath, Position] = field(default_factory=dict, repr=False)

    def locate(self, path: YamlPath) -> tuple[str, int | None]:
        return _locate(self.lines, path, str(self.path))

    def error(self, path: YamlPath, message: str) -> ConfigError:
        file, line = self.locate(path)
        return ConfigError(message, file=file, line=line, path=format_path(path))

    def validate_at(self, model: type[M], data: Any, path: YamlPath) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(exc, str(self.path), self.lines, path, model) from None


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> LoadedConfig:
    file = Path(path)
    env = os.environ if env is None else env
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", file=str(file)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"YAML syntax error: {problem}", file=str(file), line=mark.line + 1 if mark else None
        ) from None
    lines: dict[YamlPath, Position] = {}
    data = _build(node, (), lines, str(file), env) if node is not None else {}
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping", file=str(file), line=1)
    data = _resolve_refs(data, data, (), lines, file, env, ())
    data = _apply_templates(data, lines, file, env)
    try:
        config = IngestionConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, str(file), lines, (), IngestionConfig, data) from None
    loaded = LoadedConfig(config=config, path=file, lines=lines)
    _check_sources(loaded)
    from om_ingest.contracts.expand import with_contracts

    return with_contracts(loaded)


def _check_sources(loaded: LoadedConfig) -> None:
    """Each source's `properties` against its plugin's model, and every `discovery.source`
    naming a declared source, so `validate` catches what would fail at run time."""
    from om_ingest.sources.registry import (
        discovers,
        is_source_type,
        properties_model,
        supports_schema,
        unknown_type_message,
    )

    names = [source.name for source in loaded.config.sources]
    for index, entity in enumerate(loaded.config.entities):
        if entity.discovery is not None and entity.discovery.source not in names:
            hint = get_close_matches(entity.discovery.source, names, n=1)
            raise loaded.error(
                ("entities", index, "discovery", "source"),
                f"no source named {entity.discovery.source!r} in `sources`"
                + (f" (did you mean {hint[0]!r}?)" if hint else ""),
            )

    for index, source in enumerate(loaded.config.sources):
        if not is_source_type(source.type):
            raise loaded.error(("sources", index, "type"), unknown_type_message(source.type))
        model = properties_model(source.type)
        if model is not None:
            loaded.validate_at(model, source.properties, ("sources", index, "properties"))

    for index, entity in enumerate(loaded.config.entities):
        found = loaded.config.source(entity.discovery.source) if entity.discovery else None
        if entity.discovery is None or found is None:
            continue
        source = found
        if entity.type.value not in discovers(source.type):
            raise loaded.error(
                ("entities", index, "type"),
                f"source {source.name!r} ({source.type}) discovers "
                f"{', '.join(sorted(discovers(source.type)))}, not {entity.type.value}",
            )
        if entity.discovery.filter.schema_ and not supports_schema(source.type):
            raise loaded.error(
                ("entities", index, "discovery", "filter", "schema"),
                f"source type {source.type} has no schemas to filter by",
            )


@dataclass(frozen=True)
class _Ref:
    """A `!ref` awaiting resolution: `#/a/b` (this document) or `file.yaml[#/a/b]`."""

    target: str
    file: Path
    line: int


def _build(
    node: yaml.Node,
    path: YamlPath,
    lines: dict[YamlPath, Position],
    file: str,
    env: Mapping[str, str],
) -> Any:
    lines[path] = (file, node.start_mark.line + 1)
    if node.tag == "!ref":
        if not isinstance(node, yaml.ScalarNode):
            raise ConfigError(
                "!ref takes a string", file=file, line=lines[path][1], path=format_path(path)
            )
        return _Ref(str(node.value), Path(file), lines[path][1])
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                raise ConfigError(
                    f"duplicate key {key!r}",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    path=format_path((*path, key)),
                )
            out[key] = _build(value_node, (*path, key), lines, file, env)
            lines[(*path, key)] = (file, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, file, env) for i, item in enumerate(node.value)]
    value = _SCALARS.construct_object(node)
    if isinstance(value, str) and "$" in value:
        value = _substitute(value, path, lines[path][1], file, env)
    return value


def _compose_file(
    file: Path,
    at: YamlPath,
    lines: dict[YamlPath, Position],
    env: Mapping[str, str],
    where: dict[str, Any],
) -> Any:
    """Load another YAML file (a `!ref` target or a template) with its own positions;
    `where` locates the reference, for a file that cannot be read."""
    try:
        node = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}", **where) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"YAML syntax error: {getattr(exc, 'problem', exc)}",
            file=str(file),
            line=mark.line + 1 if mark else None,
        ) from None
    return _build(node, at, lines, str(file), env) if node is not None else {}


def _resolve_refs(
    value: Any,
    root: Any,
    path: YamlPath,
    lines: dict[YamlPath, Position],
    file: Path,
    env: Mapping[str, str],
    stack: tuple[str, ...],
) -> Any:
    """Replace every `!ref` with a copy of its target (refs inside targets resolve too)."""
    if isinstance(value, dict):
        return {
            k: _resolve_refs(v, root, (*path, k), lines, file, env, stack) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve_refs(v, root, (*path, i), lines, file, env, stack) for i, v in enumerate(value)
        ]
    if not isinstance(value, _Ref):
        return value
    where = {"file": str(value.file), "line": value.line, "path": format_path(path)}
    document, _, pointer = value.target.partition("#")
    key = f"{(value.file.parent / document).resolve() if document else value.file}#{pointer}"
    if key in stack:
        raise ConfigError("!ref cycle: " + " -> ".join((*stack, key)), **where)  # type: ignore[arg-type]
    if document:
        target_file = (value.file.parent / document).resolve()
        target_root = _compose_file(target_file, path, lines, env, where)
    else:
        target_file, target_root = value.file, root
    target = target_root
    for part in [p for p in pointer.split("/") if p]:
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            raise ConfigError(f"!ref target {value.target!r} not found (no {part!r})", **where)  # type: ignore[arg-type]
    return _resolve_refs(target, target_root, path, lines, target_file, env, (*stack, key))


def _substitute(value: str, path: YamlPath, line: int, file: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable ${{{name}}} is not set (and has no :-default)",
            file=file,
            line=line,
            path=format_path(path),
        )

    return _VAR.sub(replace, value)


def _deep_merge(base: Any, override: Any) -> Any:
    """Maps merge key by key (override wins); everything else, lists included, is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _deep_merge(base[key], value) if key in base else value
        return merged
    return override


def _apply_templates(
    data: dict[str, Any], lines: dict[YamlPath, Position], file: Path, env: Mapping[str, str]
) -> dict[str, Any]:
    """Resolve `extends:` (named template or template file), then apply `defaults`.

    Precedence: entity > defaults > template. Defaults' `tags`/`owners` fill an entity's
    properties when it has none of its own (lists replace, they are not concatenated).
    `profiling` merges key by key, entity > defaults > top level (an entity naming only its
    `metrics` keeps the defaults' `enabled`).
    """
    templates = data.get("templates") or {}
    entities = data.get("entities")
    if not isinstance(entities, list) or not isinstance(templates, dict):
        return data
    raw_defaults = data.get("defaults")
    defaults: dict[str, Any] = raw_defaults if isinstance(raw_defaults, dict) else {}
    # Profiling settings merge key by key: entity > defaults > top level.
    profiling = data.get("profiling") if isinstance(data.get("profiling"), dict) else None
    if isinstance(defaults.get("profiling"), dict) and profiling:
        defaults = {**defaults, "profiling": _deep_merge(profiling, defaults["profiling"])}
        data = {**data, "defaults": defaults}
    inherited = (
        defaults.get("profiling") if isinstance(defaults.get("profiling"), dict) else profiling
    )

    def resolve(name: str, path: YamlPath, seen: tuple[str, ...], base: Path) -> dict[str, Any]:
        fail = {
            "file": _locate(lines, path, str(file))[0],
            "line": _locate(lines, path, str(file))[1],
            "path": format_path(path),
        }
        if name.endswith((".yaml", ".yml")):
            template_file = (base.parent / name).resolve()
            key = str(template_file)
            body = _compose_file(template_file, path, {}, env, fail) if key not in seen else None
        else:
            key = name
            if name not in templates:
                hint = get_close_matches(name, list(templates), n=1)
                raise ConfigError(
                    f"unknown template {name!r}"
                    + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                    **fail,  # type: ignore[arg-type]
                )
            body, template_file = templates[name], base
        if key in seen:
            raise ConfigError("template cycle: " + " -> ".join((*seen, key)), **fail)  # type: ignore[arg-type]
        if not isinstance(body, dict):
            raise ConfigError(f"template {name!r} must be a mapping", **fail)  # type: ignore[arg-type]
        body = dict(body)
        parent = body.pop("extends", None)
        if isinstance(parent, str):
            return _deep_merge(resolve(parent, path, (*seen, key), template_file), body)  # type: ignore[no-any-return]
        return body

    out = []
    for i, entity in enumerate(entities):
        if isinstance(entity, dict):
            entity = dict(entity)
            if isinstance(entity.get("extends"), str):
                name = entity.pop("extends")
                entity = _deep_merge(resolve(name, ("entities", i, "extends"), (), file), entity)
            if isinstance(entity.get("profiling"), dict) and inherited:
                entity["profiling"] = _deep_merge(inherited, entity["profiling"])
            props = entity.get("properties")
            kind = entity.get("type")
            if isinstance(kind, str) and kind in _TYPED_KINDS and isinstance(props, dict | None):
                props = dict(props or {})
                fields = PROPERTY_MODELS[EntityType(kind)].model_fields
                for key in ("tags", "owners"):
                    if key not in fields:  # e.g. a user carries no tags
                        continue
                    if isinstance(defaults.get(key), list) and defaults[key] and key not in props:
                        props[key] = list(defaults[key])
                entity["properties"] = props
        out.append(entity)
    return {**data, "entities": out}


def _locate(
    lines: Mapping[YamlPath, Position], path: YamlPath, default_file: str
) -> tuple[str, int | None]:
    probe = tuple(path)
    while probe not in lines and probe:
        probe = probe[:-1]
    position = lines.get(probe)
    return position if position is not None else (default_file, None)


def _validation_error(
    exc: ValidationError,
    file: str,
    lines: Mapping[YamlPath, Position],
    prefix: YamlPath,
    model: type[BaseModel],
    data: Any = None,
) -> ConfigError:
    first = exc.errors()[0]
    path: YamlPath = (*prefix, *first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key" + _did_you_mean(path, model, data)
    elif first["type"] == "missing":
        message = "field required"
    elif "input" in first and not any(
        _SECRET_KEY.search(str(p)) for p in path if isinstance(p, str)
    ):
        shown = repr(first["input"])
        if (
            len(shown) <= 60
            and not isinstance(first["input"], dict | list)
            and shown not in message
        ):
            message += f" (got {shown})"
    where, line = _locate(lines, path, file)
    more = exc.error_count() - 1
    suffix = f" (+{more} more error{'s' if more > 1 else ''})" if more else ""
    return ConfigError(message + suffix, file=where, line=line, path=format_path(path))


_INTERNAL_FIELDS = {"discovered_from"}
"""Fields om-ingest sets itself; never suggested to a user."""


def _did_you_mean(path: YamlPath, root: type[BaseModel], data: Any = None) -> str:
    """Find the model owning the unknown key and suggest its closest field (an entity's
    `properties` by its `type`, looked up in the raw `data`)."""
    from om_ingest.config.models import PROPERTY_MODELS, EntityType

    model: Any = root
    node = data
    for part in path[:-1]:
        entity_type = node.get("type") if isinstance(node, dict) else None
        node = _child(node, part)
        if isinstance(part, int):
            continue
        if part == "properties" and entity_type in set(EntityType):
            model = PROPERTY_MODELS.get(EntityType(entity_type))
            if model is None:
                return ""
            continue
        field_info = getattr(model, "model_fields", {}).get(part)
        if field_info is None:
            return ""
        model = _model_in(field_info.annotation)
        if model is None:
            return ""
    names = [
        name
        for name, info in getattr(model, "model_fields", {}).items()
        if name not in _INTERNAL_FIELDS and not info.exclude  # removed settings: not offered
    ]
    hint = get_close_matches(str(path[-1]), names, n=1)
    if hint:
        return f" (did you mean {hint[0]!r}?)"
    return f" (allowed: {', '.join(names)})" if names else ""


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
