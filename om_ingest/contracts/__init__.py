"""Open Data Contract Standard (ODCS) v3 contracts: loaded and validated with the config,
written as OpenMetadata data contracts, enforced on table schemas, run as GX suites."""
