"""The run's data profiles as a console table and as the Prefect markdown artifact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

HEADERS = ("table", "sampled rows", "columns", "not computed", "pushed", "file / error")


def _rows(profiles: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [
        (
            p["fqn"],
            str(p.get("rows", "")),
            str(p.get("columns", "")),
            str(p.get("not_computed", "")),
            _pushed(p),
            p.get("file") or p.get("error", ""),
        )
        for p in profiles
    ]


def _pushed(profile: dict[str, Any]) -> str:
    if profile.get("status") == "failed":
        return "failed"
    if profile.get("pushed"):
        return "yes"
    return f"no ({profile['reason']})" if profile.get("reason") else "no"


def profiles_table(profiles: Sequence[dict[str, Any]], dry_run: bool) -> Table:
    title = "Data profiles (dry run: computed, not pushed)" if dry_run else "Data profiles"
    table = Table(title=title)
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in _rows(profiles):
        table.add_row(*row)
    return table


def profiles_markdown(profiles: Sequence[dict[str, Any]]) -> str:
    lines = ["# Data profiles", "", "| " + " | ".join(HEADERS) + " |", "|---" * len(HEADERS) + "|"]
    for fqn, *rest in _rows(profiles):
        lines.append(f"| `{fqn}` | " + " | ".join(rest) + " |")
    return "\n".join(lines) + "\n"
