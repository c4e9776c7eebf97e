"""A local stand-in for the subset of the OpenMetadata REST API om-ingest uses — not OpenMetadata.

It serves, over real HTTP, what the official SDK calls for: `system/version`, create-or-update
(PUT), create (POST), get by name/id, list with paging, JSON Patch, delete (soft/hard,
recursive), versions, table profiles and `search/fieldQuery`, for database services,
databases, schemas, tables, classifications, tags, users, teams, and pipeline, messaging,
ML model and search services with their entities. Bodies are validated with the SDK's own
models. Use it to try configs before touching a real OpenMetadata, and in tests.
"""

from om_ingest.sandbox.faults import FaultConfig
from om_ingest.sandbox.server import SandboxServer, ThreadedSandbox

__all__ = ["FaultConfig", "SandboxServer", "ThreadedSandbox"]
