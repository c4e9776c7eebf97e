"""`om-ingest ingest`: run the ingest flow in-process with a progress bar and a summary."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from om_ingest.config import load_config
from om_ingest.engine.results import EntityResult


def _quiet_prefect_console_errors() -> None:
    """Prefect logs a failed flow run's traceback; on the console the CLI reports the failure
    as one line itself (the traceback still reaches the Prefect API, and DEBUG shows it)."""

    def keep(record: logging.LogRecord) -> bool:
        return not (record.name.startswith("prefect") and record.levelno >= logging.ERROR)

    for handler in logging.getLogger().handlers:
        handler.addFilter(keep)


def describe(change: dict[str, Any]) -> str:
    """One schema change as a phrase: `added channel: STRING`, `removed amount (was INT)`."""
    kind, path, before, after = (change[k] for k in ("change", "path", "before", "after"))
    if kind == "added":
        return f"added {path}: {after}"
    if kind == "removed":
        return f"removed {path} (was {before})"
    return f"{kind} {path}: {before} → {after}"


def run_ingest(
    config: Path,
    dry_run: bool,
    idempotency: str | None,
    only: list[str] | None,
    refresh_cache: bool,
    audit_dir: str | None,
    stdout: Console,
    stderr: Console,
) -> None:
    # The ephemeral Prefect API imports its whole server first; on 2 cores that can take
    # longer than Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # the ephemeral server's import noise
    from flows.prefect_api import start_ephemeral_api

    booting = start_ephemeral_api()  # boots while the config (and the OM SDK) load
    load_config(config)  # a broken config exits 2 before any flow runs
    if not logging.getLogger("om_ingest").isEnabledFor(logging.INFO):
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Prefect's own console logging would interleave with the progress bar.
    logging.getLogger("prefect").setLevel(logging.WARNING)
    from flows import ingest as ingest_module

    if booting is not None:
        booting.join()

    if not logging.getLogger("om_ingest").isEnabledFor(logging.DEBUG):
        _quiet_prefect_console_errors()

    results: list[EntityResult] = []
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    task_id = progress.add_task("dry run" if dry_run else "ingesting", total=None)

    def listen(kind: str, payload: Any) -> None:
        if kind == "planned":
            progress.update(task_id, total=payload)
        elif kind == "discovered":  # tables stream in: the total grows with them
            total = progress.tasks[0].total or 0
            progress.update(task_id, total=total + payload)
        elif kind == "result":
            results.append(payload)
            progress.advance(task_id)
            for change in payload.schema_changes:
                stderr.print(f"schema change in {payload.fqn}: {describe(change)}", highlight=False)

    ingest_module.progress_listeners.append(listen)
    try:
        with progress:
            state = ingest_module.ingest(
                str(config),
                dry_run=dry_run,
                idempotency=idempotency,
                only=only,
                refresh_cache=refresh_cache,
                audit_dir=audit_dir,
                return_state=True,
            )
    finally:
        ingest_module.progress_listeners.remove(listen)
    outcome = state.result(raise_on_failure=False)
    from om_ingest.audit import RunSummary
    from om_ingest.errors import OmIngestError
    from om_ingest.rendering.profiles import profiles_table
    from om_ingest.rendering.results import render_console

    if isinstance(outcome, ingest_module.IngestionFailed):
        stdout.print(render_console(outcome.results, outcome.summary))
        stderr.print(f"[red]error:[/red] {escape(str(outcome))}", highlight=False)
        sys.exit(1)
    if isinstance(outcome, OmIngestError):
        raise outcome
    if isinstance(outcome, BaseException):
        stderr.print(
            f"[red]error:[/red] {type(outcome).__name__}: {escape(str(outcome))}", highlight=False
        )
        sys.exit(1)
    summary = RunSummary.model_validate(outcome)
    stdout.print(render_console(results, summary))
    if outcome.get("profiles"):
        stdout.print(profiles_table(outcome["profiles"], dry_run))
    stdout.print(f"audit log: {summary.audit_file}", highlight=False)
