"""Entity handlers, one per OpenMetadata entity kind."""

from om_ingest.entities.base import EntityHandler, handler_for, register

__all__ = ["EntityHandler", "handler_for", "register"]
