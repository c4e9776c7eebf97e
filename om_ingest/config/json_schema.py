"""The config's JSON Schema, for editors (yaml-language-server) and CI validation."""

from __future__ import annotations

import json
import os
from typing import Any

from om_ingest.config.models import IngestionConfig


def config_json_schema() -> dict[str, Any]:
    schema = IngestionConfig.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "om-ingest config",
        **schema,
    }


def write_json_schema(path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config_json_schema(), handle, indent=2, sort_keys=True)
        handle.write("\n")
