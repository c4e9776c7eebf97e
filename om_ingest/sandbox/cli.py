"""`om-ingest sandbox`: a local stand-in for the OpenMetadata API (not OpenMetadata)."""

from __future__ import annotations

import click

from om_ingest.sandbox.faults import FaultConfig


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8585, show_default=True, help="Port (0 = any free port).")
@click.option(
    "--jwt-token",
    envvar="OM_SANDBOX_JWT",
    required=True,
    help="The ingestion bot's bearer token (or env OM_SANDBOX_JWT): calls with it get OM's "
    "bot rules and updatedBy ingestion-bot.",
)
@click.option(
    "--user-token",
    "user_tokens",
    multiple=True,
    help="A non-bot admin user's bearer token (repeatable): user rules, updatedBy admin.",
)
@click.option("--data-dir", type=click.Path(file_okay=False), help="Keep state in SQLite here.")
@click.option(
    "--fail-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    help="Share of API calls failed on purpose.",
)
@click.option(
    "--latency-ms", type=click.IntRange(0), default=0, help="Delay added to every API call."
)
@click.option(
    "--fail-status", type=click.Choice(["429", "500", "502", "503", "504"]), default="503"
)
@click.option("--seed", type=int, help="Seed for deterministic fault injection.")
def sandbox_command(
    host: str,
    port: int,
    jwt_token: str,
    user_tokens: tuple[str, ...],
    data_dir: str | None,
    fail_rate: float,
    latency_ms: int,
    fail_status: str,
    seed: int | None,
) -> None:
    """Serve the OpenMetadata API sandbox until SIGTERM/SIGINT."""
    from om_ingest.sandbox.server import serve

    serve(
        host,
        port,
        jwt_token,
        data_dir,
        FaultConfig(fail_rate, latency_ms, int(fail_status), seed),
        user_tokens,
    )
