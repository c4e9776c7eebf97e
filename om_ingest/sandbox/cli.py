"""`om-ingest sandbox`: placeholder until the sandbox lands."""

import click


@click.command("sandbox")
def sandbox_command() -> None:
    """Run the local OpenMetadata API sandbox."""
    raise click.ClickException("the sandbox is not built yet")
