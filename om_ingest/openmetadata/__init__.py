"""Talking to OpenMetadata through the official SDK: connection, error mapping, call counts."""

from om_ingest.openmetadata.client import OMClient, connect_openmetadata

__all__ = ["OMClient", "connect_openmetadata"]
