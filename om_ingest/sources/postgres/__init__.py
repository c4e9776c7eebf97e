"""PostgreSQL tables, views and materialized views, read from the system catalog."""
