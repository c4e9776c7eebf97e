"""Read one ODCS v3 file and validate it against the standard's own JSON Schema.

The schema is the one `open-data-contract-standard` ships (the Bitol project's published
`odcs-json-schema`, the version its pydantic model implements); nothing about the standard is
re-typed here. A file that breaks it is a config error pointing into the ODCS file
(`file:line path: message`), as for the config itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from om_ingest.errors import ConfigError

ODCS_MAJOR = "v3."
"""om-ingest maps ODCS v3 (3.0.x, 3.1, 3.2); v2 documents are refused."""
_MAX_MESSAGE = 200


@cache
def odcs_schema() -> dict[str, Any]:
    """The ODCS JSON Schema shipped with the `open-data-contract-standard` package."""
    text = (resources.files("open_data_contract_standard") / "schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    from jsonschema import validators

    schema = odcs_schema()
    cls = validators.validator_for(schema)
    return cls(schema)


def load_odcs(file: Path, where: Mapping[str, Any]) -> dict[str, Any]:
    """The ODCS document in `file`, validated; `where` locates the config entry naming it
    (for a file that cannot be read)."""
    from om_ingest.config.loader import _compose_file, _locate, format_path

    lines: dict[tuple[str | int, ...], tuple[str, int]] = {}
    document = _compose_file(file, (), lines, os.environ, dict(where))
    if not isinstance(document, dict):
        raise ConfigError("an ODCS contract must be a mapping", file=str(file), line=1)
    error = _first_error(document)
    if error is not None:
        path, message = error
        located, line = _locate(lines, path, str(file))
        raise ConfigError(message, file=located, line=line, path=format_path(path) or None)
    version = str(document.get("apiVersion", ""))
    if not version.startswith(ODCS_MAJOR):
        located, line = _locate(lines, ("apiVersion",), str(file))
        raise ConfigError(
            f"om-ingest reads ODCS v3 contracts (apiVersion v3.x), not {version}",
            file=located,
            line=line,
            path="apiVersion",
        )
    return document


def _first_error(document: dict[str, Any]) -> tuple[tuple[str | int, ...], str] | None:
    """The most relevant schema violation (jsonschema's `best_match`): its path in the
    document and a one-line message."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(document))
    if error is None:
        return None
    path = tuple(error.absolute_path)
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return path, f"not valid ODCS: {message}"
