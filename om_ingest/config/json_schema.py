"""The config's JSON Schema, for editors (yaml-language-server) and CI validation.

An entity's `properties` are checked against the model of its `type`: one `if type is X
then properties is X's model` condition per kind, so editors check (and complete) every
kind's keys, not only the common base."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from om_ingest.config.models import PROPERTY_MODELS, IngestionConfig


def config_json_schema() -> dict[str, Any]:
    models: list[type[BaseModel]] = [IngestionConfig, *PROPERTY_MODELS.values()]
    refs, schema = models_json_schema([(m, "validation") for m in models], by_alias=True)
    defs: dict[str, Any] = schema["$defs"]

    def pop(model: Any) -> dict[str, Any]:
        popped: dict[str, Any] = defs.pop(refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1])
        return popped

    root = pop(IngestionConfig)
    defs["EntityConfig"]["allOf"] = [
        {
            "if": {"properties": {"type": {"const": kind.value}}, "required": ["type"]},
            "then": {"properties": {"properties": pop(model)}},
        }
        for kind, model in PROPERTY_MODELS.items()
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "om-ingest config",
        **root,
        "$defs": defs,
    }


def write_json_schema(path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config_json_schema(), handle, indent=2, sort_keys=True)
        handle.write("\n")
