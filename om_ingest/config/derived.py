"""Config `properties` models derived from the SDK's Create…Request models.

One entity kind's YAML properties mirror its OM Create request field by field, in snake_case
(camelCase as OM writes it is accepted too), nested models included (a pipeline's tasks, a
topic's schema fields, an ML model's features). Nothing is hand-written per kind: the model is
generated from the Create request, so validation, the JSON Schema and the reference follow
the SDK. What the config names differently from the request is swapped by type:

- tags (`TagLabel`) are `Classification.Tag` strings;
- owners, reviewers (`EntityReferenceList`) are user or team names;
- users, teams, parent and child teams (`list[Uuid]`) are names;
- another entity (`EntityReference`, e.g. a data contract's `entity`) is `{type, fqn}`;
- free-form maps (custom properties, topic config, index settings) stay as written.

Serialising a derived model (`request_body`) gives the request's camelCase JSON, with each
name that needs an OM lookup left as a `{"@lookup": …}` marker for the engine to resolve.
"""

from __future__ import annotations

import sys
import types
import typing
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    create_model,
    field_validator,
    model_serializer,
)
from pydantic.alias_generators import to_snake

from om_ingest import fqns

LOOKUP = "@lookup"
"""Key of a marker standing for something looked up in OM at run time."""

SKIPPED_FIELDS = frozenset(
    {
        # set from the entity's own `name`
        "name",
        # secrets and connections: not kept in a metadata config
        "connection",
        "authenticationMechanism",
        "createPasswordType",
        "password",
        "confirmPassword",
        # references to kinds om-ingest does not declare yet (roles, …); a nested kind's
        # `parent` is kept by that kind (`derived_properties(keep=…)`)
        "domains",
        "dataProducts",
        "roles",
        "defaultRoles",
        "policies",
        "personas",
        "defaultPersona",
        "ingestionRunner",
        "qualityExpectations",
        "parent",
        "lifeCycle",
        # computed by OpenMetadata
        "fullyQualifiedName",
        "sourceHash",
        # a user's images, a column's measured profile: not declared in a config
        "profile",
        "customMetrics",
    }
)
"""Create-request fields a config does not set."""

NAMED_IDS: dict[str, str] = {
    "teams": "team",
    "parents": "team",
    "children": "team",
    "users": "user",
}
"""`list[Uuid]` fields given by name in config, and the kind each name is looked up as."""

_RESERVED = frozenset(dir(BaseModel))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


def tag_label(tag_fqn: str) -> dict[str, str]:
    """A manually applied classification tag, as OM's TagLabel."""
    return {
        "tagFQN": tag_fqn,
        "source": "Classification",
        "labelType": "Manual",
        "state": "Confirmed",
    }


def _owner_marker(name: str) -> dict[str, str]:
    return {LOOKUP: "owner", "name": name}


TagName = Annotated[str, AfterValidator(fqns.tag), PlainSerializer(tag_label)]
OwnerName = Annotated[str, PlainSerializer(_owner_marker)]


def _named_id(kind: str) -> Any:
    return Annotated[str, PlainSerializer(lambda name: {LOOKUP: "id", "kind": kind, "name": name})]


class EntityRefSpec(_Strict):
    """Another entity, by its config `type` and FQN (looked up in OM when the entity runs)."""

    type: str = Field(description="The config type of the entity, e.g. table")
    fqn: str = Field(min_length=1, description="Its fully qualified name")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        from om_ingest.config.models import EntityType

        if value not in {t.value for t in EntityType}:
            raise ValueError(f"{value!r} is not an entity type om-ingest knows")
        if value == EntityType.LINEAGE.value:
            raise ValueError("a lineage edge is not an entity another one can name")
        return value

    @model_serializer
    def _marker(self) -> dict[str, str]:
        return {LOOKUP: "ref", "type": self.type, "fqn": self.fqn}


class _Unsupported(Exception):
    """A field type the config cannot express (the field is left out)."""


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _convert(annotation: Any, field: str, names: dict[type[BaseModel], str]) -> Any:
    """The config type standing for an SDK field type."""
    from metadata.generated.schema.type.basic import Uuid
    from metadata.generated.schema.type.entityReference import EntityReference
    from metadata.generated.schema.type.entityReferenceList import EntityReferenceList
    from metadata.generated.schema.type.tagLabel import TagLabel

    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return Union[tuple(_convert(a, field, names) for a in args)]  # noqa: UP007
    if origin is Annotated:
        return _convert(args[0], field, names)
    if origin is list:
        return list[_convert(args[0], field, names)]  # type: ignore[misc]
    if origin is dict:
        return dict[str, Any]
    if origin is Literal or annotation is type(None):
        return annotation
    if annotation is TagLabel:
        return TagName
    if annotation is EntityReferenceList:
        return list[OwnerName]
    if annotation is EntityReference:
        return EntityRefSpec
    if annotation is Uuid:
        if field not in NAMED_IDS:
            raise _Unsupported(field)
        return _named_id(NAMED_IDS[field])
    if annotation in (str, int, float, bool) or annotation is Any:
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        root = annotation.model_fields["root"].annotation
        if root is Any or get_origin(root) is dict:
            return dict[str, Any]
        return _convert(root, field, names)
    if _is_model(annotation):
        if not annotation.model_fields:
            return dict[str, Any]  # a free-form map (e.g. topicConfig)
        return mirror(annotation, names)
    if isinstance(annotation, type):
        return str  # dates, URLs, e-mails: written as strings, parsed by the Create model
    raise _Unsupported(field)


