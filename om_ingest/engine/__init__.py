"""The ingestion engine: decide and apply one entity at a time; no Prefect in here."""
