"""Prefect blocks holding om-ingest's credentials (S3 access uses prefect-aws's own blocks)."""

from blocks.openmetadata import OpenMetadataConnection

__all__ = ["OpenMetadataConnection"]
