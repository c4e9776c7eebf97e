"""A local stand-in for the subset of the OpenMetadata REST API om-ingest uses — not OpenMetadata.

It serves, over real HTTP, what the official SDK calls for: `system/version`, create-or-update
(PUT, and PUT `…/bulk`), create (POST), get by name/id with `fields=`, list with cursor paging,
JSON Patch, delete (soft/hard, recursive), versions, table profiles, pipeline runs and
`search/fieldQuery`, for database services, databases, schemas, tables, classifications, tags,
users, teams, bots, and pipeline, messaging, ML model and search services with their entities.
Bodies are validated with the SDK's own models; the server rules follow OM 2.0's, applied by
who calls (the ingestion bot's token, or an admin user's). Use it to try configs before
touching a real OpenMetadata, and in tests."""

from om_ingest.sandbox.faults import FaultConfig
from om_ingest.sandbox.server import SandboxServer, ThreadedSandbox

__all__ = ["FaultConfig", "SandboxServer", "ThreadedSandbox"]