def _field(name: str, info: Any, annotation: Any, required: bool) -> tuple[Any, Any]:
    snake = to_snake(name)
    attribute = f"{snake}_" if snake in _RESERVED else snake
    choices = AliasChoices(snake, name) if snake != name else AliasChoices(snake)
    default = ... if required else None
    if not required:
        annotation = annotation | None
    return attribute, (
        annotation,
        Field(
            default,
            alias=snake,
            validation_alias=choices,
            serialization_alias=name,
            description=_description(info),
        ),
    )


def _description(info: Any) -> str | None:
    text = info.description
    if not isinstance(text, str):
        return None
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    return first or None


def mirror(
    model: type[BaseModel],
    names: dict[type[BaseModel], str],
    *,
    base: type[BaseModel] = _Strict,
    title: str | None = None,
    required: frozenset[str] = frozenset(),
    skipped: frozenset[str] = SKIPPED_FIELDS - {"name"},
    doc: str | None = None,
    extra: dict[str, Any] | None = None,
) -> type[BaseModel]:
    """The snake_case config model mirroring `model` (one generated class per SDK class)."""
    cached = _MIRRORS.get(model) if title is None else None
    if cached is not None:
        return cached
    if model in _PENDING:  # a recursive model (a field's children): a forward reference
        return _PENDING[model]  # type: ignore[return-value]
    class_name = title or _unique(f"Om{model.__name__}", names)
    _PENDING[model] = class_name
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in skipped:
            continue
        try:
            annotation = _convert(info.annotation, key, names)
        except _Unsupported:
            continue
        attribute, spec = _field(key, info, annotation, info.is_required() or key in required)
        fields[attribute] = spec
    fields.update(extra or {})
    del _PENDING[model]
    generated: type[BaseModel] = create_model(
        class_name, __base__=base, __doc__=doc or _model_doc(model), **fields
    )
    names[generated] = class_name
    # a module attribute, so a discovered entity holding one pickles (`PackedEntity`)
    generated.__module__ = __name__
    setattr(sys.modules[__name__], class_name, generated)
    generated.model_rebuild(_types_namespace={name: cls for cls, name in names.items()})
    if title is None:
        _MIRRORS[model] = generated
    return generated


_MIRRORS: dict[type[BaseModel], type[BaseModel]] = {}
_PENDING: dict[type[BaseModel], str] = {}


def _unique(name: str, names: dict[type[BaseModel], str]) -> str:
    taken = set(names.values())
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def _model_doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    first = " ".join(doc.split()).split(". ")[0].rstrip(".")
    return f"Mirrors OpenMetadata's `{model.__name__}`" + (f": {first}." if first else ".")


_NAMES: dict[type[BaseModel], str] = {}
"""Generated class → its name (names are unique: they title reference sections)."""


def derived_properties(
    create: type[BaseModel],
    *,
    base: type[BaseModel],
    title: str,
    parent: str | None,
    doc: str,
    keep: frozenset[str] = frozenset(),
    extra: dict[str, Any] | None = None,
) -> type[BaseModel]:
    """The `properties` model of one entity kind, from its Create…Request model. The entity's
    name comes from the entity; its parent (`parent`, a Create field) is required. `keep`:
    fields of `SKIPPED_FIELDS` this kind does declare (a nested kind's `parent`); `extra`:
    config fields beside the request's (`side_list`)."""
    return mirror(
        create,
        _NAMES,
        base=base,
        title=title,
        required=frozenset({parent}) if parent else frozenset(),
        skipped=SKIPPED_FIELDS - keep,
        doc=doc,
        extra=extra,
    )


def side_list(dotted: str, description: str) -> tuple[Any, Any]:
    """A config field holding a list of the SDK model `dotted` (under
    `metadata.generated.schema`), mirrored in snake_case: facts written beside the entity by
    their own endpoint (a pipeline's runs), not by its Create request."""
    import importlib

    module, _, name = dotted.rpartition(".")
    model = getattr(importlib.import_module(f"metadata.generated.schema.{module}"), name)
    item = mirror(model, _NAMES)
    return list[item] | None, Field(None, description=description)  # type: ignore[valid-type]


def request_body(props: BaseModel) -> dict[str, Any]:
    """The Create request's camelCase JSON for derived `props` (lookups still as markers)."""
    return props.model_dump(mode="json", by_alias=True, exclude_none=True)


def marked(value: Any, key: str) -> typing.Iterator[dict[str, Any]]:
    """Every mapping holding `key` in a request body, depth first: the lookup markers
    (`LOOKUP`), the TagLabels (`tagFQN`) of the entity and of its fields."""
    if isinstance(value, dict):
        if key in value:
            yield value
            return
        for item in value.values():
            yield from marked(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from marked(item, key)
