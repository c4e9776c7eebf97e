"""om-ingest: YAML-driven OpenMetadata ingestion."""
