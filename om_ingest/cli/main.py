"""The `om-ingest` command line: validate, plan, ingest, sandbox, schema, history.

Exit codes: 0 ok, 1 run failure, 2 invalid config or usage. An error the user can act on is
printed as one line on stderr; tracebacks only with `--log-level DEBUG`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from rich.console import Console
from rich.markup import escape

from om_ingest.errors import OmIngestError
from om_ingest.logs import redact

F = TypeVar("F", bound=Callable[..., Any])

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True)


def reports_errors(command: F) -> F:
    """Turn om-ingest errors into one line on stderr and the error's exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OmIngestError as exc:
            if logging.getLogger("om_ingest").isEnabledFor(logging.DEBUG):
                logging.getLogger("om_ingest").exception("failed")
            stderr.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False)
            sys.exit(exc.exit_code)
        except Exception as exc:  # a bug: still one line, the traceback on request
            if logging.getLogger("om_ingest").isEnabledFor(logging.DEBUG):
                logging.getLogger("om_ingest").exception("unexpected error")
            stderr.print(
                f"[red]error:[/red] unexpected {type(exc).__name__}: {escape(redact(str(exc)))} "
                "(a bug in om-ingest: please report it with the output of --log-level DEBUG)",
                markup=True,
                highlight=False,
            )
            sys.exit(1)

    return cast(F, wrapper)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("om-ingest"), prog_name="om-ingest")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="WARNING",
    show_default=True,
    help="Log verbosity (logs go to stderr; secrets are redacted).",
)
def cli(log_level: str) -> None:
    """YAML-driven OpenMetadata ingestion (services, databases, schemas, tables)."""
    from om_ingest.logs import configure_logging

    configure_logging(log_level.upper())


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def validate(config: Path) -> None:
    """Check CONFIG: syntax, types, references, dependency order."""
    from om_ingest.config import load_config
    from om_ingest.planning import build_plan

    loaded = load_config(config)
    plan = build_plan(loaded.config.entities, loaded.error)
    stdout.print(
        f"[green]✓[/green] {config}: {len(plan)} entities in {len(plan.levels)} levels",
        highlight=False,
    )


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def plan(config: Path) -> None:
    """Print the order entities of CONFIG would be created in."""
    from om_ingest.config import load_config
    from om_ingest.planning import build_plan
    from om_ingest.rendering.plan_table import render_plan

    loaded = load_config(config)
    stdout.print(render_plan(build_plan(loaded.config.entities, loaded.error), loaded.config))


@cli.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema here instead of stdout.",
)
@click.option(
    "--reference", is_flag=True, help="The Markdown config reference instead of the JSON Schema."
)
def schema(output: Path | None, reference: bool) -> None:
    """Print the JSON Schema of the config file (for editors and CI), or its Markdown reference."""
    import json

    from om_ingest.config.json_schema import config_json_schema, write_json_schema

    if reference:
        from om_ingest.config.reference import config_reference_markdown, write_reference

        if output is not None:
            write_reference(output)
            stdout.print(f"wrote {output}")
        else:
            click.echo(config_reference_markdown(), nl=False)
    elif output is not None:
        write_json_schema(output)
        stdout.print(f"wrote {output}")
    else:
        click.echo(json.dumps(config_json_schema(), indent=2))


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dry-run", is_flag=True, help="Show what would change; write nothing to OpenMetadata."
)
@click.option(
    "--idempotency",
    type=click.Choice(["skip", "update", "fail"]),
    help="Override every entity's idempotency mode.",
)
@click.option(
    "--only", multiple=True, help="Only entities whose FQN matches this glob (repeatable)."
)
@click.option("--refresh-cache", is_flag=True, help="Ignore cached results of earlier runs.")
@click.option("--audit-dir", type=click.Path(file_okay=False), help="Where audit files go.")
@reports_errors
def ingest(
    config: Path,
    dry_run: bool,
    idempotency: str | None,
    only: tuple[str, ...],
    refresh_cache: bool,
    audit_dir: str | None,
) -> None:
    """Create and update the entities of CONFIG in OpenMetadata.

    Runs the same Prefect flow a deployment runs: against PREFECT_API_URL when set, else on
    an ephemeral local Prefect API.
    """
    from om_ingest.cli.ingest_command import run_ingest

    run_ingest(
        config, dry_run, idempotency, list(only) or None, refresh_cache, audit_dir, stdout, stderr
    )


@cli.command()
@click.argument("fqn")
@click.option(
    "--profiles-dir",
    default="./profiles",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The profiling storage base_path.",
)
@click.option(
    "--type",
    "kind",
    default=None,
    help="Only this entity type (e.g. topic), when kinds share the FQN.",
)
def history(fqn: str, profiles_dir: str, kind: str | None) -> None:
    """Show how the schema of FQN evolved across runs: a table's columns, a topic's message
    schema, a search index's fields, an ML model's features, a pipeline's tasks, …"""
    from om_ingest.profiling.schema_profiler import (
        kinds_with_history,
        render_history_table,
        schema_history,
    )
    from om_ingest.profiling.storage import ProfileStorage

    storage = ProfileStorage(profiles_dir)
    kinds = [k for k in kinds_with_history(storage, fqn) if kind in (None, k)]
    if not kinds:
        what = f"{kind} " if kind else ""
        stderr.print(f"no schema snapshots of {what}{fqn} under {profiles_dir}", highlight=False)
        sys.exit(1)
    for found in kinds:
        stdout.print(render_history_table(fqn, schema_history(storage, fqn, found), found))


@cli.group()
def blocks() -> None:
    """Prefect blocks holding OpenMetadata and S3 credentials."""


@blocks.command("register")
@click.option("--no-examples", is_flag=True, help="Only register the block types.")
def blocks_register(no_examples: bool) -> None:
    """Register block types; save example blocks from OM_HOST/OM_JWT and AWS_* variables."""
    from blocks.registration import register_block_types, save_example_blocks

    for slug in register_block_types():
        stdout.print(f"registered block type {slug}", highlight=False)
    for name in [] if no_examples else save_example_blocks():
        stdout.print(f"saved block {name}", highlight=False)


def _attach_sandbox_command() -> None:
    from om_ingest.sandbox.cli import sandbox_command

    cli.add_command(sandbox_command)


_attach_sandbox_command()
from om_ingest.cli import operator_commands  # noqa: E402, F401  (registers discover, list-*)


def main() -> None:  # pragma: no cover - console entry point
    import os
    import warnings

    if not sys.warnoptions:  # library deprecation noise is not for CLI users
        warnings.simplefilter("ignore")
        os.environ.setdefault("PYTHONWARNINGS", "ignore")
    cli()
