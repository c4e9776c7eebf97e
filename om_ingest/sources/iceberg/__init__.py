"""Apache Iceberg tables through pyiceberg catalogs."""
