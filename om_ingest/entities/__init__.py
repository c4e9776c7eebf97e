"""Entity handlers, one per OpenMetadata entity kind."""

from om_ingest.entities.base import EntityHandler, handler_for, register
from om_ingest.openmetadata import sdk_fixes

sdk_fixes.apply()

__all__ = ["EntityHandler", "handler_for", "register"]
