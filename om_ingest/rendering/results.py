"""Run results for people: the dry-run diff and summary, as rich renderables and markdown.

The console rendering and the Prefect markdown artifact show the same content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from om_ingest.audit import RunSummary
from om_ingest.engine.results import EntityResult, Operation

STYLE = {
    Operation.CREATE: "green",
    Operation.UPDATE: "yellow",
    Operation.SKIP: "dim",
    Operation.FAIL: "red",
    Operation.BLOCKED: "magenta",
}


def _detail(result: EntityResult) -> str:
    if result.error:
        return result.error
    parts = [result.reason] if result.reason else []
    if result.contract_violations:  # enforcement: warn (block fails with them in the error)
        parts.append(
            "contract violated (enforcement: warn): " + "; ".join(result.contract_violations)
        )
    parts += [f"warning: {w}" for w in result.warnings]
    return "; ".join(parts)


def results_table(results: Sequence[EntityResult], title: str) -> Table:
    table = Table(title=title)
    for column in ("operation", "type", "fully qualified name", "outcome", "detail"):
        table.add_column(column, overflow="fold")
    for r in results:
        table.add_row(
            Text(r.operation.value, style=STYLE[r.operation]),
            r.entity_type,
            r.fqn,
            r.outcome.value,
            _detail(r),
        )
    return table


def changes_tables(results: Sequence[EntityResult]) -> list[Table]:
    """One table per entity with schema or field changes (before → after)."""
    tables = []
    for r in results:
        if not (r.schema_changes or r.field_changes):
            continue
        table = Table(title=f"{r.operation.value} {r.fqn}: changes")
        for column in ("change", "path / field", "before", "after"):
            table.add_column(column, overflow="fold")
        for change in r.schema_changes:
            table.add_row(
                change["change"],
                change["path"],
                str(change["before"] or ""),
                str(change["after"] or ""),
            )
        for fc in r.field_changes:
            table.add_row("field", fc.field, _short(fc.before), _short(fc.after))
        tables.append(table)
    return tables


def summary_table(summary: RunSummary) -> Table:
    table = Table(title="Run summary" + (" (dry run)" if summary.dry_run else ""))
    table.add_column("figure")
    table.add_column("value", justify="right")
    for op, n in sorted(summary.operations.items()):
        table.add_row(f"operation {op}", str(n))
    for outcome, n in sorted(summary.outcomes.items()):
        table.add_row(f"outcome {outcome}", str(n))
    for status, n in sorted(summary.profile_outcomes.items()):
        table.add_row(f"profiles {status}", str(n))
    table.add_row("schema changes", str(summary.schema_changes))
    for figure, value in run_metadata_rows(summary):
        table.add_row(figure, value)
    return table


def run_metadata_rows(summary: RunSummary) -> list[tuple[str, str]]:
    """The run metadata as (figure, value) rows, for the console and the artifact."""
    rows = [
        ("OpenMetadata API calls (entities)", str(summary.api_calls)),
        *(
            (f"OpenMetadata requests {verb}", str(n))
            for verb, n in summary.api_calls_by_verb.items()
        ),
        ("CPU time (s)", f"{summary.cpu_time_sec:.2f}"),
        ("wall time (s)", f"{summary.wall_time_sec:.2f}"),
    ]
    for source, read in sorted(summary.bytes_read.items()):
        value = "not measured" if read["bytes"] is None else str(read["bytes"])
        rows.append((f"bytes read from {source}", value))
    for kind, tags in sorted(summary.tags.items()):
        if tags:
            rows.append((f"{kind} tags", ", ".join(tags)))
    return rows


def render_console(results: Sequence[EntityResult], summary: RunSummary) -> RenderableType:
    title = "Dry run: planned operations" if summary.dry_run else "Operations"
    return Group(results_table(results, title), *changes_tables(results), summary_table(summary))


def render_markdown(results: Sequence[EntityResult], summary: RunSummary) -> str:
    lines = [f"# {'Dry run' if summary.dry_run else 'Ingestion run'}: `{summary.config}`", ""]
    lines += ["| operation | type | FQN | outcome | detail |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.operation.value} | {r.entity_type} | `{r.fqn}` | {r.outcome.value} | {_md(_detail(r))} |"
        for r in results
    ]
    for r in results:
        if r.schema_changes or r.field_changes:
            lines += [
                "",
                f"## {r.operation.value} `{r.fqn}`",
                "",
                "| change | path / field | before | after |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {c['change']} | `{c['path']}` | {_md(c['before'] or '')} | {_md(c['after'] or '')} |"
                for c in r.schema_changes
            ]
            lines += [
                f"| field | `{fc.field}` | {_md(_short(fc.before))} | {_md(_short(fc.after))} |"
                for fc in r.field_changes
            ]
    lines += ["", "## Summary", "", "| figure | value |", "|---|---|"]
    lines += [f"| operation {k} | {v} |" for k, v in sorted(summary.operations.items())]
    lines += [f"| outcome {k} | {v} |" for k, v in sorted(summary.outcomes.items())]
    lines += [f"| profiles {k} | {v} |" for k, v in sorted(summary.profile_outcomes.items())]
    lines.append(f"| schema changes | {summary.schema_changes} |")
    lines += [f"| {figure} | {_md(value)} |" for figure, value in run_metadata_rows(summary)]
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
